"""Department scopes are resolved to owner lists once per request (issue 11): a literal
``IN`` list, ``NOT IN`` the few users outside, or ``owner_id IS NOT NULL`` for the
whole org; the visible records stay exactly those of the sub-select they replace."""

from __future__ import annotations

import re

from secsupport import add_department, add_role
from sqlalchemy import select

from kyklos.security import rules
from kyklos.security.models import User


def _ids(res):
    return sorted(t["id"] for t in res.json["items"])


def test_team_and_subtree_scopes_use_owner_lists(api, dbsession, registry, make_user,
                                                 query_counter, monkeypatch):
    with dbsession() as db:
        add_role(db, "lead", ("read",), {"read": ["team"]})
        add_role(db, "boss", ("read",), {"read": ["subtree"]})
    lead, boss = api("lead"), api("boss")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        root = add_department(db, "Root", manager=boss.user_id)
        team = add_department(db, "Team", parent=root)
        other = add_department(db, "Elsewhere")
        root_id, team_id, other_id = root.id, team.id, other.id
    rep = make_user(email="rep@example.com")
    out = make_user(email="out@example.com")
    with dbsession() as db:
        db.get(User, rep).department_id = team_id
        db.get(User, lead.user_id).department_id = team_id
        db.get(User, out).department_id = other_id
        db.get(User, boss.user_id).department_id = root_id
        for owner in (rep, lead.user_id, out, boss.user_id, None):
            db.add(model(name=f"of {owner}", owner_id=owner))
    with dbsession() as db:
        owners = dict(db.execute(select(model.id, model.owner_id)).all())
    team_ids = sorted(i for i, o in owners.items() if o in (rep, lead.user_id))
    boss_ids = sorted(i for i, o in owners.items() if o in (rep, lead.user_id, boss.user_id))
    with query_counter() as qc:
        assert _ids(lead.get("/api/v1/things", {"count": "exact"})) == team_ids
    page = [s for s in qc.statements if "FROM samplea_thing" in s or "samplea_thing." in s]
    assert page and not [s for s in page if "department_id" in s]  # no sub-select per row
    with query_counter() as qc:
        assert _ids(boss.get("/api/v1/things")) == boss_ids
    # the users inside and outside the subtree are read in one statement per request
    owner_reads = [s for s in qc.statements
                   if re.search(r"kyklos_user\.department_id (NOT )?IN", s)]
    assert len(owner_reads) == 1, owner_reads
    # a hidden record stays a 404 for one read
    hidden = next(i for i, o in owners.items() if o == out)
    boss.get(f"/api/v1/things/{hidden}", status=404)
    # nearly everyone inside (all other users join the team, owning nothing): NOT IN
    # the one user outside; NULL owners stay out, as with IN
    with dbsession() as db:
        for u in db.execute(select(User)).scalars():
            if u.id not in (out, boss.user_id):
                u.department_id = team_id
    monkeypatch.setattr(rules, "MAX_OWNER_LIST", 1)
    with query_counter() as qc:
        assert _ids(boss.get("/api/v1/things")) == boss_ids
    assert [s for s in qc.statements if "NOT IN" in s.upper()]
    # too many either way: the sub-select, same answer
    monkeypatch.setattr(rules, "MAX_OWNER_LIST", 0)
    with query_counter() as qc:
        assert _ids(boss.get("/api/v1/things")) == boss_ids
    assert [s for s in qc.statements if "department_id IN" in s]
    # the whole org: only "has an owner"
    monkeypatch.setattr(rules, "MAX_OWNER_LIST", 1000)
    with dbsession() as db:
        db.get(User, out).department_id = team_id
    with query_counter() as qc:
        assert _ids(boss.get("/api/v1/things")) == sorted(
            i for i, o in owners.items() if o is not None)
    assert [s for s in qc.statements if "owner_id IS NOT NULL" in s]
