"""Tables of the importer: saved column-mapping profiles and import runs."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, JSONType, TimestampMixin

STATES = ("uploaded", "queued", "running", "done", "failed")


class ImportProfile(IdMixin, TimestampMixin, Base):
    """A saved mapping ``{header: field}`` with options (key, on-duplicate, ...)."""

    __tablename__ = "kyklos_import_profile"
    __table_args__ = (UniqueConstraint("entity", "name"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    mapping: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    options: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )


class ImportRun(IdMixin, TimestampMixin, Base):
    """One import of one file. ``last_row`` is the last file row whose batch committed:
    a re-run of the same file (same ``sha256``) continues after it."""

    __tablename__ = "kyklos_import_run"

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    options: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="uploaded")
    dry_run: Mapped[bool] = mapped_column(nullable=False, default=False)
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_row: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("kyklos_user.id", ondelete="SET NULL"))
