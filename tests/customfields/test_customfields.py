"""Custom fields end to end: definitions through the API and the admin pages, values
through the record API and forms, filters through the indexed mirror, uniqueness,
field-level permissions and OpenAPI."""

from __future__ import annotations

import pytest
from entities_support import roles_synced, thing_rules  # noqa: F401 - fixtures
from sqlalchemy import select, text

from kyklos.entities.customfields import CustomValue
from kyklos.security.models import FieldPermission, Role

pytestmark = pytest.mark.usefixtures("thing_rules")
PROBLEM = "application/problem+json"


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def add_field(admin, **kw):
    body = {"entity": "thing", "label": {"en": kw.get("name", "x"), "el": "Ελ"}, **kw}
    return admin.post_json("/api/v1/_custom-fields", body, status=201).json


def errors_of(res):
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def test_define_write_filter_sort(api):
    admin = api("admin")
    d = add_field(admin, name="shoe", type="integer", filterable=True)
    assert d["name"] == "cf_shoe" and d["type"] == "integer"
    add_field(admin, name="cf_tier", type="choice", filterable=True,
              choices=[{"value": "gold", "label": {"en": "Gold", "el": "Χρυσό"}}, "silver"])
    add_field(admin, name="cf_since", type="date", filterable=True)
    add_field(admin, name="cf_note", type="text")
    ed = api("thingseditor")
    ids = []
    for i, (size, tier, since) in enumerate(
        [(40, "gold", "2024-01-05"), (42, "silver", "2025-03-01"), (44, "gold", None)]
    ):
        body = {"name": f"t{i}", "cf_shoe": size, "cf_tier": tier, "cf_note": "long " * 3}
        if since:
            body["cf_since"] = since
        rec = ed.post_json("/api/v1/things", body, status=201).json
        assert rec["cf_shoe"] == size and rec["cf_tier"] == tier
        ids.append(rec["id"])
    # validation like built-in fields
    bad = ed.post_json("/api/v1/things", {"name": "x", "cf_shoe": "big", "cf_tier": "bronze"},
                       status=400)
    assert set(errors_of(bad)) == {"cf_shoe", "cf_tier"}
    # filters go through the mirror
    res = ed.get("/api/v1/things", {"cf_shoe__gte": "42", "sort": "cf_shoe"}).json
    assert [r["id"] for r in res["items"]] == ids[1:]
    res = ed.get("/api/v1/things", {"cf_tier": "gold"}).json
    assert {r["id"] for r in res["items"]} == {ids[0], ids[2]}
    res = ed.get("/api/v1/things", {"cf_since__lt": "2025-01-01"}).json
    assert [r["id"] for r in res["items"]] == [ids[0]]
    res = ed.get("/api/v1/things", {"cf_since__isnull": "true"}).json
    assert [r["id"] for r in res["items"]] == [ids[2]]
    res = ed.get("/api/v1/things", {"cf_tier__ne": "gold"}).json
    assert [r["id"] for r in res["items"]] == [ids[1]]
    # sorted descending, paged with a cursor
    page = ed.get("/api/v1/things", {"sort": "-cf_shoe", "limit": "2"}).json
    assert [r["cf_shoe"] for r in page["items"]] == [44, 42]
    nxt = ed.get("/api/v1/things", {"sort": "-cf_shoe", "limit": "2",
                                    "cursor": page["next_cursor"]}).json
    assert [r["cf_shoe"] for r in nxt["items"]] == [40]
    # long text is not filterable
    assert ed.get("/api/v1/things", {"cf_note": "x"}, status=400)
    # updates keep the mirror in step
    rec = ed.get(f"/api/v1/things/{ids[0]}").json
    ed.patch_json(f"/api/v1/things/{ids[0]}", {"cf_shoe": 50},
                  headers={"If-Match": f'"{rec["version"]}"'})
    res = ed.get("/api/v1/things", {"cf_shoe": "50"}).json
    assert [r["id"] for r in res["items"]] == [ids[0]]
    assert ed.get("/api/v1/things", {"cf_shoe": "40"}).json["items"] == []


def test_unique_required_default_and_deactivate(api, dbsession):
    admin = api("admin")
    add_field(admin, name="cf_vat", type="string", unique=True)
    d = add_field(admin, name="cf_level", type="integer", required=False, default=3)
    ed = api("thingseditor")
    a = ed.post_json("/api/v1/things", {"name": "a", "cf_vat": "EL123"}, status=201).json
    assert a["cf_level"] == 3
    dup = ed.post_json("/api/v1/things", {"name": "b", "cf_vat": "el123 "}, status=400)
    assert "cf_vat" in errors_of(dup)
    # the record keeping its own value may be saved again
    ed.patch_json(f"/api/v1/things/{a['id']}", {"cf_vat": "EL123", "name": "a2"})
    admin.patch_json(f"/api/v1/_custom-fields/{d['id']}", {"required": True})
    req = ed.post_json("/api/v1/things", {"name": "c", "cf_vat": "EL9", "cf_level": None},
                       status=400)
    assert "cf_level" in errors_of(req)
    admin.delete(f"/api/v1/_custom-fields/{d['id']}")
    rec = ed.get(f"/api/v1/things/{a['id']}").json
    assert "cf_level" not in rec and rec["cf_vat"] == "EL123"
    with dbsession() as db:
        assert db.execute(select(CustomValue.unique_key)).scalars().all() == ["el123"]


def test_making_a_field_filterable_builds_its_index_rows(api, dbsession):
    admin = api("admin")
    d = add_field(admin, name="cf_code", type="string")
    ed = api("thingseditor")
    ed.post_json("/api/v1/things", {"name": "a", "cf_code": "X1"}, status=201)
    assert ed.get("/api/v1/things", {"cf_code": "X1"}, status=400)
    admin.patch_json(f"/api/v1/_custom-fields/{d['id']}", {"filterable": True})
    assert len(ed.get("/api/v1/things", {"cf_code": "X1"}).json["items"]) == 1
    assert ed.get("/api/v1/things", {"cf_code__startswith": "x"}).json["items"]


def test_definition_checks_and_permission(api):
    admin = api("admin")
    res = admin.post_json(
        "/api/v1/_custom-fields",
        {"entity": "nope", "name": "cf_x); drop table", "type": "eval", "label": {},
         "extra": 1},
        status=400,
    )
    assert set(errors_of(res)) >= {"entity", "name", "type", "label", "extra"}
    res = admin.post_json(
        "/api/v1/_custom-fields",
        {"entity": "thing", "name": "cf_c", "type": "choice", "label": "C",
         "choices": ['a"b']},
        status=400,
    )
    assert "choices" in errors_of(res)
    add_field(admin, name="cf_a", type="string")
    res = admin.post_json("/api/v1/_custom-fields",
                          {"entity": "thing", "name": "cf_a", "type": "string", "label": "A"},
                          status=409)
    d = admin.get("/api/v1/_custom-fields", {"entity": "thing"}).json["items"][0]
    res = admin.patch_json(f"/api/v1/_custom-fields/{d['id']}", {"type": "integer"}, status=400)
    assert "type" in errors_of(res)
    # not an administrator: no access, nothing written
    api("thingseditor").post_json(
        "/api/v1/_custom-fields", {"entity": "thing", "name": "cf_z", "type": "string",
                                   "label": "Z"}, status=403)
    assert len(admin.get("/api/v1/_custom-fields").json["items"]) == 1


def test_field_permissions_and_openapi(api, dbsession):
    admin = api("admin")
    add_field(admin, name="cf_secret", type="string", filterable=True)
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "thingsreader")).scalar_one()
        db.add(FieldPermission(role_id=role.id, entity="thing", field="cf_secret",
                               access="none"))
    ed = api("thingseditor")
    rec = ed.post_json("/api/v1/things", {"name": "a", "cf_secret": "s3"}, status=201).json
    reader = api("thingsreader")
    got = reader.get(f"/api/v1/things/{rec['id']}").json
    assert "cf_secret" not in got
    # an unreadable field cannot be filtered on (no guessing through filters)
    reader.get("/api/v1/things", {"cf_secret": "s3"}, status=400)
    doc = ed.get("/api/openapi.json").json
    schemas = doc["components"]["schemas"]
    assert any("cf_secret" in str(v) for k, v in schemas.items() if "hing" in k)


def test_admin_pages_add_edit_reorder(client, dbsession):
    app = client("admin")
    page = app.get("/admin/custom-fields")
    assert "Things" in page.text
    page = app.get("/admin/custom-fields/thing")
    form = page.forms[0] if len(page.forms) == 1 else [f for f in page.forms.values()
                                                      if "name" in f.fields][0]
    form["name"] = "cf_colour_code"
    form["type"] = "choice"
    form["label_en"] = "Colour <script>x</script>"
    form["label_el"] = "Κωδικός"
    form["choices"] = "r|Red\ng|Green"
    form["filterable"] = True
    res = form.submit().follow()
    assert "cf_colour_code" in res.text
    page = app.get("/admin/custom-fields/thing")
    form = [f for f in page.forms.values() if "name" in f.fields][0]
    form["name"] = "cf_second"
    form["type"] = "integer"
    form["label_en"] = "Second"
    form.submit().follow()
    # the label is escaped on the list and appears in the record form
    page = app.get("/admin/custom-fields/thing")
    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text
    # bad input: an error, nothing written
    form = [f for f in page.forms.values() if "name" in f.fields][0]
    form["name"] = "BAD NAME"
    form["label_en"] = "x"
    res = form.submit(status=400)
    assert "cf_" in res.text
    # reorder: move the second above the first
    with dbsession() as db:
        rows = db.execute(text(
            "SELECT id, name FROM kyklos_custom_field ORDER BY position, id")).all()
    second = rows[1][0]
    move = [f for f in page.forms.values() if f.action.endswith(f"/{second}/move")][0]
    move.submit("dir", value="up").follow()
    with dbsession() as db:
        names = db.execute(text(
            "SELECT name FROM kyklos_custom_field ORDER BY position, id")).scalars().all()
    assert names == ["cf_second", "cf_colour_code"]
    # the new fields are in the record form, labelled in the user's language
    new = app.get("/things/new")
    assert 'name="cf_colour_code"' in new.text and "Colour" in new.text
    form = [f for f in new.forms.values() if "cf_second" in f.fields][0]
    form["name"] = "Crate"
    form["cf_second"] = "77"
    detail = form.submit().follow()
    assert "77" in detail.text and "Second" in detail.text
    listing = app.get("/things/", {"cols": "name,cf_second"})
    assert "Crate" in listing.text and "Second" in listing.text and "77" in listing.text
    # deactivate through the edit page
    page = app.get(f"/admin/custom-fields/thing/{second}")
    form = [f for f in page.forms.values() if "label_en" in f.fields][0]
    form["active"] = False
    form.submit().follow()
    with dbsession() as db:
        assert db.execute(text(
            "SELECT active FROM kyklos_custom_field WHERE id = :i"), {"i": second}).scalar() \
            in (False, 0)
