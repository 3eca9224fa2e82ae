"""The transport: a huey instance per application, built from settings.

``kyklos.jobs.backend``:

``sqlite``     SqliteHuey in a file of its own (``kyklos.jobs.url``, default beside a SQLite
               database): no server; ``kyklos worker`` consumes it
``redis``      PriorityRedisHuey (``kyklos.jobs.url`` or ``kyklos.redis_url``): several
               workers on several machines
``immediate``  huey's immediate mode: a job runs in-process right after the commit that
               enqueued it (tests, scripts)

Huey only carries job ids; the job's name, arguments and state live in ``kyklos_job``.
Messages are JSON, not pickle, so whoever can write to the queue cannot run code.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

from huey import MemoryHuey, PriorityRedisHuey, SqliteHuey
from huey.api import PeriodicTask
from huey.registry import Message
from huey.serializer import Serializer
from sqlalchemy.engine import make_url

from kyklos.errors import ConfigError

BACKENDS = ("sqlite", "redis", "immediate")
_lock = threading.Lock()


class JsonSerializer(Serializer):
    """Huey messages as JSON. Only flat messages (no pipelines, chords or results)."""

    def _serialize(self, data):
        if not isinstance(data, Message):
            raise TypeError("only task messages are serialized (results are disabled)")
        if data.on_complete or data.on_error or data.chord_config:
            raise TypeError("pipelines and chords are not used by kyklos")
        doc = data._asdict()
        for k in ("eta", "expires_resolved"):
            if isinstance(doc[k], dt.datetime):
                doc[k] = doc[k].isoformat()
        doc["args"] = list(doc["args"] or ())
        if isinstance(doc["expires"], dt.datetime | dt.timedelta):
            raise TypeError("expires must be seconds")
        return json.dumps(doc, separators=(",", ":")).encode()

    def _deserialize(self, data):
        doc = json.loads(data)
        fields = {k: doc.get(k) for k in Message._fields}
        for k in ("eta", "expires_resolved"):
            if fields[k]:
                fields[k] = dt.datetime.fromisoformat(fields[k])
        fields["args"] = tuple(fields["args"] or ())
        fields["kwargs"] = dict(fields["kwargs"] or {})
        return Message(**fields)


def _default_sqlite_path(settings) -> str:
    url = make_url(settings["sqlalchemy.url"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return str(Path(url.database).with_suffix(".jobs.sqlite"))
    files = settings.get("kyklos.files_dir")
    if files:
        return str(Path(files) / "jobs.sqlite")
    raise ConfigError(
        "kyklos.jobs.backend = sqlite needs kyklos.jobs.url (the path of the queue file)"
    )


def make_huey(settings: dict):
    """A huey instance for these settings (no task registered yet)."""
    backend = settings.get("kyklos.jobs.backend") or "sqlite"
    name = settings.get("kyklos.jobs.queue") or "kyklos"
    common = {"results": False, "serializer": JsonSerializer(), "utc": True}
    if backend == "immediate":
        return MemoryHuey(name, immediate=True, **common)
    if backend == "sqlite":
        path = settings.get("kyklos.jobs.url") or _default_sqlite_path(settings)
        if path.startswith("sqlite:///"):
            path = path[len("sqlite:///") :]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=path, timeout=10, **common)
    if backend == "redis":
        url = settings.get("kyklos.jobs.url") or settings.get("kyklos.redis_url")
        if not url:
            raise ConfigError("kyklos.jobs.backend = redis needs kyklos.jobs.url (a redis:// URL)")
        try:
            import redis  # noqa: F401 - optional dependency, kyklos[redis]
        except ImportError as exc:
            raise ConfigError("kyklos.jobs.backend = redis needs 'pip install redis'") from exc
        # Blocking pops with a short timeout: workers wake at once on a new job, yet
        # notice a shutdown within a second.
        return PriorityRedisHuey(name, url=url, blocking=True, read_timeout=1, **common)
    raise ConfigError(
        f"kyklos.jobs.backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
    )


class MinuteTick(PeriodicTask):
    """A periodic task that carries the minute it was scheduled for, so that several
    schedulers (one per worker process) agree on one idempotency key per minute."""

    def validate_datetime(self, timestamp):
        self.kwargs = {"minute": timestamp.replace(second=0, microsecond=0).isoformat()}
        return True


def get_huey(registry):
    """The application's huey instance, created on first use (opening the queue is I/O,
    which ``includeme`` must not do)."""
    huey = getattr(registry, "kyklos_huey", None)
    if huey is not None:
        return huey
    with _lock:
        huey = getattr(registry, "kyklos_huey", None)
        if huey is None:
            from kyklos.jobs import runner

            huey = make_huey(registry.settings)
            runner.register_tasks(huey, registry)
            registry.kyklos_huey = huey
    return huey
