"""Shared set-up for the entity registry's tests (the sample plugin's "thing" type)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kyklos.security.models import RecordRule, Role

#: record rules the tests start with: thingsreader reads all, thingseditor writes all
#: (the sample plugin itself lets editors write only their own things)
DEFAULT_RULES = {
    "thingsreader": {"read": "all"},
    "thingseditor": {"read": "all", "write": "all", "delete": "all"},
}


def grant(dbsession, rules: dict, entity: str = "thing") -> None:
    """Give roles record rules: ``{role: {action: scope}}``."""
    with dbsession() as db:
        roles = {r.name: r for r in db.execute(select(Role)).scalars()}
        have = {
            (r.role_id, r.entity, r.action, r.scope)
            for r in db.execute(select(RecordRule)).scalars()
        }  # declared by samplea
        for role, actions in rules.items():
            for action, scope in actions.items():
                if (roles[role].id, entity, action, scope) in have:
                    continue
                db.add(
                    RecordRule(role_id=roles[role].id, entity=entity, action=action, scope=scope)
                )


@pytest.fixture
def roles_synced(registry, dbsession):
    """The enabled plugins' roles exist. (The test kit re-creates roles after a test with
    that test's app; the next module may enable other plugins with other roles.)"""
    from kyklos.security import sync_roles

    with dbsession() as db:
        sync_roles(db, registry)


@pytest.fixture
def thing_rules(roles_synced, dbsession):
    grant(dbsession, DEFAULT_RULES)


def thing_model(registry):
    return registry.kyklos_entities["thing"].model


def insert_things(registry, dbsession, rows, owner_id=None) -> list[int]:
    """Insert things directly (no API, no history): fast set-up for list tests."""
    model = thing_model(registry)
    with dbsession() as db:
        objs = [model(owner_id=owner_id, **row) for row in rows]
        db.add_all(objs)
        db.flush()
        return [o.id for o in objs]


def thing_rows(registry, dbsession) -> dict[int, dict]:
    """Every thing row as ``{id: {column: value}}`` (to prove nothing changed)."""
    model = thing_model(registry)
    with dbsession() as db:
        out = {}
        for t in db.execute(select(model)).scalars():
            out[t.id] = {c.key: getattr(t, c.key) for c in model.__table__.columns}
        return out


def audit_count(dbsession) -> int:
    from kyklos.entities.history import AuditEntry

    with dbsession() as db:
        return db.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
