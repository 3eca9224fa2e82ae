"""Pyramid security policy: who is asking (session cookie or bearer token) and what
they may do (the permissions of their roles and of active delegations to them,
narrowed by a token's scopes)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.security import Allowed, Denied
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from kyklos.db import utcnow
from kyklos.security.delegation import DelegatedRights, active_delegations, rights_of
from kyklos.security.models import ApiToken, Role, User
from kyklos.security.tokens import find_token

ALL = "*"
AUTHENTICATED = "authenticated"


@dataclass
class Identity:
    user: User
    permissions: frozenset[str]
    token: ApiToken | None = None
    principals: frozenset[str] = field(default_factory=frozenset)
    #: active delegations to this user (their rights are in ``permissions`` too)
    delegations: tuple[DelegatedRights, ...] = ()
    #: the permissions of the user's own roles, without delegated ones (default: all of
    #: ``permissions``, for identities built outside a request, e.g. by a job runner)
    own_permissions: frozenset[str] | None = None
    #: a customer's portal login: :class:`kyklos.portal.identity.PortalLink` (its record,
    #: customer and portal roles); ``None`` for staff
    portal: object | None = None

    def __post_init__(self):
        if self.own_permissions is None:
            self.own_permissions = self.permissions

    @property
    def is_admin(self) -> bool:
        return ALL in self.permissions

    def has(self, permission: str) -> bool:
        if self.token is not None and self.token.scopes and permission not in self.token.scopes:
            if permission != AUTHENTICATED:
                return False
        return permission == AUTHENTICATED or self.is_admin or permission in self.permissions


def bearer_token(request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def user_permissions(user: User) -> frozenset[str]:
    perms: set[str] = set()
    for role in user.roles:
        perms.update(role.permissions or ())
    return frozenset(perms)


def _role_principal_permissions(dbsession, principals) -> set[str]:
    """Permissions of the roles named by ``role:<name>`` principals: plugins grant a
    role for a request (on call this week, a portal customer) without storing it."""
    names = [p[5:] for p in principals if p.startswith("role:")]
    if not names:
        return set()
    perms: set[str] = set()
    for granted in dbsession.execute(select(Role.permissions).where(Role.name.in_(names))):
        perms.update(granted[0] or ())
    return perms


_IDENTITY = "_kyklos_identity"


class SecurityPolicy:
    def identity(self, request) -> Identity | None:
        # Pyramid asks the policy on every ``request.identity``; compute it once.
        cache = request.__dict__
        if _IDENTITY not in cache:
            cache[_IDENTITY] = self._identity(request)
        return cache[_IDENTITY]

    def _identity(self, request) -> Identity | None:
        token = bearer_token(request)
        user, row = None, None
        if token is not None:
            # A bearer header decides alone: a bad token is anonymous, never a fallback
            # to the cookie session.
            row = find_token(request.dbsession, token)
            if row is None:
                return None
            user = row.user
            now = utcnow()
            # Once a minute is precise enough, and spares read requests a write.
            if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
                row.last_used_at = now
        else:
            session = request.session
            uid = session.user_id
            if uid is None:
                return None
            limit = int(request.registry.settings.get("kyklos.session.absolute_seconds") or 0)
            if limit and time.time() - float(session.get("_auth_at") or 0) > limit:
                # The absolute timeout (ASVS 7.3.2): activity does not extend a login
                # forever; the session ends and the user logs in again.
                session.invalidate()
                return None
            # territories: read by the record rules only when a scope needs them
            user = request.dbsession.get(User, uid, options=[lazyload(User.territories)])
            if user is None or not user.is_active:
                return None
            # Portal and staff sessions have their own cookies; a login never crosses over.
            if user.is_portal != bool(getattr(session, "portal", False)):
                return None
        if user.is_portal:
            from kyklos.portal.identity import portal_identity

            return portal_identity(request, user, row)
        own = user_permissions(user)
        delegated = tuple(
            rights_of(request.registry, d) for d in active_delegations(request.dbsession, user.id)
        )
        perms = set(own)
        for d in delegated:
            perms |= d.permissions
        extra = request.registry.kyklos_pm.hook.kyklos_principals(request=request, user=user)
        principals = frozenset(p for group in extra if group for p in group)
        perms |= _role_principal_permissions(request.dbsession, principals)
        return Identity(
            user=user,
            permissions=frozenset(perms),
            token=row,
            principals=principals,
            delegations=delegated,
            own_permissions=own,
        )

    def authenticated_userid(self, request):
        ident = request.identity
        return ident.user.id if ident else None

    def permits(self, request, context, permission):
        ident = request.identity
        if ident is None:
            return Denied("not logged in")
        if ident.portal is not None:
            from kyklos.portal.identity import portal_permits

            if not portal_permits(request, permission):
                return Denied(f"{permission} is not open to portal users")
        if ident.has(permission):
            return Allowed(f"{permission} granted")
        return Denied(f"{permission} not granted")

    def remember(self, request, userid, **kw):
        request.session.rotate(userid)
        request.__dict__.pop(_IDENTITY, None)
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        request.__dict__.pop(_IDENTITY, None)
        return []


class CSRFPolicy(SessionCSRFStoragePolicy):
    """Session CSRF tokens, except for bearer-token requests: browsers cannot attach an
    Authorization header cross-site, so those requests cannot be forged (and API clients
    have no session to hold a token)."""

    def check_csrf_token(self, request, supplied_token):
        if bearer_token(request) is not None:
            return True
        return super().check_csrf_token(request, supplied_token)
