"""Background jobs on huey: imports, sends, reminders, delayed rules, scans.

Declare a job type once with ``config.add_job(name, func, ...)``; enqueue it from a
request with ``kyklos.jobs.enqueue(request, name, args=...)`` (or ``request.enqueue_job``).
A handler is ``func(ctx, **args)``; see :class:`kyklos.jobs.runner.JobContext`.
Handlers must be idempotent when they touch anything outside the database: a job whose
worker died is run again (keyed by ``ctx.job_id``). Database effects are exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from huey import crontab
from sqlalchemy import delete

from kyklos.db import utcnow
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.jobs.models import FINISHED, Job
from kyklos.jobs.runner import (
    JobContext,
    JobSpec,
    cancel,
    enqueue,
    job_request,
    reschedule,
    run_every,
    run_job,
    run_scheduled,
    sweep,
    tick,
)
from kyklos.settings import asbool

__all__ = [
    "Job",
    "JobContext",
    "JobSpec",
    "add_job",
    "cancel",
    "crontab",
    "enqueue",
    "job_request",
    "reschedule",
    "run_every",
    "run_job",
    "run_scheduled",
    "sweep",
    "tick",
]

log = logging.getLogger("kyklos.jobs")


def add_job(
    config,
    name: str,
    func,
    retries: int = 3,
    retry_delay: float = 10.0,
    periodic=None,
    title=None,
    every: float | None = None,
):
    """Directive ``config.add_job``: declare a job type.

    :param name: unique, e.g. ``"sfa.import"``; a second declaration is a conflict
    :param func: ``func(ctx, **args)``; its return value (JSON) is kept as the result
    :param retries: further attempts after a failure, ``retry_delay`` seconds apart,
        doubling each time
    :param periodic: run on a schedule: ``kyklos.jobs.crontab(minute="*/5")`` or the
        same as a dict ``{"minute": "*/5"}``; times are UTC
    :param every: run every so many seconds instead (for sub-minute housekeeping)
    """
    if isinstance(periodic, dict):
        periodic = crontab(**periodic)
    if periodic is not None and not callable(periodic):
        raise ValueError(f"job {name}: periodic must be a crontab, got {periodic!r}")
    if every is not None and float(every) < 1:
        raise ValueError(f"job {name}: every must be at least 1 second")
    spec = JobSpec(
        name, func, int(retries), float(retry_delay), periodic, title or name,
        float(every) if every else None,
    )
    intr = config.introspectable("kyklos jobs", name, str(spec.title), "kyklos job")
    intr["job"] = spec

    def register():
        config.registry.kyklos_jobs[name] = spec

    config.action(("kyklos.job", name), register, introspectables=(intr,))


def purge_finished(ctx, days: int | None = None):
    """Delete finished jobs older than ``kyklos.jobs.keep_days`` (default 30)."""
    keep = int(days or ctx.registry.settings.get("kyklos.jobs.keep_days") or 30)
    cutoff = utcnow() - dt.timedelta(days=keep)
    rc = ctx.dbsession.execute(
        delete(Job).where(Job.state.in_(FINISHED), Job.created_at < cutoff)
    ).rowcount
    return {"deleted": rc}


class Hooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        from kyklos.web import MenuItem

        return [MenuItem(title=_("Jobs"), url=request.route_url("jobs"), icon="hourglass-split",
                         order=840)]


def _enqueue_method(request, name, **kw):
    return enqueue(request, name, **kw)


def _start_embedded_worker(event):
    """``kyklos.jobs.embedded_worker = true``: consume the queue in threads of the web
    process (one-machine installs and development; production runs ``kyklos worker``)."""
    registry = event.app.registry
    settings = registry.settings
    if not asbool(settings.get("kyklos.jobs.embedded_worker", "false")):
        return
    if settings.get("kyklos.jobs.backend") == "immediate":
        return
    from kyklos.jobs.worker import Worker

    worker = Worker(registry, workers=1, install_signals=False)
    thread = threading.Thread(target=worker.run, name="kyklos-embedded-worker", daemon=True)
    thread.start()
    registry.kyklos_embedded_worker = worker
    log.info("embedded job worker started")


def includeme(config):
    from pyramid.events import ApplicationCreated

    config.registry.kyklos_jobs = {}
    config.add_directive("add_job", add_job, action_wrap=False)
    config.add_request_method(_enqueue_method, "enqueue_job")
    config.add_job(
        "kyklos.jobs.purge",
        purge_finished,
        retries=1,
        periodic=crontab(minute="17", hour="3"),
        title=_("Delete old finished jobs"),
    )
    config.add_subscriber(_start_embedded_worker, ApplicationCreated)
    config.add_hooks(Hooks(), name="kyklos.jobs.hooks")
    config.include(".views")
