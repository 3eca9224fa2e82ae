"""People and credentials: users, roles, API tokens and server-side sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kyklos.db import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, utcnow


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "kyklos_user"

    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Athens", nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(64))

    roles: Mapped[list[Role]] = relationship(
        secondary="kyklos_user_role", lazy="selectin", order_by="Role.name"
    )

    @property
    def title(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Role(IdMixin, Base):
    """A named set of permissions. Plugins declare default roles; admins edit them."""

    __tablename__ = "kyklos_role"

    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    permissions: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: declared by a plugin (``config.add_role``): re-synced on ``kyklos init``/``migrate``
    is_system: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class UserRole(Base):
    __tablename__ = "kyklos_user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_role.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(IdMixin, Base):
    """A bearer token. Only its SHA-256 is stored; the token is shown once at creation."""

    __tablename__ = "kyklos_api_token"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: first characters of the token, to tell tokens apart in lists
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    #: permission names this token may use; empty means all of the user's permissions
    scopes: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class WebSession(Base):
    """A server-side session. The cookie carries a random id; we store its SHA-256."""

    __tablename__ = "kyklos_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    user_agent: Mapped[str] = mapped_column(Text, nullable=False, default="")
