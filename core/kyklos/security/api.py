"""JSON API for security and the org chart: ``/api/v1/_security/...`` and
``/api/v1/_org/...``. Errors are problem+json; bodies are allow-listed."""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNoContent
from sqlalchemy import func, select

from kyklos.db import utcnow
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.security.account import (
    check_credentials_scope,
    check_delegation,
    check_token_request,
    create_delegation,
    end_delegation,
    grantable_permissions,
)
from kyklos.security.audit import KINDS, log_event
from kyklos.security.auth import end_user_sessions, send_reset_link
from kyklos.security.manage import (
    ManageError,
    add_rule,
    can_grant,
    delete_role,
    delete_rule,
    role_json,
    rule_json,
    save_role,
    save_territory,
    save_user,
    set_field_access,
    set_rule_enabled,
    territory_json,
    token_json,
    user_json,
)
from kyklos.security.models import (
    ApiToken,
    Delegation,
    Department,
    FieldPermission,
    Position,
    RecordRule,
    Role,
    SecurityEvent,
    Territory,
    User,
)
from kyklos.security.org import (
    OrgError,
    assign_user,
    create_department,
    delete_department,
    department_json,
    position_json,
    save_position,
    update_department,
)
from kyklos.security.tokens import create_token

MANAGE = "kyklos.users.manage"
MAX_PAGE = 500


def _body(request) -> dict:
    try:
        data = request.json_body
    except ValueError as exc:
        raise Problem(400, _("Invalid JSON"), _("The body must be a JSON object.")) from exc
    if not isinstance(data, dict):
        raise Problem(400, _("Invalid JSON"), _("The body must be a JSON object."))
    return data


def _get(request, model, key="id"):
    """The row named in the URL, or 404 (never telling whether it exists elsewhere)."""
    try:
        row = request.dbsession.get(model, int(request.matchdict[key]))
    except (KeyError, ValueError, OverflowError):
        row = None
    if row is None:
        raise Problem(404, _("Not found"))
    return row


def _problem(exc):
    return Problem(exc.status, getattr(exc, "title", None) or _("Invalid data"), errors=exc.errors)


def _limit(request) -> int:
    try:
        return max(1, min(int(request.params.get("limit", 100)), MAX_PAGE))
    except ValueError as exc:
        raise Problem(400, _("Invalid parameter"), errors={"limit": _("A number")}) from exc


# --- me -------------------------------------------------------------------------------


def me(request):
    ident = request.identity
    out = user_json(ident.user)
    out["permissions"] = sorted(ident.permissions)
    out["delegations"] = [
        {
            "id": d.delegation_id,
            "from_user_id": d.from_user.id,
            "permissions": sorted(d.permissions),
        }
        for d in ident.delegations
    ]
    return out


def my_tokens(request):
    rows = request.dbsession.execute(
        select(ApiToken)
        .where(ApiToken.user_id == request.identity.user.id)
        .order_by(ApiToken.id.desc())
    ).scalars()
    return {"items": [token_json(t) for t in rows]}


def _require_credentials_scope(request) -> None:
    errors = check_credentials_scope(request)
    if errors:
        raise Problem(403, _("Forbidden"), errors[""])


def _new_token(request, user):
    _require_credentials_scope(request)
    allowed = set(grantable_permissions(request))
    if user.id != request.identity.user.id:
        # For another (service) user: only what both that user and the caller hold.
        theirs = {p for r in user.roles for p in r.permissions or ()}
        allowed = allowed & theirs if "*" not in theirs else allowed
    clean, errors = check_token_request(request, _body(request), allowed)
    if errors:
        raise Problem(400, _("Invalid data"), errors={k: v[0] for k, v in errors.items()})
    token, row = create_token(
        request.dbsession, user, clean["name"], clean["scopes"], clean["days"]
    )
    log_event(request, "token.created", target_user_id=user.id, token_id=row.id, name=row.name)
    request.response.status = 201
    request.response.headers["Cache-Control"] = "no-store"
    return {**token_json(row), "token": token}


def my_token_create(request):
    return _new_token(request, request.identity.user)


def _revoke(request, row):
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        log_event(request, "token.revoked", target_user_id=row.user_id, token_id=row.id)
    return HTTPNoContent()


def my_token_revoke(request):
    row = _get(request, ApiToken)
    if row.user_id != request.identity.user.id:
        raise Problem(404, _("Not found"))
    return _revoke(request, row)


# --- users ----------------------------------------------------------------------------


def users_list(request):
    q = select(User).order_by(User.id)
    text = request.params.get("q", "").strip()[:100]
    if text:
        like = f"%{text.lower()}%"
        q = q.where(func.lower(User.email).like(like) | func.lower(User.name).like(like))
    try:
        after = int(request.params.get("after", 0))
    except ValueError:
        after = 0
    q = q.where(User.id > after).limit(_limit(request))
    return {"items": [user_json(u) for u in request.dbsession.execute(q).scalars()]}


def user_create(request):
    try:
        user = save_user(request, None, _body(request))
    except ManageError as exc:
        raise _problem(exc) from exc
    request.response.status = 201
    return user_json(user)


def user_get(request):
    return user_json(_get(request, User))


def user_patch(request):
    user = _get(request, User)
    try:
        save_user(request, user, _body(request))
    except ManageError as exc:
        raise _problem(exc) from exc
    return user_json(user)


def user_deactivate(request):
    user = _get(request, User)
    try:
        save_user(request, user, {"is_active": False})
    except ManageError as exc:
        raise _problem(exc) from exc
    end_user_sessions(request, user.id)
    return HTTPNoContent()


def user_tokens(request):
    user = _get(request, User)
    rows = request.dbsession.execute(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ).scalars()
    return {"items": [token_json(t) for t in rows]}


def _manageable(request, user):
    if not can_grant(request.identity, {p for r in user.roles for p in r.permissions or ()}):
        raise Problem(403, _("Forbidden"), _("This user holds rights you do not."))


def user_token_create(request):
    user = _get(request, User)
    _manageable(request, user)
    return _new_token(request, user)


def token_revoke(request):
    row = _get(request, ApiToken)
    _manageable(request, row.user)
    return _revoke(request, row)


def user_reset(request):
    user = _get(request, User)
    _manageable(request, user)
    if user.is_active:
        send_reset_link(request, user)
    return HTTPNoContent()


def user_end_sessions(request):
    user = _get(request, User)
    _manageable(request, user)
    end_user_sessions(request, user.id)
    log_event(request, "sessions.ended", target_user_id=user.id, scope="all")
    return HTTPNoContent()


# --- roles, permissions, rules, field permissions -------------------------------------


def permissions_list(request):
    reg = request.registry
    return {
        "items": [
            {
                "name": p.name,
                "title": request.localizer.translate(p.title) if p.title else p.name,
                "group": p.name.split(".")[0],
            }
            for p in sorted(reg.kyklos_permissions.values(), key=lambda p: p.name)
        ]
    }


def roles_list(request):
    rows = request.dbsession.execute(select(Role).order_by(Role.name)).scalars()
    return {"items": [role_json(r) for r in rows]}


def role_create(request):
    try:
        role = save_role(request, None, _body(request))
    except ManageError as exc:
        raise _problem(exc) from exc
    request.response.status = 201
    return role_json(role)


def role_get(request):
    role = _get(request, Role)
    out = role_json(role)
    rules = request.dbsession.execute(
        select(RecordRule).where(RecordRule.role_id == role.id).order_by(RecordRule.id)
    ).scalars()
    out["rules"] = [rule_json(r) for r in rules]
    return out


def role_patch(request):
    role = _get(request, Role)
    try:
        save_role(request, role, _body(request))
    except ManageError as exc:
        raise _problem(exc) from exc
    return role_json(role)


def role_delete(request):
    role = _get(request, Role)
    try:
        delete_role(request, role)
    except ManageError as exc:
        raise _problem(exc) from exc
    return HTTPNoContent()


def rules_list(request):
    q = select(RecordRule).order_by(RecordRule.id)
    if request.params.get("entity"):
        q = q.where(RecordRule.entity == request.params["entity"])
    if request.params.get("role"):
        q = q.join(Role).where(Role.name == request.params["role"])
    return {"items": [rule_json(r) for r in request.dbsession.execute(q).scalars()]}


def rule_create(request):
    try:
        rule = add_rule(request, _body(request))
    except ManageError as exc:
        raise _problem(exc) from exc
    request.response.status = 201
    return rule_json(rule)


def rule_patch(request):
    rule = _get(request, RecordRule)
    data = _body(request)
    if set(data) != {"enabled"} or not isinstance(data["enabled"], bool):
        raise Problem(
            400,
            _("Invalid data"),
            errors={"enabled": _("Only 'enabled' (true or false) can change.")},
        )
    try:
        set_rule_enabled(request, rule, data["enabled"])
    except ManageError as exc:
        raise _problem(exc) from exc
    return rule_json(rule)


def rule_delete(request):
    rule = _get(request, RecordRule)
    try:
        delete_rule(request, rule)
    except ManageError as exc:
        raise _problem(exc) from exc
    return HTTPNoContent()


def field_permissions_list(request):
    q = select(FieldPermission, Role.name).join(Role).order_by(FieldPermission.id)
    if request.params.get("entity"):
        q = q.where(FieldPermission.entity == request.params["entity"])
    if request.params.get("role"):
        q = q.where(Role.name == request.params["role"])
    return {
        "items": [
            {"role": name, "entity": f.entity, "field": f.field, "access": f.access}
            for f, name in request.dbsession.execute(q).all()
        ]
    }


def field_permission_put(request):
    data = _body(request)
    extra = set(data) - {"role", "entity", "field", "access"}
    if extra:
        raise Problem(
            400,
            _("Invalid data"),
            errors={k: _("This field cannot be written.") for k in sorted(extra)},
        )
    role = request.dbsession.execute(
        select(Role).where(Role.name == str(data.get("role") or ""))
    ).scalar_one_or_none()
    if role is None:
        raise Problem(400, _("Invalid data"), errors={"role": _("Unknown role.")})
    try:
        set_field_access(
            request,
            role,
            str(data.get("entity") or ""),
            str(data.get("field") or ""),
            str(data.get("access") or ""),
        )
    except ManageError as exc:
        raise _problem(exc) from exc
    return {
        "role": role.name,
        "entity": data["entity"],
        "field": data["field"],
        "access": data["access"],
    }


# --- delegations ----------------------------------------------------------------------


def delegation_json(d: Delegation, now=None) -> dict:
    return {
        "id": d.id,
        "from_user_id": d.from_user_id,
        "to_user_id": d.to_user_id,
        "starts_at": d.starts_at.isoformat(),
        "ends_at": d.ends_at.isoformat(),
        "scope": list(d.scope or []),
        "reason": d.reason,
        "ended_at": d.ended_at.isoformat() if d.ended_at else None,
        "active": d.is_active(now),
    }


def _parse_dt(value):
    if value in (None, ""):
        return None
    try:
        out = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return "bad"
    if out.tzinfo is None:
        if len(str(value)) <= 10:
            return out.replace(tzinfo=dt.UTC)
        return "bad"
    return out


def delegations_list(request):
    ident = request.identity
    q = select(Delegation).order_by(Delegation.id.desc()).limit(_limit(request))
    if not request.has_permission(MANAGE) or request.params.get("mine"):
        uid = ident.user.id
        q = q.where((Delegation.from_user_id == uid) | (Delegation.to_user_id == uid))
    now = utcnow()
    return {"items": [delegation_json(d, now) for d in request.dbsession.execute(q).scalars()]}


def delegation_create(request):
    _require_credentials_scope(request)
    data = _body(request)
    extra = set(data) - {
        "from_user_id",
        "to_user_id",
        "to_email",
        "starts_at",
        "ends_at",
        "scope",
        "reason",
    }
    if extra:
        raise Problem(
            400,
            _("Invalid data"),
            errors={k: _("This field cannot be written.") for k in sorted(extra)},
        )
    from_user = request.identity.user
    if data.get("from_user_id") not in (None, from_user.id):
        if not request.has_permission(MANAGE):
            raise Problem(403, _("Forbidden"), _("You can only delegate your own rights."))
        other = (
            request.dbsession.get(User, int(data["from_user_id"]))
            if str(data["from_user_id"]).isdigit()
            else None
        )
        if other is None:
            raise Problem(400, _("Invalid data"), errors={"from_user_id": _("No such user.")})
        _manageable(request, other)
        from_user = other
    starts = _parse_dt(data.get("starts_at")) or utcnow()
    ends = _parse_dt(data.get("ends_at"))
    bad = {
        k: _("An ISO date-time with a time zone.")
        for k, v in (("starts_at", starts), ("ends_at", ends))
        if v == "bad"
    }
    if bad:
        raise Problem(400, _("Invalid data"), errors=bad)
    clean, errors = check_delegation(
        request,
        {
            "to_user_id": data.get("to_user_id"),
            "to_email": data.get("to_email"),
            "starts": starts,
            "ends": ends,
            "scope": data.get("scope") or [],
            "reason": data.get("reason"),
        },
        from_user,
    )
    if errors:
        raise Problem(400, _("Invalid data"), errors={k: v[0] for k, v in errors.items()})
    row = create_delegation(request, from_user, clean)
    request.response.status = 201
    return delegation_json(row)


def delegation_end(request):
    row = _get(request, Delegation)
    uid = request.identity.user.id
    if uid not in (row.from_user_id, row.to_user_id) and not request.has_permission(MANAGE):
        raise Problem(404, _("Not found"))
    end_delegation(request, row)
    return HTTPNoContent()


# --- security events ------------------------------------------------------------------


def event_json(e: SecurityEvent) -> dict:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "kind": e.kind,
        "user_id": e.user_id,
        "on_behalf_of_id": e.on_behalf_of_id,
        "ip": e.ip,
        "detail": e.detail,
    }


def events_query(request):
    """Security events filtered by ``kind``, ``user_id``, ``since``, ``until``, newest
    first, keyset-paginated by ``before`` (an event id)."""
    p = request.params
    q = select(SecurityEvent).order_by(SecurityEvent.id.desc())
    if p.get("kind"):
        kind = p["kind"]
        q = (
            q.where(SecurityEvent.kind.startswith(kind.rstrip("."), autoescape=True))
            if kind.endswith(".")
            else q.where(SecurityEvent.kind == kind)
        )
    if p.get("user_id", "").isdigit():
        q = q.where(SecurityEvent.user_id == int(p["user_id"]))
    for key, op in (("since", "ge"), ("until", "lt")):
        value = _parse_dt(p.get(key))
        if value == "bad":
            raise Problem(400, _("Invalid parameter"), errors={key: _("An ISO date.")})
        if value is not None:
            q = q.where(SecurityEvent.at >= value if op == "ge" else SecurityEvent.at < value)
    if p.get("before", "").isdigit():
        q = q.where(SecurityEvent.id < int(p["before"]))
    return q


def events_list(request):
    rows = request.dbsession.execute(events_query(request).limit(_limit(request))).scalars()
    return {"items": [event_json(e) for e in rows], "kinds": list(KINDS)}


# --- territories ----------------------------------------------------------------------


def territories_list(request):
    rows = request.dbsession.execute(select(Territory).order_by(Territory.name)).scalars()
    return {"items": [territory_json(t, request.dbsession) for t in rows]}


def territory_create(request):
    try:
        terr = save_territory(request, None, _body(request))
    except ManageError as exc:
        raise _problem(exc) from exc
    request.response.status = 201
    return territory_json(terr, request.dbsession)


def territory_patch(request):
    terr = _get(request, Territory)
    try:
        save_territory(request, terr, _body(request))
    except ManageError as exc:
        raise _problem(exc) from exc
    return territory_json(terr, request.dbsession)


def territory_delete(request):
    terr = _get(request, Territory)
    log_event(request, "territory.changed", op="delete", territory=terr.name)
    request.dbsession.delete(terr)
    return HTTPNoContent()


# --- org chart ------------------------------------------------------------------------


def departments_list(request):
    rows = request.dbsession.execute(select(Department).order_by(Department.path)).scalars()
    return {"items": [department_json(d) for d in rows]}


def _org_call(request, fn, *args):
    try:
        out = fn(request.dbsession, *args)
    except OrgError as exc:
        raise Problem(exc.status, _("Invalid data"), errors=exc.errors) from exc
    return out


def department_create(request):
    data = _body(request)
    extra = set(data) - {"name", "parent_id", "manager_id"}
    if extra:
        raise Problem(
            400,
            _("Invalid data"),
            errors={k: _("This field cannot be written.") for k in sorted(extra)},
        )
    dept = _org_call(
        request, create_department, data.get("name"), data.get("parent_id"), data.get("manager_id")
    )
    _forget(request)
    log_event(
        request,
        "org.changed",
        op="department.create",
        department_id=dept.id,
        name=dept.name,
        parent_id=dept.parent_id,
        manager_id=dept.manager_id,
    )
    request.response.status = 201
    return department_json(dept)


def _forget(request):
    from kyklos.security.rules import forget_cache

    forget_cache(request)


def department_get(request):
    dept = _get(request, Department)
    out = department_json(dept)
    out["members"] = list(
        request.dbsession.execute(
            select(User.id).where(User.department_id == dept.id).order_by(User.id)
        ).scalars()
    )
    return out


def department_patch(request):
    dept = _get(request, Department)
    data = _body(request)
    extra = set(data) - {"name", "parent_id", "manager_id"}
    if extra:
        raise Problem(
            400,
            _("Invalid data"),
            errors={k: _("This field cannot be written.") for k in sorted(extra)},
        )
    _org_call(request, update_department, dept, data)
    _forget(request)
    log_event(
        request, "org.changed", op="department.update", department_id=dept.id, fields=sorted(data)
    )
    return department_json(request.dbsession.get(Department, dept.id))


def department_delete(request):
    dept = _get(request, Department)
    _org_call(request, delete_department, dept)
    _forget(request)
    log_event(request, "org.changed", op="department.delete", department_id=dept.id)
    return HTTPNoContent()


def positions_list(request):
    rows = request.dbsession.execute(select(Position).order_by(Position.title)).scalars()
    return {"items": [position_json(p) for p in rows]}


def position_create(request):
    data = _body(request)
    if set(data) - {"title", "department_id"}:
        raise Problem(
            400,
            _("Invalid data"),
            errors={
                k: _("This field cannot be written.")
                for k in sorted(set(data) - {"title", "department_id"})
            },
        )
    pos = _org_call(request, save_position, None, data)
    log_event(request, "org.changed", op="position.create", position_id=pos.id)
    request.response.status = 201
    return position_json(pos)


def position_patch(request):
    pos = _get(request, Position)
    data = _body(request)
    if set(data) - {"title", "department_id"}:
        raise Problem(
            400,
            _("Invalid data"),
            errors={
                k: _("This field cannot be written.")
                for k in sorted(set(data) - {"title", "department_id"})
            },
        )
    _org_call(request, save_position, pos, data)
    log_event(request, "org.changed", op="position.update", position_id=pos.id)
    return position_json(pos)


def position_delete(request):
    pos = _get(request, Position)
    request.dbsession.delete(pos)
    log_event(request, "org.changed", op="position.delete", position_id=pos.id)
    return HTTPNoContent()


def org_user_patch(request):
    """Place a user in the org chart: ``department_id`` and ``position_id`` only."""
    user = _get(request, User)
    data = _body(request)
    extra = set(data) - {"department_id", "position_id"}
    if extra:
        raise Problem(
            400,
            _("Invalid data"),
            errors={k: _("This field cannot be written.") for k in sorted(extra)},
        )
    _org_call(request, assign_user, user, data)
    _forget(request)
    log_event(
        request,
        "org.changed",
        op="user.assign",
        target_user_id=user.id,
        **{k: data[k] for k in sorted(data)},
    )
    return user_json(user)


ROUTES = [
    # name, pattern, method, view, permission
    ("me", "/api/v1/_security/me", "GET", me, "authenticated"),
    ("me.tokens", "/api/v1/_security/me/tokens", "GET", my_tokens, "authenticated"),
    ("me.tokens.create", "/api/v1/_security/me/tokens", "POST", my_token_create, "authenticated"),
    ("me.token", "/api/v1/_security/me/tokens/{id}", "DELETE", my_token_revoke, "authenticated"),
    ("users", "/api/v1/_security/users", "GET", users_list, MANAGE),
    ("users.create", "/api/v1/_security/users", "POST", user_create, MANAGE),
    ("user", "/api/v1/_security/users/{id}", "GET", user_get, MANAGE),
    ("user.patch", "/api/v1/_security/users/{id}", "PATCH", user_patch, MANAGE),
    ("user.delete", "/api/v1/_security/users/{id}", "DELETE", user_deactivate, MANAGE),
    ("user.tokens", "/api/v1/_security/users/{id}/tokens", "GET", user_tokens, MANAGE),
    (
        "user.tokens.create",
        "/api/v1/_security/users/{id}/tokens",
        "POST",
        user_token_create,
        MANAGE,
    ),
    ("user.reset", "/api/v1/_security/users/{id}/password-reset", "POST", user_reset, MANAGE),
    (
        "user.sessions",
        "/api/v1/_security/users/{id}/sessions/end",
        "POST",
        user_end_sessions,
        MANAGE,
    ),
    ("token", "/api/v1/_security/tokens/{id}", "DELETE", token_revoke, MANAGE),
    ("permissions", "/api/v1/_security/permissions", "GET", permissions_list, MANAGE),
    ("roles", "/api/v1/_security/roles", "GET", roles_list, MANAGE),
    ("roles.create", "/api/v1/_security/roles", "POST", role_create, MANAGE),
    ("role", "/api/v1/_security/roles/{id}", "GET", role_get, MANAGE),
    ("role.patch", "/api/v1/_security/roles/{id}", "PATCH", role_patch, MANAGE),
    ("role.delete", "/api/v1/_security/roles/{id}", "DELETE", role_delete, MANAGE),
    ("rules", "/api/v1/_security/rules", "GET", rules_list, MANAGE),
    ("rules.create", "/api/v1/_security/rules", "POST", rule_create, MANAGE),
    ("rule.patch", "/api/v1/_security/rules/{id}", "PATCH", rule_patch, MANAGE),
    ("rule.delete", "/api/v1/_security/rules/{id}", "DELETE", rule_delete, MANAGE),
    ("fields", "/api/v1/_security/field-permissions", "GET", field_permissions_list, MANAGE),
    ("fields.put", "/api/v1/_security/field-permissions", "PUT", field_permission_put, MANAGE),
    ("delegations", "/api/v1/_security/delegations", "GET", delegations_list, "authenticated"),
    (
        "delegations.create",
        "/api/v1/_security/delegations",
        "POST",
        delegation_create,
        "authenticated",
    ),
    (
        "delegation.end",
        "/api/v1/_security/delegations/{id}",
        "DELETE",
        delegation_end,
        "authenticated",
    ),
    ("events", "/api/v1/_security/events", "GET", events_list, MANAGE),
    ("territories", "/api/v1/_security/territories", "GET", territories_list, MANAGE),
    ("territories.create", "/api/v1/_security/territories", "POST", territory_create, MANAGE),
    ("territory.patch", "/api/v1/_security/territories/{id}", "PATCH", territory_patch, MANAGE),
    ("territory.delete", "/api/v1/_security/territories/{id}", "DELETE", territory_delete, MANAGE),
    ("org.departments", "/api/v1/_org/departments", "GET", departments_list, "authenticated"),
    ("org.departments.create", "/api/v1/_org/departments", "POST", department_create, MANAGE),
    ("org.department", "/api/v1/_org/departments/{id}", "GET", department_get, "authenticated"),
    ("org.department.patch", "/api/v1/_org/departments/{id}", "PATCH", department_patch, MANAGE),
    ("org.department.delete", "/api/v1/_org/departments/{id}", "DELETE", department_delete, MANAGE),
    ("org.positions", "/api/v1/_org/positions", "GET", positions_list, "authenticated"),
    ("org.positions.create", "/api/v1/_org/positions", "POST", position_create, MANAGE),
    ("org.position.patch", "/api/v1/_org/positions/{id}", "PATCH", position_patch, MANAGE),
    ("org.position.delete", "/api/v1/_org/positions/{id}", "DELETE", position_delete, MANAGE),
    ("org.user.patch", "/api/v1/_org/users/{id}", "PATCH", org_user_patch, MANAGE),
]


def security_paths(request) -> dict:
    from kyklos.entities import openapi as o  # it imports the registry's modules

    limit = o.param("limit", {"type": "integer", "minimum": 1, "maximum": 500})
    entities = sorted(request.registry.kyklos_entities) or ["-"]
    entity = o.param("entity", {"type": "string", "enum": entities})
    role = o.param("role", {"type": "string", "maxLength": 100, "pattern": o.TEXT})
    body = o.json_body(o.OBJECT)
    token_body = o.json_body(
        o.obj(
            {
                "name": o.text(100, required=True),
                "scopes": o.array({"type": "string"}),
                "expires_at": {"type": "string"},
            },
            strict=False,
        )
    )
    s, org = "/api/v1/_security", "/api/v1/_org"
    table = [
        ("get", f"{s}/me", "security_me", "200", "You: roles, permissions, delegations", [], None),
        ("get", f"{s}/me/tokens", "list_my_tokens", "200", "Your API tokens", [], None),
        (
            "post",
            f"{s}/me/tokens",
            "create_my_token",
            "201",
            "A new API token (shown once)",
            [],
            token_body,
        ),
        ("delete", f"{s}/me/tokens/{{id}}", "revoke_my_token", "204", "", [], None),
        (
            "get",
            f"{s}/users",
            "list_users",
            "200",
            "Users (?q= text, ?after= id)",
            [
                o.param("q", {"type": "string", "maxLength": 100, "pattern": o.TEXT}),
                o.param("after", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}),
                limit,
            ],
            None,
        ),
        ("post", f"{s}/users", "create_user", "201", "", [], body),
        ("get", f"{s}/users/{{id}}", "get_user", "200", "", [], None),
        ("patch", f"{s}/users/{{id}}", "update_user", "200", "", [], body),
        (
            "delete",
            f"{s}/users/{{id}}",
            "deactivate_user",
            "204",
            "Deactivate (never deleted)",
            [],
            None,
        ),
        ("get", f"{s}/users/{{id}}/tokens", "list_user_tokens", "200", "", [], None),
        ("post", f"{s}/users/{{id}}/tokens", "create_user_token", "201", "", [], token_body),
        (
            "post",
            f"{s}/users/{{id}}/password-reset",
            "reset_user_password",
            "204",
            "E-mail a reset link",
            [],
            None,
        ),
        ("post", f"{s}/users/{{id}}/sessions/end", "end_user_sessions", "204", "", [], None),
        ("delete", f"{s}/tokens/{{id}}", "revoke_token", "204", "", [], None),
        ("get", f"{s}/permissions", "list_permissions", "200", "", [], None),
        ("get", f"{s}/roles", "list_roles", "200", "", [], None),
        ("post", f"{s}/roles", "create_role", "201", "", [], body),
        ("get", f"{s}/roles/{{id}}", "get_role", "200", "", [], None),
        ("patch", f"{s}/roles/{{id}}", "update_role", "200", "", [], body),
        ("delete", f"{s}/roles/{{id}}", "delete_role", "204", "", [], None),
        ("get", f"{s}/rules", "list_record_rules", "200", "", [entity, role], None),
        ("post", f"{s}/rules", "create_record_rule", "201", "", [], body),
        ("patch", f"{s}/rules/{{id}}", "update_record_rule", "200", "", [], body),
        ("delete", f"{s}/rules/{{id}}", "delete_record_rule", "204", "", [], None),
        (
            "get",
            f"{s}/field-permissions",
            "list_field_permissions",
            "200",
            "",
            [entity, role],
            None,
        ),
        ("put", f"{s}/field-permissions", "set_field_permission", "200", "", [], body),
        (
            "get",
            f"{s}/delegations",
            "list_delegations",
            "200",
            "",
            [o.param("mine", {"type": "string", "enum": ["1"]})],
            None,
        ),
        ("post", f"{s}/delegations", "create_delegation", "201", "", [], body),
        ("delete", f"{s}/delegations/{{id}}", "end_delegation", "204", "", [], None),
        (
            "get",
            f"{s}/events",
            "list_security_events",
            "200",
            "The security log",
            [limit, o.param("kind", {"type": "string", "maxLength": 100})],
            None,
        ),
        ("get", f"{s}/territories", "list_territories", "200", "", [], None),
        ("post", f"{s}/territories", "create_territory", "201", "", [], body),
        ("patch", f"{s}/territories/{{id}}", "update_territory", "200", "", [], body),
        ("delete", f"{s}/territories/{{id}}", "delete_territory", "204", "", [], None),
        ("get", f"{org}/departments", "list_departments", "200", "", [], None),
        ("post", f"{org}/departments", "create_department", "201", "", [], body),
        ("get", f"{org}/departments/{{id}}", "get_department", "200", "", [], None),
        ("patch", f"{org}/departments/{{id}}", "update_department", "200", "", [], body),
        ("delete", f"{org}/departments/{{id}}", "delete_department", "204", "", [], None),
        ("get", f"{org}/positions", "list_positions", "200", "", [], None),
        ("post", f"{org}/positions", "create_position", "201", "", [], body),
        ("patch", f"{org}/positions/{{id}}", "update_position", "200", "", [], body),
        ("delete", f"{org}/positions/{{id}}", "delete_position", "204", "", [], None),
        (
            "patch",
            f"{org}/users/{{id}}",
            "place_user",
            "200",
            "A user's department, position and manager",
            [],
            body,
        ),
    ]
    return o.operations_table(table, "Security")


def includeme(config):
    config.add_openapi_paths(security_paths)
    for name, pattern, method, view, permission in ROUTES:
        route = f"api.security.{name}"
        config.add_route(route, pattern, request_method=method)
        config.add_view(view, route_name=route, renderer="json", permission=permission)
