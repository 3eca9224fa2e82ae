"""A real worker process (``kyklos worker INI``) killed with SIGKILL while it hands the
outbox to a real Jasmin: after a restart every message is accounted for (delivered, or
failed with the reason when the gateway's answer was lost) and the SMSC received none
of them twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

COUNT = 12


class Deployment:
    def __init__(self, tmp_path, db_url):
        from webtest.http import StopableWSGIServer

        self.tmp = tmp_path
        self.ini = tmp_path / "deploy.ini"
        self.ini.write_text(
            "[app:main]\n"
            "use = egg:kyklos\n"
            "kyklos.plugins = contacts activities sms\n"
            f"sqlalchemy.url = {db_url}\n"
            f"kyklos.files_dir = {tmp_path}/files\n"
            "kyklos.secret = worker-test\n"
            "kyklos.jobs.backend = sqlite\n"
            f"kyklos.jobs.url = {tmp_path}/jobs.sqlite\n"
            f"kyklos.jobs.queue = smskill-{uuid.uuid4().hex[:8]}\n"
            "kyklos.jobs.lease_seconds = 2\n"
            "kyklos.jobs.sweep_seconds = 0.5\n"
            "kyklos.jobs.requeue_seconds = 5\n"
            f"kyklos.encryption_keys = {Fernet.generate_key().decode()}\n"
            "kyklos.sms.pause = 0.4\n"
            "kyklos.sms.poll_seconds = 5\n"
            "kyklos.sms.uncertain_minutes = 0.2\n"
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
        # the deployment's web app, for the gateway's receipts
        self.server = StopableWSGIServer.create(config.make_wsgi_app(), host="127.0.0.1")
        self.server.wait()
        self.url = self.server.application_url.rstrip("/")
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

    def wait(self, predicate, timeout=120, what="condition", gateway=None):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}\n{self.report(gateway)}")

    def report(self, gateway=None) -> str:
        """What a failure needs to be understood: the outbox's rows, the worker's log
        and, when given, the gateway's log and its link to the SMSC."""
        from kyklos_sms.models import SmsMessage

        with self.registry["dbengine"].connect() as c:
            rows = c.execute(
                select(SmsMessage.id, SmsMessage.state, SmsMessage.error).order_by(SmsMessage.id)
            ).all()
        parts = ["outbox: " + "; ".join(f"{i} {s} {e or ''}".strip() for i, s, e in rows)]
        parts.append("worker log:\n" + self.logs()[-3000:])
        if gateway is not None:
            parts.append(f"SMSC sessions: {len(gateway.smsc.sessions)}, "
                         f"submitted: {len(gateway.smsc.submitted)}")  # fmt: skip
            parts.append("gateway log:\n" + gateway.log()[-4000:])
        return "\n".join(parts)

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
        self.server.shutdown()
        self.registry["dbengine"].dispose()


@pytest.fixture
def deployment(tmp_path, scratch_db_url):
    d = Deployment(tmp_path, scratch_db_url)
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
        gateway=jasmin,
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
    d.wait(lambda: d.scalar(open_rows) == 0, what="every message to be settled", gateway=jasmin)
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
