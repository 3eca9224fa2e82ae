"""Delegation during absence (SEC-03, D4).

While a delegation from A to B is active (``starts_at <= now < ends_at`` and not ended
early), B holds A's rights within its scope: A's permissions for the covered entity
types, and A's record rules as if B were A (so records A owns count as B's "own").
Nothing needs to run when the window closes: the check is made on every request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from kyklos import authcache
from kyklos.db import utcnow
from kyklos.security.models import Delegation, User

#: rights that never pass by delegation: administering users and the system
NOT_DELEGABLE = frozenset({"*", "kyklos.admin", "kyklos.users.manage"})


@dataclass(frozen=True)
class DelegatedRights:
    delegation_id: int
    from_user: User
    permissions: frozenset[str]
    #: entity type names the delegation covers (None: every type)
    types: frozenset[str] | None
    #: the delegator is an administrator: every record of the covered types
    all_records: bool


def local_midnight(value, user) -> dt.datetime | None:
    """The instant a day typed on a page or sent to the API (``2026-07-01``) begins
    where ``user`` (the absent person) lives, in UTC: a delegation "from 1 July" in
    Athens starts at 00:00 Athens time, not at 03:00. ``None`` when not a date."""
    import zoneinfo

    try:
        day = dt.date.fromisoformat(str(value or "").strip()[:10])
    except ValueError:
        return None
    try:
        tz = zoneinfo.ZoneInfo(getattr(user, "timezone", None) or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def scope_text(request, scope) -> str:
    """What a delegation covers in words: entity types by their translated plural, a
    permission by its declared title."""
    reg = request.registry
    tr = request.localizer.translate
    out = []
    for item in scope or ():
        et = reg.kyklos_entities.get(item)
        perm = getattr(reg, "kyklos_permissions", {}).get(item)
        if et is not None:
            out.append(tr(et.plural))
        elif perm is not None and getattr(perm, "title", None):
            out.append(tr(perm.title))
        else:
            out.append(str(item))
    return ", ".join(out)


def picked_user(dbsession, raw) -> User | None:
    """The active user a picker (``<select data-k-picker>``) sent, by id."""
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 18:
        return None
    user = dbsession.get(User, int(text))
    return user if user is not None and user.is_active else None


def _entity_perms(registry) -> dict[str, frozenset[str]]:
    return {
        name: frozenset(et.permissions.values())
        for name, et in getattr(registry, "kyklos_entities", {}).items()
    }


def rights_of(registry, delegation: Delegation) -> DelegatedRights:
    """What ``delegation`` hands over, from the delegator's current roles."""
    user = delegation.from_user
    own: set[str] = set()
    for role in user.roles:
        own.update(role.permissions or ())
    is_admin = "*" in own
    if is_admin:
        own = set(registry.kyklos_permissions)
    own -= NOT_DELEGABLE
    by_type = _entity_perms(registry)
    scope = [str(s) for s in (delegation.scope or [])]
    if not scope:
        perms, types = frozenset(own), None
    else:
        wanted: set[str] = set()
        for item in scope:
            wanted |= by_type.get(item, {item})
        perms = frozenset(own & wanted)
        types = frozenset(n for n, ps in by_type.items() if ps & perms)
    return DelegatedRights(
        delegation_id=delegation.id,
        from_user=user,
        permissions=perms,
        types=types,
        all_records=is_admin,
    )


def active_delegations(dbsession, user_id: int, now: dt.datetime | None = None):
    """Delegations currently handing rights to ``user_id`` (from active users).

    Asked on every request, and nearly always empty: the windows of the delegations to
    the user that have not ended are kept process-wide (:mod:`kyklos.authcache`, bumped
    by every write to delegations), and the delegations are read only when one of those
    windows is open now. A window that closed stays closed, so a list read earlier
    holds every window that can open later."""
    if now is None:
        now = utcnow()
        cache_key = authcache.key(dbsession)
        windows = authcache.get(cache_key, "delegation_windows", user_id)
        if windows is None:
            windows = tuple(
                dbsession.execute(
                    select(Delegation.starts_at, Delegation.ends_at).where(
                        Delegation.to_user_id == user_id,
                        Delegation.from_user_id != user_id,
                        Delegation.ended_at.is_(None),
                        Delegation.ends_at > now,
                    )
                ).all()
            )
            authcache.put(cache_key, "delegation_windows", user_id, windows)
        if not any(starts <= now < ends for starts, ends in windows):
            return []
    rows = dbsession.execute(
        select(Delegation).where(
            Delegation.to_user_id == user_id,
            Delegation.ended_at.is_(None),
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
        )
    ).scalars()
    return [d for d in rows if d.from_user.is_active and d.from_user_id != user_id]


def acting_for(request, et=None, record=None, action: str = "update") -> int | None:
    """The user on whose behalf the request's user acts, or None (their own right).

    For a record: its owner when a delegation from the owner covers it; otherwise the
    first delegator whose rights are needed because the user's own are not enough.
    Without a record: a delegator when the user's own permissions lack ``et``'s
    ``action`` and a delegation supplies it. Audit trails store it as
    ``on_behalf_of``.
    """
    ident = request.identity
    if ident is None or not ident.delegations:
        return None
    from kyklos.security.rules import can_access_as, verb_permission

    if et is None:
        return ident.delegations[0].from_user.id if len(ident.delegations) == 1 else None
    perm = verb_permission(et, action)
    covering = [
        d
        for d in ident.delegations
        if (d.types is None or et.name in d.types) and (d.all_records or perm in d.permissions)
    ]
    if not covering:
        return None
    if record is not None:
        owner = getattr(record, "owner_id", None)
        for d in covering:
            if d.from_user.id == owner:
                return owner
        if can_access_as(request, et, record, action, own_only=True):
            return None
        for d in covering:
            if can_access_as(request, et, record, action, subject_id=d.from_user.id):
                return d.from_user.id
        return None
    if perm in ident.own_permissions or "*" in ident.own_permissions:
        return None
    return covering[0].from_user.id


def deputies_now(dbsession, user_ids, now: dt.datetime | None = None) -> dict[int, list[User]]:
    """``{absent user id: [deputies]}`` of the active delegations from ``user_ids`` that
    hand over everything (a delegation limited to some types does not forward messages
    about the rest, so it forwards none). Deputies who are inactive are left out."""
    ids = sorted({int(u) for u in user_ids if u})
    if not ids:
        return {}
    now = now or utcnow()
    rows = dbsession.execute(
        select(Delegation).where(
            Delegation.from_user_id.in_(ids),
            Delegation.ended_at.is_(None),
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
        )
    ).scalars()
    out: dict[int, list[User]] = {}
    for d in rows:
        if d.scope or not d.to_user.is_active or d.to_user_id == d.from_user_id:
            continue
        out.setdefault(d.from_user_id, []).append(d.to_user)
    return out


def delegators_now(request, et=None) -> list[User]:
    """The users the request's user stands in for now (for ``et``: those whose
    delegation covers the type), e.g. to list their open work beside the user's own."""
    ident = getattr(request, "identity", None)
    if ident is None:
        return []
    return [
        d.from_user
        for d in ident.delegations
        if et is None or d.types is None or et.name in d.types
    ]
