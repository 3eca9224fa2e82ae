"""The user's own account page: profile, password, second factor, API tokens,
delegations and sessions. Every change is a POST with a CSRF token."""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import remember
from sqlalchemy import select

from kyklos.db import utcnow
from kyklos.i18n import LANGUAGES, _, format_date
from kyklos.security.audit import log_event
from kyklos.security.auth import end_user_sessions, find_user
from kyklos.security.delegation import local_midnight, scope_text
from kyklos.security.models import ApiToken, Delegation
from kyklos.security.passwords import hash_password, password_messages, verify_password
from kyklos.security.tokens import create_token
from kyklos.security.totp import matching_step, new_secret, provisioning_uri, set_user_secret

_TOTP_PENDING = "_totp_pending"
MAX_TOKEN_DAYS = 3650
MAX_DELEGATION_DAYS = 366


#: the scope a token needs to create tokens or delegations: without it a scoped token
#: (an integration's key) cannot mint credentials at all
CREDENTIALS_SCOPE = "kyklos.credentials.manage"


def token_scopes(request) -> frozenset[str] | None:
    """The scopes of the token the request came with; ``None`` for a session or an
    unscoped token (the user's whole rights)."""
    token = getattr(request.identity, "token", None)
    return frozenset(token.scopes) if token is not None and token.scopes else None


def grantable_permissions(request) -> list[str]:
    """Permissions the user may put in a token or hand over: their own, and with a
    scoped token only those of its scopes (a token never mints a wider one)."""
    ident = request.identity
    if ident.is_admin:
        own = set(request.registry.kyklos_permissions)
    else:
        own = set(ident.own_permissions)
    own.add(CREDENTIALS_SCOPE)
    scopes = token_scopes(request)
    if scopes is not None:
        own &= scopes
    return sorted(own)


def check_credentials_scope(request) -> dict:
    """Errors (empty when allowed) for minting a token or a delegation with the
    request's own credentials: a scoped token needs the credentials scope."""
    scopes = token_scopes(request)
    if scopes is not None and CREDENTIALS_SCOPE not in scopes:
        return {
            "": _(
                "This API token may not create tokens or delegations: it needs the scope ${s}.",
                mapping={"s": CREDENTIALS_SCOPE},
            )
        }
    return {}


def _account_data(request, errors=None, values=None):
    ident = request.identity
    user = ident.user
    db = request.dbsession
    tokens = (
        db.execute(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id.desc())
        )
        .scalars()
        .all()
    )
    given = (
        db.execute(
            select(Delegation)
            .where(Delegation.from_user_id == user.id)
            .order_by(Delegation.starts_at.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    received = (
        db.execute(
            select(Delegation)
            .where(Delegation.to_user_id == user.id)
            .order_by(Delegation.starts_at.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    return {
        "title": _("My account"),
        "user": user,
        "tokens": tokens,
        "given": given,
        "received": received,
        "now": utcnow(),
        "fmt_date": format_date,
        "scope_text": scope_text,
        "errors": errors or {},
        "values": values or {},
        "picked_to": _picked_title(db, (values or {}).get("to_user_id")),
        "languages": LANGUAGES,
        "permissions": grantable_permissions(request),
        "entity_types": sorted(
            request.registry.kyklos_entities.values(), key=lambda et: str(et.plural)
        ),
    }


def _picked_title(db, raw):
    """``(id, name)`` of a user chosen in a picker, to show it again after an error."""
    from kyklos.security.delegation import picked_user

    user = picked_user(db, raw)
    return (user.id, user.title) if user is not None else None


def account_view(request):
    return _account_data(request)


def _render_account(request, errors, values, status=400):
    from pyramid.renderers import render_to_response

    response = render_to_response(
        "kyklos:web/templates/security_account.pt",
        _account_data(request, errors, values),
        request=request,
    )
    response.status = status
    return response


def profile_view(request):
    """Name, language and time zone only: whatever else is posted is ignored."""
    user = request.identity.user
    name = request.POST.get("name", "").strip()[:200]
    locale = request.POST.get("locale", "")
    tz = request.POST.get("timezone", "").strip()[:64]
    errors = {}
    if not name:
        errors["name"] = [_("Required")]
    if locale and locale not in LANGUAGES:
        errors["locale"] = [_("Unknown language")]
    if tz:
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = [_("Unknown time zone")]
    if errors:
        return _render_account(request, errors, dict(request.POST))
    user.name = name
    user.locale = locale or None
    if tz:
        user.timezone = tz
    request.session.flash(_("Saved."), "success")
    return HTTPSeeOther(request.route_url("account"))


def password_view(request):
    """Change the password: re-authenticate, check the rules, end the other sessions."""
    user = request.identity.user
    current = request.POST.get("current_password", "")[:1024]
    new = request.POST.get("new_password", "")[:1024]
    confirm = request.POST.get("confirm_password", "")[:1024]
    errors: dict = {}
    if not verify_password(user.password_hash, current):
        errors["current_password"] = [_("This is not your current password.")]
    problems = password_messages(new, email=user.email)
    if problems:
        errors["new_password"] = problems
    elif new != confirm:
        errors["confirm_password"] = [_("The two passwords differ.")]
    if errors:
        return _render_account(request, errors, {})
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    # A new session id for this browser; every other session of the user ends.
    headers = remember(request, user.id)
    end_user_sessions(request, user.id, keep_current=True)
    log_event(request, "password.changed", user_id=user.id)
    request.session.flash(_("Your password was changed; your other sessions ended."), "success")
    return HTTPSeeOther(request.route_url("account"), headers=headers)


def end_sessions_view(request):
    user = request.identity.user
    end_user_sessions(request, user.id, keep_current=True)
    log_event(request, "sessions.ended", user_id=user.id, scope="others")
    request.session.flash(_("Your other sessions ended."), "success")
    return HTTPSeeOther(request.route_url("account"))


# --- TOTP -----------------------------------------------------------------------------


def totp_view(request):
    user = request.identity.user
    pending = request.session.get(_TOTP_PENDING)
    uri = None
    if pending and not user.totp_enabled:
        uri = provisioning_uri(pending, user.email, request.layout.site_name)
    return {
        "title": _("Two-step verification"),
        "user": user,
        "secret": pending if not user.totp_enabled else None,
        "uri": uri,
        "errors": {},
    }


def _totp_page(request, errors, status=400):
    from pyramid.renderers import render_to_response

    data = totp_view(request)
    data["errors"] = errors
    response = render_to_response("kyklos:web/templates/security_totp.pt", data, request=request)
    response.status = status
    return response


def totp_start_view(request):
    if not request.identity.user.totp_enabled:
        request.session[_TOTP_PENDING] = new_secret()
    return HTTPSeeOther(request.route_url("account_totp"))


def totp_confirm_view(request):
    """Turn TOTP on: the password again (ASVS 7.5.1) and a code from the app."""
    user = request.identity.user
    secret = request.session.get(_TOTP_PENDING)
    if user.totp_enabled or not secret:
        return HTTPSeeOther(request.route_url("account_totp"))
    errors = {}
    if not verify_password(user.password_hash, request.POST.get("password", "")[:1024]):
        errors["password"] = [_("This is not your current password.")]
    step = matching_step(secret, request.POST.get("code", "")[:20])
    if step is None:
        errors["code"] = [_("That code is not valid. Try the current one.")]
    if errors:
        return _totp_page(request, errors)
    set_user_secret(request.registry, user, secret)
    user.totp_last_step = step
    request.session.pop(_TOTP_PENDING, None)
    log_event(request, "totp.enabled", user_id=user.id)
    request.session.flash(_("Two-step verification is on."), "success")
    return HTTPSeeOther(request.route_url("account"))


def totp_disable_view(request):
    user = request.identity.user
    errors = {}
    if not verify_password(user.password_hash, request.POST.get("password", "")[:1024]):
        errors["password"] = [_("This is not your current password.")]
    from kyklos.security.totp import verify_user_code

    code = request.POST.get("code", "")[:20]
    if not errors and not verify_user_code(request.registry, user, code):
        errors["code"] = [_("That code is not valid. Try the current one.")]
    if errors:
        return _totp_page(request, errors)
    user.totp_secret = None
    user.totp_last_step = None
    log_event(request, "totp.disabled", user_id=user.id)
    request.session.flash(_("Two-step verification is off."), "warning")
    return HTTPSeeOther(request.route_url("account"))


# --- API tokens -----------------------------------------------------------------------


def check_token_request(request, data, allowed) -> tuple[dict, dict]:
    """Validate ``name``, ``scopes`` and ``days``; returns ``(clean, errors)``."""
    errors: dict = {}
    name = str(data.get("name") or "").strip()[:200]
    if not name:
        errors["name"] = [_("Required")]
    scopes = data.get("scopes") or []
    if isinstance(scopes, str):
        scopes = scopes.split()
    scopes = [str(s) for s in scopes]
    if not scopes and token_scopes(request) is not None:
        # no scopes means "all the user's rights": wider than the calling token
        errors["scopes"] = [_("A scoped token can only create tokens with scopes.")]
    bad = [s for s in scopes if s not in allowed]
    if bad:
        errors["scopes"] = [_("You cannot grant: ${p}", mapping={"p": ", ".join(bad[:5])})]
    try:
        days = int(data.get("days") or 90)
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        errors["days"] = [_("Between 1 and ${n} days.", mapping={"n": MAX_TOKEN_DAYS})]
        days = 0
    return {"name": name, "scopes": scopes, "days": days}, errors


def token_create_view(request):
    user = request.identity.user
    data = {
        "name": request.POST.get("name", ""),
        "scopes": request.POST.getall("scopes"),
        "days": request.POST.get("days", "90"),
    }
    clean, errors = check_token_request(request, data, set(grantable_permissions(request)))
    if errors:
        return _render_account(request, errors, dict(request.POST))
    token, row = create_token(
        request.dbsession, user, clean["name"], clean["scopes"], clean["days"]
    )
    log_event(request, "token.created", user_id=user.id, token_id=row.id, name=row.name)
    request.response.headers["Cache-Control"] = "no-store"
    return {"title": _("New API token"), "token": token, "row": row}


def token_revoke_view(request):
    user = request.identity.user
    row = _own_token(request, user.id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        log_event(request, "token.revoked", user_id=user.id, token_id=row.id)
    request.session.flash(_("The token was revoked."), "success")
    return HTTPSeeOther(request.route_url("account"))


def _own_token(request, user_id) -> ApiToken:
    try:
        tid = int(request.matchdict["id"])
    except (KeyError, ValueError) as exc:
        raise HTTPNotFound() from exc
    row = request.dbsession.get(ApiToken, tid)
    if row is None or row.user_id != user_id:
        raise HTTPNotFound()
    return row


# --- delegations ----------------------------------------------------------------------


def check_delegation(request, data, from_user) -> tuple[dict, dict]:
    """Validate a delegation request; returns ``(clean, errors)``."""
    errors: dict = {}
    db = request.dbsession
    to = data.get("to_user_id")
    target = None
    if to not in (None, ""):
        try:
            from kyklos.security.models import User

            target = db.get(User, int(to))
        except (TypeError, ValueError):
            target = None
    elif data.get("to_email"):
        target = find_user(db, str(data["to_email"])[:254])
    if target is None or not target.is_active:
        errors["to"] = [_("No active user with this address.")]
    elif target.id == from_user.id:
        errors["to"] = [_("You cannot delegate to yourself.")]
    starts = data.get("starts")
    ends = data.get("ends")
    # a day without a time starts at midnight in the absent person's time zone
    starts = starts if isinstance(starts, dt.datetime) else local_midnight(starts, from_user)
    ends = ends if isinstance(ends, dt.datetime) else local_midnight(ends, from_user)
    if starts is None:
        errors["starts"] = [_("A date such as 2026-07-01.")]
    if ends is None:
        errors["ends"] = [_("A date such as 2026-07-15.")]
    if starts and ends:
        if ends.tzinfo is None or starts.tzinfo is None:
            errors["ends"] = [_("A date such as 2026-07-15.")]
        elif ends <= starts:
            errors["ends"] = [_("The end must come after the start.")]
        elif ends - starts > dt.timedelta(days=MAX_DELEGATION_DAYS):
            errors["ends"] = [_("At most ${n} days.", mapping={"n": MAX_DELEGATION_DAYS})]
        elif ends <= utcnow():
            errors["ends"] = [_("The end must lie in the future.")]
    scope = data.get("scope") or []
    if isinstance(scope, str):
        scope = scope.split()
    known = set(request.registry.kyklos_entities) | set(request.registry.kyklos_permissions)
    bad = [s for s in scope if s not in known]
    if bad:
        errors["scope"] = [_("Unknown: ${p}", mapping={"p": ", ".join(map(str, bad[:5]))})]
    elif (token := token_scopes(request)) is not None:
        # a scoped token hands over only what it holds itself, never "everything"
        wider = [s for s in scope if not _within(request, s, token)]
        if not scope or wider:
            errors["scope"] = [
                _(
                    "A scoped token can only delegate within its scopes: ${p}",
                    mapping={"p": ", ".join(sorted(token)[:10])},
                )
            ]
    reason = str(data.get("reason") or "")[:1000]
    return {
        "to_user": target,
        "starts": starts,
        "ends": ends,
        "scope": [str(s) for s in scope],
        "reason": reason,
    }, errors


def _within(request, item: str, scopes: frozenset[str]) -> bool:
    """A delegation scope item (a permission or an entity type name, meaning all of its
    permissions) lies within a token's scopes."""
    et = request.registry.kyklos_entities.get(item)
    if et is None:
        return item in scopes
    return all(perm in scopes for perm in et.permissions.values())


def create_delegation(request, from_user, clean) -> Delegation:
    row = Delegation(
        from_user_id=from_user.id,
        to_user_id=clean["to_user"].id,
        starts_at=clean["starts"],
        ends_at=clean["ends"],
        scope=clean["scope"],
        reason=clean["reason"],
        created_by_id=request.identity.user.id,
    )
    request.dbsession.add(row)
    request.dbsession.flush()
    log_event(
        request,
        "delegation.created",
        delegation_id=row.id,
        from_user_id=from_user.id,
        to_user_id=row.to_user_id,
        starts=row.starts_at.isoformat(),
        ends=row.ends_at.isoformat(),
        scope=row.scope,
    )
    return row


def end_delegation(request, row: Delegation) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        log_event(request, "delegation.ended", delegation_id=row.id)


def delegation_create_view(request):
    user = request.identity.user
    data = {
        # the deputy is picked with the user picker; an e-mail still works (old forms)
        "to_user_id": request.POST.get("to_user_id", "").strip() or None,
        "to_email": request.POST.get("to_email", ""),
        "starts": request.POST.get("starts", ""),
        "ends": request.POST.get("ends", ""),
        "scope": request.POST.getall("scope"),
        "reason": request.POST.get("reason", ""),
    }
    clean, errors = check_delegation(request, data, user)
    if errors:
        return _render_account(request, errors, dict(request.POST))
    create_delegation(request, user, clean)
    request.session.flash(_("Delegation saved."), "success")
    return HTTPSeeOther(request.route_url("account"))


def delegation_end_view(request):
    """The delegator, or the deputy, may end a delegation early."""
    user = request.identity.user
    try:
        row = request.dbsession.get(Delegation, int(request.matchdict["id"]))
    except ValueError as exc:
        raise HTTPNotFound() from exc
    if row is None or user.id not in (row.from_user_id, row.to_user_id):
        raise HTTPNotFound()
    end_delegation(request, row)
    request.session.flash(_("Delegation ended."), "success")
    return HTTPSeeOther(request.route_url("account"))


def includeme(config):
    r = "kyklos:web/templates/"
    config.add_route("account", "/account")
    config.add_view(
        account_view, route_name="account", renderer=r + "security_account.pt", request_method="GET"
    )
    for name, path, view in [
        ("account_profile", "/account/profile", profile_view),
        ("account_password", "/account/password", password_view),
        ("account_sessions_end", "/account/sessions/end-others", end_sessions_view),
        ("account_totp_start", "/account/totp/start", totp_start_view),
        ("account_totp_confirm", "/account/totp/confirm", totp_confirm_view),
        ("account_totp_disable", "/account/totp/disable", totp_disable_view),
        ("account_token_revoke", "/account/tokens/{id}/revoke", token_revoke_view),
        ("account_delegation_new", "/account/delegations", delegation_create_view),
        ("account_delegation_end", "/account/delegations/{id}/end", delegation_end_view),
    ]:
        config.add_route(name, path, request_method="POST")
        config.add_view(view, route_name=name)
    config.add_route("account_totp", "/account/totp", request_method="GET")
    config.add_view(totp_view, route_name="account_totp", renderer=r + "security_totp.pt")
    config.add_route("account_token_new", "/account/tokens", request_method="POST")
    config.add_view(
        token_create_view, route_name="account_token_new", renderer=r + "security_token.pt"
    )
