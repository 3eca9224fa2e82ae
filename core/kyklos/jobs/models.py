"""The durable job table: status and progress for the UI and API, and the ledger that
turns the queue's at-least-once delivery into exactly-once effects."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, JSONType, UTCDateTime, utcnow

QUEUED = "queued"
RUNNING = "running"
RETRYING = "retrying"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
STATES = (QUEUED, RUNNING, RETRYING, DONE, FAILED, CANCELLED)
#: states from which a delivery may claim the job
CLAIMABLE = (QUEUED, RETRYING)
FINISHED = (DONE, FAILED, CANCELLED)


class Job(Base):
    __tablename__ = "kyklos_job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    args: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=QUEUED, index=True)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    message: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=4)
    result: Mapped[dict | list | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL"), index=True
    )
    #: idempotency key: enqueueing twice with one key gives one job
    key: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: the worker holding the lease while the job runs
    worker: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )
    #: not before (delayed jobs and retries)
    run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: last hand-over to the queue; the sweeper re-sends jobs the queue lost
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the lease: a running job whose lease ran out belongs to a dead worker
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def as_dict(self) -> dict:
        def iso(v):
            return v.isoformat() if v else None

        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "progress": self.progress,
            "message": self.message,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "result": self.result,
            "error": self.error,
            "user_id": self.user_id,
            "created_at": iso(self.created_at),
            "run_at": iso(self.run_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
        }
