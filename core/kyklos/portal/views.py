"""The portal's pages (login, welcome link, home, errors), the staff side (invite from
the person's page, the administration list) and the staff API (``/api/v1/_portal``)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget
from sqlalchemy import select

from kyklos.db import utcnow
from kyklos.entities.api import read_json
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _, format_datetime
from kyklos.mail import MailError
from kyklos.portal import service
from kyklos.portal.identity import MANAGE_PERMISSION, PORTAL_PERMISSION
from kyklos.portal.models import PortalAccount
from kyklos.problem import Problem
from kyklos.security.audit import log_event
from kyklos.security.auth import (
    _client,
    _complete_login,
    address_throttled,
    authenticate,
    end_user_sessions,
    find_user,
)
from kyklos.security.models import LoginAttempt, User
from kyklos.security.passwords import hash_password, password_messages, verify_password
from kyklos.security.reset import find_reset
from kyklos.security.sessions import is_portal_path
from kyklos.web import Action, MenuItem, safe_redirect_target, set_language

T = "kyklos:web/templates/"
STATUS_WORDS = {
    "invited": _("Invited, no password yet"),
    "active": _("Active"),
    "disabled": _("Disabled"),
}


# --- the customer's side --------------------------------------------------------------


def login_view(request):
    home = request.route_url("portal.home")
    came_from = safe_redirect_target(request.params.get("came_from"), home)
    if not is_portal_path(came_from.split("?", 1)[0].removeprefix(request.application_url)):
        came_from = home
    email, error = "", None
    if request.method == "POST":
        email = request.POST.get("email", "")[:254]
        if address_throttled(request):
            verify_password(None, "")
            log_event(request, "login.throttled", email=email, portal=True)
            error = _("Too many failed attempts from your network. Try again later.")
        else:
            password = request.POST.get("password", "")[:1024]
            user, error = authenticate(request, email, password, portal=True)
            if user is not None:
                return _complete_login(request, user, came_from, "portal")
        request.response.status = 200
    return {"title": _("Customer portal"), "came_from": came_from, "email": email, "error": error}


def logout_view(request):
    ident = request.identity
    if ident is not None:
        log_event(request, "logout", user_id=ident.user.id, portal=True)
    headers = forget(request)
    return HTTPSeeOther(request.route_url("portal.login"), headers=headers)


def _count_bad_link(request) -> None:
    # A wrong or spent link counts like a failed login from the address: links cannot
    # be guessed by trying many.
    request.dbsession.add(LoginAttempt(ip=_client(request), at=utcnow()))


def welcome_view(request):
    """Choose a password from an invitation or reset link (single use, expiring)."""
    values = {
        "title": _("Choose your password"),
        "valid": False,
        "token": "",
        "errors": {},
        "throttled": False,
    }
    if address_throttled(request):
        values["throttled"] = True
        request.response.status = 429
        return values
    token = request.params.get("token", "")[:100]
    row = find_reset(request.dbsession, token)
    user = request.dbsession.get(User, row.user_id) if row is not None else None
    if row is None or user is None or not user.is_portal:
        _count_bad_link(request)
        request.response.status = 400 if request.method == "POST" else 200
        return values
    acc = request.dbsession.execute(
        select(PortalAccount).where(PortalAccount.user_id == user.id)
    ).scalar_one_or_none()
    if acc is None or acc.disabled_at is not None:
        request.response.status = 400 if request.method == "POST" else 200
        return values
    values.update(valid=True, token=token, email=user.email)
    if request.method == "POST":
        password = request.POST.get("password", "")[:1024]
        confirm = request.POST.get("confirm", "")[:1024]
        errors = {}
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
            if acc.accepted_at is None:
                acc.accepted_at = now
            end_user_sessions(request, user.id)
            log_event(request, "portal.password_set", user_id=user.id)
            request.session.flash(_("Your password is set. Log in with it."), "success")
            return HTTPSeeOther(request.route_url("portal.login"))
        values["errors"] = errors
        request.response.status = 200
    return values


def forgot_view(request):
    sent, email = False, ""
    if request.method == "POST":
        email = request.POST.get("email", "")[:254].strip()
        throttled = address_throttled(request)
        request.dbsession.add(LoginAttempt(ip=_client(request), at=utcnow()))
        user = find_user(request.dbsession, email) if email and not throttled else None
        if throttled:
            log_event(request, "login.throttled", email=email, portal=True)
        elif user is not None and user.is_portal and user.is_active:
            acc = request.dbsession.execute(
                select(PortalAccount).where(PortalAccount.user_id == user.id)
            ).scalar_one_or_none()
            if acc is not None and acc.disabled_at is None:
                try:
                    service.send_link(request, acc, first=acc.accepted_at is None)
                except MailError:
                    # an address that cannot be mailed to gets no link; the page says
                    # the same either way
                    log_event(request, "portal.reset_unsent", user_id=user.id)
        sent = True
    return {"title": _("Forgotten password"), "sent": sent, "email": email}


def home_view(request):
    return {"title": _("Customer portal"), "pages": request.portal_layout.pages()}


def forbidden_view(exc, request):
    if request.identity is None:
        return HTTPSeeOther(
            request.route_url("portal.login", _query={"came_from": request.path_qs})
        )
    request.response.status = 403
    return {"title": _("Access denied"), "message": _("You do not have permission to do this.")}


def not_found_view(exc, request):
    request.response.status = 404
    return {"title": _("Page not found"), "message": _("There is nothing at this address.")}


# --- the staff side -------------------------------------------------------------------


def _back(request, acc_or_record_id):
    decl, et = service.identity_type(request)
    return request.route_url("entity.detail", slug=et.slug, id=acc_or_record_id)


def _flash_problem(request, exc: Problem) -> None:
    for msg in exc.errors.values() or [exc.title]:
        request.session.flash(msg, "danger")


def invite_view(request):
    rid = request.matchdict["id"]
    try:
        acc = service.invite(request, rid)
    except Problem as exc:
        if exc.status == 404:
            raise HTTPNotFound() from None
        _flash_problem(request, exc)
        return HTTPSeeOther(_back(request, rid))
    request.session.flash(
        _("The invitation went to ${email}.", mapping={"email": acc.user.email}), "success"
    )
    return HTTPSeeOther(_back(request, rid))


def admin_view(request):
    decl, et = service.identity_type(request)
    db = request.dbsession
    rows = db.execute(select(PortalAccount).order_by(PortalAccount.invited_at.desc())).scalars()
    from kyklos.entities.service import visible_select

    accounts = list(rows)
    ids = [a.record_id for a in accounts]
    visible = (
        {
            r.id: r
            for r in db.execute(visible_select(request, et).where(et.model.id.in_(ids))).scalars()
        }
        if ids
        else {}
    )
    items = [
        {
            "acc": a,
            "title": et.record_title(visible[a.record_id]),
            "url": request.route_url("entity.detail", slug=et.slug, id=a.record_id),
            "status": STATUS_WORDS[a.status],
            "invited": format_datetime(request, a.invited_at, "short"),
            "last_login": format_datetime(request, a.user.last_login_at, "short"),
        }
        for a in accounts
        if a.record_id in visible
    ]
    return {"title": _("Portal logins"), "items": items, "entity_type": et}


def admin_action_view(request):
    action = request.matchdict["action"]
    try:
        if action == "disable":
            acc = service.set_enabled(request, request.matchdict["id"], False)
            request.session.flash(_("The portal login is disabled."), "success")
        elif action == "enable":
            acc = service.set_enabled(request, request.matchdict["id"], True)
            request.session.flash(_("The portal login is enabled again."), "success")
        else:
            acc = service.reset(request, request.matchdict["id"])
            request.session.flash(
                _("A new link went to ${email}.", mapping={"email": acc.user.email}), "success"
            )
    except Problem as exc:
        if exc.status == 404:
            raise HTTPNotFound() from None
        _flash_problem(request, exc)
    return HTTPSeeOther(request.route_url("portal.admin"))


# --- the staff API --------------------------------------------------------------------


def api_list(request):
    _decl, et = service.identity_type(request)
    from kyklos.entities.service import visible_select

    db = request.dbsession
    accounts = list(db.execute(select(PortalAccount).order_by(PortalAccount.id)).scalars())
    ids = [a.record_id for a in accounts]
    visible = (
        set(
            db.execute(
                visible_select(request, et)
                .with_only_columns(et.model.id)
                .where(et.model.id.in_(ids))
            ).scalars()
        )
        if ids
        else set()
    )
    return {"items": [service.as_json(request, a) for a in accounts if a.record_id in visible]}


def api_invite(request):
    body = read_json(request)
    unknown = sorted(set(body) - {"record_id"})
    if unknown:
        raise Problem(
            400, _("Invalid data"), errors={k: _("This field is not accepted.") for k in unknown}
        )
    acc = service.invite(request, body.get("record_id"))
    request.response.status = 201
    return service.as_json(request, acc)


def api_action(request):
    action = request.matchdict["action"]
    if action == "disable":
        acc = service.set_enabled(request, request.matchdict["id"], False)
    elif action == "enable":
        acc = service.set_enabled(request, request.matchdict["id"], True)
    else:
        acc = service.reset(request, request.matchdict["id"])
    return service.as_json(request, acc)


class PortalHooks:
    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        decl = request.registry.kyklos_portal.identity
        if decl is None or entity_type.name != decl.entity:
            return None
        if not request.has_permission(MANAGE_PERMISSION):
            return None
        acc = service.account_of_record(request.dbsession, entity_type.name, record.id)
        if acc is not None and acc.disabled_at is not None:
            return None
        title = _("Invite to the portal") if acc is None else _("Send a new portal link")
        return [
            Action(
                title,
                request.route_url("portal.admin.invite", id=record.id),
                method="post",
                style="outline-primary",
                permission=MANAGE_PERMISSION,
            )
        ]

    @hookimpl
    def kyklos_admin_items(self, request):
        if request.registry.kyklos_portal.identity is None:
            return None
        return [
            MenuItem(
                _("Portal logins"),
                request.route_url("portal.admin"),
                MANAGE_PERMISSION,
                "door-open",
                order=320,
            )
        ]


def includeme(config):
    from kyklos.portal.openapi import portal_paths

    config.add_openapi_paths(portal_paths)
    public = NO_PERMISSION_REQUIRED
    portal_paths = r"^/portal(/|$)"
    config.add_route("portal.home", "/portal")
    config.add_view(
        home_view,
        route_name="portal.home",
        renderer=T + "portal_home.pt",
        permission=PORTAL_PERMISSION,
    )
    config.add_route("portal.login", "/portal/login")
    config.add_view(
        login_view, route_name="portal.login", renderer=T + "portal_login.pt", permission=public
    )
    config.add_route("portal.logout", "/portal/logout", request_method="POST")
    config.add_view(logout_view, route_name="portal.logout", permission=public)
    config.add_route("portal.welcome", "/portal/welcome")
    config.add_view(
        welcome_view,
        route_name="portal.welcome",
        renderer=T + "portal_welcome.pt",
        permission=public,
    )
    config.add_route("portal.forgot", "/portal/password")
    config.add_view(
        forgot_view, route_name="portal.forgot", renderer=T + "portal_forgot.pt", permission=public
    )
    # its own, so that the CSRF token of the portal's session is the one checked
    config.add_route("portal.language", "/portal/language", request_method="POST")
    config.add_view(set_language, route_name="portal.language", permission=public)
    config.add_forbidden_view(
        forbidden_view, renderer=T + "portal_error.pt", path_info=portal_paths
    )
    config.add_notfound_view(not_found_view, renderer=T + "portal_error.pt", path_info=portal_paths)

    config.add_route("portal.admin", "/admin/portal", request_method="GET")
    config.add_view(
        admin_view,
        route_name="portal.admin",
        renderer=T + "portal_admin.pt",
        permission=MANAGE_PERMISSION,
    )
    config.add_route("portal.admin.invite", r"/admin/portal/invite/{id:\d+}", request_method="POST")
    config.add_view(invite_view, route_name="portal.admin.invite", permission=MANAGE_PERMISSION)
    config.add_route(
        "portal.admin.action",
        r"/admin/portal/{id:\d+}/{action:disable|enable|reset}",
        request_method="POST",
    )
    config.add_view(
        admin_action_view, route_name="portal.admin.action", permission=MANAGE_PERMISSION
    )

    config.add_route("api.portal.accounts", "/api/v1/_portal/accounts")
    config.add_view(
        api_list,
        route_name="api.portal.accounts",
        request_method="GET",
        renderer="json",
        permission=MANAGE_PERMISSION,
    )
    config.add_view(
        api_invite,
        route_name="api.portal.accounts",
        request_method="POST",
        renderer="json",
        permission=MANAGE_PERMISSION,
    )
    config.add_route(
        "api.portal.account.action",
        r"/api/v1/_portal/accounts/{id:\d+}/{action:disable|enable|reset}",
        request_method="POST",
    )
    config.add_view(
        api_action,
        route_name="api.portal.account.action",
        renderer="json",
        permission=MANAGE_PERMISSION,
    )
    config.add_hooks(PortalHooks(), name="kyklos.portal")
