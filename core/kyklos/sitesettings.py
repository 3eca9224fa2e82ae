"""Settings an administrator changes at run time (company details, currencies, country,
time zone, public URL...), kept in the database; the .ini gives only their defaults.

The table is one row per key with a JSON value, so a plugin adds a setting without a
migration.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, JSONType, UTCDateTime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SiteSetting(Base):
    __tablename__ = "kyklos_site_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[object] = mapped_column(JSONType, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=_now)
    updated_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
