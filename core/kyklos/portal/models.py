"""Portal accounts: which staff-invisible login belongs to which record (a person)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kyklos.db import Base, IdMixin, UTCDateTime, utcnow
from kyklos.security.models import User


class PortalAccount(IdMixin, Base):
    """A customer's portal login: a :class:`User` tied to one record of the portal
    identity type (``entity``, ``record_id``). The user's customer is read from that
    record on every request, so moving the person to another account moves the access.

    A user with a portal account is never a staff user: the staff login, session and
    pages refuse it, and it holds only the ``portal`` role's rights."""

    __tablename__ = "kyklos_portal_account"
    __table_args__ = (UniqueConstraint("entity", "record_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    invited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    #: when the customer chose a password (``None``: invited, not yet accepted)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: when staff disabled the login (``None``: enabled)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def status(self) -> str:
        if self.disabled_at is not None:
            return "disabled"
        return "active" if self.accepted_at is not None else "invited"
