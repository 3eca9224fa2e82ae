"""Real worker processes (``kyklos worker INI``) on the embedded SQLite queue and on
Redis: a worker killed with SIGKILL mid-job -> the job completes exactly once after a
restart; several workers -> every job's effect exactly once; a delayed (time) rule
fires exactly once across restarts."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from kyklos.db import utcnow
from kyklos.jobs.models import Job

SAMPLES = Path(__file__).resolve().parent.parent / "sample_plugins"
REDIS_URL = os.environ.get("KYKLOS_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = pytest.mark.slow


def redis_or_skip():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        if os.environ.get("KYKLOS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"Redis required but unreachable at {REDIS_URL}: {exc}", pytrace=False)
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")


@pytest.fixture
def database(db_url, db_kind, tmp_path, worker_id, _pg_admin_url):
    """A database of this test's own (the worker processes share it). Asking for
    ``db_url`` makes the SDK run each test on SQLite and, when configured, PostgreSQL."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path}/kyklos.sqlite"
        return
    base = make_url(_pg_admin_url)
    name = f"{base.database or 'test'}_jobs_{worker_id}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Deployment:
    """An .ini, its migrated database, worker processes, and a registry in this process
    for enqueueing and looking."""

    def __init__(self, tmp_path, db_url, backend):
        self.tmp = tmp_path
        self.queue = f"kyklos-test-{uuid.uuid4().hex[:8]}"
        jobs_url = REDIS_URL if backend == "redis" else str(tmp_path / "jobs.sqlite")
        self.ini = tmp_path / "deploy.ini"
        self.ini.write_text(
            "[app:main]\n"
            "use = egg:kyklos\n"
            "kyklos.plugins = sampleflow\n"
            f"sqlalchemy.url = {db_url}\n"
            f"kyklos.files_dir = {tmp_path}/files\n"
            "kyklos.secret = worker-test\n"
            f"kyklos.jobs.backend = {backend}\n"
            f"kyklos.jobs.url = {jobs_url}\n"
            f"kyklos.jobs.queue = {self.queue}\n"
            "kyklos.jobs.lease_seconds = 2\n"
            "kyklos.jobs.sweep_seconds = 0.5\n"
            "kyklos.jobs.requeue_seconds = 5\n"
            "kyklos.automation.scan_seconds = 1\n"
        )
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(SAMPLES), self.env.get("PYTHONPATH")]))
        self.env.pop("KYKLOS_DATABASE_URL", None)
        from kyklos import migrate
        from kyklos.app import make_configurator
        from kyklos.cli import load_settings

        config = make_configurator(load_settings(str(self.ini)), check_migrations=False)
        self.registry = config.registry
        engine = self.registry["dbengine"]
        migrate.upgrade(engine, migrate.branches_for(self.registry.kyklos_plugins))
        from kyklos import jobs
        from kyklos.security import sync_roles

        with jobs.job_request(self.registry) as request:
            sync_roles(request.dbsession, self.registry)
        self.procs: list[subprocess.Popen] = []

    def cli(self, *args, timeout=120):
        proc = subprocess.run([sys.executable, "-m", "kyklos.cli", *args],
                              env=self.env, capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, proc.stderr
        return proc

    def start_worker(self, workers=1):
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "kyklos.cli", "worker", str(self.ini), "--workers",
             str(workers)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("worker-*.log")))

    def enqueue(self, name, **args):
        from kyklos import jobs

        with jobs.job_request(self.registry) as request:
            return jobs.enqueue(request, name, args=args)

    def db(self):
        return self.registry["dbengine"].connect()

    def job(self, job_id) -> dict:
        with self.db() as c:
            return dict(c.execute(select(Job.__table__).where(Job.id == job_id)).mappings().one())

    def names(self, prefix) -> list[str]:
        from kyklos_sampleflow import Ticket

        with self.db() as c:
            return sorted(c.execute(select(Ticket.name).where(Ticket.name.like(f"{prefix}%")))
                          .scalars())

    def wait(self, predicate, timeout=60, what="condition"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}\n--- worker logs ---\n"
                             + self.logs()[-4000:])

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
        try:
            from kyklos.jobs.backend import get_huey

            get_huey(self.registry).flush()  # the Redis keys of this test's queue
        except Exception:  # noqa: BLE001, S110 - best-effort cleanup
            pass
        self.registry["dbengine"].dispose()


@pytest.fixture(params=["sqlite", "redis"])
def deployment(request, tmp_path, database):
    if request.param == "redis":
        redis_or_skip()
    d = Deployment(tmp_path, database, request.param)
    yield d
    d.close()


def test_worker_killed_mid_job_completes_it_exactly_once_after_restart(deployment):
    d = deployment
    worker = d.start_worker()
    job_id = d.enqueue("sampleflow.slow", tag="killed", count=6, pause=0.5)
    d.wait(lambda: d.job(job_id)["state"] == "running", what="the job to start")
    time.sleep(1.2)  # a few rows written, not committed
    worker.kill()  # SIGKILL: no cleanup, no goodbye
    worker.wait()
    assert d.job(job_id)["state"] == "running"  # the dead worker still "holds" it
    assert d.names("killed") == []  # its half-done work never committed
    d.start_worker()
    d.wait(lambda: d.job(job_id)["state"] == "done", what="the job to finish after restart")
    row = d.job(job_id)
    assert row["attempts"] == 2
    assert d.names("killed") == [f"killed-{i}" for i in range(6)]  # each exactly once
    assert row["result"] == {"created": 6}


def test_two_workers_run_each_job_exactly_once(deployment):
    from kyklos.jobs.runner import dispatch

    d = deployment
    d.start_worker(workers=2)
    d.start_worker(workers=2)
    ids = [d.enqueue("sampleflow.mark", tag=f"many-{i:02d}") for i in range(24)]
    for job_id in ids[::3]:
        dispatch(d.registry, job_id)  # duplicate deliveries on purpose
    d.wait(lambda: all(d.job(i)["state"] == "done" for i in ids), what="all jobs done")
    assert d.names("many-") == [f"many-{i:02d}" for i in range(24)]
    with d.db() as c:
        attempts = c.execute(select(func.max(Job.attempts)).where(Job.id.in_(ids))).scalar()
    assert attempts == 1


def test_delayed_rule_fires_exactly_once_across_restarts(deployment):
    """A time rule ("2 seconds after due_at" in effect) fires once, even with the
    worker killed before it came due and two workers scanning afterwards."""
    from kyklos_sampleflow import Ticket

    from kyklos import jobs
    from kyklos.security.models import Role, User
    from kyklos.workflow.models import AutomationRule, AutomationRun

    d = deployment
    with jobs.job_request(d.registry) as request:
        db = request.dbsession
        admin_role = db.execute(select(Role).where(Role.name == "admin")).scalar_one()
        author = User(email="author@example.com", name="Author", roles=[admin_role])
        db.add(author)
        db.flush()
        rule = AutomationRule(
            created_by_id=author.id,
            entity="ticket", name="follow up", enabled=True,
            trigger={"kind": "time", "field": "due_at", "offset": 1, "unit": "days",
                     "direction": "after"},
            conditions={"status__eq": "new"},
            actions=[{"type": "sampleflow.create_ticket", "name": "follow-up of $name"}],
            created_at=utcnow() - dt.timedelta(seconds=1),
        )
        db.add(rule)
        db.add(Ticket(name="meeting", status="new", custom={},
                      due_at=utcnow() - dt.timedelta(days=1) + dt.timedelta(seconds=4)))
    worker = d.start_worker()
    time.sleep(2)  # the worker scans; nothing is due yet
    assert d.names("follow-up") == []
    worker.kill()
    worker.wait()
    time.sleep(3)  # it comes due while no worker runs
    d.start_worker()
    d.start_worker()
    d.wait(lambda: d.names("follow-up") == ["follow-up of meeting"], timeout=60,
           what="the follow-up ticket")
    time.sleep(3)  # more scans by both workers: still once
    assert d.names("follow-up") == ["follow-up of meeting"]
    with d.db() as c:
        runs = c.execute(select(AutomationRun.outcome)).scalars().all()
    assert runs == ["done"]


def test_burst_runs_what_is_due_and_exits(deployment):
    d = deployment
    ids = [d.enqueue("sampleflow.mark", tag=f"burst-{i}") for i in range(3)]
    proc = d.cli("worker", str(d.ini), "--burst")
    assert "ran" in proc.stdout
    assert all(d.job(i)["state"] == "done" for i in ids)
    assert d.names("burst-") == ["burst-0", "burst-1", "burst-2"]
