"""Tags (CORE-03): global, case-insensitive labels on any record; usable as list filters
in the API (``tags__in`` / ``tags__all``) and in the pages (``tag=``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kyklos_sdk.testing import csrf_of


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplerel"]


def make(registry, dbsession, entity="thing", **values):
    model = registry.kyklos_entities[entity].model
    with dbsession() as db:
        obj = model(**values)
        db.add(obj)
        db.flush()
        return obj.id


def links(dbsession):
    from kyklos.entities.tags import Tag, TagLink

    with dbsession() as db:
        return sorted(
            (t.name, link.entity, link.record_id)
            for link, t in db.execute(select(TagLink, Tag).join(Tag, Tag.id == TagLink.tag_id))
        )


@pytest.fixture
def editor(api):
    return api("thingseditor")


def test_add_list_remove_through_the_api(editor, registry, dbsession):
    from kyklos.entities.tags import COLOURS

    tid = make(registry, dbsession, name="T", owner_id=editor.user_id)
    url = f"/api/v1/things/{tid}/tags"
    res = editor.post_json(url, {"name": "  VIP  "}, status=201)
    assert res.json["name"] == "VIP" and res.json["colour"] in COLOURS
    # the same tag whatever the case; adding twice changes nothing
    again = editor.post_json(url, {"name": "vip"}, status=201)
    assert again.json["id"] == res.json["id"]
    editor.post_json(url, {"name": "Hotel", "colour": "green"}, status=201)
    assert [t["name"] for t in editor.get(url).json["items"]] == ["Hotel", "VIP"]
    assert links(dbsession) == [("Hotel", "thing", tid), ("VIP", "thing", tid)]
    editor.delete(f"{url}/vip", status=204)
    editor.delete(f"{url}/vip", status=404)
    assert links(dbsession) == [("Hotel", "thing", tid)]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   \t "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "ok", "colour": "#ff0000"}, "colour"),
        ({"name": "ok", "colour": 3}, "colour"),
    ],
)
def test_bad_tags_are_refused(editor, registry, dbsession, body, field):
    tid = make(registry, dbsession, name="T", owner_id=editor.user_id)
    res = editor.post_json(f"/api/v1/things/{tid}/tags", body, status=400)
    assert res.json["errors"][0]["field"] == field
    assert links(dbsession) == []


def test_names_are_cleaned_and_limited(editor, registry, dbsession):
    tid = make(registry, dbsession, name="T", owner_id=editor.user_id)
    res = editor.post_json(
        f"/api/v1/things/{tid}/tags", {"name": "a\u202eb\x00c   d" + "x" * 100}, status=201
    )
    assert res.json["name"].startswith("abc d") and len(res.json["name"]) == 64


def test_permissions_follow_the_record(api, editor, registry, dbsession):
    tid = make(registry, dbsession, name="T", owner_id=editor.user_id)
    editor.post_json(f"/api/v1/things/{tid}/tags", {"name": "VIP"}, status=201)
    reader = api("thingsreader")
    assert [t["name"] for t in reader.get(f"/api/v1/things/{tid}/tags").json["items"]] == ["VIP"]
    reader.post_json(f"/api/v1/things/{tid}/tags", {"name": "X"}, status=403)
    reader.delete(f"/api/v1/things/{tid}/tags/VIP", status=403)
    outsider = api("user")
    outsider.get(f"/api/v1/things/{tid}/tags", status=404)
    outsider.post_json(f"/api/v1/things/{tid}/tags", {"name": "X"}, status=404)
    assert links(dbsession) == [("VIP", "thing", tid)]


def test_api_list_filters_by_tags(editor, registry, dbsession):
    ids = [make(registry, dbsession, name=n, owner_id=editor.user_id) for n in "abc"]
    for tid, names in zip(ids, (["VIP", "Hotel"], ["VIP"], ["Hotel"]), strict=True):
        for name in names:
            editor.post_json(f"/api/v1/things/{tid}/tags", {"name": name}, status=201)

    def names(query):
        return sorted(r["name"] for r in editor.get(f"/api/v1/things?{query}").json["items"])

    assert names("tags__in=vip") == ["a", "b"]
    assert names("tags__in=VIP,hotel") == ["a", "b", "c"]
    assert names("tags__all=VIP,hotel") == ["a"]
    assert names("tags__in=nosuch") == []
    res = editor.get("/api/v1/things?tags__in=", status=400)
    assert res.json["errors"][0]["field"] == "tags__in"


def test_tag_filter_clause_any_and_all(registry, dbsession):
    from kyklos.entities.tags import Tag, TagLink, tag_filter_clause

    et = registry.kyklos_entities["thing"]
    ids = [make(registry, dbsession, name=n) for n in "xyz"]
    with dbsession() as db:
        red, blue = Tag(name="Red", key="red", colour="red"), Tag(name="Blue", key="blue")
        db.add_all([red, blue])
        db.flush()
        db.add_all(
            [
                TagLink(tag_id=red.id, entity="thing", record_id=ids[0]),
                TagLink(tag_id=blue.id, entity="thing", record_id=ids[0]),
                TagLink(tag_id=blue.id, entity="thing", record_id=ids[1]),
                # the same id on another type must not match
                TagLink(tag_id=red.id, entity="box", record_id=ids[2]),
            ]
        )
    with dbsession() as db:

        def found(*args, **kw):
            stmt = select(et.model.id).where(tag_filter_clause(et, *args, **kw))
            return sorted(db.execute(stmt).scalars())

        assert found(["RED"]) == [ids[0]]
        assert found(["red", "blue"]) == ids[:2]
        assert found(["red", "blue"], match_all=True) == [ids[0]]
        assert found([]) == []


def test_tags_on_the_detail_page(client, registry, dbsession):
    from kyklos.security.models import User

    app = client("thingseditor")
    with dbsession() as db:
        uid = db.execute(select(User.id).where(User.email == app.email)).scalar_one()
    tid = make(registry, dbsession, name="T", owner_id=uid)
    page = app.get(f"/things/{tid}")
    form = next(f for f in page.forms.values() if f.action.endswith("/tags"))
    form["tags"] = "VIP, <script>x</script>, "
    page = form.submit().follow()
    assert "Tags added." in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text and "<script>x" not in page.text
    assert sorted(n for n, _e, _r in links(dbsession)) == ["<script>x</script>", "VIP"]
    remove = next(
        f
        for f in page.forms.values()
        if f.action.endswith("/tags/remove") and f["tag"].value == "VIP"
    )
    page = remove.submit().follow()
    assert "Tag removed." in page.text
    assert [n for n, _e, _r in links(dbsession)] == ["<script>x</script>"]
    # CSRF is required
    res = app.post(f"/things/{tid}/tags", {"tags": "x"}, expect_errors=True)
    assert res.status_int in (400, 403)
    assert len(links(dbsession)) == 1


def test_purging_a_record_drops_its_tags(client, registry, dbsession):
    app = client("releditor")
    box = make(registry, dbsession, "box", name="B")
    app.post(f"/boxes/{box}/tags", {"tags": "Fragile", "csrf_token": csrf_of(app)})
    assert links(dbsession) == [("Fragile", "box", box)]
    app.post(f"/boxes/{box}/delete", {"csrf_token": csrf_of(app)})
    assert links(dbsession) == []


def test_tag_body_checked_like_every_api_body(editor, registry, dbsession):
    """Media type, syntax and size: 415/400/413 problem+json, nothing written."""
    tid = make(registry, dbsession, name="T", owner_id=editor.user_id)
    url = f"/api/v1/things/{tid}/tags"
    editor.post(url, "name=x", status=415)
    res = editor.post(url, b'{"name": "a", "name": "b"}',
                      headers={"Content-Type": "application/json"}, status=400)
    assert res.content_type == "application/problem+json"
    editor.post(url, b'{"name": "' + b"x" * 3_000_000 + b'"}',
                headers={"Content-Type": "application/json"}, status=413)
    assert links(dbsession) == []
