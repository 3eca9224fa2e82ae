"""Declared defaults for roles: record rules and field permissions (directives), and
``sync_roles``, which writes declared roles, rules and field permissions into the
database on ``kyklos init`` / ``kyklos migrate``.

    config.add_record_rule("thing", "thingseditor", "write", "own")
    config.add_field_permission("person", "sales", "birthday", "read")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from kyklos.errors import ConfigError
from kyklos.security.models import FieldPermission, RecordRule, Role, User, UserRole
from kyklos.security.rules import FIELD_ACCESS, RULE_ACTIONS, SCOPES

log = logging.getLogger("kyklos.security")


@dataclass(frozen=True)
class RuleDecl:
    entity: str
    role: str
    action: str
    scope: str


@dataclass(frozen=True)
class FieldDecl:
    entity: str
    role: str
    field: str
    access: str


def check_rule(action: str, scope: str) -> None:
    if action not in RULE_ACTIONS:
        raise ConfigError(f"record rule action {action!r} is not one of {', '.join(RULE_ACTIONS)}")
    if scope not in SCOPES:
        raise ConfigError(f"record rule scope {scope!r} is not one of {', '.join(SCOPES)}")


def add_record_rule(config, entity: str, role: str, action: str, scope: str):
    """Declare a default record rule: role ``role`` may ``action`` (``read``, ``write``
    or ``delete``; delete falls back to write rules) the records of entity type
    ``entity`` (``*``: every type) within ``scope`` (own, team, department, subtree,
    territory, all). Rules add up; a type without any rule is denied."""
    check_rule(action, scope)
    decl = RuleDecl(entity, role, action, scope)
    intr = config.introspectable(
        "kyklos record rules",
        (entity, role, action, scope),
        f"{role}: {action} {entity} {scope}",
        "kyklos record rule",
    )
    intr["rule"] = decl

    def register():
        config.registry.kyklos_record_rules[(entity, role, action, scope)] = decl

    config.action(
        ("kyklos.record_rule", entity, role, action, scope), register, introspectables=(intr,)
    )


def add_field_permission(config, entity: str, role: str, field: str, access: str):
    """Declare a default field restriction: for role ``role``, field ``field`` of entity
    type ``entity`` is ``read`` (read-only) or ``none`` (hidden). Fields are writable
    unless restricted."""
    if access not in FIELD_ACCESS:
        raise ConfigError(f"field access {access!r} is not one of {', '.join(FIELD_ACCESS)}")
    decl = FieldDecl(entity, role, field, access)

    def register():
        config.registry.kyklos_field_permissions[(entity, role, field)] = decl

    config.action(("kyklos.field_permission", entity, role, field), register)


def sync_roles(dbsession, registry) -> None:
    """Create the roles plugins declare; add newly declared permissions to them; create
    declared record rules and field permissions that are missing.

    Permissions an administrator granted stay; declared ones are never removed here. A
    declared rule an administrator disabled stays disabled (it is not re-enabled).
    """
    existing = {r.name: r for r in dbsession.execute(select(Role)).scalars()}
    for decl in registry.kyklos_roles.values():
        role = existing.get(decl.name)
        if role is None:
            role = Role(
                name=decl.name,
                title=str(decl.title),
                permissions=list(decl.permissions),
                is_system=True,
            )
            dbsession.add(role)
            existing[decl.name] = role
        else:
            merged = list(dict.fromkeys(list(role.permissions or []) + list(decl.permissions)))
            if merged != role.permissions:
                role.permissions = merged
    dbsession.flush()

    have = {
        (r.role_id, r.entity, r.action, r.scope)
        for r in dbsession.execute(select(RecordRule)).scalars()
    }
    for d in getattr(registry, "kyklos_record_rules", {}).values():
        role = existing.get(d.role)
        if role is None:
            log.warning("record rule for undeclared role %r ignored (%s)", d.role, d.entity)
            continue
        if (role.id, d.entity, d.action, d.scope) not in have:
            dbsession.add(
                RecordRule(
                    role_id=role.id,
                    entity=d.entity,
                    action=d.action,
                    scope=d.scope,
                    enabled=True,
                    is_system=True,
                )
            )
    fhave = {
        (f.role_id, f.entity, f.field) for f in dbsession.execute(select(FieldPermission)).scalars()
    }
    for d in getattr(registry, "kyklos_field_permissions", {}).values():
        role = existing.get(d.role)
        if role is not None and (role.id, d.entity, d.field) not in fhave:
            dbsession.add(
                FieldPermission(role_id=role.id, entity=d.entity, field=d.field, access=d.access)
            )
    dbsession.flush()


def user_ids_with_roles(dbsession, *names: str) -> list[int]:
    """The active staff users holding any of the roles ``names`` (e.g. the administrators
    a plugin tells when something shared stops working), in id order."""
    return list(
        dbsession.execute(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .join(Role, Role.id == UserRole.role_id)
            .where(Role.name.in_(names), User.is_active.is_(True), User.is_portal.is_(False))
            .distinct()
            .order_by(User.id)
        ).scalars()
    )


def includeme(config):
    config.registry.kyklos_record_rules = {}
    config.registry.kyklos_field_permissions = {}
    config.add_directive("add_record_rule", add_record_rule, action_wrap=False)
    config.add_directive("add_field_permission", add_field_permission, action_wrap=False)
