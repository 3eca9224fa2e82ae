"""Administration of users, roles, record rules, field permissions and territories:
validation and changes shared by the admin pages and the JSON API.

Every input is an allow-list: unknown fields are refused, never silently written
(mass assignment, ASVS 15.3.3). Nobody grants what they do not hold: a user manager
who is not an administrator can only give roles whose permissions they have.
"""

from __future__ import annotations

import re
import zoneinfo

from sqlalchemy import delete, func, select

from kyklos.i18n import LANGUAGES, _
from kyklos.security.audit import log_event
from kyklos.security.models import (
    ApiToken,
    FieldPermission,
    RecordRule,
    Role,
    Territory,
    TerritoryValue,
    User,
    UserTerritory,
)
from kyklos.security.org import OrgError, assign_user
from kyklos.security.passwords import hash_password, password_messages
from kyklos.security.rules import (
    FIELD_ACCESS,
    RULE_ACTIONS,
    SCOPES,
    forget_cache,
    has_territory,
)

USER_FIELDS = frozenset(
    {
        "email",
        "name",
        "is_active",
        "locale",
        "timezone",
        "roles",
        "department_id",
        "position_id",
        "territory_ids",
        "password",
    }
)
ROLE_FIELDS = frozenset({"name", "title", "permissions"})
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,99}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s]{1,63}$")


class ManageError(ValueError):
    def __init__(self, errors: dict, status: int = 400, title=None):
        super().__init__(str(errors))
        self.errors = errors
        self.status = status
        self.title = title or _("Invalid data")


def _unknown(data: dict, allowed) -> None:
    extra = sorted(k for k in data if k not in allowed)
    if extra:
        raise ManageError({k: _("This field cannot be written.") for k in extra})


def user_json(user: User, with_tokens: bool = False) -> dict:
    out = {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "is_active": user.is_active,
        "locale": user.locale,
        "timezone": user.timezone,
        "roles": [r.name for r in user.roles],
        "department_id": user.department_id,
        "position_id": user.position_id,
        "territory_ids": [t.id for t in user.territories],
        "totp_enabled": user.totp_enabled,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }
    return out


def token_json(t: ApiToken) -> dict:
    def iso(v):
        return v.isoformat() if v else None

    return {
        "id": t.id,
        "user_id": t.user_id,
        "name": t.name,
        "prefix": t.prefix,
        "scopes": list(t.scopes or []),
        "created_at": iso(t.created_at),
        "expires_at": iso(t.expires_at),
        "last_used_at": iso(t.last_used_at),
        "revoked_at": iso(t.revoked_at),
    }


def can_grant(ident, permissions) -> bool:
    """Whether ``ident`` may hand out ``permissions`` (to a role, a user, a token)."""
    if ident.is_admin:
        return True
    perms = set(permissions or ())
    return "*" not in perms and perms <= set(ident.own_permissions)


def _roles_by_name(db, names) -> dict[str, Role]:
    names = [str(n) for n in names]
    found = {r.name: r for r in db.execute(select(Role).where(Role.name.in_(names))).scalars()}
    missing = [n for n in names if n not in found]
    if missing:
        raise ManageError({"roles": _("Unknown role: ${r}", mapping={"r": ", ".join(missing)})})
    return found


def save_user(request, user: User | None, data: dict) -> User:
    """Create (``user`` None) or change a user from an allow-listed dict."""
    _unknown(data, USER_FIELDS)
    db = request.dbsession
    ident = request.identity
    errors: dict = {}
    creating = user is None
    if not creating and not can_grant(ident, {p for r in user.roles for p in r.permissions}):
        raise ManageError(
            {"id": _("You cannot change a user who holds rights you do not.")}, status=403
        )
    if creating:
        user = User(email="", name="", roles=[])
    changes = {}
    if "email" in data or creating:
        email = str(data.get("email") or "").strip().lower()[:254]
        if not _EMAIL.match(email):
            errors["email"] = _("An e-mail address such as name@example.com.")
        else:
            other = db.execute(
                select(User.id).where(func.lower(User.email) == email)
            ).scalar_one_or_none()
            if other is not None and other != user.id:
                errors["email"] = _("Another user has this e-mail address.")
            elif email != user.email:
                changes["email"] = email
    if "name" in data or creating:
        name = str(data.get("name") or "").strip()[:200]
        if not name and creating:
            name = str(data.get("email") or "").split("@")[0][:200]
        changes["name"] = name
    if "is_active" in data:
        active = data["is_active"]
        if not isinstance(active, bool):
            errors["is_active"] = _("true or false")
        elif not active and not creating and user.id == ident.user.id:
            errors["is_active"] = _("You cannot deactivate yourself.")
        else:
            changes["is_active"] = active
    if "locale" in data:
        if data["locale"] not in (None, "", *LANGUAGES):
            errors["locale"] = _("Unknown language")
        else:
            changes["locale"] = data["locale"] or None
    if "timezone" in data:
        try:
            zoneinfo.ZoneInfo(str(data["timezone"]))
            changes["timezone"] = str(data["timezone"])[:64]
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = _("Unknown time zone")
    new_roles = None
    if "roles" in data:
        names = data["roles"]
        if not isinstance(names, list | tuple):
            errors["roles"] = _("A list of role names")
        else:
            try:
                found = _roles_by_name(db, names)
            except ManageError as exc:
                errors.update(exc.errors)
                found = {}
            old = {r.name for r in user.roles}
            for name, role in found.items():
                if name not in old and not can_grant(ident, role.permissions):
                    errors["roles"] = _("You cannot grant the role ${r}.", mapping={"r": name})
            for name in old - set(found):
                role = next(r for r in user.roles if r.name == name)
                if not can_grant(ident, role.permissions):
                    errors["roles"] = _("You cannot take away the role ${r}.", mapping={"r": name})
            new_roles = [found[n] for n in dict.fromkeys(map(str, names)) if n in found]
    if "password" in data and data["password"] not in (None, ""):
        problems = password_messages(str(data["password"]), email=changes.get("email", user.email))
        if problems:
            errors["password"] = problems[0]
    if errors:
        raise ManageError(errors)
    for k, v in changes.items():
        setattr(user, k, v)
    if "password" in data and data["password"]:
        user.password_hash = hash_password(str(data["password"]))
    if new_roles is not None:
        user.roles = new_roles
    if creating:
        db.add(user)
    db.flush()
    try:
        assign_user(db, user, {k: data[k] for k in ("department_id", "position_id") if k in data})
    except OrgError as exc:
        raise ManageError(exc.errors) from exc
    if "territory_ids" in data:
        set_user_territories(db, user, data["territory_ids"])
    forget_cache(request)
    detail = sorted(k for k in data if k != "password")
    if "password" in data and data["password"]:
        detail.append("password")
    log_event(
        request,
        "user.created" if creating else "user.changed",
        target_user_id=user.id,
        fields=detail,
        roles=[r.name for r in user.roles] if new_roles is not None else None,
    )
    return user


def set_user_territories(db, user: User, ids) -> None:
    if not isinstance(ids, list | tuple):
        raise ManageError({"territory_ids": _("A list of territory ids")})
    try:
        wanted = {int(i) for i in ids}
    except (TypeError, ValueError) as exc:
        raise ManageError({"territory_ids": _("A list of territory ids")}) from exc
    found = set(db.execute(select(Territory.id).where(Territory.id.in_(wanted))).scalars())
    if found != wanted:
        raise ManageError({"territory_ids": _("Unknown territory.")})
    db.execute(delete(UserTerritory).where(UserTerritory.user_id == user.id))
    for tid in sorted(wanted):
        db.add(UserTerritory(user_id=user.id, territory_id=tid))
    db.flush()
    db.expire(user, ["territories"])


# --- roles ----------------------------------------------------------------------------


def role_json(role: Role, db=None) -> dict:
    out = {
        "id": role.id,
        "name": role.name,
        "title": role.title,
        "permissions": list(role.permissions or []),
        "is_system": role.is_system,
    }
    return out


def save_role(request, role: Role | None, data: dict) -> Role:
    _unknown(data, ROLE_FIELDS)
    db = request.dbsession
    ident = request.identity
    errors = {}
    creating = role is None
    if creating:
        name = str(data.get("name") or "").strip()
        if not _ROLE_NAME.match(name):
            errors["name"] = _("Lower-case letters, digits, '.', '_' or '-'.")
        elif db.execute(select(Role.id).where(Role.name == name)).scalar_one_or_none():
            errors["name"] = _("A role with this name exists.")
        role = Role(name=name, title="", permissions=[], is_system=False)
    elif "name" in data and data["name"] != role.name:
        errors["name"] = _("A role's name cannot change.")
    perms = None
    if "permissions" in data:
        perms = data["permissions"]
        known = set(request.registry.kyklos_permissions) | {"*"}
        if not isinstance(perms, list | tuple) or not all(isinstance(p, str) for p in perms):
            errors["permissions"] = _("A list of permission names")
        else:
            unknown = [p for p in perms if p not in known]
            if unknown:
                errors["permissions"] = _(
                    "Unknown permission: ${p}", mapping={"p": ", ".join(unknown[:5])}
                )
            old = set(role.permissions or [])
            if not can_grant(ident, set(perms) - old) or not can_grant(ident, old - set(perms)):
                errors["permissions"] = _("You can only change permissions you hold.")
    if errors:
        raise ManageError(errors)
    if "title" in data or creating:
        role.title = str(data.get("title") or role.name).strip()[:200]
    if perms is not None:
        role.permissions = list(dict.fromkeys(perms))
    if creating:
        db.add(role)
    db.flush()
    forget_cache(request)
    log_event(
        request,
        "role.created" if creating else "role.changed",
        role=role.name,
        permissions=role.permissions if perms is not None else None,
    )
    return role


def delete_role(request, role: Role) -> None:
    if role.is_system:
        raise ManageError({"id": _("A role a plugin declares cannot be deleted.")}, status=409)
    if not can_grant(request.identity, role.permissions):
        raise ManageError({"id": _("You can only change permissions you hold.")}, status=403)
    log_event(request, "role.deleted", role=role.name)
    request.dbsession.delete(role)
    request.dbsession.flush()


# --- record rules ---------------------------------------------------------------------


def rule_json(r: RecordRule) -> dict:
    return {
        "id": r.id,
        "role": r.role.name if r.role else None,
        "role_id": r.role_id,
        "entity": r.entity,
        "action": r.action,
        "scope": r.scope,
        "enabled": r.enabled,
        "is_system": r.is_system,
    }


def _check_role_editable(request, role: Role) -> None:
    if not can_grant(request.identity, role.permissions):
        raise ManageError({"role": _("You can only change roles whose rights you hold.")}, 403)


def add_rule(request, data: dict) -> RecordRule:
    _unknown(data, {"role", "role_id", "entity", "action", "scope", "enabled"})
    db = request.dbsession
    errors = {}
    role = None
    if data.get("role_id") not in (None, ""):
        try:
            role = db.get(Role, int(data["role_id"]))
        except (TypeError, ValueError):
            role = None
    elif data.get("role"):
        role = db.execute(select(Role).where(Role.name == str(data["role"]))).scalar_one_or_none()
    if role is None:
        errors["role"] = _("Unknown role.")
    entity = str(data.get("entity") or "")
    if entity != "*" and entity not in request.registry.kyklos_entities:
        errors["entity"] = _("Unknown entity type.")
    action = str(data.get("action") or "")
    if action not in RULE_ACTIONS:
        errors["action"] = _("One of: ${v}", mapping={"v": ", ".join(RULE_ACTIONS)})
    scope = str(data.get("scope") or "")
    if scope not in SCOPES:
        errors["scope"] = _("One of: ${v}", mapping={"v": ", ".join(SCOPES)})
    elif scope == "territory" and entity in request.registry.kyklos_entities:
        et = request.registry.kyklos_entities[entity]
        if not has_territory(request, et):
            # Saved, it would silently give nothing: say so instead (SEC-04).
            errors["scope"] = _(
                "${type} have no place (country or region) to match a territory "
                "against, so a territory rule cannot apply to them.",
                mapping={"type": request.localizer.translate(et.plural)},
            )
    if errors:
        raise ManageError(errors)
    _check_role_editable(request, role)
    existing = db.execute(
        select(RecordRule).where(
            RecordRule.role_id == role.id,
            RecordRule.entity == entity,
            RecordRule.action == action,
            RecordRule.scope == scope,
        )
    ).scalar_one_or_none()
    rule = existing or RecordRule(
        role_id=role.id, entity=entity, action=action, scope=scope, is_system=False
    )
    rule.enabled = bool(data.get("enabled", True))
    if existing is None:
        db.add(rule)
    db.flush()
    forget_cache(request)
    log_event(
        request,
        "rule.changed",
        op="add",
        role=role.name,
        entity=entity,
        action=action,
        scope=scope,
        enabled=rule.enabled,
    )
    return rule


def set_rule_enabled(request, rule: RecordRule, enabled: bool) -> None:
    _check_role_editable(request, rule.role)
    rule.enabled = bool(enabled)
    forget_cache(request)
    log_event(
        request,
        "rule.changed",
        op="enable" if enabled else "disable",
        rule_id=rule.id,
        role=rule.role.name,
        entity=rule.entity,
        action=rule.action,
        scope=rule.scope,
    )


def delete_rule(request, rule: RecordRule) -> None:
    """Custom rules go; a declared one is disabled instead (sync would bring it back)."""
    _check_role_editable(request, rule.role)
    if rule.is_system:
        set_rule_enabled(request, rule, False)
        return
    log_event(
        request,
        "rule.changed",
        op="delete",
        rule_id=rule.id,
        role=rule.role.name,
        entity=rule.entity,
        action=rule.action,
        scope=rule.scope,
    )
    request.dbsession.delete(rule)
    request.dbsession.flush()
    forget_cache(request)


# --- field permissions ----------------------------------------------------------------


def set_field_access(request, role: Role, entity: str, field: str, access: str) -> None:
    """``write`` removes the restriction; ``read`` and ``none`` restrict the field."""
    errors = {}
    et = request.registry.kyklos_entities.get(entity)
    if et is None:
        errors["entity"] = _("Unknown entity type.")
    elif field not in et.fields or field == "id":
        errors["field"] = _("Unknown field.")
    if access not in FIELD_ACCESS:
        errors["access"] = _("One of: ${v}", mapping={"v": ", ".join(FIELD_ACCESS)})
    if errors:
        raise ManageError(errors)
    _check_role_editable(request, role)
    db = request.dbsession
    row = db.execute(
        select(FieldPermission).where(
            FieldPermission.role_id == role.id,
            FieldPermission.entity == entity,
            FieldPermission.field == field,
        )
    ).scalar_one_or_none()
    before = row.access if row else "write"
    if access == "write":
        if row is not None:
            db.delete(row)
    elif row is None:
        db.add(FieldPermission(role_id=role.id, entity=entity, field=field, access=access))
    else:
        row.access = access
    db.flush()
    forget_cache(request)
    if before != access:
        log_event(
            request,
            "field_permission.changed",
            role=role.name,
            entity=entity,
            field=field,
            access=access,
            before=before,
        )


def field_permissions_of(db, role: Role, entity: str) -> dict[str, str]:
    rows = db.execute(
        select(FieldPermission.field, FieldPermission.access).where(
            FieldPermission.role_id == role.id, FieldPermission.entity == entity
        )
    ).all()
    return dict(rows)


# --- territories ----------------------------------------------------------------------


def territory_json(t: Territory, db) -> dict:
    members = db.execute(
        select(UserTerritory.user_id).where(UserTerritory.territory_id == t.id)
    ).scalars()
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "values": t.value_list,
        "user_ids": sorted(members),
    }


def save_territory(request, terr: Territory | None, data: dict) -> Territory:
    _unknown(data, {"name", "description", "values", "user_ids"})
    db = request.dbsession
    errors = {}
    creating = terr is None
    name = str(data.get("name", terr.name if terr else "") or "").strip()[:200]
    if not name:
        errors["name"] = _("Required")
    else:
        other = db.execute(select(Territory.id).where(Territory.name == name)).scalar_one_or_none()
        if other is not None and (creating or other != terr.id):
            errors["name"] = _("A territory with this name exists.")
    values = data.get("values")
    if values is not None:
        if isinstance(values, str):
            values = [v for v in re.split(r"[\r\n,]+", values)]
        if not isinstance(values, list | tuple):
            errors["values"] = _("A list of values")
        else:
            values = list(dict.fromkeys(str(v).strip()[:200] for v in values if str(v).strip()))
    user_ids = data.get("user_ids")
    if user_ids is not None:
        try:
            user_ids = {int(u) for u in user_ids}
            found = set(db.execute(select(User.id).where(User.id.in_(user_ids))).scalars())
            if found != user_ids:
                errors["user_ids"] = _("Unknown user.")
        except (TypeError, ValueError):
            errors["user_ids"] = _("A list of user ids")
    if errors:
        raise ManageError(errors)
    if creating:
        terr = Territory(name=name, description="")
        db.add(terr)
    terr.name = name
    if "description" in data:
        terr.description = str(data["description"] or "")[:2000]
    db.flush()
    if values is not None:
        db.execute(delete(TerritoryValue).where(TerritoryValue.territory_id == terr.id))
        for v in values:
            db.add(TerritoryValue(territory_id=terr.id, value=v))
        db.flush()
        db.expire(terr, ["values"])
    if user_ids is not None:
        db.execute(delete(UserTerritory).where(UserTerritory.territory_id == terr.id))
        for uid in sorted(user_ids):
            db.add(UserTerritory(user_id=uid, territory_id=terr.id))
        db.flush()
    forget_cache(request)
    log_event(
        request,
        "territory.changed",
        territory=terr.name,
        values=values,
        user_ids=sorted(user_ids) if user_ids is not None else None,
    )
    return terr
