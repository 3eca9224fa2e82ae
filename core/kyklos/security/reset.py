"""Password reset by a single-use, expiring e-mail link; only the token's hash is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update

from kyklos.db import utcnow
from kyklos.security.models import PasswordReset, User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_reset(dbsession, user: User, seconds: int) -> str:
    """A new reset token for ``user``; earlier unused ones stop working."""
    now = utcnow()
    dbsession.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    dbsession.add(
        PasswordReset(
            user_id=user.id,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=seconds),
        )
    )
    dbsession.flush()
    return token


def find_reset(dbsession, token: str) -> PasswordReset | None:
    """The live reset row for ``token`` (unused, unexpired, user active), else None."""
    if not token or len(token) > 100:
        return None
    row = dbsession.execute(
        select(PasswordReset).where(PasswordReset.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = dbsession.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row
