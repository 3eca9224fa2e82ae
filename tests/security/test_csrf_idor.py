"""CSRF, GET without side effects, IDOR and mass assignment (SECURITY.md 5a classes 8,
9, 10, 11): refused requests leave the database byte-identical."""

from __future__ import annotations

import json

import webtest
from secsupport import bearer, csrf, table_dump
from sqlalchemy import func, select

from kyklos.security.models import ApiToken, Delegation, Role, SecurityEvent, User
from kyklos.security.tokens import create_token

SECURITY_TABLES = (
    "kyklos_user",
    "kyklos_user_role",
    "kyklos_role",
    "kyklos_api_token",
    "kyklos_record_rule",
    "kyklos_delegation",
)


def browser(kyklos_app):
    return webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})


def test_state_changes_need_the_sessions_csrf_token(client, registry, dbsession):
    alice = client("thingseditor")
    mallory = client("thingseditor")
    before = table_dump(registry, *SECURITY_TABLES)
    # no token, and a token from another session
    alice.post("/account/profile", {"name": "Pwned"}, status=400)
    alice.post("/account/profile", {"name": "Pwned", "csrf_token": csrf(mallory)}, status=400)
    # a cross-site "simple" request: text/plain JSON with the session cookie
    res = alice.post(
        "/api/v1/things",
        json.dumps({"name": "csrf"}),
        status="*",
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
    )
    assert res.status_int in (400, 403)
    res = alice.post(
        "/api/v1/_security/me/tokens",
        json.dumps({"name": "x"}),
        status="*",
        headers={"Content-Type": "text/plain"},
    )
    assert res.status_int in (400, 403)
    assert table_dump(registry, *SECURITY_TABLES) == before
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        assert db.execute(select(func.count()).select_from(model)).scalar_one() == 0
        assert (
            db.execute(
                select(func.count())
                .select_from(SecurityEvent)
                .where(SecurityEvent.kind == "csrf.failed")
            ).scalar_one()
            >= 3
        )
    # with the token, in a form field or a header, it works
    alice.post("/account/profile", {"name": "Alice", "csrf_token": csrf(alice)}, status=303)
    alice.post_json(
        "/api/v1/things", {"name": "ok"}, status=201, headers={"X-CSRF-Token": csrf(alice)}
    )


def test_bearer_requests_need_no_csrf_token(api):
    a = api("thingseditor")
    a.post_json("/api/v1/things", {"name": "by token"}, status=201)
    a.post_json("/api/v1/_security/me/tokens", {"name": "second", "days": 5}, status=201)


def test_get_never_changes_state(client, dbsession, smtp_server, registry):
    admin = client("admin")
    with dbsession() as db:
        victim = User(email="v@example.com", name="v", roles=[])
        db.add(victim)
        db.flush()
        vid = victim.id
    before = table_dump(registry, *SECURITY_TABLES)
    for path in (
        "/logout",
        f"/admin/users/{vid}/reset",
        f"/admin/users/{vid}/sessions/end",
        "/account/password",
        "/account/totp/start",
        "/account/sessions/end-others",
        "/admin/rules/1/delete",
        "/admin/delegations/1/end",
    ):
        assert admin.get(path, status="*").status_int in (404, 405), path
    admin.get("/account", status=200)  # still logged in after GET /logout
    # a method-override header does not turn a POST into a DELETE
    admin.post(
        f"/api/v1/_security/users/{vid}",
        status="*",
        headers={"X-HTTP-Method-Override": "DELETE", "X-CSRF-Token": csrf(admin)},
    )
    assert table_dump(registry, *SECURITY_TABLES) == before
    assert smtp_server.messages == []


def test_idor_on_tokens_and_delegations(kyklos_app, make_user, dbsession, client, registry):
    alice = client("thingseditor")
    bob_id = make_user(email="bob@example.com", roles=("thingseditor",))
    carol_id = make_user(email="carol@example.com", roles=("thingseditor",))
    with dbsession() as db:
        _t, bob_token = create_token(db, db.get(User, bob_id), name="bob's")
        tid = bob_token.id
        d = Delegation(
            from_user_id=bob_id,
            to_user_id=carol_id,
            starts_at=bob_token.created_at,
            ends_at=bob_token.expires_at,
            scope=[],
            reason="",
        )
        db.add(d)
        db.flush()
        did = d.id
    before = table_dump(registry, *SECURITY_TABLES)
    token = csrf(alice)
    alice.post(f"/account/tokens/{tid}/revoke", {"csrf_token": token}, status=404)
    alice.delete(f"/api/v1/_security/me/tokens/{tid}", headers={"X-CSRF-Token": token}, status=404)
    alice.post(f"/account/delegations/{did}/end", {"csrf_token": token}, status=404)
    alice.delete(
        f"/api/v1/_security/delegations/{did}", headers={"X-CSRF-Token": token}, status=404
    )
    # a foreign user id in the JSON body: delegating someone else's rights
    res = alice.post_json(
        "/api/v1/_security/delegations",
        {
            "from_user_id": bob_id,
            "to_user_id": alice_id(dbsession, alice),
            "ends_at": "2099-01-01T00:00:00+00:00",
        },
        headers={"X-CSRF-Token": token},
        status=403,
    )
    assert res.content_type == "application/problem+json"
    # admin endpoints by id
    alice.get(f"/api/v1/_security/users/{bob_id}", status=403)
    alice.get(f"/admin/users/{bob_id}", status=403)
    assert table_dump(registry, *SECURITY_TABLES) == before
    with dbsession() as db:
        assert db.get(ApiToken, tid).revoked_at is None


def alice_id(dbsession, app) -> int:
    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == app.email)).scalar_one()


def test_idor_on_records_through_the_ui_and_api(kyklos_app, make_user, dbsession, registry):
    from secsupport import add_role

    with dbsession() as db:
        add_role(
            db, "owner_only", ("read", "update", "delete"), {"read": ["own"], "write": ["own"]}
        )
    me = make_user(email="me@example.com", roles=("owner_only",))
    other = make_user(email="other@example.com", roles=("owner_only",))
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        mine, theirs = model(name="mine", owner_id=me), model(name="theirs", owner_id=other)
        db.add_all([mine, theirs])
        db.flush()
        mine_id, theirs_id = mine.id, theirs.id
    app = bearer(kyklos_app, dbsession, me)
    before = table_dump(registry, "samplea_thing")
    app.get(f"/api/v1/things/{theirs_id}", status=404)
    app.patch_json(f"/api/v1/things/{theirs_id}", {"name": "x"}, status=404)
    app.delete(f"/api/v1/things/{theirs_id}", status=404)
    assert [i["id"] for i in app.get("/api/v1/things").json["items"]] == [mine_id]
    # giving one's own record away is refused too (owner is not client-writable)
    res = app.patch_json(f"/api/v1/things/{mine_id}", {"owner_id": other}, status="*")
    assert res.status_int in (400, 403)
    assert table_dump(registry, "samplea_thing") == before
    # the same through the pages
    ui = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    from kyklos_sdk.testing import PASSWORD

    page = ui.get("/login")
    form = next(f for f in page.forms.values() if f.action.endswith("/login"))
    form["email"], form["password"] = "me@example.com", PASSWORD
    form.submit(status=303)
    ui.get(f"/things/{mine_id}", status=200)
    ui.get(f"/things/{theirs_id}", status=404)
    ui.get(f"/things/{theirs_id}/edit", status=404)


def test_mass_assignment_through_profile_form_and_api(client, dbsession, registry):
    alice = client("thingseditor")
    uid = alice_id(dbsession, alice)
    alice.post(
        "/account/profile",
        {
            "csrf_token": csrf(alice),
            "name": "Alice",
            "roles": "admin",
            "is_active": "off",
            "email": "root@example.com",
            "id": "1",
            "password_hash": "x",
            "department_id": "1",
            "totp_secret": "AAAA",
        },
        status=303,
    )
    with dbsession() as db:
        u = db.get(User, uid)
        assert u.name == "Alice" and u.email == alice.email and u.is_active
        assert [r.name for r in u.roles] == ["thingseditor"] and u.totp_secret is None
    # the user API refuses fields it does not allow instead of ignoring them
    admin = client("admin")
    before = table_dump(registry, *SECURITY_TABLES)
    token = csrf(admin)
    for body in (
        {"password_hash": "x"},
        {"id": 99},
        {"is_admin": True},
        {"roles": ["admin"], "created_at": "2020-01-01"},
        {"totp_secret": "A"},
    ):
        res = admin.patch_json(
            f"/api/v1/_security/users/{uid}", body, headers={"X-CSRF-Token": token}, status=400
        )
        assert res.json["errors"], body
    assert table_dump(registry, *SECURITY_TABLES) == before


def test_no_privilege_escalation_by_user_managers(client, dbsession, registry, make_user):
    with dbsession() as db:
        db.add(
            Role(
                name="usermgr",
                title="User manager",
                permissions=["kyklos.users.manage", "samplea.thing.read"],
            )
        )
    mgr = client("usermgr")
    admin_id = make_user(email="theadmin@example.com", roles=("admin",))
    plain_id = make_user(email="plain@example.com", roles=("user",))
    token = csrf(mgr)
    before = table_dump(registry, *SECURITY_TABLES)
    h = {"X-CSRF-Token": token}
    # cannot grant a role holding rights the manager lacks
    res = mgr.patch_json(
        f"/api/v1/_security/users/{plain_id}", {"roles": ["admin"]}, headers=h, status=400
    )
    assert "cannot grant" in json.dumps(res.json)
    mgr.patch_json(
        f"/api/v1/_security/users/{plain_id}", {"roles": ["thingseditor"]}, headers=h, status=400
    )
    # cannot touch an administrator (e-mail or password takeover)
    mgr.patch_json(
        f"/api/v1/_security/users/{admin_id}", {"email": "me@evil.example"}, headers=h, status=403
    )
    mgr.post(f"/api/v1/_security/users/{admin_id}/password-reset", headers=h, status=403)
    mgr.post_json(
        f"/api/v1/_security/users/{admin_id}/tokens", {"name": "x"}, headers=h, status=403
    )
    # cannot widen their own role
    with dbsession() as db:
        rid = db.execute(select(Role.id).where(Role.name == "usermgr")).scalar_one()
    mgr.patch_json(f"/api/v1/_security/roles/{rid}", {"permissions": ["*"]}, headers=h, status=400)
    mgr.post_json(
        "/api/v1/_security/roles",
        {"name": "evil", "permissions": ["kyklos.admin"]},
        headers=h,
        status=400,
    )
    # cannot create an admin-like token
    mgr.post_json(
        "/api/v1/_security/me/tokens",
        {"name": "t", "scopes": ["kyklos.admin"]},
        headers=h,
        status=400,
    )
    assert table_dump(registry, *SECURITY_TABLES) == before
    # what they hold they may give
    res = mgr.patch_json(
        f"/api/v1/_security/users/{plain_id}", {"roles": ["thingsreader"]}, headers=h, status=200
    )
    assert res.json["roles"] == ["thingsreader"]
    denied = [e for e in _events(dbsession) if e.kind == "access.denied"]
    assert len(denied) >= 3


def _events(dbsession):
    with dbsession() as db:
        return db.execute(select(SecurityEvent)).scalars().all()
