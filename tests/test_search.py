"""Global search: the index follows every write, results are grouped by type, and a user
finds only records they may read (type permission and record rules)."""

from __future__ import annotations

import pytest
import transaction
from sqlalchemy import delete, select

from kyklos_sdk.testing import csrf_of


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplerel"]


def titles(app, q, **params) -> dict[str, list[str]]:
    res = app.get("/api/v1/_search", {"q": q, **params})
    return {g["type"]: [i["title"] for i in g["items"]] for g in res.json["groups"]}


def create(app, slug, **data) -> int:
    return app.post_json(f"/api/v1/{slug}", data, status=201).json["id"]


@pytest.fixture
def editor(api):
    return api("thingseditor", "releditor")


def test_written_records_are_found_grouped_by_type(editor):
    t = create(editor, "things", name="Alphabet soup")
    create(editor, "things", name="Beta")
    b = create(editor, "boxes", name="Red box", code="ALPHA-7", notes="fragile glass")
    assert titles(editor, "alpha") == {"box": ["Red box"], "thing": ["Alphabet soup"]}
    # a word inside the text (trigram/substring), and a searchable non-title field
    assert titles(editor, "phabe") == {"thing": ["Alphabet soup"]}
    assert titles(editor, "fragile") == {"box": ["Red box"]}
    res = editor.get("/api/v1/_search", {"q": "alphabet"}).json
    [item] = res["groups"][0]["items"]
    assert item["id"] == t and item["url"].endswith(f"/api/v1/things/{t}")
    assert item["html_url"].endswith(f"/things/{t}")
    assert titles(editor, "glass", type="box") == {"box": ["Red box"]}
    assert titles(editor, "alpha", type="thing") == {"thing": ["Alphabet soup"]}
    assert b


def test_the_index_follows_updates_and_deletes(editor):
    t = create(editor, "things", name="Original name")
    editor.patch_json(f"/api/v1/things/{t}", {"name": "Renamed thing"})
    assert titles(editor, "original") == {}
    assert titles(editor, "renamed") == {"thing": ["Renamed thing"]}
    editor.delete(f"/api/v1/things/{t}", status=204)
    assert titles(editor, "renamed") == {}
    editor.post(f"/api/v1/things/{t}/restore")
    assert titles(editor, "renamed") == {"thing": ["Renamed thing"]}
    b = create(editor, "boxes", name="Gone box")
    editor.delete(f"/api/v1/boxes/{b}", status=204)
    assert titles(editor, "gone") == {}


def test_permissions_and_record_rules_apply(api, editor, dbsession):
    from kyklos.security.models import RecordRule, Role

    create(editor, "things", name="Shared widget")
    create(editor, "boxes", name="Widget box")
    # no read permission on a type: none of its records
    reader = api("thingsreader")
    assert titles(reader, "widget") == {"thing": ["Shared widget"]}
    assert titles(api("user"), "widget") == {}
    # record rules: a role that reads only its own things
    with dbsession() as db:
        role = Role(
            name="ownthings",
            title="Own things",
            permissions=["samplea.thing.read", "samplea.thing.create"],
        )
        db.add(role)
        db.flush()
        db.add(RecordRule(role_id=role.id, entity="thing", action="read", scope="own"))
        db.add(RecordRule(role_id=role.id, entity="thing", action="write", scope="own"))
    own = api("ownthings")
    create(own, "things", name="My widget")
    assert titles(own, "widget") == {"thing": ["My widget"]}
    assert sorted(titles(editor, "widget")["thing"]) == ["My widget", "Shared widget"]


def test_search_page(client, registry, dbsession):
    app = client("thingseditor")
    form = app.get("/things/new").forms["k-record-form"]
    form["name"] = "Pelican <b>case</b>"
    form.submit("save")
    page = app.get("/search", {"q": "pelican"})
    section = page.text.split('class="card mb-3 k-search-group"', 1)[1]
    assert "Things" in section and "Pelican &lt;b&gt;case&lt;/b&gt;" in section
    assert "/things/" in section
    # the layout's search box is filled in with the query
    assert 'id="k-search" name="q"' in page.text and 'value="pelican"' in page.text
    page = app.get("/search", {"q": "zebra"})
    assert "Nothing found" in page.text
    assert app.get("/search", {"q": "%%"}).status_int == 200


@pytest.mark.parametrize(
    "q",
    [
        '" OR *',
        "NEAR(a b)",
        "a:*|b",
        "'; DROP TABLE x; --",
        "x" * 500,
        "ab",
        "\u0391\u03b8\u03ae\u03bd\u03b1",
    ],
)
def test_odd_queries_never_fail(editor, q):
    create(editor, "things", name="Αθήνα office")
    res = editor.get("/api/v1/_search", {"q": q}, expect_errors=True)
    assert res.status_int in (200, 400)
    if q == "\u0391\u03b8\u03ae\u03bd\u03b1":
        assert titles(editor, q) == {"thing": ["Αθήνα office"]}


def test_empty_query_is_a_400(editor):
    res = editor.get("/api/v1/_search", {"q": "  %% "}, status=400)
    assert res.json["errors"][0]["field"] == "q"


def test_short_words_match_too(editor):
    create(editor, "things", name="Al Pacino")
    assert titles(editor, "al") == {"thing": ["Al Pacino"]}


def test_reindex_rebuilds_from_the_records(registry, dbsession, editor):
    from pyramid.scripting import prepare

    from kyklos.entities.search import SearchDoc, reindex

    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add_all([model(name="Quiet one"), model(name="Quiet two")])
    # written behind the service's back, and still indexed (kyklos.entities.upkeep)
    assert sorted(titles(editor, "quiet")["thing"]) == ["Quiet one", "Quiet two"]
    with dbsession() as db:  # an index lost (restored from an old backup, say)
        db.execute(delete(SearchDoc))
    assert titles(editor, "quiet") == {}
    env = prepare(registry=registry)
    try:
        request = env["request"]
        request.tm = transaction.TransactionManager(explicit=True)
        with request.tm:
            written = reindex(request)
    finally:
        env["closer"]()
    assert written == 2
    assert sorted(titles(editor, "quiet")["thing"]) == ["Quiet one", "Quiet two"]
    with dbsession() as db:
        assert db.execute(select(SearchDoc.entity)).scalars().all() == ["thing", "thing"]


def test_ui_writes_are_indexed(client):
    app = client("releditor")
    form = app.get("/boxes/new").forms["k-record-form"]
    form["name"] = "Toolbox"
    form["notes"] = "contains hammers"
    page = form.submit("save").follow()
    res = app.get("/search", {"q": "hammers"})
    assert "Toolbox" in res.text
    url = page.request.path
    app.post(url + "/delete", {"csrf_token": csrf_of(app)})
    res = app.get("/search", {"q": "hammers"})
    assert "Nothing found" in res.text and "k-search-group" not in res.text
