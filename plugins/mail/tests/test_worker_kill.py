"""A real worker process (``kyklos worker INI``) killed with SIGKILL in the middle of a
mailbox fetch: after a restart every message of the server is in the ledger exactly
once and stored exactly once (D6: nothing lost, nothing duplicated)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from kyklos_sdk.testing import WorkerDeployment

COUNT = 12


@pytest.fixture
def deployment(tmp_path, scratch_db_url):
    d = WorkerDeployment(
        tmp_path,
        scratch_db_url,
        ["contacts", "activities", "mail"],
        {
            "kyklos.encryption_keys": Fernet.generate_key().decode(),
            "kyklos.mail.batch": "2",
            "kyklos.mail.pause": "0.6",
            "kyklos.mail.poll_minutes": "600",
        },
    )
    yield d
    d.close()


def test_a_worker_killed_mid_fetch_loses_and_duplicates_nothing(deployment, imap):
    dovecot, user, password = imap
    d = deployment
    for i in range(COUNT):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = f"p{i}@x.example", "box@example.com", f"N{i}"
        m["Message-ID"] = f"<kill{i}@x.example>"
        m.set_content("body")
        dovecot.append(user, password, m.as_bytes())
    from kyklos import jobs

    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import LedgerEntry, Mailbox, Message

    with jobs.job_request(d.registry) as request:
        box = Mailbox(
            name="Box",
            address="box@example.com",
            kind="shared",
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="none",
            username=user,
            password_secret=encrypt(d.registry, password),
            folder="INBOX",
            smtp_port=587,
            smtp_security="starttls",
            file_by_domain=True,
            active=True,
            state="new",
            last_uid=0,
            custom={},
        )
        request.dbsession.add(box)
        request.dbsession.flush()
        box_id = box.id
        job_id = jobs.enqueue(request, "mail.fetch", args={"mailbox_id": box_id})
    entries = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.mailbox_id == box_id)
    worker = d.start_worker()
    d.wait(lambda: (d.scalar(entries) or 0) >= 4, what="a few batches to commit")
    worker.kill()  # SIGKILL mid-fetch: no cleanup
    worker.wait()
    done_before = d.scalar(entries)
    assert 4 <= done_before < COUNT  # killed part-way
    d.start_worker()
    from kyklos.jobs.models import Job

    d.wait(
        lambda: d.scalar(select(Job.state).where(Job.id == job_id)) == "done",
        what="the fetch to finish after the restart",
    )
    uids = select(LedgerEntry.uid).where(LedgerEntry.mailbox_id == box_id)
    with d.registry["dbengine"].connect() as c:
        got = sorted(c.execute(uids).scalars())
        stored = c.execute(select(Message.message_id)).scalars().all()
    assert got == list(range(1, COUNT + 1))  # every UID exactly once
    assert sorted(stored) == sorted(f"<kill{i}@x.example>" for i in range(COUNT))
