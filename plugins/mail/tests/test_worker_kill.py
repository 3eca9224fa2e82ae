"""A real worker process (``kyklos worker INI``) killed with SIGKILL in the middle of a
mailbox fetch: after a restart every message of the server is in the ledger exactly
once and stored exactly once (D6: nothing lost, nothing duplicated)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

COUNT = 12




class Deployment:
    def __init__(self, tmp_path, db_url):
        self.tmp = tmp_path
        self.ini = tmp_path / "deploy.ini"
        self.ini.write_text(
            "[app:main]\n"
            "use = egg:kyklos\n"
            "kyklos.plugins = contacts activities mail\n"
            f"sqlalchemy.url = {db_url}\n"
            f"kyklos.files_dir = {tmp_path}/files\n"
            "kyklos.secret = worker-test\n"
            "kyklos.jobs.backend = sqlite\n"
            f"kyklos.jobs.url = {tmp_path}/jobs.sqlite\n"
            f"kyklos.jobs.queue = mailkill-{uuid.uuid4().hex[:8]}\n"
            "kyklos.jobs.lease_seconds = 2\n"
            "kyklos.jobs.sweep_seconds = 0.5\n"
            "kyklos.jobs.requeue_seconds = 5\n"
            f"kyklos.encryption_keys = {Fernet.generate_key().decode()}\n"
            "kyklos.mail.batch = 2\n"
            "kyklos.mail.pause = 0.6\n"
            "kyklos.mail.poll_minutes = 600\n"
        )
        self.env = dict(os.environ)
        self.env.pop("KYKLOS_DATABASE_URL", None)
        from kyklos import jobs, migrate
        from kyklos.app import make_configurator
        from kyklos.cli import load_settings
        from kyklos.security import sync_roles

        config = make_configurator(load_settings(str(self.ini)), check_migrations=False)
        self.registry = config.registry
        migrate.upgrade(
            self.registry["dbengine"], migrate.branches_for(self.registry.kyklos_plugins)
        )
        with jobs.job_request(self.registry) as request:
            sync_roles(request.dbsession, self.registry)
        self.procs: list[subprocess.Popen] = []

    def start_worker(self):
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "kyklos.cli", "worker", str(self.ini), "--workers", "1"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("worker-*.log")))

    def scalar(self, stmt):
        with self.registry["dbengine"].connect() as c:
            return c.execute(stmt).scalar()

    def wait(self, predicate, timeout=90, what="condition"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}\n" + self.logs()[-4000:])

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.registry["dbengine"].dispose()


@pytest.fixture
def deployment(tmp_path, scratch_db_url):
    d = Deployment(tmp_path, scratch_db_url)
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
