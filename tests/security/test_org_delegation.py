"""The org chart (ACT-03) and delegation (SEC-03, D4) through the API and the pages."""

from __future__ import annotations

import datetime as dt

from secsupport import add_role, bearer, csrf
from sqlalchemy import select, update

from kyklos.db import utcnow
from kyklos.security.models import Delegation, Department, SecurityEvent, User


def h(app):
    return {"X-CSRF-Token": csrf(app)}


def test_department_tree_moves_and_managers(client, dbsession, make_user, api):
    admin = client("admin")
    hh = h(admin)
    boss = make_user(email="boss@example.com")

    def mk(name, parent=None, manager=None):
        return admin.post_json(
            "/api/v1/_org/departments",
            {"name": name, "parent_id": parent, "manager_id": manager},
            headers=hh,
            status=201,
        ).json

    hq = mk("HQ", manager=boss)
    sales = mk("Sales", hq["id"])
    north = mk("North", sales["id"])
    support = mk("Support", hq["id"])
    assert north["path"] == f"/{hq['id']}/{sales['id']}/{north['id']}/"
    # moving Sales under Support re-roots its whole subtree
    admin.patch_json(
        f"/api/v1/_org/departments/{sales['id']}",
        {"parent_id": support["id"]},
        headers=hh,
        status=200,
    )
    paths = {d["name"]: d["path"] for d in admin.get("/api/v1/_org/departments").json["items"]}
    assert paths["North"] == f"/{hq['id']}/{support['id']}/{sales['id']}/{north['id']}/"
    # no cycles, no orphans, no unknown references, no extra fields
    admin.patch_json(
        f"/api/v1/_org/departments/{hq['id']}", {"parent_id": north["id"]}, headers=hh, status=400
    )
    admin.delete(f"/api/v1/_org/departments/{sales['id']}", headers=hh, status=409)
    admin.post_json(
        "/api/v1/_org/departments", {"name": "X", "parent_id": 999999}, headers=hh, status=400
    )
    admin.post_json(
        "/api/v1/_org/departments", {"name": "X", "path": "/1/"}, headers=hh, status=400
    )
    # positions and placing people
    pos = admin.post_json(
        "/api/v1/_org/positions",
        {"title": "Rep", "department_id": north["id"]},
        headers=hh,
        status=201,
    ).json
    rep = make_user(email="rep@example.com")
    res = admin.patch_json(
        f"/api/v1/_org/users/{rep}",
        {"department_id": north["id"], "position_id": pos["id"]},
        headers=hh,
        status=200,
    ).json
    assert (res["department_id"], res["position_id"]) == (north["id"], pos["id"])
    admin.patch_json(f"/api/v1/_org/users/{rep}", {"roles": ["admin"]}, headers=hh, status=400)
    detail = admin.get(f"/api/v1/_org/departments/{north['id']}").json
    assert detail["members"] == [rep]
    admin.delete(f"/api/v1/_org/departments/{north['id']}", headers=hh, status=204)
    with dbsession() as db:
        assert db.get(User, rep).department_id is None
    # reading the chart is open to every user; changing it is not
    reader = api("thingsreader")
    assert len(reader.get("/api/v1/_org/departments").json["items"]) == 3
    reader.post_json("/api/v1/_org/departments", {"name": "Mine"}, status=403)


def test_managers_see_their_subordinates_after_a_move(client, api, dbsession, registry, make_user):
    """The subtree rule follows the org chart as it changes (SEC-02)."""
    admin = client("admin")
    hh = h(admin)
    with dbsession() as db:
        add_role(db, "boss", ("read",), {"read": ["subtree"]})
    boss = api("boss")
    hq = admin.post_json(
        "/api/v1/_org/departments", {"name": "HQ", "manager_id": boss.user_id}, headers=hh
    ).json
    other = admin.post_json("/api/v1/_org/departments", {"name": "Other"}, headers=hh).json
    team = admin.post_json(
        "/api/v1/_org/departments", {"name": "Team", "parent_id": other["id"]}, headers=hh
    ).json
    worker = make_user(email="w@example.com")
    admin.patch_json(f"/api/v1/_org/users/{worker}", {"department_id": team["id"]}, headers=hh)
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add(model(name="work", owner_id=worker))
    assert boss.get("/api/v1/things").json["items"] == []
    admin.patch_json(f"/api/v1/_org/departments/{other['id']}", {"parent_id": hq["id"]}, headers=hh)
    assert [t["name"] for t in boss.get("/api/v1/things").json["items"]] == ["work"]


def test_org_pages(client, make_user, dbsession):
    admin = client("admin")
    page = admin.get("/admin/org")
    form = next(f for f in page.forms.values() if f.action.endswith("/admin/org/departments"))
    form["name"] = "Athens <office>"
    form.submit(status=303)
    page = admin.get("/admin/org")
    assert "Athens &lt;office&gt;" in page.text
    with dbsession() as db:
        did = db.execute(select(Department.id)).scalar_one()
    edit = admin.get(f"/admin/org/departments/{did}")
    form = next(f for f in edit.forms.values() if f.action.endswith(f"/departments/{did}"))
    form["name"] = "Athens"
    form.submit(status=303)
    page = admin.get("/admin/org")
    pform = next(f for f in page.forms.values() if f.action.endswith("/admin/org/positions"))
    pform["title"] = "Clerk"
    pform["department_id"] = str(did)
    pform.submit(status=303)
    assert "Clerk" in admin.get("/admin/org").text


def test_delegation_window_scope_and_on_behalf_audit(
    kyklos_app, client, dbsession, registry, make_user
):
    """B handles A's things while A is away; it is recorded as on A's behalf; the
    delegation ends by itself."""
    with dbsession() as db:
        add_role(db, "owner_only", ("read", "update"), {"read": ["own"], "write": ["own"]})
    alice = client("owner_only")
    bob = client("owner_only")
    a_id = _uid(dbsession, alice.email)
    b_id = _uid(dbsession, bob.email)
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        t = model(name="alice's", owner_id=a_id)
        db.add(t)
        db.flush()
        tid = t.id
    bob.get(f"/api/v1/things/{tid}", status=404)
    # Alice delegates to Bob from her account page
    page = alice.get("/account")
    form = next(f for f in page.forms.values() if f.action.endswith("/account/delegations"))
    today = utcnow().date()
    # the deputy is chosen with the user picker (a select filled by searching)
    form["to_user_id"].force_value(str(b_id))
    form["starts"] = today.isoformat()
    form["ends"] = (today + dt.timedelta(days=3)).isoformat()
    form["reason"] = "holiday"
    form.submit(status=303)
    bob.get(f"/api/v1/things/{tid}", status=200)
    me = bob.get("/api/v1/_security/me").json
    assert me["delegations"][0]["from_user_id"] == a_id
    bob.patch_json(
        f"/api/v1/things/{tid}",
        {"name": "handled by bob"},
        headers={"X-CSRF-Token": csrf(bob)},
        status=200,
    )
    from kyklos.entities.history import AuditEntry

    with dbsession() as db:
        entry = (
            db.execute(
                select(AuditEntry).where(AuditEntry.record_id == tid).order_by(AuditEntry.id.desc())
            )
            .scalars()
            .first()
        )
        assert (entry.user_id, entry.on_behalf_of_id) == (b_id, a_id)
        kinds = [e.kind for e in db.execute(select(SecurityEvent)).scalars()]
    assert "delegation.created" in kinds
    # the window closes: nothing to run, the next request already knows
    with dbsession() as db:
        db.execute(update(Delegation).values(ends_at=utcnow() - dt.timedelta(seconds=1)))
    bob.get(f"/api/v1/things/{tid}", status=404)
    assert bob.get("/api/v1/_security/me").json["delegations"] == []


def test_delegation_rules_and_early_end(client, api, dbsession, registry, make_user):
    with dbsession() as db:
        add_role(db, "owner_only", ("read", "update"), {"read": ["own"], "write": ["own"]})
    a = api("owner_only")
    b = api("owner_only")
    admin = client("admin")
    now = utcnow()
    iso = (now + dt.timedelta(days=2)).isoformat()
    # validation: self, unknown user, past end, unknown scope, naive dates
    a.post_json(
        "/api/v1/_security/delegations", {"to_user_id": a.user_id, "ends_at": iso}, status=400
    )
    a.post_json("/api/v1/_security/delegations", {"to_user_id": 999999, "ends_at": iso}, status=400)
    a.post_json(
        "/api/v1/_security/delegations",
        {"to_user_id": b.user_id, "ends_at": (now - dt.timedelta(days=1)).isoformat()},
        status=400,
    )
    a.post_json(
        "/api/v1/_security/delegations",
        {"to_user_id": b.user_id, "ends_at": iso, "scope": ["no.such.thing"]},
        status=400,
    )
    a.post_json(
        "/api/v1/_security/delegations",
        {"to_user_id": b.user_id, "ends_at": "2099-01-01T10:00"},
        status=400,
    )
    # scope limited to reading: the deputy reads but cannot write
    d = a.post_json(
        "/api/v1/_security/delegations",
        {
            "to_user_id": b.user_id,
            "ends_at": iso,
            "scope": ["samplea.thing.read"],
            "reason": "sick",
        },
        status=201,
    ).json
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        t = model(name="a's", owner_id=a.user_id)
        db.add(t)
        db.flush()
        tid = t.id
    b.get(f"/api/v1/things/{tid}", status=200)
    b.patch_json(f"/api/v1/things/{tid}", {"name": "x"}, status=403)
    # delegated rights never include administration
    with dbsession() as db:
        admin_id = db.execute(select(User.id).where(User.email == admin.email)).scalar_one()
    admin.post_json(
        "/api/v1/_security/delegations",
        {"to_user_id": b.user_id, "ends_at": iso},
        headers=h(admin),
        status=201,
    )
    b.get("/api/v1/_security/users", status=403)
    assert "kyklos.admin" not in b.get("/api/v1/_security/me").json["permissions"]
    # the deputy may end it early too; then it is gone at once
    b.delete(f"/api/v1/_security/delegations/{d['id']}", status=204)
    listed = a.get("/api/v1/_security/delegations").json["items"]
    assert listed[0]["ended_at"] and not listed[0]["active"]
    assert admin_id and len(admin.get("/api/v1/_security/delegations").json["items"]) == 2


def _uid(dbsession, email):
    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == email)).scalar_one()


def test_bearer_helper_builds_a_token(kyklos_app, dbsession, make_user):
    uid = make_user(email="tok@example.com", roles=("thingsreader",))
    app = bearer(kyklos_app, dbsession, uid)
    assert app.get("/api/v1/_security/me").json["id"] == uid
