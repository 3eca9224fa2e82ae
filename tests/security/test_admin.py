"""Administration of users, roles, record rules, field permissions, territories and the
security log, through the JSON API and the pages; field-level permissions hold in the
API's reads and writes."""

from __future__ import annotations

import re

import pytest
from secsupport import add_role, csrf
from sqlalchemy import select

from kyklos.security.models import RecordRule, Role, SecurityEvent, User
from kyklos.security.passwords import verify_password


def h(app):
    return {"X-CSRF-Token": csrf(app)}


def test_users_api_create_change_deactivate(client, dbsession, smtp_server):
    admin = client("admin")
    hh = h(admin)
    res = admin.post_json(
        "/api/v1/_security/users",
        {
            "email": "New@Example.com",
            "name": "New",
            "roles": ["thingsreader"],
            "password": "a long enough passphrase",
        },
        headers=hh,
        status=201,
    )
    user = res.json
    assert user["email"] == "new@example.com" and user["roles"] == ["thingsreader"]
    assert "password_hash" not in user and "totp_secret" not in user
    admin.post_json("/api/v1/_security/users", {"email": "new@example.com"}, headers=hh, status=400)
    res = admin.post_json(
        "/api/v1/_security/users",
        {"email": "x@example.com", "password": "password"},
        headers=hh,
        status=400,
    )
    assert res.json["errors"][0]["field"] == "password"
    listed = admin.get("/api/v1/_security/users?q=new").json["items"]
    assert [u["email"] for u in listed] == ["new@example.com"]
    admin.patch_json(
        f"/api/v1/_security/users/{user['id']}",
        {"name": "Renamed", "roles": ["thingseditor", "thingsreader"]},
        headers=hh,
        status=200,
    )
    admin.post(f"/api/v1/_security/users/{user['id']}/password-reset", headers=hh, status=204)
    assert smtp_server.wait(1)[0]["To"] == "new@example.com"
    admin.delete(f"/api/v1/_security/users/{user['id']}", headers=hh, status=204)
    with dbsession() as db:
        u = db.get(User, user["id"])
        assert not u.is_active and u.name == "Renamed"
        assert sorted(r.name for r in u.roles) == ["thingseditor", "thingsreader"]
        assert verify_password(u.password_hash, "a long enough passphrase")
        kinds = [e.kind for e in db.execute(select(SecurityEvent)).scalars()]
    assert {"user.created", "user.changed", "password.reset_requested"} <= set(kinds)
    # the API refuses administrators deactivating themselves
    me = admin.get("/api/v1/_security/me").json
    admin.delete(f"/api/v1/_security/users/{me['id']}", headers=hh, status=400)


def test_security_api_needs_the_permission(api):
    reader = api("thingsreader")
    for path in (
        "/api/v1/_security/users",
        "/api/v1/_security/roles",
        "/api/v1/_security/rules",
        "/api/v1/_security/events",
    ):
        reader.get(path, status=403)
    assert reader.get("/api/v1/_security/me").json["permissions"] == ["samplea.thing.read"]
    reader.get("/api/v1/_org/departments", status=200)  # the org chart is for everyone


def test_rules_api_changes_visibility_at_once(client, api, dbsession, registry):
    admin = client("admin")
    hh = h(admin)
    with dbsession() as db:
        add_role(db, "looker", ("read",))
    looker = api("looker")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add_all([model(name="a", owner_id=looker.user_id), model(name="b")])
    looker.get("/api/v1/things", status=200)
    assert looker.get("/api/v1/things").json["items"] == []  # no rule: nothing
    rule = admin.post_json(
        "/api/v1/_security/rules",
        {"role": "looker", "entity": "thing", "action": "read", "scope": "own"},
        headers=hh,
        status=201,
    ).json
    assert [t["name"] for t in looker.get("/api/v1/things").json["items"]] == ["a"]
    admin.post_json(
        "/api/v1/_security/rules",
        {"role": "looker", "entity": "*", "action": "read", "scope": "all"},
        headers=hh,
        status=201,
    )
    assert len(looker.get("/api/v1/things").json["items"]) == 2
    bad = admin.post_json(
        "/api/v1/_security/rules",
        {"role": "looker", "entity": "nope", "action": "peek", "scope": "galaxy"},
        headers=hh,
        status=400,
    ).json
    assert {e["field"] for e in bad["errors"]} == {"entity", "action", "scope"}
    admin.patch_json(f"/api/v1/_security/rules/{rule['id']}", {"enabled": False}, headers=hh)
    admin.delete(f"/api/v1/_security/rules/{rule['id']}", headers=hh, status=204)
    # a declared rule is disabled, not deleted (sync would bring it back)
    with dbsession() as db:
        declared = (
            db.execute(select(RecordRule).join(Role).where(Role.name == "thingsreader"))
            .scalars()
            .one()
        )
        did = declared.id
    admin.delete(f"/api/v1/_security/rules/{did}", headers=hh, status=204)
    with dbsession() as db:
        assert db.get(RecordRule, did).enabled is False
    kinds = [
        e["kind"] for e in admin.get("/api/v1/_security/events?kind=rule.changed").json["items"]
    ]
    assert len(kinds) == 5  # two adds, a disable, a delete, a declared rule disabled


def test_field_permissions_hold_in_api_reads_and_writes(client, api, dbsession, registry):
    admin = client("admin")
    hh = h(admin)
    with dbsession() as db:
        add_role(db, "limited", ("read", "update", "create"), {"read": ["all"], "write": ["all"]})
    user = api("limited")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        t = model(name="secret size", size=42, colour="red")
        db.add(t)
        db.flush()
        tid = t.id
    admin.put_json(
        "/api/v1/_security/field-permissions",
        {"role": "limited", "entity": "thing", "field": "size", "access": "none"},
        headers=hh,
    )
    admin.put_json(
        "/api/v1/_security/field-permissions",
        {"role": "limited", "entity": "thing", "field": "colour", "access": "read"},
        headers=hh,
    )
    rec = user.get(f"/api/v1/things/{tid}").json
    assert "size" not in rec and rec["colour"] == "red"
    listed = user.get("/api/v1/things").json["items"][0]
    assert "size" not in listed
    # filtering or sorting on a hidden field must not leak it either
    res = user.get("/api/v1/things?size=42", status="*")
    assert res.status_int == 400 or res.json["items"] == []
    res = user.patch_json(f"/api/v1/things/{tid}", {"colour": "blue"}, status="*")
    assert res.status_int in (400, 403)
    user.patch_json(f"/api/v1/things/{tid}", {"name": "renamed"}, status=200)
    with dbsession() as db:
        t = db.get(model, tid)
        assert (t.colour, t.size, t.name) == ("red", 42, "renamed")
    # a second role without the restriction gives the field back (most generous wins)
    with dbsession() as db:
        u = db.get(User, user.user_id)
        u.roles = [
            *u.roles,
            db.execute(select(Role).where(Role.name == "thingsreader")).scalar_one(),
        ]
    assert user.get(f"/api/v1/things/{tid}").json["size"] == 42
    listing = admin.get("/api/v1/_security/field-permissions?role=limited").json["items"]
    assert {(f["field"], f["access"]) for f in listing} == {("size", "none"), ("colour", "read")}
    admin.put_json(
        "/api/v1/_security/field-permissions",
        {"role": "limited", "entity": "thing", "field": "nope", "access": "none"},
        headers=hh,
        status=400,
    )


def test_roles_api(client):
    admin = client("admin")
    hh = h(admin)
    perms = admin.get("/api/v1/_security/permissions").json["items"]
    assert {"samplea.thing.read", "kyklos.users.manage"} <= {p["name"] for p in perms}
    role = admin.post_json(
        "/api/v1/_security/roles",
        {"name": "auditor", "title": "Auditor", "permissions": ["samplea.thing.read"]},
        headers=hh,
        status=201,
    ).json
    admin.post_json("/api/v1/_security/roles", {"name": "Bad Name!"}, headers=hh, status=400)
    admin.post_json(
        "/api/v1/_security/roles", {"name": "x", "permissions": ["no.such"]}, headers=hh, status=400
    )
    admin.patch_json(
        f"/api/v1/_security/roles/{role['id']}", {"name": "renamed"}, headers=hh, status=400
    )
    got = admin.get(f"/api/v1/_security/roles/{role['id']}").json
    assert got["permissions"] == ["samplea.thing.read"] and got["rules"] == []
    system = [r for r in admin.get("/api/v1/_security/roles").json["items"] if r["is_system"]]
    admin.delete(f"/api/v1/_security/roles/{system[0]['id']}", headers=hh, status=409)
    admin.delete(f"/api/v1/_security/roles/{role['id']}", headers=hh, status=204)


def test_territories_api_and_territory_rule(client, api, dbsession, registry):
    admin = client("admin")
    hh = h(admin)
    with dbsession() as db:
        add_role(db, "south", ("read",), {"read": ["territory"]})
    rep = api("south")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add_all([model(name="r", colour="red"), model(name="b", colour="blue"), model(name="n")])
    terr = admin.post_json(
        "/api/v1/_security/territories",
        {"name": "Southern Greece", "values": ["red", " red ", "green"], "user_ids": [rep.user_id]},
        headers=hh,
        status=201,
    ).json
    assert terr["values"] == ["green", "red"] and terr["user_ids"] == [rep.user_id]
    assert [t["name"] for t in rep.get("/api/v1/things").json["items"]] == ["r"]
    admin.patch_json(
        f"/api/v1/_security/territories/{terr['id']}", {"values": ["blue"]}, headers=hh
    )
    assert [t["name"] for t in rep.get("/api/v1/things").json["items"]] == ["b"]
    admin.post_json(
        "/api/v1/_security/territories", {"name": "Southern Greece"}, headers=hh, status=400
    )
    admin.delete(f"/api/v1/_security/territories/{terr['id']}", headers=hh, status=204)
    assert rep.get("/api/v1/things").json["items"] == []


def test_security_log_is_safe_against_log_injection(kyklos_app, client, caplog):
    import webtest

    admin = client("admin")
    evil = "x@example.com\r\n2026-01-01 login.ok user=1 \x1b[31mFAKE\x1b[0m"
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    page = app.get("/login")
    form = next(f for f in page.forms.values() if f.action.endswith("/login"))
    form["email"], form["password"] = evil, "whatever-password"
    with caplog.at_level("INFO", logger="kyklos.security.audit"):
        form.submit(status=200)
    lines = [r.getMessage() for r in caplog.records if r.name == "kyklos.security.audit"]
    assert lines and all("\n" not in m and "\r" not in m and "\x1b" not in m for m in lines)
    events = admin.get("/api/v1/_security/events?kind=login.failed").json["items"]
    assert events[0]["detail"]["email"].startswith("x@example.com")  # stored as data
    page = admin.get("/admin/events?kind=login.failed")
    assert "\x1b" not in page.text and "\\x1b[31mFAKE" in page.text
    assert "<script" not in page.text.split("</footer>")[0].split("FAKE")[0][-200:]


@pytest.mark.parametrize(
    "path",
    [
        "/admin",
        "/admin/users",
        "/admin/users/new",
        "/admin/roles",
        "/admin/org",
        "/admin/territories",
        "/admin/delegations",
        "/admin/events",
        "/account",
        "/account/totp",
    ],
)
def test_admin_pages_render_for_admins_only(client, path):
    admin = client("admin")
    admin.get(path, status=200)
    if path.startswith("/admin"):
        client("thingsreader").get(path, status=403)


def test_admin_user_and_role_pages_save(client, dbsession, make_user):
    admin = client("admin")
    uid = make_user(email="edit@example.com", roles=("thingsreader",))
    page = admin.get(f"/admin/users/{uid}")
    form = next(f for f in page.forms.values() if f.action.endswith(f"/admin/users/{uid}"))
    form["name"] = "Edited"
    for box in form.fields["roles"]:
        box.checked = box._value in ("thingseditor",)
    form.submit(status=303)
    with dbsession() as db:
        u = db.get(User, uid)
        assert u.name == "Edited" and [r.name for r in u.roles] == ["thingseditor"]
        rid = db.execute(select(Role.id).where(Role.name == "thingsreader")).scalar_one()
    page = admin.get(f"/admin/roles/{rid}")
    add = next(f for f in page.forms.values() if f.action.endswith(f"/admin/roles/{rid}/rules"))
    add["entity"], add["action"], add["scope"] = "thing", "write", "own"
    add.submit(status=303)
    page = admin.get(f"/admin/roles/{rid}/fields/thing")
    form = next(f for f in page.forms.values() if "/fields/thing" in f.action)
    form["f.size"] = "read"
    form.submit(status=303)
    with dbsession() as db:
        rules = {
            (r.action, r.scope)
            for r in db.execute(select(RecordRule).where(RecordRule.role_id == rid)).scalars()
        }
    assert rules == {("read", "all"), ("write", "own")}
    page = admin.get(f"/admin/roles/{rid}/fields/thing")
    assert re.search(r'name="f.size" value="read"[^>]*checked', page.text)


def test_tokens_shown_once_listed_and_revoked(client, kyklos_app, dbsession):
    app = client("thingsreader")
    page = app.get("/account")
    form = next(f for f in page.forms.values() if f.action.endswith("/account/tokens"))
    form["name"] = "laptop script"
    form["days"] = "30"
    form["scopes"] = ["samplea.thing.read"]
    shown = form.submit(status=200)
    token = re.search(r'value="(kyk_[^"]+)"', shown.text).group(1)
    assert token not in app.get("/account").text  # only the prefix is listed
    import webtest

    tapp = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    tapp.authorization = ("Bearer", token)
    tapp.get("/api/v1/things", status=200)
    mine = tapp.get("/api/v1/_security/me/tokens").json["items"][0]
    assert mine["scopes"] == ["samplea.thing.read"] and mine["last_used_at"]
    page = app.get("/account")
    revoke = next(f for f in page.forms.values() if f.action.endswith("/revoke"))
    revoke.submit(status=303)
    tapp.get("/api/v1/things", status=401)


def test_bearer_of_scoped_token_is_narrowed(kyklos_app, make_user, dbsession):
    from kyklos.security.tokens import create_token

    uid = make_user(email="scoped@example.com", roles=("thingseditor",))
    with dbsession() as db:
        token, _ = create_token(db, db.get(User, uid), "ro", scopes=["samplea.thing.read"])
    import webtest

    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    app.get("/api/v1/things", status=200)
    app.post_json("/api/v1/things", {"name": "nope"}, status=403)


def _fields(problem) -> set[str]:
    return {e["field"] for e in problem.json["errors"]}


def _bearer(kyklos_app, dbsession, uid, scopes):
    import webtest

    from kyklos.security.tokens import create_token

    with dbsession() as db:
        token, _ = create_token(db, db.get(User, uid), "integration", scopes=scopes)
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    return app


def test_scoped_token_cannot_mint_wider_credentials(kyklos_app, make_user, dbsession):
    """A scoped token (an integration's key) never creates an unscoped token or a full
    delegation; with the credentials scope it creates only what lies within its own."""
    import datetime as dt

    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    uid = make_user(email="integrator@example.com", roles=("thingseditor",))
    make_user(email="deputy@example.com", roles=("thingsreader",))
    app = _bearer(kyklos_app, dbsession, uid, ["samplea.thing.read"])
    denied = app.post_json("/api/v1/_security/me/tokens", {"name": "x"}, status=403)
    assert "kyklos.credentials.manage" in denied.json["detail"]
    app.post_json(
        "/api/v1/_security/delegations",
        {"to_email": "deputy@example.com", "ends_at": ends},
        status=403,
    )

    scopes = ["samplea.thing.read", "kyklos.credentials.manage"]
    app = _bearer(kyklos_app, dbsession, uid, scopes)
    bad = app.post_json("/api/v1/_security/me/tokens", {"name": "all"}, status=400)
    assert _fields(bad) == {"scopes"}
    wider = app.post_json(
        "/api/v1/_security/me/tokens",
        {"name": "w", "scopes": ["samplea.thing.create"]},
        status=400,
    )
    assert _fields(wider) == {"scopes"}
    made = app.post_json(
        "/api/v1/_security/me/tokens", {"name": "ro", "scopes": ["samplea.thing.read"]}
    )
    assert made.json["scopes"] == ["samplea.thing.read"]
    for scope in ([], ["samplea.thing.create"], ["thing"]):
        res = app.post_json(
            "/api/v1/_security/delegations",
            {"to_email": "deputy@example.com", "ends_at": ends, "scope": scope},
            status=400,
        )
        assert _fields(res) == {"scope"}, scope
    ok = app.post_json(
        "/api/v1/_security/delegations",
        {
            "to_email": "deputy@example.com",
            "ends_at": ends,
            "scope": ["samplea.thing.read"],
        },
        status=201,
    )
    assert ok.json["scope"] == ["samplea.thing.read"], ok.json
