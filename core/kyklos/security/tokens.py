"""API tokens: random, shown once, stored as SHA-256, scoped, expiring and revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kyklos import authcache
from kyklos.db import utcnow
from kyklos.security.models import ApiToken, AuthGeneration, User

TOKEN_PREFIX = "kyk_"  # noqa: S105 - a prefix, not a secret


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(dbsession, user: User, name: str = "", scopes=(), days: int | None = 365):
    """Create a token for ``user``; returns ``(token_string, ApiToken)``."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(token),
        prefix=token[:10],
        scopes=list(scopes),
        expires_at=utcnow() + dt.timedelta(days=days) if days else None,
    )
    dbsession.add(row)
    dbsession.flush()
    return token, row


def find_token(dbsession, token: str) -> ApiToken | None:
    """The live token row for ``token``, or None (unknown, revoked, expired, inactive)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    # The user's territories are read by the record rules with their values, in one
    # query when a territory scope applies; loading them here was a query per request.
    # The user's roles (every request's permissions) come in the same statement: a
    # separate select-in load was a second round trip on every API request.
    # The authorisation counter too (a scalar sub-select): the request's look-ups of
    # rules, departments and delegations are cached under it (kyklos.authcache).
    user = joinedload(ApiToken.user)
    generation = select(AuthGeneration.value).where(AuthGeneration.id == 1).scalar_subquery()
    found = (
        dbsession.execute(
            select(ApiToken, generation)
            .options(user.lazyload(User.territories), user.joinedload(User.roles))
            .where(ApiToken.token_hash == digest(token))
        )
        .unique()
        .one_or_none()
    )
    now = utcnow()
    if found is None:
        return None
    row, value = found
    authcache.remember(dbsession, value)
    if row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if not row.user.is_active:
        return None
    return row
