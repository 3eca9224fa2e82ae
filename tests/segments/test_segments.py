"""Segments: condition trees (and/or, custom fields, limits), static and dynamic
segments, member paging, live count preview, record rules, the wizard without JS, and
the SDK's segment_select."""

from __future__ import annotations

import pytest
from entities_support import grant, insert_things, roles_synced, thing_rules  # noqa: F401
from sqlalchemy import select

from kyklos.jobs import job_request

pytestmark = pytest.mark.usefixtures("thing_rules")
PROBLEM = "application/problem+json"


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def errors_of(res):
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


@pytest.fixture
def data(api):
    admin = api("admin")
    admin.post_json("/api/v1/_custom-fields", {"entity": "thing", "name": "cf_level",
                    "type": "integer", "label": "Level", "filterable": True}, status=201)
    ed = api("thingseditor")
    ids = {}
    for name, colour, size, level in [("a", "red", 1, 1), ("b", "red", 5, 3),
                                      ("c", "blue", 5, 3), ("d", "blue", 9, None),
                                      ("e", "green", 2, 5)]:
        body = {"name": name, "colour": colour, "size": size}
        if level is not None:
            body["cf_level"] = level
        ids[name] = ed.post_json("/api/v1/things", body, status=201).json["id"]
    return ed, ids


def names(res, ids):
    back = {v: k for k, v in ids.items()}
    return sorted(back[r["id"]] for r in res["items"])


def test_dynamic_segment_and_or_custom_fields(data):
    ed, ids = data
    definition = {"or": [
        {"and": [{"field": "colour", "op": "eq", "value": "red"},
                 {"field": "cf_level", "op": "gte", "value": 3}]},
        {"field": "size", "op": "in", "value": [9, 2]},
    ]}
    prev = ed.post_json("/api/v1/_segments/preview",
                        {"entity": "thing", "definition": definition}).json
    assert prev["count"] == 3 and {s["title"] for s in prev["sample"]} == {"b", "d", "e"}
    seg = ed.post_json("/api/v1/_segments", {"entity": "thing", "name": "Mixed",
                       "kind": "dynamic", "definition": definition}, status=201).json
    res = ed.get(f"/api/v1/_segments/{seg['id']}/members").json
    assert names(res, ids) == ["b", "d", "e"]
    # dynamic: evaluated when used
    ed.post_json("/api/v1/things", {"name": "f", "colour": "red", "cf_level": 4}, status=201)
    assert ed.get(f"/api/v1/_segments/{seg['id']}/count").json["count"] == 4
    # paging by id
    page = ed.get(f"/api/v1/_segments/{seg['id']}/members", {"limit": "2"}).json
    assert len(page["items"]) == 2 and page["next_after"]
    rest = ed.get(f"/api/v1/_segments/{seg['id']}/members",
                  {"limit": "2", "after": str(page["next_after"])}).json
    assert len(rest["items"]) == 2 and rest["next_after"] is None
    # bad paging parameters: 400 naming each one, never a server error
    for params, fields in (({"after": "9" * 30}, ["after"]), ({"after": "²"}, ["after"]),
                           ({"limit": "0", "after": "x"}, ["after", "limit"])):
        bad = ed.get(f"/api/v1/_segments/{seg['id']}/members", params, status=400).json
        assert sorted(e["field"] for e in bad["errors"]) == fields
    # custom isnull through the mirror
    prev = ed.post_json("/api/v1/_segments/preview", {"entity": "thing", "definition": {
        "and": [{"field": "cf_level", "op": "isnull", "value": True}]}}).json
    assert [s["title"] for s in prev["sample"]] == ["d"]


def test_static_segment_snapshot_and_manual_members(data, api):
    ed, ids = data
    seg = ed.post_json("/api/v1/_segments", {"entity": "thing", "name": "Blues",
                       "kind": "static", "definition": {"and": [
                           {"field": "colour", "op": "eq", "value": "blue"}]}},
                       status=201).json
    url = f"/api/v1/_segments/{seg['id']}"
    assert names(ed.get(url + "/members").json, ids) == ["c", "d"]
    ed.post_json("/api/v1/things", {"name": "g", "colour": "blue"}, status=201)
    assert ed.get(url + "/count").json["count"] == 2  # a snapshot: not re-evaluated
    ed.post_json(url + "/members", {"add": [ids["a"]], "remove": [ids["c"]]})
    assert names(ed.get(url + "/members").json, ids) == ["a", "d"]
    res = ed.post_json(url + "/members", {"add": [999999]}, status=404)
    assert "add" in errors_of(res)
    # another user may read it but not change it
    other = api("thingseditor")
    assert other.get(url + "/count").json["count"] == 2
    other.post_json(url + "/members", {"add": [ids["b"]]}, status=403)
    other.patch_json(url, {"name": "x"}, status=403)


def test_definition_limits_and_bad_input(data):
    ed, _ids = data
    deep = {"field": "size", "op": "eq", "value": 1}
    for _i in range(12):
        deep = {"and": [deep]}
    res = ed.post_json("/api/v1/_segments/preview", {"entity": "thing", "definition": deep},
                       status=400)
    assert any("Nested" in v for v in errors_of(res).values())
    many = {"or": [{"field": "size", "op": "eq", "value": i} for i in range(201)]}
    res = ed.post_json("/api/v1/_segments/preview", {"entity": "thing", "definition": many},
                       status=400)
    assert "definition" in errors_of(res)
    bad = {"and": [{"field": "id) UNION SELECT", "op": "eq", "value": 1},
                   {"field": "size", "op": "contains", "value": "1"},
                   {"field": "size", "op": "eq", "value": "x"},
                   {"field": "name", "op": "eq", "value": 1, "sql": "drop"}]}
    res = ed.post_json("/api/v1/_segments", {"entity": "thing", "name": "bad",
                       "definition": bad}, status=400)
    assert set(errors_of(res)) == {"definition.and.0.field", "definition.and.1.op",
                                   "definition.and.2.value", "definition.and.3.field"}
    ed.post_json("/api/v1/_segments", {"entity": "nope", "name": "x"}, status=400)


def test_record_rules_apply_to_members(data, api, dbsession, registry):
    ed, ids = data
    seg = ed.post_json("/api/v1/_segments", {"entity": "thing", "name": "All",
                       "definition": {"and": []}}, status=201).json
    # a user who sees only their own things sees only those members
    from entities_support import DEFAULT_RULES  # noqa: F401

    own = api("thingseditor")
    with dbsession() as db:
        from kyklos.security.models import RecordRule, Role

        role = db.execute(select(Role).where(Role.name == "thingseditor")).scalar_one()
        for r in db.execute(select(RecordRule).where(RecordRule.role_id == role.id,
                                                     RecordRule.action == "read")).scalars():
            r.scope = "own"
    own.post_json("/api/v1/things", {"name": "mine"}, status=201)
    res = own.get(f"/api/v1/_segments/{seg['id']}/members").json
    assert [r["name"] for r in res["items"]] == ["mine"]
    # the SDK entry point for campaigns and calls
    from kyklos_sdk import segment_select

    model = registry.kyklos_entities["thing"].model
    with job_request(registry, own.user_id) as request:
        stmt = select(model.name).where(model.id.in_(segment_select(request, seg["id"])))
        assert request.dbsession.execute(stmt).scalars().all() == ["mine"]
    # no read permission on the type: the segment does not exist for them
    api("user").get(f"/api/v1/_segments/{seg['id']}", status=404)


def test_wizard_without_javascript(client, data):
    _ed, ids = data
    app = client("thingseditor")
    page = app.get("/segments")
    form = [f for f in page.forms.values() if "entity" in f.fields][0]
    page = form.submit()
    form = page.forms["segment-form"]
    form["name"] = "Red or big"
    form["top"] = "or"
    form["c.0.0.field"] = "colour"
    form["c.0.0.value"] = "red"
    page = form.submit("action", value="add_group")
    form = page.forms["segment-form"]
    assert "c.1.0.field" in form.fields
    form["c.1.0.field"] = "size"
    form["c.1.0.op"] = "gte"
    form["c.1.0.value"] = "9"
    page = form.submit("action", value="preview")
    assert page.html.find(id="segment-preview").strong.text == "3 matching records"
    form = page.forms["segment-form"]
    page = form.submit("action", value="add_condition.1")
    form = page.forms["segment-form"]
    form["c.1.1.field"] = "cf_level"
    form["c.1.1.op"] = "contains"
    res = form.submit("action", value="save", status=400)
    form = res.forms["segment-form"]
    form["c.1.1.op"] = "eq"
    form["c.1.1.value"] = "3"
    form["kind"] = "static"
    res = form.submit("action", value="save").follow()
    assert res.html.find(id="segment-count")["data-count"] == "2"
    assert res.html.find(id="segment-count").text == "2 matching records"
    rows = res.html.find(id="segment-members").find_all("tr")
    assert len(rows) == 3
    form = res.forms["members-form"]
    # the picker (a searchable select) posts the chosen record; nobody types an id
    form["add"].force_value([str(ids["e"])])
    res = form.submit("action", value="add").follow()
    assert res.html.find(id="segment-count")["data-count"] == "3"
    res = res.forms["members-form"].submit("remove", value=str(ids["a"])).follow()
    assert res.html.find(id="segment-count")["data-count"] == "2"
