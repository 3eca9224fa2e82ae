"""Logging in and out: passwords with account lockout and per-address throttling, the
TOTP second step, and password reset by e-mail link."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import forget, remember
from sqlalchemy import delete, func, select

from kyklos.db import utcnow
from kyklos.i18n import _
from kyklos.mail import MailError, send_mail
from kyklos.security.audit import log_event
from kyklos.security.models import LoginAttempt, User
from kyklos.security.passwords import (
    hash_password,
    needs_rehash,
    password_messages,
    verify_password,
)
from kyklos.security.reset import create_reset, find_reset
from kyklos.security.totp import verify_user_code
from kyklos.settings import asbool, asint
from kyklos.sitesettings import public_base_url
from kyklos.web import safe_redirect_target

#: how long the TOTP step may follow the password step
MFA_SECONDS = 300
_MFA = "_mfa_pending"


def find_user(dbsession, email: str) -> User | None:
    return dbsession.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def _client(request) -> str:
    return (request.client_addr or "")[:64]


def address_throttled(request) -> bool:
    """Too many failed logins from this address recently (password spraying)."""
    settings = request.registry.settings
    window = asint(settings, "kyklos.login.ip_window_seconds")
    limit = asint(settings, "kyklos.login.ip_max_failures")
    since = utcnow() - dt.timedelta(seconds=window)
    n = request.dbsession.execute(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.ip == _client(request), LoginAttempt.at > since)
    ).scalar_one()
    return n >= limit


def _count_failure(request, user: User | None) -> bool:
    """Record a failed attempt; returns True when it locked the account."""
    settings = request.registry.settings
    now = utcnow()
    db = request.dbsession
    db.add(LoginAttempt(ip=_client(request), at=now))
    window = asint(settings, "kyklos.login.ip_window_seconds")
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - dt.timedelta(seconds=window)))
    if user is None:
        return False
    user.failed_logins += 1
    if user.failed_logins >= asint(settings, "kyklos.login.max_failures"):
        user.locked_until = now + dt.timedelta(
            seconds=asint(settings, "kyklos.login.lockout_seconds")
        )
        user.failed_logins = 0
        return True
    return False


DEVICE_COOKIE = "kyklos_device"
DEVICE_SECONDS = 400 * 24 * 3600


def _device_mark(user: User) -> str:
    # Keyed by the user's password hash: a secret of the server's that changes with the
    # password, so a new password forgets every known device.
    key = (user.password_hash or "").encode()
    return hmac.new(key, f"device:{user.id}".encode(), hashlib.sha256).hexdigest()


def known_device(request, user: User) -> bool:
    """The browser logged in to this account before (it carries the mark set then)."""
    uid, _sep, mark = (request.cookies.get(DEVICE_COOKIE) or "").partition(".")
    return uid == str(user.id) and hmac.compare_digest(mark, _device_mark(user))


def authenticate(
    request, email: str, password: str, portal: bool = False
) -> tuple[User | None, object]:
    """Check credentials with lockout. Returns ``(user, None)`` or ``(None, message)``.

    Every attempt costs one password hash and ends with the same message, whether the
    account exists, is locked or the password is wrong, so neither timing nor wording
    tells which accounts exist. ``portal`` says which door: the customer portal's
    (portal logins only) or the staff login (staff only). A locked account still opens
    with the right password from a browser that logged in to it before: a stranger
    cannot lock its owner out by failing on purpose.
    """
    user = find_user(request.dbsession, email) if email else None
    generic = _("Wrong e-mail or password.")
    now = utcnow()
    ok = verify_password(user.password_hash if user is not None else None, password)
    ok = ok and user is not None and user.is_active
    # A portal login opens the portal only, a staff login the staff UI only: the wrong
    # door is a wrong password (same message, same counters).
    ok = ok and user.is_portal == portal
    if user is not None and user.locked_until and user.locked_until > now:
        if not (ok and known_device(request, user)):
            log_event(request, "login.failed", user_id=user.id, reason="locked")
            return None, generic
    elif not ok:
        locked = _count_failure(request, user)
        log_event(
            request,
            "login.failed",
            user_id=user.id if user else None,
            email=email[:254],
            reason="unknown" if user is None else "password",
        )
        if locked:
            log_event(request, "login.locked", user_id=user.id)
        return None, generic
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    return user, None


def _complete_login(request, user: User, came_from: str, method: str):
    user.last_login_at = utcnow()
    headers = remember(request, user.id)
    secure = asbool(request.registry.settings.get("kyklos.session.secure", "false"))
    mark = f"{user.id}.{_device_mark(user)}"
    cookie = f"{DEVICE_COOKIE}={mark}; Max-Age={DEVICE_SECONDS}; Path=/; HttpOnly; SameSite=Lax"
    headers.append(("Set-Cookie", cookie + ("; Secure" if secure else "")))
    log_event(request, "login.ok", user_id=user.id, method=method)
    return HTTPSeeOther(came_from, headers=headers)


def login_view(request):
    came_from = safe_redirect_target(request.params.get("came_from"), request.route_url("home"))
    email, error = "", None
    if request.method == "POST":
        email = request.POST.get("email", "")[:254]
        if address_throttled(request):
            verify_password(None, "")
            log_event(request, "login.throttled", email=email)
            error = _("Too many failed attempts from your network. Try again later.")
        else:
            user, error = authenticate(request, email, request.POST.get("password", "")[:1024])
            if user is not None:
                if user.totp_enabled:
                    request.session[_MFA] = {
                        "uid": user.id,
                        "at": time.time(),
                        "came_from": came_from,
                    }
                    return HTTPSeeOther(request.route_url("login_code"))
                return _complete_login(request, user, came_from, "password")
        # Failures render 200 so that the counters above commit.
        request.response.status = 200
    return {
        "title": _("Log in"),
        "came_from": came_from,
        "email": email,
        "error": error,
        "need_totp": False,
    }


def login_code_view(request):
    """The second step: a code from the user's authenticator app."""
    pending = request.session.get(_MFA)
    if not pending or time.time() - float(pending.get("at", 0)) > MFA_SECONDS:
        request.session.pop(_MFA, None)
        return HTTPSeeOther(request.route_url("login"))
    user = request.dbsession.get(User, pending["uid"])
    if user is None or not user.is_active or not user.totp_enabled:
        request.session.pop(_MFA, None)
        return HTTPSeeOther(request.route_url("login"))
    error = None
    if request.method == "POST":
        if user.locked_until and user.locked_until > utcnow():
            request.session.pop(_MFA, None)
            error = _("Too many failed attempts. Try again later.")
        elif verify_user_code(request.registry, user, request.POST.get("code", "")[:20]):
            return _complete_login(request, user, pending.get("came_from") or "/", "totp")
        else:
            locked = _count_failure(request, user)
            log_event(request, "totp.failed", user_id=user.id)
            if locked:
                log_event(request, "login.locked", user_id=user.id)
                request.session.pop(_MFA, None)
            error = _("That code is not valid. Try the current one.")
    return {"title": _("Authentication code"), "error": error}


def logout_view(request):
    ident = request.identity
    if ident is not None:
        log_event(request, "logout", user_id=ident.user.id)
    headers = forget(request)
    return HTTPSeeOther(request.route_url("login"), headers=headers)


# --- password reset -------------------------------------------------------------------


def base_url(request) -> str:
    return public_base_url(request)


def send_reset_link(request, user: User) -> None:
    seconds = asint(request.registry.settings, "kyklos.password_reset.seconds")
    token = create_reset(request.dbsession, user, seconds)
    link = base_url(request) + request.route_path("password_reset", _query={"token": token})
    site = request.layout.site_name
    localizer = request.localizer
    subject = localizer.translate(_("Reset your ${site} password", mapping={"site": site}))
    text = localizer.translate(
        _(
            "Someone asked to reset the password of your ${site} account.\n\n"
            "To choose a new password, open this link within ${minutes} minutes:\n"
            "${link}\n\nThe link works once. If you did not ask for this, ignore this "
            "message; your password stays as it is.\n",
            mapping={"site": site, "minutes": seconds // 60, "link": link},
        )
    )
    try:
        send_mail(request, user.email, subject, text)
    except MailError:
        # An address that cannot be mailed to gets no link; the page says the same.
        pass
    log_event(request, "password.reset_requested", user_id=user.id)


def forgot_view(request):
    sent = False
    email = ""
    if request.method == "POST":
        email = request.POST.get("email", "")[:254].strip()
        user = find_user(request.dbsession, email) if email else None
        # Each request counts like a failed login from the address, so resets cannot be
        # used to flood a mailbox or probe addresses; the page reads the same either way.
        throttled = address_throttled(request)
        request.dbsession.add(LoginAttempt(ip=_client(request), at=utcnow()))
        if throttled:
            log_event(request, "login.throttled", email=email)
        elif user is not None and user.is_active:
            send_reset_link(request, user)
        elif email:
            log_event(request, "password.reset_requested", email=email, known=False)
        sent = True
    return {"title": _("Forgotten password"), "sent": sent, "email": email}


def end_user_sessions(request, user_id: int, keep_current: bool = False) -> None:
    """End the user's sessions (all, or all but this request's) once the transaction
    commits; a change that rolls back leaves them alone."""
    store = request.registry["kyklos.session_store"]
    session = request.session
    keep = session.key if keep_current else None

    def after(committed):
        if committed:
            # A session rotated during this request has a new key by now.
            store.delete_user(user_id, keep=session.key if keep_current else keep)

    request.tm.get().addAfterCommitHook(after)


def reset_view(request):
    token = request.params.get("token", "")[:100]
    row = find_reset(request.dbsession, token)
    errors: dict = {}
    if row is None:
        request.response.status = 400 if request.method == "POST" else 200
        return {"title": _("Reset password"), "valid": False, "token": "", "errors": {}}
    user = request.dbsession.get(User, row.user_id)
    if request.method == "POST":
        password = request.POST.get("password", "")[:1024]
        confirm = request.POST.get("confirm", "")[:1024]
        problems = password_messages(password, email=user.email)
        if problems:
            errors["password"] = problems
        elif password != confirm:
            errors["confirm"] = [_("The two passwords differ.")]
        if not errors:
            now = utcnow()
            user.password_hash = hash_password(password)
            user.password_changed_at = now
            user.failed_logins = 0
            user.locked_until = None
            row.used_at = now
            end_user_sessions(request, user.id)
            log_event(request, "password.reset", user_id=user.id)
            request.session.flash(_("Your password was changed. Log in with it."), "success")
            return HTTPSeeOther(request.route_url("login"))
        request.response.status = 200
    return {"title": _("Reset password"), "valid": True, "token": token, "errors": errors}
