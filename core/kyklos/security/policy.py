"""Pyramid security policy: who is asking (session cookie or bearer token) and what
they may do (the permissions of their roles, narrowed by a token's scopes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.security import Allowed, Denied

from kyklos.db import utcnow
from kyklos.security.models import ApiToken, User
from kyklos.security.tokens import find_token

ALL = "*"
AUTHENTICATED = "authenticated"


@dataclass
class Identity:
    user: User
    permissions: frozenset[str]
    token: ApiToken | None = None
    principals: frozenset[str] = field(default_factory=frozenset)

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


class SecurityPolicy:
    def identity(self, request) -> Identity | None:
        token = bearer_token(request)
        user, row = None, None
        if token is not None:
            # A bearer header decides alone: a bad token is anonymous, never a fallback
            # to the cookie session.
            row = find_token(request.dbsession, token)
            if row is None:
                return None
            user = row.user
            row.last_used_at = utcnow()
        else:
            uid = request.session.user_id
            if uid is None:
                return None
            user = request.dbsession.get(User, uid)
            if user is None or not user.is_active:
                return None
        perms = user_permissions(user)
        extra = request.registry.kyklos_pm.hook.kyklos_principals(request=request, user=user)
        principals = frozenset(p for group in extra if group for p in group)
        return Identity(user=user, permissions=perms, token=row, principals=principals)

    def authenticated_userid(self, request):
        ident = request.identity
        return ident.user.id if ident else None

    def permits(self, request, context, permission):
        ident = request.identity
        if ident is None:
            return Denied("not logged in")
        if ident.has(permission):
            return Allowed(f"{permission} granted")
        return Denied(f"{permission} not granted")

    def remember(self, request, userid, **kw):
        request.session.rotate(userid)
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []


class CSRFPolicy(SessionCSRFStoragePolicy):
    """Session CSRF tokens, except for bearer-token requests: browsers cannot attach an
    Authorization header cross-site, so those requests cannot be forged (and API clients
    have no session to hold a token)."""

    def check_csrf_token(self, request, supplied_token):
        if bearer_token(request) is not None:
            return True
        return super().check_csrf_token(request, supplied_token)
