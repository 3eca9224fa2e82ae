"""Administration pages: users, roles with permissions, record rules and field
permissions, the org chart, territories, delegations and the security log.

Pages are plain server-rendered forms; every change is a POST with a CSRF token and
goes through :mod:`kyklos.security.manage` / :mod:`kyklos.security.org`, the same code
the JSON API uses."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from sqlalchemy import func, select

from kyklos.db import utcnow
from kyklos.entities import VERBS
from kyklos.hooks import collect
from kyklos.i18n import LANGUAGES, _, format_datetime
from kyklos.security import role_editor
from kyklos.security.account import (
    check_delegation,
    create_delegation,
    end_delegation,
)
from kyklos.security.audit import KINDS, clean_log_text, log_event
from kyklos.security.auth import end_user_sessions, send_reset_link
from kyklos.security.manage import (
    ManageError,
    add_rule,
    can_grant,
    delete_rule,
    field_permissions_of,
    save_role,
    save_territory,
    save_user,
    set_field_access,
    set_rule_enabled,
)
from kyklos.security.models import (
    ApiToken,
    Delegation,
    Department,
    Position,
    RecordRule,
    Role,
    SecurityEvent,
    Territory,
    User,
    UserTerritory,
)
from kyklos.security.org import (
    OrgError,
    create_department,
    delete_department,
    flatten,
    save_position,
    tree,
    update_department,
)
from kyklos.security.rules import FIELD_ACCESS, RULE_ACTIONS, SCOPES
from kyklos.web import MenuItem

MANAGE = "kyklos.users.manage"
T = "kyklos:web/templates/"


def _lists(errors: dict) -> dict:
    return {k: v if isinstance(v, list) else [v] for k, v in errors.items()}


def _page(request, template, data, status=200):
    response = render_to_response(T + template, data, request=request)
    response.status = status
    return response


def _row(request, model, key="id"):
    try:
        row = request.dbsession.get(model, int(request.matchdict[key]))
    except (KeyError, ValueError, OverflowError):
        row = None
    if row is None:
        raise HTTPNotFound()
    return row


def _int_or_none(value):
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


# --- index ----------------------------------------------------------------------------


def admin_items(request) -> list[MenuItem]:
    items = [
        MenuItem(_("Users"), request.route_url("admin_users"), MANAGE, "people", order=10),
        MenuItem(
            _("Roles and record rules"),
            request.route_url("admin_roles"),
            MANAGE,
            "shield-lock",
            order=20,
        ),
        MenuItem(_("Organisation"), request.route_url("admin_org"), MANAGE, "diagram-3", order=30),
        MenuItem(
            _("Territories"), request.route_url("admin_territories"), MANAGE, "geo-alt", order=40
        ),
        MenuItem(
            _("Delegations"),
            request.route_url("admin_delegations"),
            MANAGE,
            "arrow-left-right",
            order=50,
        ),
        MenuItem(
            _("Security log"), request.route_url("admin_events"), MANAGE, "journal-text", order=60
        ),
    ]
    items += collect(request.registry.kyklos_pm, "kyklos_admin_items", request=request)
    visible = [i for i in items if not i.permission or request.has_permission(i.permission)]
    return sorted(visible, key=lambda i: (i.order, str(i.title)))


def admin_index(request):
    items = admin_items(request)
    if not items:
        raise HTTPForbidden()
    return {"title": _("Administration"), "items": items}


# --- users ----------------------------------------------------------------------------


def users_view(request):
    # portal logins have their own page (Administration → Portal logins)
    q = select(User).where(User.is_portal.is_(False)).order_by(User.name, User.id)
    text = request.params.get("q", "").strip()[:100]
    if text:
        like = f"%{text.lower()}%"
        q = q.where(func.lower(User.email).like(like) | func.lower(User.name).like(like))
    users = request.dbsession.execute(q.limit(500)).scalars().all()
    depts = dict(request.dbsession.execute(select(Department.id, Department.name)).all())
    return {"title": _("Users"), "users": users, "q": text, "departments": depts}


def _user_form_data(request, user=None, errors=None, values=None):
    db = request.dbsession
    tokens = []
    if user is not None and user.id:
        tokens = (
            db.execute(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
            )
            .scalars()
            .all()
        )
    return {
        "title": user.title if user and user.id else _("New user"),
        "u": user,
        "errors": errors or {},
        "values": values,
        "roles": db.execute(select(Role).order_by(Role.name)).scalars().all(),
        "departments": [(d, n) for d, n in flatten(tree(db))],
        "positions": db.execute(select(Position).order_by(Position.title)).scalars().all(),
        "territories": db.execute(select(Territory).order_by(Territory.name)).scalars().all(),
        "languages": LANGUAGES,
        "tokens": tokens,
        "now": utcnow(),
    }


def _user_post_data(request, creating: bool) -> dict:
    p = request.POST
    data = {
        "email": p.get("email", ""),
        "name": p.get("name", ""),
        "is_active": p.get("is_active") == "on",
        "locale": p.get("locale", ""),
        "timezone": p.get("timezone", "") or "Europe/Athens",
        "roles": p.getall("roles"),
        "department_id": _int_or_none(p.get("department_id")),
        "position_id": _int_or_none(p.get("position_id")),
        "territory_ids": [int(t) for t in p.getall("territory_ids") if t.isdigit()],
    }
    if creating and p.get("password"):
        data["password"] = p.get("password")
    return data


def user_new_view(request):
    if request.method == "POST":
        data = _user_post_data(request, creating=True)
        try:
            user = save_user(request, None, data)
        except ManageError as exc:
            return _page(
                request,
                "admin_user.pt",
                _user_form_data(request, None, _lists(exc.errors), data),
                exc.status,
            )
        request.session.flash(_("User created."), "success")
        return HTTPSeeOther(request.route_url("admin_user", id=user.id))
    return _user_form_data(request)


def user_edit_view(request):
    user = _row(request, User)
    if request.method == "POST":
        data = _user_post_data(request, creating=False)
        try:
            save_user(request, user, data)
        except ManageError as exc:
            return _page(
                request,
                "admin_user.pt",
                _user_form_data(request, user, _lists(exc.errors), data),
                exc.status,
            )
        request.session.flash(_("Saved."), "success")
        return HTTPSeeOther(request.route_url("admin_user", id=user.id))
    return _user_form_data(request, user)


def _manageable(request, user):
    if not can_grant(request.identity, {p for r in user.roles for p in r.permissions or ()}):
        raise HTTPForbidden()


def user_reset_view(request):
    user = _row(request, User)
    _manageable(request, user)
    if user.is_active:
        send_reset_link(request, user)
    request.session.flash(
        _("A password reset link was sent to ${e}.", mapping={"e": user.email}), "success"
    )
    return HTTPSeeOther(request.route_url("admin_user", id=user.id))


def user_sessions_view(request):
    user = _row(request, User)
    _manageable(request, user)
    end_user_sessions(request, user.id, keep_current=user.id == request.identity.user.id)
    log_event(request, "sessions.ended", target_user_id=user.id, scope="all")
    request.session.flash(_("The user's sessions ended."), "success")
    return HTTPSeeOther(request.route_url("admin_user", id=user.id))


def token_revoke_view(request):
    row = _row(request, ApiToken)
    _manageable(request, row.user)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        log_event(request, "token.revoked", target_user_id=row.user_id, token_id=row.id)
    request.session.flash(_("The token was revoked."), "success")
    return HTTPSeeOther(request.route_url("admin_user", id=row.user_id))


# --- roles ----------------------------------------------------------------------------


def roles_view(request):
    db = request.dbsession
    errors, values = {}, {}
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", "").strip(),
            "title": request.POST.get("title", ""),
        }
        try:
            role = save_role(request, None, {**values, "permissions": []})
        except ManageError as exc:
            errors = _lists(exc.errors)
        else:
            request.session.flash(_("Role created."), "success")
            return HTTPSeeOther(request.route_url("admin_role", id=role.id))
    counts = dict(
        db.execute(select(RecordRule.role_id, func.count()).group_by(RecordRule.role_id)).all()
    )
    data = {
        "title": _("Roles and record rules"),
        "roles": db.execute(select(Role).order_by(Role.name)).scalars().all(),
        "rule_counts": counts,
        "granted_text": lambda r: role_editor.granted_count_text(request, r),
        "role_title": lambda r: role_editor.role_title(request, r),
        "errors": errors,
        "values": values,
    }
    if errors:
        return _page(request, "admin_roles.pt", data, 400)
    return data


def _role_data(request, role, errors=None):
    db = request.dbsession
    rules = (
        db.execute(
            select(RecordRule)
            .where(RecordRule.role_id == role.id)
            .order_by(RecordRule.entity, RecordRule.action, RecordRule.scope)
        )
        .scalars()
        .all()
    )
    return {
        "title": role_editor.role_title(request, role),
        "role": role,
        "matrix": role_editor.permission_matrix(request),
        "verbs": [(v, role_editor.VERB_WORDS[v]) for v in VERBS],
        "verb_words": role_editor.VERB_WORDS,
        "granted": set(role.permissions or []),
        "rules": role_editor.rule_rows(request, rules),
        "entity_groups": role_editor.entity_groups(request),
        "actions": [
            (a, role_editor.ACTION_WORDS[a], role_editor.ACTION_HINTS[a]) for a in RULE_ACTIONS
        ],
        "scopes": [(s, role_editor.SCOPE_WORDS[s], role_editor.SCOPE_HINTS[s]) for s in SCOPES],
        "permission_title": lambda p: role_editor.permission_title(request, p),
        "errors": errors or {},
        "editable": can_grant(request.identity, role.permissions),
    }


def role_view(request):
    role = _row(request, Role)
    if request.method == "POST":
        perms = request.POST.getall("permissions")
        if "*" in (role.permissions or []) and request.POST.get("keep_all") == "on":
            perms = ["*", *perms]
        try:
            save_role(request, role, {"title": request.POST.get("title", ""), "permissions": perms})
        except ManageError as exc:
            return _page(
                request, "admin_role.pt", _role_data(request, role, _lists(exc.errors)), exc.status
            )
        request.session.flash(_("Saved."), "success")
        return HTTPSeeOther(request.route_url("admin_role", id=role.id))
    return _role_data(request, role)


def rule_add_view(request):
    role = _row(request, Role)
    data = {
        "role_id": role.id,
        "entity": request.POST.get("entity", ""),
        "action": request.POST.get("action", ""),
        "scope": request.POST.get("scope", ""),
    }
    try:
        add_rule(request, data)
    except ManageError as exc:
        return _page(
            request, "admin_role.pt", _role_data(request, role, _lists(exc.errors)), exc.status
        )
    request.session.flash(_("Rule added."), "success")
    return HTTPSeeOther(request.route_url("admin_role", id=role.id))


def rule_toggle_view(request):
    rule = _row(request, RecordRule)
    try:
        set_rule_enabled(request, rule, not rule.enabled)
    except ManageError as exc:
        raise HTTPForbidden() from exc
    return HTTPSeeOther(request.route_url("admin_role", id=rule.role_id))


def rule_delete_view(request):
    rule = _row(request, RecordRule)
    role_id = rule.role_id
    try:
        delete_rule(request, rule)
    except ManageError as exc:
        raise HTTPForbidden() from exc
    return HTTPSeeOther(request.route_url("admin_role", id=role_id))


def role_fields_view(request):
    role = _row(request, Role)
    et = request.registry.kyklos_entities.get(request.matchdict["entity"])
    if et is None:
        raise HTTPNotFound()
    errors = {}
    if request.method == "POST":
        try:
            for name in sorted(et.fields):
                if name == "id":
                    continue
                access = request.POST.get(f"f.{name}", "write")
                set_field_access(request, role, et.name, name, access)
        except ManageError as exc:
            errors = _lists(exc.errors)
        else:
            request.session.flash(_("Saved."), "success")
            return HTTPSeeOther(request.route_url("admin_role_fields", id=role.id, entity=et.name))
    current = field_permissions_of(request.dbsession, role, et.name)
    fields = [f for n, f in et.fields.items() if n != "id" and f.form]
    # API conveniences (a type given by its code) are set like the rest, listed last
    fields += [f for n, f in et.fields.items() if n != "id" and not f.form]
    data = {
        "title": _("Field permissions"),
        "role": role,
        "et": et,
        "fields": fields,
        "current": current,
        "choices": [(c, role_editor.FIELD_ACCESS_WORDS[c]) for c in reversed(FIELD_ACCESS)],
        "errors": errors,
    }
    return _page(request, "admin_role_fields.pt", data, 400 if errors else 200)


# --- org chart ------------------------------------------------------------------------


def _org_data(request, errors=None, values=None):
    db = request.dbsession
    nodes = tree(db, with_members=True)
    users = dict(db.execute(select(User.id, User.name)).all())
    return {
        "title": _("Organisation"),
        "rows": flatten(nodes),
        "departments": db.execute(select(Department).order_by(Department.path)).scalars().all(),
        "positions": db.execute(select(Position).order_by(Position.title)).scalars().all(),
        "users": db.execute(select(User).where(User.is_active.is_(True)).order_by(User.name))
        .scalars()
        .all(),
        "user_names": users,
        "dept_names": dict(db.execute(select(Department.id, Department.name)).all()),
        "errors": errors or {},
        "values": values or {},
    }


def org_view(request):
    return _org_data(request)


def department_create_view(request):
    p = request.POST
    try:
        dept = create_department(
            request.dbsession,
            p.get("name"),
            _int_or_none(p.get("parent_id")),
            _int_or_none(p.get("manager_id")),
        )
    except OrgError as exc:
        return _page(
            request, "admin_org.pt", _org_data(request, _lists(exc.errors), dict(p)), exc.status
        )
    log_event(request, "org.changed", op="department.create", department_id=dept.id)
    request.session.flash(_("Department created."), "success")
    return HTTPSeeOther(request.route_url("admin_org"))


def department_view(request):
    dept = _row(request, Department)
    errors = {}
    db = request.dbsession
    if request.method == "POST":
        p = request.POST
        try:
            update_department(
                db,
                dept,
                {
                    "name": p.get("name"),
                    "parent_id": _int_or_none(p.get("parent_id")),
                    "manager_id": _int_or_none(p.get("manager_id")),
                },
            )
        except OrgError as exc:
            errors = _lists(exc.errors)
        else:
            log_event(request, "org.changed", op="department.update", department_id=dept.id)
            request.session.flash(_("Saved."), "success")
            return HTTPSeeOther(request.route_url("admin_org"))
    dept = db.get(Department, dept.id)
    data = {
        "title": dept.name,
        "dept": dept,
        "departments": [
            d
            for d in db.execute(select(Department).order_by(Department.path)).scalars()
            if not d.path.startswith(dept.path)
        ],
        "users": db.execute(select(User).where(User.is_active.is_(True)).order_by(User.name))
        .scalars()
        .all(),
        "members": db.execute(select(User).where(User.department_id == dept.id).order_by(User.name))
        .scalars()
        .all(),
        "errors": errors,
    }
    return _page(request, "admin_department.pt", data, 400 if errors else 200)


def department_delete_view(request):
    dept = _row(request, Department)
    try:
        delete_department(request.dbsession, dept)
    except OrgError as exc:
        return _page(request, "admin_org.pt", _org_data(request, _lists(exc.errors)), exc.status)
    log_event(request, "org.changed", op="department.delete", department_id=dept.id)
    request.session.flash(_("Department deleted."), "success")
    return HTTPSeeOther(request.route_url("admin_org"))


def position_create_view(request):
    p = request.POST
    try:
        pos = save_position(
            request.dbsession,
            None,
            {"title": p.get("title"), "department_id": _int_or_none(p.get("department_id"))},
        )
    except OrgError as exc:
        return _page(
            request, "admin_org.pt", _org_data(request, _lists(exc.errors), dict(p)), exc.status
        )
    log_event(request, "org.changed", op="position.create", position_id=pos.id)
    return HTTPSeeOther(request.route_url("admin_org"))


def position_delete_view(request):
    pos = _row(request, Position)
    request.dbsession.delete(pos)
    log_event(request, "org.changed", op="position.delete", position_id=pos.id)
    return HTTPSeeOther(request.route_url("admin_org"))


# --- territories ----------------------------------------------------------------------


def _country_names(request) -> list[tuple[str, str]]:
    from kyklos.sitesettings import country_names

    return country_names(request.locale_name or "en")


def _territory_post(request) -> dict:
    """Countries come from the drop-down; "other values" (regions, codes of a type
    whose territory field is not a country) one per line."""
    p = request.POST
    other = [v.strip() for v in p.get("other_values", "").splitlines() if v.strip()]
    return {
        "name": p.get("name", ""),
        "description": p.get("description", ""),
        "values": [c for c in p.getall("countries") if c] + other,
    }


def _split_values(request, values) -> tuple[list[str], list[str]]:
    codes = {c for c, _n in _country_names(request)}
    return [v for v in values if v in codes], [v for v in values if v not in codes]


def _territory_places(request, terr) -> list[str]:
    names = dict(_country_names(request))
    return [names.get(v, v) for v in terr.value_list]


def territories_view(request):
    db = request.dbsession
    errors, values = {}, {}
    if request.method == "POST":
        values = _territory_post(request)
        try:
            terr = save_territory(request, None, values)
        except ManageError as exc:
            errors = _lists(exc.errors)
        else:
            request.session.flash(_("Territory created. Now choose its people."), "success")
            return HTTPSeeOther(request.route_url("admin_territory", id=terr.id))
    territories = db.execute(select(Territory).order_by(Territory.name)).scalars().all()
    counts = dict(
        db.execute(
            select(UserTerritory.territory_id, func.count()).group_by(UserTerritory.territory_id)
        ).all()
    )
    data = {
        "title": _("Territories"),
        "territories": territories,
        "places": {t.id: _territory_places(request, t) for t in territories},
        "counts": counts,
        "countries": _country_names(request),
        "chosen": set(values.get("values") or ()),
        "errors": errors,
        "values": values,
    }
    return _page(request, "admin_territories.pt", data, 400 if errors else 200)


def territory_view(request):
    terr = _row(request, Territory)
    db = request.dbsession
    errors = {}
    if request.method == "POST":
        if request.POST.get("delete") == "1":
            log_event(request, "territory.changed", op="delete", territory=terr.name)
            db.delete(terr)
            request.session.flash(_("Territory deleted."), "success")
            return HTTPSeeOther(request.route_url("admin_territories"))
        data = {
            **_territory_post(request),
            "user_ids": [u for u in request.POST.getall("user_ids") if u.isdigit()],
        }
        try:
            save_territory(request, terr, data)
        except ManageError as exc:
            errors = _lists(exc.errors)
        else:
            request.session.flash(_("Saved."), "success")
            return HTTPSeeOther(request.route_url("admin_territory", id=terr.id))
    members = (
        db.execute(
            select(User)
            .join(UserTerritory, UserTerritory.user_id == User.id)
            .where(UserTerritory.territory_id == terr.id)
            .order_by(User.name)
        )
        .scalars()
        .all()
    )
    chosen, other = _split_values(request, terr.value_list)
    data = {
        "title": terr.name,
        "terr": terr,
        "members": members,
        "countries": _country_names(request),
        "chosen": set(chosen),
        "other": other,
        "errors": errors,
    }
    return _page(request, "admin_territory.pt", data, 400 if errors else 200)


# --- delegations and the security log -------------------------------------------------


def delegations_view(request):
    db = request.dbsession
    errors, values = {}, {}
    if request.method == "POST":
        p = request.POST
        values = dict(p)
        from kyklos.security.auth import find_user
        from kyklos.security.delegation import picked_user

        # both people are picked with the user picker; e-mails still work (old forms)
        from_user = picked_user(db, p.get("from_user_id")) or (
            find_user(db, p.get("from_email", "")[:254]) if p.get("from_email") else None
        )
        if from_user is None:
            errors = {"from": [_("Choose the absent person.")]}
        else:
            _manageable(request, from_user)
            clean, errs = check_delegation(
                request,
                {
                    "to_user_id": p.get("to_user_id", "").strip() or None,
                    "to_email": p.get("to_email", ""),
                    "starts": p.get("starts", ""),
                    "ends": p.get("ends", ""),
                    "scope": p.getall("scope"),
                    "reason": p.get("reason", ""),
                },
                from_user,
            )
            if errs:
                errors = errs
            else:
                create_delegation(request, from_user, clean)
                request.session.flash(_("Delegation saved."), "success")
                return HTTPSeeOther(request.route_url("admin_delegations"))
    data = {
        "title": _("Delegations"),
        "delegations": db.execute(select(Delegation).order_by(Delegation.id.desc()).limit(500))
        .scalars()
        .all(),
        "now": utcnow(),
        "fmt": format_datetime,
        "scope_text": scope_text,
        "errors": errors,
        "values": values,
        "picked": {
            side: (u.id, u.title)
            for side in ("from", "to")
            if (u := _picked(db, values.get(f"{side}_user_id"))) is not None
        },
        "entity_types": sorted(
            request.registry.kyklos_entities.values(),
            key=lambda e: request.localizer.translate(e.plural).casefold(),
        ),
    }
    return _page(request, "admin_delegations.pt", data, 400 if errors else 200)


def scope_text(request, scope):
    from kyklos.security.delegation import scope_text as text

    return text(request, scope)


def _picked(db, raw):
    from kyklos.security.delegation import picked_user

    return picked_user(db, raw)


def delegation_end_view(request):
    row = _row(request, Delegation)
    end_delegation(request, row)
    return HTTPSeeOther(request.route_url("admin_delegations"))


def events_view(request):
    from kyklos.problem import Problem
    from kyklos.security.api import events_query

    try:
        q = events_query(request)
    except Problem:
        q = select(SecurityEvent).order_by(SecurityEvent.id.desc())
    events = request.dbsession.execute(q.limit(200)).scalars().all()
    ids = {e.user_id for e in events} | {e.on_behalf_of_id for e in events}
    names = dict(
        request.dbsession.execute(
            select(User.id, User.email).where(User.id.in_([i for i in ids if i]))
        ).all()
    )
    return {
        "title": _("Security log"),
        "events": events,
        "names": names,
        "clean": clean_log_text,
        "kinds": KINDS,
        "params": request.params,
        "next_before": events[-1].id if len(events) == 200 else None,
    }


def includeme(config):
    def page(name, pattern, view, renderer=None, method=("GET",), permission=MANAGE):
        config.add_route(name, pattern, request_method=method)
        config.add_view(
            view,
            route_name=name,
            renderer=T + renderer if renderer else None,
            permission=permission,
        )

    page("admin", "/admin", admin_index, "admin_index.pt", permission="authenticated")
    page("admin_users", "/admin/users", users_view, "admin_users.pt")
    page("admin_user_new", "/admin/users/new", user_new_view, "admin_user.pt", ("GET", "POST"))
    page("admin_user", "/admin/users/{id:\\d+}", user_edit_view, "admin_user.pt", ("GET", "POST"))
    page("admin_user_reset", "/admin/users/{id:\\d+}/reset", user_reset_view, method=("POST",))
    page(
        "admin_user_sessions",
        "/admin/users/{id:\\d+}/sessions/end",
        user_sessions_view,
        method=("POST",),
    )
    page(
        "admin_token_revoke", "/admin/tokens/{id:\\d+}/revoke", token_revoke_view, method=("POST",)
    )
    page("admin_roles", "/admin/roles", roles_view, "admin_roles.pt", ("GET", "POST"))
    page("admin_role", "/admin/roles/{id:\\d+}", role_view, "admin_role.pt", ("GET", "POST"))
    page("admin_rule_add", "/admin/roles/{id:\\d+}/rules", rule_add_view, method=("POST",))
    page(
        "admin_role_fields",
        "/admin/roles/{id:\\d+}/fields/{entity}",
        role_fields_view,
        method=("GET", "POST"),
    )
    page("admin_rule_toggle", "/admin/rules/{id:\\d+}/toggle", rule_toggle_view, method=("POST",))
    page("admin_rule_delete", "/admin/rules/{id:\\d+}/delete", rule_delete_view, method=("POST",))
    page("admin_org", "/admin/org", org_view, "admin_org.pt")
    page("admin_department_new", "/admin/org/departments", department_create_view, method=("POST",))
    page(
        "admin_department",
        "/admin/org/departments/{id:\\d+}",
        department_view,
        method=("GET", "POST"),
    )
    page(
        "admin_department_delete",
        "/admin/org/departments/{id:\\d+}/delete",
        department_delete_view,
        method=("POST",),
    )
    page("admin_position_new", "/admin/org/positions", position_create_view, method=("POST",))
    page(
        "admin_position_delete",
        "/admin/org/positions/{id:\\d+}/delete",
        position_delete_view,
        method=("POST",),
    )
    page("admin_territories", "/admin/territories", territories_view, method=("GET", "POST"))
    page("admin_territory", "/admin/territories/{id:\\d+}", territory_view, method=("GET", "POST"))
    page("admin_delegations", "/admin/delegations", delegations_view, method=("GET", "POST"))
    page(
        "admin_delegation_end",
        "/admin/delegations/{id:\\d+}/end",
        delegation_end_view,
        method=("POST",),
    )
    page("admin_events", "/admin/events", events_view, "admin_events.pt")
