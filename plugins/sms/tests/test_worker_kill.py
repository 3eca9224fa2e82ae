"""A real worker process (``kyklos worker INI``) killed with SIGKILL while it hands the
outbox to a real Jasmin: after a restart every message is accounted for (delivered, or
failed with the reason when the gateway's answer was lost) and the SMSC received none
of them twice."""

from __future__ import annotations

from collections import Counter

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from kyklos_sdk.testing import WorkerDeployment

COUNT = 12


def report(d, gateway) -> str:
    """What a timeout needs to be understood: the outbox's rows, the worker's log, the
    gateway's log and its link to the SMSC."""
    from kyklos_sms.models import SmsMessage

    with d.registry["dbengine"].connect() as c:
        rows = c.execute(
            select(SmsMessage.id, SmsMessage.state, SmsMessage.error).order_by(SmsMessage.id)
        ).all()
    parts = ["outbox: " + "; ".join(f"{i} {s} {e or ''}".strip() for i, s, e in rows)]
    parts.append("worker log:\n" + d.logs()[-3000:])
    parts.append(f"SMSC sessions: {len(gateway.smsc.sessions)}, "
                 f"submitted: {len(gateway.smsc.submitted)}")  # fmt: skip
    parts.append("gateway log:\n" + gateway.log()[-4000:])
    return "\n".join(parts)


@pytest.fixture
def deployment(tmp_path, scratch_db_url):
    d = WorkerDeployment(
        tmp_path,
        scratch_db_url,
        ["contacts", "activities", "sms"],
        {
            "kyklos.encryption_keys": Fernet.generate_key().decode(),
            "kyklos.sms.pause": "0.4",
            "kyklos.sms.poll_seconds": "5",
            "kyklos.sms.uncertain_minutes": "0.2",
        },
        serve=True,
    )
    yield d
    d.close()


def test_a_worker_killed_mid_send_loses_and_duplicates_nothing(deployment, jasmin):
    from jasmin_gateway import PASSWORD, USER
    from kyklos import jobs

    from kyklos_sms.models import SmsMessage
    from kyklos_sms.service import queue, save_gateway

    d = deployment
    with jobs.job_request(d.registry) as request:
        save_gateway(
            request,
            {"url": jasmin.url, "username": USER, "password": PASSWORD, "sender": "Kyklos",
             "per_minute": 1000, "callback_base": d.url},
        )  # fmt: skip
        for i in range(COUNT):
            queue(request, "+306912345678", f"kill test {i}", source="api")
    bodies = {f"kill test {i}" for i in range(COUNT)}
    worker = d.start_worker()
    d.wait(
        lambda: len(jasmin.smsc.submitted) >= 3,
        what="a few messages to reach the SMSC",
        diagnose=lambda: report(d, jasmin),
    )
    worker.kill()  # SIGKILL mid-run: no cleanup
    worker.wait()
    before = len(jasmin.smsc.submitted)
    assert 3 <= before < COUNT  # killed part-way
    d.start_worker()
    open_rows = (
        select(func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.state.in_(("queued", "sending", "sent")))
    )
    d.wait(
        lambda: d.scalar(open_rows) == 0,
        what="every message to be settled",
        diagnose=lambda: report(d, jasmin),
    )
    with d.registry["dbengine"].connect() as c:
        rows = c.execute(select(SmsMessage.body, SmsMessage.state, SmsMessage.error)).all()
    received = Counter(s.text for s in jasmin.smsc.submitted)
    # none sent twice
    assert max(received.values()) == 1, received
    assert set(received) <= bodies
    # none lost: delivered, or failed with the reason when the gateway's answer was lost
    states = {body: (state, error) for body, state, error in rows}
    assert set(states) == bodies
    for body, (state, error) in states.items():
        if state == "delivered":
            assert received[body] == 1
        else:
            assert state == "failed" and "interrupted" in error, (body, state, error)
    assert sum(1 for s, _e in states.values() if s == "failed") <= 1
