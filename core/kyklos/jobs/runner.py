"""Enqueue, claim, run, retry and sweep jobs.

Delivery by the queue is at least once (a message may come twice: a retry, a second
scheduler, the sweeper). Effects are exactly once because the ``kyklos_job`` row is the
ledger: a delivery first *claims* the row with a conditional UPDATE (only one claim can
win), the handler runs in one database transaction, and the same transaction marks the
row done only if this worker still holds the lease. A worker killed mid-job leaves a
``running`` row whose lease runs out; the sweeper hands it to the queue again and the
next run starts from a clean slate, because the dead run's transaction never committed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import transaction
from pyramid.scripting import prepare
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from kyklos.db import (
    get_tm_session,
    prefers_immediate,
    retry_locked,
    utcnow,
    write_transaction,
)
from kyklos.errors import ConfigError
from kyklos.jobs.models import CLAIMABLE, DONE, FAILED, QUEUED, RETRYING, RUNNING, Job

log = logging.getLogger("kyklos.jobs")

#: huey task names; the same in web and worker processes
RUN_TASK = "kyklos_run_job"
TICK_TASK = "kyklos_tick"


@dataclass(frozen=True)
class JobSpec:
    """A registered job type (``config.add_job``)."""

    name: str
    func: Callable
    retries: int = 3
    #: seconds before the first retry; doubled for each further one
    retry_delay: float = 10.0
    #: ``huey.crontab(...)`` (a callable on a naive UTC datetime), or None
    periodic: Callable | None = None
    title: object = ""
    #: run every so many seconds (started by the workers' housekeeping thread)
    every: float | None = None


class LeaseLost(Exception):
    """Another worker took the job over (our lease ran out): our work must not commit."""


# --- settings ------------------------------------------------------------------------------


def _seconds(settings, key, default) -> float:
    try:
        return float(settings.get(key) or default)
    except ValueError as exc:
        raise ConfigError(f"setting {key} must be a number of seconds") from exc


def lease_seconds(settings) -> float:
    return _seconds(settings, "kyklos.jobs.lease_seconds", 300)


def requeue_seconds(settings) -> float:
    return _seconds(settings, "kyklos.jobs.requeue_seconds", 300)


# --- enqueue -------------------------------------------------------------------------------


def _user_id(request):
    try:
        ident = request.identity
    except Exception:  # noqa: BLE001 - no security policy in some scripts
        return None
    return ident.user.id if ident is not None else None


def enqueue(
    request,
    name: str,
    *,
    args: dict | None = None,
    key: str | None = None,
    delay: float | dt.timedelta | None = None,
    eta: dt.datetime | None = None,
    user_id: int | None | bool = True,
) -> str:
    """Add a job to the request's transaction; it is handed to the queue only after
    that transaction commits (a rolled-back request leaves no job behind).

    :param args: keyword arguments for the handler (JSON-serializable)
    :param key: idempotency key: a second enqueue with the same key returns the first
        job's id and adds nothing
    :param delay: seconds (or a timedelta) to wait; ``eta`` an aware datetime instead
    :param user_id: the user the job runs as; default the requesting user
    :return: the job id
    """
    registry = request.registry
    spec = registry.kyklos_jobs.get(name)
    if spec is None:
        raise ValueError(f"unknown job {name!r}; register it with config.add_job")
    args = dict(args or {})
    json.dumps(args)  # fail here, in the caller, not later in a worker
    if eta is not None and eta.tzinfo is None:
        raise ValueError("eta must be an aware datetime")
    now = utcnow()
    if delay is not None:
        seconds = delay.total_seconds() if isinstance(delay, dt.timedelta) else float(delay)
        eta = now + dt.timedelta(seconds=seconds)
    if user_id is True:
        user_id = _user_id(request)
    db = request.dbsession
    if key is not None:
        found = db.execute(select(Job.id).where(Job.key == key)).scalar_one_or_none()
        if found is not None:
            return found
    job = Job(
        id=str(uuid.uuid4()),
        name=name,
        args=args,
        state=QUEUED,
        progress=0,
        message="",
        attempts=0,
        max_attempts=1 + max(0, spec.retries),
        user_id=user_id or None,
        key=key,
        created_at=now,
        run_at=eta,
        enqueued_at=now,
    )
    if key is not None:
        try:
            with db.begin_nested():
                db.add(job)
        except IntegrityError:
            # Another transaction enqueued the same key between our look-up and insert.
            return db.execute(select(Job.id).where(Job.key == key)).scalar_one()
    else:
        db.add(job)
        db.flush()
    after_commit(request, registry, [(job.id, eta)])
    return job.id


def after_commit(request, registry, items):
    tm = getattr(request, "tm", None) or transaction.manager
    tm.get().addAfterCommitHook(_dispatch_hook, args=(registry, items))


def _dispatch_hook(committed, registry, items):
    if committed:
        for job_id, eta in items:
            dispatch(registry, job_id, eta)


def dispatch(registry, job_id: str, eta: dt.datetime | None = None) -> None:
    """Hand a committed job to the queue. Failure is logged, not raised: the row stays
    queued and the sweeper sends it again."""
    from kyklos.jobs.backend import get_huey

    try:
        huey = get_huey(registry)
        task = registry.kyklos_huey_tasks[RUN_TASK]
        if eta is not None and eta > utcnow():
            # An aware eta: huey would read a naive one as local time.
            task.schedule(args=(job_id,), eta=eta)
        else:
            huey.enqueue(task.s(job_id))
    except Exception:  # noqa: BLE001 - the sweeper recovers; the commit already happened
        log.exception("could not hand job %s to the queue; the sweeper will retry", job_id)


# --- run -----------------------------------------------------------------------------------


class JobSession(dict):
    """Stands in for the web session in a job: the security policy reads ``user_id``
    from it, so a job runs with its user's permissions."""

    new = False

    def __init__(self, user_id):
        # "_auth_at": the policy's absolute session timeout counts from the job's start.
        super().__init__(_auth_at=time.time())
        self.user_id = user_id

    def changed(self):
        pass

    def invalidate(self):
        self.user_id = None

    def flash(self, msg, queue="", allow_duplicate=True):
        pass

    def pop_flash(self, queue=""):
        return []

    def peek_flash(self, queue=""):
        return []

    def get_csrf_token(self):
        return ""

    new_csrf_token = get_csrf_token


class job_request:  # noqa: N801 - used like a function: ``with job_request(...) as request``
    """A Pyramid request for background work: ``dbsession`` in a transaction of its own
    that commits when the block ends without error, URLs from ``kyklos.base_url``, and
    the permissions of ``user_id`` (none when ``None``).

    ``write=True``: the transaction will write, so on SQLite it takes the write lock at
    BEGIN (waiting its turn) rather than at its first write, where it would fail if
    another writer committed after it read. Keep such blocks short: every other writer
    waits for them. Default: :func:`kyklos.db.immediate_writes` decides (off)."""

    def __init__(self, registry, user_id=None, job_id=None, write: bool | None = None):
        self.registry = registry
        self.user_id = user_id
        self.job_id = job_id
        self.write = prefers_immediate() if write is None else write

    def __enter__(self):
        from pyramid.interfaces import IRequestFactory
        from pyramid.request import Request

        from kyklos.sitesettings import base_url_of

        base = base_url_of(self.registry)  # the administrator's setting, else the .ini
        factory = self.registry.queryUtility(IRequestFactory, default=Request)
        request = factory.blank("/", base_url=base)
        self.env = prepare(request=request, registry=self.registry)
        request.tm = transaction.TransactionManager(explicit=True)
        request.session = JobSession(self.user_id)
        request.environ["kyklos.job_id"] = self.job_id
        if self.write:
            # on SQLite, BEGIN IMMEDIATE at the first statement (kyklos.db.includeme)
            request.environ["kyklos.immediate"] = True
        request.tm.begin()
        self.request = request
        return request

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and not self.request.tm.isDoomed():
                self.request.tm.commit()
            else:
                self.request.tm.abort()
        finally:
            self.env["closer"]()
        return False


class JobContext:
    """What a handler gets: ``request`` and ``dbsession`` (one transaction, committed
    with the job's completion), ``registry``, ``job_id``, ``attempt`` (1 first),
    ``max_attempts``, ``last_attempt``, ``user_id`` and ``progress(pct, message)``."""

    def __init__(self, request, job_id, attempt, user_id, worker, engine, max_attempts=1):
        self.request = request
        self.registry = request.registry
        self.dbsession = request.dbsession
        self.job_id = job_id
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.user_id = user_id
        self._worker = worker
        self._engine = engine

    @property
    def last_attempt(self) -> bool:
        """No retry follows if this attempt fails."""
        return self.attempt >= self.max_attempts

    def progress(self, pct: float, message: str = "") -> None:
        """Report progress (0..100) for the UI at once. It goes to the queue's store, not
        the database: a job holding SQLite's write lock can still report."""
        put_progress(self.registry, self.job_id, pct, message)

    def enqueue(self, name, **kw) -> str:
        """Enqueue a follow-up job after this job commits."""
        return enqueue(self.request, name, **kw)


PROGRESS_KEY = "kyklos.progress.{}"


def put_progress(registry, job_id: str, pct: float, message: str = "") -> None:
    from kyklos.jobs.backend import get_huey

    doc = {"progress": max(0, min(100, int(pct))), "message": str(message)[:500]}
    try:
        get_huey(registry).storage.put_data(PROGRESS_KEY.format(job_id),
                                            json.dumps(doc).encode())
    except Exception:  # noqa: BLE001 - progress is best effort
        log.debug("progress of job %s not stored", job_id, exc_info=True)


def live_progress(registry, job_id: str) -> dict | None:
    """The last progress a running job reported, or None."""
    from huey.constants import EmptyData

    from kyklos.jobs.backend import get_huey

    try:
        raw = get_huey(registry).storage.peek_data(PROGRESS_KEY.format(job_id))
    except Exception:  # noqa: BLE001 - the page still shows the stored state
        return None
    if raw is EmptyData or raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def clear_progress(registry, job_id: str) -> None:
    from kyklos.jobs.backend import get_huey

    try:
        get_huey(registry).storage.delete_data(PROGRESS_KEY.format(job_id))
    except Exception:  # noqa: BLE001
        log.debug("progress of job %s not cleared", job_id, exc_info=True)


def side_write(engine, stmt) -> int:
    """Run one statement in its own short transaction; on SQLite wait at most 250 ms
    for the lock (a job holding it must not stall its own progress reports)."""
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=250")
                conn.commit()
            try:
                with conn.begin():
                    return conn.execute(stmt).rowcount
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA busy_timeout=10000")
                    conn.commit()
    except Exception:  # noqa: BLE001 - progress and heartbeats are best effort
        log.debug("side write skipped", exc_info=True)
        return 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(engine, job_id: str, worker: str, lease: float, now=None) -> dict | None:
    """Take the job if it is waiting and due. Returns its row, or None when it is done,
    cancelled, not yet due, or held by a live worker."""
    return retry_locked(_claim, engine, job_id, worker, lease, now or utcnow(), what="claim")


def _claim(engine, job_id, worker, lease, now):
    table = Job.__table__
    with write_transaction(engine) as conn:
        rc = conn.execute(
            update(table)
            .where(
                table.c.id == job_id,
                table.c.state.in_(CLAIMABLE),
                or_(table.c.run_at.is_(None), table.c.run_at <= now + dt.timedelta(seconds=1)),
            )
            .values(
                state=RUNNING,
                attempts=table.c.attempts + 1,
                worker=worker,
                started_at=now,
                locked_until=now + dt.timedelta(seconds=lease),
                error=None,
            )
        ).rowcount
        if rc != 1:
            return None
        row = conn.execute(select(table).where(table.c.id == job_id)).mappings().one()
    return dict(row)


class Heartbeat(threading.Thread):
    """Extends the lease while a job runs, so only a dead worker's jobs expire."""

    def __init__(self, engine, job_id, worker, lease):
        super().__init__(name=f"kyklos-heartbeat-{job_id[:8]}", daemon=True)
        self.engine, self.job_id, self.worker, self.lease = engine, job_id, worker, lease
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(max(0.5, self.lease / 3)):
            side_write(
                self.engine,
                update(Job)
                .where(Job.id == self.job_id, Job.worker == self.worker, Job.state == RUNNING)
                .values(locked_until=utcnow() + dt.timedelta(seconds=self.lease)),
            )

    def stop(self):
        self.stopped.set()


def run_job(registry, job_id: str, now=None) -> str:
    """Run one delivery of a job. Returns what happened: done, skipped, retrying,
    failed or lost (another worker took over)."""
    engine = registry["dbengine"]
    worker = worker_name()
    lease = lease_seconds(registry.settings)
    row = claim(engine, job_id, worker, lease, now=now)
    if row is None:
        log.info("job %s not claimed (done, cancelled, not due or running elsewhere)", job_id)
        return "skipped"
    spec = registry.kyklos_jobs.get(row["name"])
    if spec is None:
        _finish_failed(engine, job_id, worker, f"no job type {row['name']!r} is registered")
        return FAILED
    heartbeat = Heartbeat(engine, job_id, worker, lease)
    heartbeat.start()

    tries = {"n": 0}

    def attempt():
        # The handler's own transaction begins deferred: a job may run long, and taking
        # SQLite's write lock for all of it would stall every request. Nested short
        # transactions (an import's batches) may take it; see kyklos.db. Run again
        # because it met the lock, it takes the lock at its first statement, as a
        # retried request does, so that it does not lose to other writers again.
        tries["n"] += 1
        with job_request(registry, row["user_id"], job_id, write=tries["n"] > 1) as request:
            ctx = JobContext(
                request, job_id, row["attempts"], row["user_id"], worker=worker, engine=engine,
                max_attempts=row["max_attempts"],
            )
            result = spec.func(ctx, **(row["args"] or {}))
            try:
                json.dumps(result)
            except TypeError:
                result = repr(result)
            done = request.dbsession.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == worker, Job.state == RUNNING)
                .values(
                    state=DONE,
                    progress=100,
                    result=result,
                    finished_at=utcnow(),
                    locked_until=None,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if done != 1:
                raise LeaseLost(job_id)

    try:
        # Meeting SQLite's lock is not the job's failure: run it again at once (its
        # transaction rolled back), as pyramid_retry does for a request.
        retry_locked(attempt, attempts=5, what=f"job {job_id}")
    except LeaseLost:
        log.warning("job %s: lease lost to another worker; this run rolled back", job_id)
        return "lost"
    except Exception as exc:  # noqa: BLE001 - any handler error is recorded and retried
        log.exception("job %s (%s) failed", job_id, row["name"])
        return _after_failure(registry, row, worker, spec, exc)
    finally:
        heartbeat.stop()
        clear_progress(registry, job_id)
    log.info("job %s (%s) done", job_id, row["name"])
    return DONE


def _error_text(exc) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text[:2000]


def _after_failure(registry, row, worker, spec, exc) -> str:
    engine = registry["dbengine"]
    job_id = row["id"]
    if row["attempts"] >= row["max_attempts"]:
        _finish_failed(engine, job_id, worker, _error_text(exc))
        return FAILED
    delay = spec.retry_delay * (2 ** (row["attempts"] - 1))
    eta = utcnow() + dt.timedelta(seconds=delay)
    rc = retry_locked(_mark_retrying, engine, job_id, worker, exc, eta, what="job retry")
    if rc == 1:
        dispatch(registry, job_id, eta)
        return RETRYING
    return "lost"


def _mark_retrying(engine, job_id, worker, exc, eta) -> int:
    with write_transaction(engine) as conn:
        return conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker == worker, Job.state == RUNNING)
            .values(
                state=RETRYING,
                error=_error_text(exc),
                run_at=eta,
                enqueued_at=utcnow(),
                worker=None,
                locked_until=None,
            )
        ).rowcount


def _finish_failed(engine, job_id, worker, error):
    retry_locked(_finish_failed_once, engine, job_id, worker, error, what="job failure")


def _finish_failed_once(engine, job_id, worker, error):
    with write_transaction(engine) as conn:
        conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker == worker, Job.state == RUNNING)
            .values(state=FAILED, error=error, finished_at=utcnow(), locked_until=None)
        )


# --- sweeping and periodic jobs --------------------------------------------------------------


def sweep(registry, now=None, requeue_after: float | None = None) -> dict:
    """Recover what the queue lost: running jobs whose worker died (lease ran out) and
    waiting jobs the queue never delivered. Safe to run in every worker at once."""
    engine = registry["dbengine"]
    now = now or utcnow()
    if requeue_after is None:
        requeue_after = requeue_seconds(registry.settings)
    cutoff = now - dt.timedelta(seconds=requeue_after)
    resent, failed = retry_locked(_sweep, engine, now, cutoff, what="sweep")
    for job_id in resent:
        dispatch(registry, job_id)
    if resent or failed:
        log.info("sweep: re-sent %d job(s), failed %d", len(resent), len(failed))
    return {"resent": resent, "failed": failed}


def _sweep(engine, now, cutoff):
    table = Job.__table__
    resent, failed = [], []
    with engine.connect() as conn:
        # most sweeps find nothing: look first, without taking the write lock
        work = conn.execute(
            select(table.c.id).where(
                or_(
                    and_(table.c.state == RUNNING, table.c.locked_until < now),
                    and_(
                        table.c.state.in_(CLAIMABLE),
                        table.c.enqueued_at <= cutoff,
                        or_(table.c.run_at.is_(None), table.c.run_at <= cutoff),
                    ),
                )
            ).limit(1)
        ).first()
    if work is None:
        return resent, failed
    with write_transaction(engine) as conn:
        stale = conn.execute(
            select(table.c.id, table.c.attempts, table.c.max_attempts).where(
                table.c.state == RUNNING, table.c.locked_until < now
            )
        ).all()
        for job_id, attempts, max_attempts in stale:
            guard = and_(table.c.id == job_id, table.c.state == RUNNING, table.c.locked_until < now)
            if attempts >= max_attempts:
                rc = conn.execute(
                    update(table)
                    .where(guard)
                    .values(
                        state=FAILED,
                        error=f"the worker running it stopped ({attempts} attempts)",
                        finished_at=now,
                        locked_until=None,
                        worker=None,
                    )
                ).rowcount
                if rc:
                    failed.append(job_id)
                continue
            rc = conn.execute(
                update(table)
                .where(guard)
                .values(
                    state=RETRYING,
                    error="the worker running it stopped",
                    worker=None,
                    locked_until=None,
                    run_at=now,
                    enqueued_at=now,
                )
            ).rowcount
            if rc:
                resent.append(job_id)
        lost = conn.execute(
            select(table.c.id).where(
                table.c.state.in_(CLAIMABLE),
                table.c.enqueued_at <= cutoff,
                or_(table.c.run_at.is_(None), table.c.run_at <= cutoff),
            )
        ).scalars().all()
        for job_id in lost:
            conn.execute(update(table).where(table.c.id == job_id).values(enqueued_at=now))
        resent.extend(lost)
    return resent, failed


def tick(registry, minute: dt.datetime) -> list[str]:
    """Create the periodic jobs due at ``minute`` (aware or naive UTC). Each (job,
    minute) gets one idempotency key, so several schedulers create it once."""
    if minute.tzinfo is not None:
        minute = minute.astimezone(dt.UTC).replace(tzinfo=None)
    minute = minute.replace(second=0, microsecond=0)
    created = []
    for spec in registry.kyklos_jobs.values():
        if spec.periodic is None or not spec.periodic(minute):
            continue
        key = f"periodic:{spec.name}:{minute.isoformat(timespec='minutes')}"
        created.append(retry_locked(_enqueue_keyed, registry, spec.name, key, what="tick"))
    return created


def _enqueue_keyed(registry, name: str, key: str) -> str:
    # look-up and insert of the key in one write transaction: on SQLite the insert then
    # never finds the snapshot of its look-up stale ("database is locked")
    with job_request(registry, None, write=True) as request:
        return enqueue(request, name, key=key, user_id=None)


def run_every(registry, now: dt.datetime | None = None) -> list[str]:
    """Create the ``every=N`` jobs due now: one per job and N-second slot, whichever
    worker gets there first (the slot is the idempotency key)."""
    now = now or utcnow()
    created = []
    for spec in registry.kyklos_jobs.values():
        if not spec.every:
            continue
        slot = int(now.timestamp() // spec.every)
        key = f"every:{spec.name}:{slot}"
        created.append(retry_locked(_enqueue_keyed, registry, spec.name, key, what="run_every"))
    return created


def register_tasks(huey, registry) -> None:
    """The two huey tasks kyklos uses: run a job by id, and the minute tick."""
    from kyklos.jobs.backend import MinuteTick

    def run(job_id):
        run_job(registry, job_id)

    def minute_tick(minute=None):
        at = dt.datetime.fromisoformat(minute) if minute else utcnow()
        tick(registry, at)

    run.__module__ = minute_tick.__module__ = "kyklos.jobs"
    registry.kyklos_huey_tasks = {
        RUN_TASK: huey.task(name=RUN_TASK)(run),
        TICK_TASK: huey.task(name=TICK_TASK, task_base=MinuteTick)(minute_tick),
    }


def get_job(dbsession, job_id) -> Job | None:
    return dbsession.get(Job, job_id)


def cancel(request, job_id: str) -> bool:
    """Cancel a job that has not started. Returns whether it was cancelled."""
    from kyklos.jobs.models import CANCELLED

    rc = request.dbsession.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_(CLAIMABLE))
        .values(state=CANCELLED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return rc == 1


def reschedule(request, job_id: str, eta: dt.datetime, args: dict | None = None) -> bool:
    """Move a waiting job to ``eta`` (and replace its args). The old queue message
    arrives early, finds the job not due, and is dropped; a new one is sent."""
    values = {"run_at": eta, "enqueued_at": utcnow()}
    if args is not None:
        json.dumps(args)
        values["args"] = dict(args)
    rc = request.dbsession.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_(CLAIMABLE))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if rc == 1:
        after_commit(request, request.registry, [(job_id, eta)])
    return rc == 1


def run_scheduled(registry, until: dt.datetime | None = None) -> int:
    """Run the queue's delayed tasks due by ``until`` now, in this process (immediate
    mode has no scheduler; tests use this to fast-forward). Returns how many ran."""
    from kyklos.jobs.backend import get_huey

    huey = get_huey(registry)
    until = until or utcnow()
    naive = until.astimezone(dt.UTC).replace(tzinfo=None)
    count = 0
    for task in huey.read_schedule(naive):
        if task.name == RUN_TASK:
            run_job(registry, task.args[0], now=until)
            count += 1
    return count


def pending_due(registry, now=None) -> int:
    """How many jobs wait and are due (for burst mode and health checks)."""
    now = now or utcnow()
    with registry["dbengine"].connect() as conn:
        rows = conn.execute(
            select(Job.id).where(
                Job.state.in_((QUEUED, RETRYING)),
                or_(Job.run_at.is_(None), Job.run_at <= now),
            )
        ).all()
    return len(rows)


def tm_session(registry, tm):
    return get_tm_session(registry["dbsession_factory"], tm)
