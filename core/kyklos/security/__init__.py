"""Authentication, sessions, API tokens and permission checks."""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from sqlalchemy import func, select

from kyklos.db import utcnow
from kyklos.i18n import _
from kyklos.security.models import Role, User
from kyklos.security.passwords import hash_password, needs_rehash, verify_password
from kyklos.security.policy import CSRFPolicy, SecurityPolicy
from kyklos.security.sessions import make_session_factory
from kyklos.settings import asint
from kyklos.web import safe_redirect_target


def find_user(dbsession, email: str) -> User | None:
    return dbsession.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def authenticate(request, email: str, password: str) -> tuple[User | None, object]:
    """Check credentials with lockout. Returns ``(user, None)`` or ``(None, message)``.

    The message is the same for an unknown e-mail and a wrong password, so the form
    does not tell which accounts exist.
    """
    settings = request.registry.settings
    user = find_user(request.dbsession, email) if email else None
    generic = _("Wrong e-mail or password.")
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        verify_password(None, password)
        return None, _("Too many failed attempts. Try again later.")
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= asint(settings, "kyklos.login.max_failures"):
                user.locked_until = now + dt.timedelta(
                    seconds=asint(settings, "kyklos.login.lockout_seconds")
                )
                user.failed_logins = 0
        return None, generic
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user, None


def login_view(request):
    came_from = safe_redirect_target(request.params.get("came_from"), request.route_url("home"))
    email, error = "", None
    if request.method == "POST":
        email = request.POST.get("email", "")[:254]
        user, error = authenticate(request, email, request.POST.get("password", "")[:1024])
        if user is not None:
            # The failure counters above must persist even though we return a page, so
            # only a *successful* login redirects; failures render 200 and commit.
            headers = remember(request, user.id)
            return HTTPSeeOther(came_from, headers=headers)
        request.response.status = 200
    return {
        "title": _("Log in"),
        "came_from": came_from,
        "email": email,
        "error": error,
        "need_totp": False,
    }


def logout_view(request):
    headers = forget(request)
    return HTTPSeeOther(request.route_url("login"), headers=headers)


def sync_roles(dbsession, registry) -> None:
    """Create the roles plugins declare; add newly declared permissions to them.

    Permissions an administrator granted stay; declared ones are never removed here.
    """
    existing = {r.name: r for r in dbsession.execute(select(Role)).scalars()}
    for decl in registry.kyklos_roles.values():
        role = existing.get(decl.name)
        if role is None:
            dbsession.add(
                Role(
                    name=decl.name,
                    title=str(decl.title),
                    permissions=list(decl.permissions),
                    is_system=True,
                )
            )
        else:
            merged = list(dict.fromkeys(list(role.permissions or []) + list(decl.permissions)))
            if merged != role.permissions:
                role.permissions = merged
    dbsession.flush()


def includeme(config):
    settings = config.get_settings()
    config.set_security_policy(SecurityPolicy())
    config.set_session_factory(make_session_factory(settings, config.registry["dbengine"]))
    config.set_csrf_storage_policy(CSRFPolicy())
    config.set_default_csrf_options(require_csrf=True)
    # Deny by default: a view registered without a permission still needs a login.
    config.set_default_permission("authenticated")
    config.add_route("login", "/login")
    config.add_view(
        login_view,
        route_name="login",
        renderer="kyklos:web/templates/login.pt",
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_route("logout", "/logout", request_method="POST")
    config.add_view(logout_view, route_name="logout", permission=NO_PERMISSION_REQUIRED)
