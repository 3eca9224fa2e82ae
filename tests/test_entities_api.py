"""REST API contract of a registered entity type (the sample plugin's "thing"):
create/read/update/delete/restore, optimistic locking, mass assignment, body checks,
authorization (401, 403, 404 for invisible records) and problem+json errors."""

from __future__ import annotations

import json

import pytest
from entities_support import (
    audit_count,
    grant,
    insert_things,
    roles_synced,  # noqa: F401 - fixture
    thing_rows,
    thing_rules,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("thing_rules")
PROBLEM = "application/problem+json"


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def fields_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def test_create_read_update_delete_restore(api):
    a = api("thingseditor")
    res = a.post_json("/api/v1/things", {"name": "Anvil", "colour": "black", "size": 7}, status=201)
    rec = res.json
    assert res.headers["Location"].endswith(f"/api/v1/things/{rec['id']}")
    assert res.headers["ETag"] == '"1"'
    assert rec["name"] == "Anvil" and rec["version"] == 1 and rec["owner_id"] == a.user_id
    assert rec["created_by_id"] == a.user_id and rec["created_at"].endswith("Z")
    assert "custom" not in rec

    got = a.get(f"/api/v1/things/{rec['id']}")
    assert got.json == rec and got.headers["ETag"] == '"1"'
    a.get(f"/api/v1/things/{rec['id']}", headers={"If-None-Match": '"1"'}, status=304)

    res = a.patch_json(f"/api/v1/things/{rec['id']}", {"size": 8, "colour": None})
    assert res.json["size"] == 8 and res.json["colour"] is None and res.json["version"] == 2
    assert res.headers["ETag"] == '"2"'

    a.delete(f"/api/v1/things/{rec['id']}", status=204)
    a.get(f"/api/v1/things/{rec['id']}", status=404)
    assert a.get("/api/v1/things").json["items"] == []
    res = a.post(f"/api/v1/things/{rec['id']}/restore")
    assert res.json["deleted_at"] is None
    assert a.get(f"/api/v1/things/{rec['id']}").json["size"] == 8
    # restoring a live record is a conflict, not a silent no-op
    res = a.post(f"/api/v1/things/{rec['id']}/restore", status=409)
    assert res.content_type == PROBLEM


def test_anonymous_gets_401_problem(testapp, registry, dbsession):
    ids = insert_things(registry, dbsession, [{"name": "x"}])
    for method, url in [
        ("get", "/api/v1/things"),
        ("get", f"/api/v1/things/{ids[0]}"),
        ("delete", f"/api/v1/things/{ids[0]}"),
        ("get", "/api/openapi.json"),
    ]:
        res = getattr(testapp, method)(url, status=401)
        assert res.content_type == PROBLEM and res.json["status"] == 401
    res = testapp.post_json("/api/v1/things", {"name": "y"}, status="*")
    assert res.status_int in (401, 403) and res.content_type == PROBLEM
    assert len(thing_rows(registry, dbsession)) == 1


def test_bad_token_is_anonymous(testapp):
    testapp.authorization = ("Bearer", "kyk_not-a-real-token")
    assert testapp.get("/api/v1/things", status=401).content_type == PROBLEM


def test_unknown_type_and_methods(api):
    a = api("admin")
    assert a.get("/api/v1/gizmos", status=404).content_type == PROBLEM
    res = a.put_json("/api/v1/things/1", {"name": "x"}, status=405)
    assert "PATCH" in res.headers["Allow"]
    # system endpoints are not taken for entity slugs
    assert a.get("/api/v1/_meta/plugins").json["core"]["version"]


def test_reader_cannot_write_and_db_is_unchanged(api, registry, dbsession):
    ids = insert_things(registry, dbsession, [{"name": "keep", "size": 1}])
    before = thing_rows(registry, dbsession)
    n_audit = audit_count(dbsession)
    r = api("thingsreader")
    assert r.get(f"/api/v1/things/{ids[0]}").json["name"] == "keep"
    r.post_json("/api/v1/things", {"name": "new"}, status=403)
    r.patch_json(f"/api/v1/things/{ids[0]}", {"name": "changed"}, status=403)
    r.delete(f"/api/v1/things/{ids[0]}", status=403)
    r.post_json("/api/v1/things/_bulk", {"action": "delete", "ids": ids}, status=403)
    r.post_json(
        "/api/v1/things/_bulk", {"action": "update", "ids": ids, "data": {"size": 2}}, status=403
    )
    assert thing_rows(registry, dbsession) == before
    assert audit_count(dbsession) == n_audit
    # a user whose roles do not cover things sees nothing at all
    api("user").get("/api/v1/things", status=403)


def test_invisible_records_are_404_like_missing_ones(api, registry, dbsession, make_user):
    grant(dbsession, {"user": {"read": "own", "write": "own", "delete": "own"}})
    # "user" holds no thing permissions by default: give them through a custom role
    from kyklos.security.models import Role

    with dbsession() as db:
        role = Role(
            name="ownthings",
            title="Own things",
            permissions=[f"samplea.thing.{v}" for v in ("read", "update", "delete")],
        )
        db.add(role)
    grant(dbsession, {"ownthings": {"read": "own", "write": "own", "delete": "own"}})
    owner = make_user(roles=("thingseditor",))
    ids = insert_things(registry, dbsession, [{"name": "secret"}], owner_id=owner)
    before = thing_rows(registry, dbsession)
    other = api("ownthings")
    mine = insert_things(registry, dbsession, [{"name": "mine"}], owner_id=other.user_id)
    assert [t["name"] for t in other.get("/api/v1/things").json["items"]] == ["mine"]
    for rid in (ids[0], 999999):
        missing = other.get(f"/api/v1/things/{rid}", status=404).json
        assert other.patch_json(f"/api/v1/things/{rid}", {"name": "x"}, status=404).json == missing
        assert other.delete(f"/api/v1/things/{rid}", status=404).json == missing
        other.get(f"/api/v1/things/{rid}/history", status=404)
    assert other.get(f"/api/v1/things/{mine[0]}").json["name"] == "mine"
    after = thing_rows(registry, dbsession)
    assert after[ids[0]] == before[ids[0]]


def test_mass_assignment_is_refused(api, make_user, registry, dbsession):
    e = api("thingseditor")
    someone = make_user()
    res = e.post_json(
        "/api/v1/things",
        {
            "name": "x",
            "id": 999,
            "owner_id": someone,
            "created_at": "2020-01-01T00:00:00Z",
            "created_by_id": someone,
            "version": 7,
            "custom": {"a": 1},
            "deleted_at": None,
            "is_admin": True,
        },
        status=400,
    )
    errors = fields_of(res)
    assert set(errors) == {
        "id",
        "owner_id",
        "created_at",
        "created_by_id",
        "version",
        "custom",
        "deleted_at",
        "is_admin",
    }
    assert thing_rows(registry, dbsession) == {}
    rec = e.post_json("/api/v1/things", {"name": "x", "owner_id": e.user_id}, status=201).json
    assert rec["owner_id"] == e.user_id
    res = e.patch_json(
        f"/api/v1/things/{rec['id']}",
        {"owner_id": someone, "updated_by_id": someone, "id": 5, "updated_at": "x"},
        status=400,
    )
    assert set(fields_of(res)) == {"owner_id", "updated_by_id", "id", "updated_at"}
    # an administrator may assign records to others
    admin = api("admin")
    rec2 = admin.post_json("/api/v1/things", {"name": "y", "owner_id": someone}, status=201).json
    assert rec2["owner_id"] == someone and rec2["created_by_id"] == admin.user_id
    res = admin.patch_json(f"/api/v1/things/{rec['id']}", {"owner_id": someone})
    assert res.json["owner_id"] == someone
    # an empty owner (a form's cleared picker) is the creator, never nobody
    rec3 = admin.post_json("/api/v1/things", {"name": "z", "owner_id": None}, status=201).json
    assert rec3["owner_id"] == admin.user_id


def test_every_bad_field_is_named(api, registry, dbsession):
    e = api("thingseditor")
    res = e.post_json(
        "/api/v1/things",
        {"colour": "x" * 21, "size": "big", "bogus": 1, "name": 5},
        status=400,
    )
    body = res.json
    assert body["status"] == 400 and body["title"]
    assert set(fields_of(res)) == {"colour", "size", "bogus", "name"}
    res = e.post_json("/api/v1/things", {"size": 1}, status=400)
    assert set(fields_of(res)) == {"name"}  # required
    res = e.post_json("/api/v1/things", {"name": "   "}, status=400)
    assert set(fields_of(res)) == {"name"}
    assert thing_rows(registry, dbsession) == {}


@pytest.mark.parametrize(
    "value",
    [
        "nul\x00byte",
        "x" * 101,
        "\ud800lone surrogate",
    ],
)
def test_text_the_database_would_refuse_is_a_400(api, value):
    e = api("thingseditor")
    body = json.dumps({"name": value}).encode()
    res = e.post("/api/v1/things", body, content_type="application/json", status=400)
    assert "name" in fields_of(res)


@pytest.mark.parametrize("value", [2**63, 2**31, 1e308, -0.5, True, "1", float("nan"), None])
def test_numbers_out_of_range_or_of_wrong_type(api, value):
    e = api("thingseditor")
    status = 201 if value is None else 400
    res = e.post_json("/api/v1/things", {"name": "n", "size": value}, status=status)
    if status == 400 and value == value:  # NaN is not even JSON: refused as a whole
        assert "size" in fields_of(res)


def test_body_checks(api, registry, dbsession):
    e = api("thingseditor")
    url = "/api/v1/things"
    res = e.post(url, "name=x", content_type="application/x-www-form-urlencoded", status=415)
    assert res.content_type == PROBLEM
    e.post(url, '{"name": "x"}', content_type="text/plain", status=415)
    e.post(url, b'{"name": "x", "name": "y"}', content_type="application/json", status=400)
    deep = '{"name": "x", "a": ' + "[" * 100 + "]" * 100 + "}"
    e.post(url, deep, content_type="application/json", status=400)
    very_deep = "[" * 100_000 + "]" * 100_000
    e.post(url, very_deep, content_type="application/json", status=400)
    e.post(url, b'{"name": "\xff"}', content_type="application/json", status=400)
    e.post(url, b'{"name": "x", "size": NaN}', content_type="application/json", status=400)
    e.post(url, b'["name"]', content_type="application/json", status=400)
    e.post(url, b'{"name": ', content_type="application/json", status=400)
    big = json.dumps({"name": "x", "pad": "y" * (2 * 1024 * 1024)})
    e.post(url, big, content_type="application/json", status=413)
    assert thing_rows(registry, dbsession) == {}


def test_optimistic_locking_if_match_412(api):
    e1, e2 = api("thingseditor"), api("thingseditor")
    rec = e1.post_json("/api/v1/things", {"name": "shared", "size": 1}, status=201).json
    url = f"/api/v1/things/{rec['id']}"
    etag = e2.get(url).headers["ETag"]
    e1.patch_json(url, {"size": 2}, headers={"If-Match": etag})
    res = e2.patch_json(url, {"name": "mine"}, headers={"If-Match": etag}, status=412)
    body = res.json
    assert res.content_type == PROBLEM
    assert body["current_version"] == 2 and body["your_version"] == 1
    assert body["changes"] == {"size": [1, 2]}
    assert body["current"]["size"] == 2 and res.headers["ETag"] == '"2"'
    after = e1.get(url).json
    assert after["name"] == "shared" and after["version"] == 2  # no silent overwrite
    # the current ETag works; "*" means any version
    e2.patch_json(url, {"name": "mine"}, headers={"If-Match": '"2"'})
    e2.patch_json(url, {"size": 3}, headers={"If-Match": "*"})
    # a stale If-Match on DELETE is refused too
    e1.delete(url, headers={"If-Match": '"1"'}, status=412)
    assert e1.get(url).json["deleted_at"] is None


def test_optimistic_locking_body_version_409(api):
    e = api("thingseditor")
    rec = e.post_json("/api/v1/things", {"name": "v", "colour": "red"}, status=201).json
    url = f"/api/v1/things/{rec['id']}"
    e.patch_json(url, {"colour": "blue", "version": 1})
    res = e.patch_json(url, {"colour": "green", "version": 1}, status=409)
    assert res.json["changes"] == {"colour": ["red", "blue"]}
    assert e.get(url).json["colour"] == "blue"
    e.patch_json(url, {"version": "2"}, status=400)
    # a write that changes nothing keeps the version
    res = e.patch_json(url, {"colour": "blue", "version": 2})
    assert res.json["version"] == 2


def test_validate_hook_refuses_on_create_and_update(api, registry, dbsession):
    e = api("thingseditor")
    res = e.post_json("/api/v1/things", {"name": "forbidden", "size": "x"}, status=400)
    assert set(fields_of(res)) == {"name", "size"}  # the hook's error beside the type error
    rec = e.post_json("/api/v1/things", {"name": "fine"}, status=201).json
    res = e.patch_json(f"/api/v1/things/{rec['id']}", {"name": "forbidden"}, status=400)
    assert fields_of(res) == {"name": "This name is not allowed."}
    assert e.get(f"/api/v1/things/{rec['id']}").json["name"] == "fine"


def test_history_endpoint(api):
    e = api("thingseditor")
    rec = e.post_json("/api/v1/things", {"name": "h", "size": 1}, status=201).json
    url = f"/api/v1/things/{rec['id']}"
    for size in (2, 3, 4):
        e.patch_json(url, {"size": size})
    e.delete(url, status=204)
    items = e.get(url + "/history").json["items"]
    assert [i["action"] for i in items] == ["delete", "update", "update", "update", "create"]
    assert items[1]["changes"] == {"size": [3, 4]} and items[1]["version"] == 4
    assert items[-1]["changes"]["name"] == [None, "h"]
    assert all(i["user_id"] == e.user_id and i["source"] == "api" for i in items)
    page = e.get(url + "/history?limit=2").json
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = e.get(url + f"/history?limit=10&cursor={page['next_cursor']}").json
    assert [i["id"] for i in page["items"] + rest["items"]] == [i["id"] for i in items]
    assert set(fields_of(e.get(url + "/history?limit=0&bogus=1", status=400))) == {"limit", "bogus"}


def test_bulk_update_all_or_nothing(api, registry, dbsession):
    e = api("thingseditor")
    ids = [e.post_json("/api/v1/things", {"name": f"b{i}", "size": i}).json["id"] for i in range(3)]
    before = thing_rows(registry, dbsession)
    n_audit = audit_count(dbsession)
    url = "/api/v1/things/_bulk"
    res = e.post_json(
        url, {"action": "update", "ids": ids + [999999], "data": {"size": 9}}, status=404
    )
    assert "ids" in fields_of(res)
    res = e.post_json(
        url, {"action": "update", "ids": ids, "data": {"name": "forbidden"}}, status=400
    )
    assert all(k.endswith(".name") for k in fields_of(res)) and len(fields_of(res)) == 3
    res = e.post_json(
        url, {"action": "update", "ids": ids, "data": {"size": "x", "id": 1}}, status=400
    )
    e.post_json(url, {"action": "explode", "ids": ids, "extra": 1}, status=400)
    e.post_json(url, {"action": "update", "ids": ["1"], "data": {}}, status=400)
    e.post_json(url, {"action": "update", "ids": list(range(1, 2000)), "data": {}}, status=400)
    assert thing_rows(registry, dbsession) == before
    assert audit_count(dbsession) == n_audit

    res = e.post_json(url, {"action": "update", "ids": ids, "data": {"colour": "teal"}})
    assert res.json == {"action": "update", "count": 3}
    for rid in ids:
        rec = e.get(f"/api/v1/things/{rid}").json
        assert rec["colour"] == "teal" and rec["version"] == 2
        hist = e.get(f"/api/v1/things/{rid}/history").json["items"]
        assert hist[0]["source"] == "bulk" and hist[0]["changes"] == {"colour": [None, "teal"]}


def test_bulk_delete_all_or_nothing(api, registry, dbsession, make_user):
    e = api("thingseditor")
    ids = [e.post_json("/api/v1/things", {"name": f"d{i}"}).json["id"] for i in range(3)]
    e.post_json("/api/v1/things/_bulk", {"action": "delete", "ids": [*ids, 424242]}, status=404)
    assert len(e.get("/api/v1/things").json["items"]) == 3
    res = e.post_json("/api/v1/things/_bulk", {"action": "delete", "ids": ids})
    assert res.json["count"] == 3
    assert e.get("/api/v1/things").json["items"] == []
    assert len(e.get("/api/v1/things?deleted=only").json["items"]) == 3


def test_soft_deleted_listing_and_restore_permission(api):
    e, r = api("thingseditor"), api("thingsreader")
    rec = e.post_json("/api/v1/things", {"name": "gone"}).json
    e.delete(f"/api/v1/things/{rec['id']}", status=204)
    assert [t["id"] for t in r.get("/api/v1/things?deleted=only").json["items"]] == [rec["id"]]
    assert len(r.get("/api/v1/things?deleted=include").json["items"]) == 1
    r.post(f"/api/v1/things/{rec['id']}/restore", status=403)
    e.post(f"/api/v1/things/{rec['id']}/restore")
    assert r.get("/api/v1/things?deleted=only").json["items"] == []


def test_query_counts_are_constant(api, registry, dbsession, query_counter):
    e = api("thingseditor")
    insert_things(registry, dbsession, [{"name": f"q{i}", "size": i} for i in range(5)])
    e.get("/api/v1/things")  # warm caches (templates, mappers)
    with query_counter() as small:
        assert len(e.get("/api/v1/things?limit=50").json["items"]) == 5
    insert_things(registry, dbsession, [{"name": f"r{i}", "size": i} for i in range(60)])
    with query_counter() as big:
        assert len(e.get("/api/v1/things?limit=50").json["items"]) == 50
    assert big.count == small.count, (small.statements, big.statements)
    with query_counter() as proj:
        e.get("/api/v1/things?limit=50&fields=name,size&count=exact")
    assert proj.count == small.count
    one, two = [t["id"] for t in e.get("/api/v1/things?limit=2").json["items"]]
    with query_counter() as detail1:
        e.get(f"/api/v1/things/{one}")
    with query_counter() as detail2:
        e.get(f"/api/v1/things/{two}")
    assert detail1.count == detail2.count <= small.count
