"""People and credentials: users, roles, API tokens, server-side sessions, and the
organisation (departments, positions, territories) that record rules refer to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kyklos.db import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, utcnow


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "kyklos_user"

    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    #: a customer's portal login (kyklos.portal): never a staff user, whatever its roles
    is_portal: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Athens", nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: set once the user confirmed a TOTP code; then required at login. Encrypted
    #: (a Fernet token): use kyklos.security.totp.user_secret / set_user_secret
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    #: the last accepted TOTP time step: a code is never accepted twice
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_department.id", ondelete="SET NULL"), index=True
    )
    position_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_position.id", ondelete="SET NULL"), index=True
    )

    roles: Mapped[list[Role]] = relationship(
        secondary="kyklos_user_role", lazy="selectin", order_by="Role.name"
    )

    territories: Mapped[list[Territory]] = relationship(
        secondary="kyklos_user_territory", lazy="selectin", order_by="Territory.name"
    )

    @property
    def title(self) -> str:
        return self.name or self.email

    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret)

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


# --- organisation ---------------------------------------------------------------------


class Department(IdMixin, TimestampMixin, Base):
    """A node of the org chart. ``path`` is the materialised path of ids ("/1/4/9/"),
    kept by :mod:`kyklos.security.org`, so a subtree is one indexed prefix match."""

    __tablename__ = "kyklos_department"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # NO ACTION, not RESTRICT: checked at the end of a statement, so deleting a whole
    # subtree in one statement works; the app refuses to orphan sub-departments.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kyklos_department.id"), index=True)
    # use_alter: users point at departments and departments at users (their manager)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL", use_alter=True), index=True
    )
    path: Mapped[str] = mapped_column(String(500), nullable=False, default="/", index=True)

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class Position(IdMixin, TimestampMixin, Base):
    """A job title within a department ("Sales representative, Athens")."""

    __tablename__ = "kyklos_position"

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_department.id", ondelete="SET NULL"), index=True
    )


class Territory(IdMixin, Base):
    """A set of values of entity types' ``territory_field`` (regions, countries,
    contact groups). Users linked to it see and write records whose field holds one."""

    __tablename__ = "kyklos_territory"

    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    values: Mapped[list[TerritoryValue]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="TerritoryValue.value"
    )

    @property
    def value_list(self) -> list[str]:
        return [v.value for v in self.values]


class TerritoryValue(Base):
    __tablename__ = "kyklos_territory_value"

    territory_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_territory.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(200), primary_key=True)


class UserTerritory(Base):
    __tablename__ = "kyklos_user_territory"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), primary_key=True
    )
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_territory.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# --- authorization --------------------------------------------------------------------


class RecordRule(IdMixin, Base):
    """Which records of an entity type (``*``: every type) a role may read or write.

    Rules add up: a user's records are the union over their roles' rules; a type with
    no rule is denied. ``is_system`` rules come from ``config.add_record_rule`` and are
    re-created by ``sync_roles``; administrators disable them rather than delete."""

    __tablename__ = "kyklos_record_rule"
    __table_args__ = (UniqueConstraint("role_id", "entity", "action", "scope"),)

    role_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_role.id", ondelete="CASCADE"), nullable=False, index=True
    )
    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    scope: Mapped[str] = mapped_column(String(20), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_system: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    role: Mapped[Role] = relationship(lazy="joined")


class FieldPermission(IdMixin, Base):
    """Per role, entity type and field: ``read``, ``write`` or ``none``. A field a role
    does not mention is writable (fields are restricted, not granted one by one)."""

    __tablename__ = "kyklos_field_permission"
    __table_args__ = (UniqueConstraint("role_id", "entity", "field"),)

    role_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_role.id", ondelete="CASCADE"), nullable=False, index=True
    )
    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    field: Mapped[str] = mapped_column(String(100), nullable=False)
    access: Mapped[str] = mapped_column(String(10), nullable=False)


class Delegation(IdMixin, Base):
    """User ``from_user`` hands rights to ``to_user`` for a date window (SEC-03).

    ``scope`` lists entity type names and/or permission names; empty means all of the
    delegator's rights (administration excepted). Ends by itself at ``ends_at``."""

    __tablename__ = "kyklos_delegation"

    from_user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    to_user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    scope: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    #: ended early by a person (the window's end needs nothing)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id], lazy="joined")
    to_user: Mapped[User] = relationship(foreign_keys=[to_user_id], lazy="joined")

    def is_active(self, now: dt.datetime | None = None) -> bool:
        now = now or utcnow()
        return self.ended_at is None and self.starts_at <= now < self.ends_at


# --- audit and credentials' side tables -----------------------------------------------


class SecurityEvent(IdMixin, Base):
    """One security-relevant event (login, denial, role change, export...).

    Stored structured: ``detail`` is JSON, never a pre-formatted log line."""

    __tablename__ = "kyklos_security_event"
    __table_args__ = (Index("ix_kyklos_security_event_kind_at", "kind", "at"),)

    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL"), index=True
    )
    on_behalf_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    ip: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    detail: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)


class PasswordReset(IdMixin, Base):
    """A single-use, expiring password-reset link. Only the token's SHA-256 is kept."""

    __tablename__ = "kyklos_password_reset"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(IdMixin, Base):
    """A failed login, counted per client address for throttling."""

    __tablename__ = "kyklos_login_attempt"
    __table_args__ = (Index("ix_kyklos_login_attempt_ip_at", "ip", "at"),)

    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)


class AuthGeneration(Base):
    """One row: a counter that every write changing who may do what bumps in its own
    transaction (:mod:`kyklos.security.authcache`). Each process keeps the roles' rules,
    the org chart and owner lists under the value it read, so a change committed by any
    process is seen on the next request of every other one. It starts at a random value:
    two databases (a test's fresh one, a restored copy) never share a value."""

    __tablename__ = "kyklos_auth_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)
