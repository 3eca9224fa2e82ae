"""Helpers for the security tests: build roles, departments, territories and
delegations directly in the database; bearer clients; table dumps."""

from __future__ import annotations

import datetime as dt
import re

import webtest
from sqlalchemy import select, text

from kyklos.db import utcnow
from kyklos.security.models import (
    Delegation,
    Department,
    RecordRule,
    Role,
    Territory,
    TerritoryValue,
    User,
    UserTerritory,
)
from kyklos.security.tokens import create_token


def add_role(db, name: str, verbs=(), rules: dict | None = None, entity="thing") -> Role:
    """A role with ``samplea.thing.<verb>`` permissions and ``{action: [scopes]}`` rules."""
    role = Role(name=name, title=name, permissions=[f"samplea.{entity}.{v}" for v in verbs])
    db.add(role)
    db.flush()
    for action, scopes in (rules or {}).items():
        for scope in scopes:
            db.add(RecordRule(role_id=role.id, entity=entity, action=action, scope=scope))
    db.flush()
    return role


def add_department(db, name: str, parent: Department | None = None, manager=None) -> Department:
    d = Department(name=name, parent_id=parent.id if parent else None, path="/", manager_id=manager)
    db.add(d)
    db.flush()
    d.path = (parent.path if parent else "/") + f"{d.id}/"
    db.flush()
    return d


def add_territory(db, name: str, values, user_ids=()) -> Territory:
    t = Territory(name=name, description="")
    db.add(t)
    db.flush()
    for v in values:
        db.add(TerritoryValue(territory_id=t.id, value=v))
    for uid in user_ids:
        db.add(UserTerritory(user_id=uid, territory_id=t.id))
    db.flush()
    return t


def add_delegation(db, from_id, to_id, start_days=-1, end_days=1, scope=()) -> Delegation:
    now = utcnow()
    d = Delegation(
        from_user_id=from_id,
        to_user_id=to_id,
        starts_at=now + dt.timedelta(days=start_days),
        ends_at=now + dt.timedelta(days=end_days),
        scope=list(scope),
        reason="",
    )
    db.add(d)
    db.flush()
    return d


def bearer(kyklos_app, dbsession, user_id: int) -> webtest.TestApp:
    with dbsession() as db:
        token, _row = create_token(db, db.get(User, user_id), name="t")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    app.user_id = user_id
    return app


def csrf(app) -> str:
    res = app.get("/account")
    return re.search(r'name="csrf_token" value="([^"]+)"', res.text).group(1)


def table_dump(registry, *tables) -> dict:
    """Every row of ``tables`` as sorted tuples: to prove a refused write changed nothing."""
    engine = registry["dbengine"]
    out = {}
    with engine.connect() as conn:
        for t in tables:
            rows = conn.execute(text(f'SELECT * FROM "{t}"')).all()
            out[t] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


def user_id(dbsession, email: str) -> int:
    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == email)).scalar_one()
