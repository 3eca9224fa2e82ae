"""Duplicates: normalisation (transliteration, e-mail, phone), the warning on create
(API 409, form "save again"), the scan of existing data, and the merge that re-points
references and keeps both histories."""

from __future__ import annotations

import pytest
from entities_support import roles_synced, thing_rules  # noqa: F401 - fixtures
from sqlalchemy import func, select

from kyklos.duplicates import normalise
from kyklos.entities.history import AuditEntry
from kyklos.entities.tags import TagLink
from kyklos.text import fold

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


@pytest.fixture
def kyklos_settings():
    # The sample plugin declares no rules; a deployment may add them in its settings.
    return {"kyklos.duplicates.rules": "thing name fold name\nthing cf_email email cf_email"}


def test_normalisation():
    assert fold("Παπαδόπουλος") == fold("Papadopoulos")
    assert fold("Wójcik") == fold("Wojcik") and fold("ＷÓJCIK") == fold("wojcik")
    assert normalise("email", " John.Doe@Example.COM\u200b ") == "john.doe@example.com"
    assert normalise("email", "not-an-address") == ""
    assert normalise("phone", "+30 2310 123-456") == normalise("phone", "0030 2310123456")
    assert normalise("phone", "12") == ""
    from kyklos_sdk import fold as sdk_fold

    assert sdk_fold is fold


def test_warning_on_create_api(api):
    ed = api("thingseditor")
    first = ed.post_json("/api/v1/things", {"name": "Παπαδόπουλος"}, status=201).json
    res = ed.post_json("/api/v1/things", {"name": "Papadopoulos"}, status=409)
    assert res.json["duplicates"] == [{"id": first["id"], "title": "Παπαδόπουλος",
                                       "rule": "name"}]
    ed.post_json("/api/v1/things?duplicates=allow", {"name": "Papadopoulos"}, status=201)
    ed.post_json("/api/v1/things", {"name": "Wójcik"}, status=201)
    ed.post_json("/api/v1/things", {"name": "Wojcik"}, headers={"X-Kyklos-Duplicates": "allow"},
                 status=201)
    # a rule may name a custom field
    api("admin").post_json("/api/v1/_custom-fields", {"entity": "thing", "name": "cf_email",
                           "type": "email", "label": "E-mail"}, status=201)
    ed.post_json("/api/v1/things", {"name": "Acme", "cf_email": "info@acme.example"},
                 status=201)
    res = ed.post_json("/api/v1/things", {"name": "ACME SA",
                       "cf_email": "INFO@acme.example"}, status=409)
    assert res.json["duplicates"][0]["rule"] == "cf_email"
    # a look-alike the user cannot see is not revealed
    reader_only = api("thingsreader")
    assert reader_only.get("/api/v1/things").json["items"]


def test_warning_on_create_form(client):
    app = client("thingseditor")
    form = app.get("/things/new").forms["deform"] if "deform" in app.get("/things/new").forms \
        else [f for f in app.get("/things/new").forms.values() if "name" in f.fields][-1]
    form["name"] = "Anvil Ltd"
    form.submit().follow()
    page = app.get("/things/new")
    form = [f for f in page.forms.values() if "name" in f.fields][-1]
    form["name"] = "anvil  ltd"
    res = form.submit(status=400)
    assert "Possible duplicate" in res.text and "Anvil Ltd" in res.text
    form = [f for f in res.forms.values() if "name" in f.fields][-1]
    res = form.submit().follow()
    assert "anvil  ltd" in res.text


def test_scan_and_merge(api, client, dbsession, registry):
    ed = api("thingseditor")
    a = ed.post_json("/api/v1/things", {"name": "Γιώργος Παπαδόπουλος", "colour": "red"},
                     status=201).json
    b = ed.post_json("/api/v1/things?duplicates=allow",
                     {"name": "Giorgos Papadopoulos", "size": 4}, status=201).json
    ed.post_json("/api/v1/things", {"name": "Unrelated"}, status=201)
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:  # a reference the core sees through the tag table
        from kyklos.entities.tags import Tag

        tag = Tag(name="vip", key="vip")
        db.add(tag)
        db.flush()
        db.add(TagLink(tag_id=tag.id, entity="thing", record_id=b["id"]))
    res = ed.post_json("/api/v1/_duplicates/scan", {"entity": "thing"}, status=202)
    assert res.json["job_id"]
    pairs = ed.get("/api/v1/_duplicates", {"entity": "thing"}).json["items"]
    assert [[r["id"] for r in p["records"]] for p in pairs] == [[a["id"], b["id"]]]
    app = client("thingseditor")
    page = app.get("/duplicates/thing")
    assert "Giorgos Papadopoulos" in page.text
    form = [f for f in page.forms.values() if "pair" in f.fields][0]
    form.submit("action", value="keep_first").follow()
    got = ed.get(f"/api/v1/things/{a['id']}").json
    assert got["colour"] == "red" and got["size"] == 4  # empty field filled from the loser
    ed.get(f"/api/v1/things/{b['id']}", status=404)  # the loser is (soft) deleted
    with dbsession() as db:
        links = db.execute(select(TagLink.record_id)).scalars().all()
        assert links == [a["id"]]
        actions = db.execute(
            select(AuditEntry.action).where(AuditEntry.entity == "thing",
                                            AuditEntry.record_id == a["id"])
            .order_by(AuditEntry.id)
        ).scalars().all()
        assert actions.count("create") == 2 and "merge" in actions  # both histories
        assert db.execute(select(func.count()).select_from(model).where(
            model.id == b["id"], model.deleted_at.is_not(None))).scalar() == 1
    assert ed.get("/api/v1/_duplicates", {"entity": "thing"}).json["items"] == []


def test_merge_api_permissions(api):
    ed = api("thingseditor")
    a = ed.post_json("/api/v1/things", {"name": "Bolt"}, status=201).json
    b = ed.post_json("/api/v1/things?duplicates=allow", {"name": "BOLT"}, status=201).json
    api("thingsreader").post_json(f"/api/v1/things/{a['id']}/merge", {"loser": b["id"]},
                                  status=403)
    ed.post_json(f"/api/v1/things/{a['id']}/merge", {"loser": a["id"]}, status=400)
    ed.post_json(f"/api/v1/things/{a['id']}/merge", {"loser": 999999}, status=404)
    res = ed.post_json(f"/api/v1/things/{a['id']}/merge", {"loser": b["id"]})
    assert res.json["id"] == a["id"]


def test_add_duplicate_rule_directive():
    from pyramid.config import Configurator

    from kyklos.duplicates import Rule, add_duplicate_rule

    config = Configurator(settings={})
    config.registry.kyklos_duplicate_rules = {}
    config.add_directive("add_duplicate_rule", add_duplicate_rule)
    config.add_duplicate_rule("person", "email", "email", kind="email")
    config.add_duplicate_rule("person", "name", ["first_name", "last_name"], kind="fold")
    config.commit()
    assert config.registry.kyklos_duplicate_rules["person"] == [
        Rule("person", "email", ("email",), "email"),
        Rule("person", "name", ("first_name", "last_name"), "fold"),
    ]
    with pytest.raises(ValueError):
        config.add_duplicate_rule("person", "x", "x", kind="soundex")


def test_record_merge_hook_sees_winner_and_loser(api, registry):
    """A plugin re-points references the core cannot see through kyklos_record_merge."""
    from kyklos.hookspecs import hookimpl

    calls = []

    class Plugin:
        @hookimpl
        def kyklos_record_merge(self, request, entity_type, winner, loser):
            calls.append((entity_type.name, winner.id, loser.id, loser.deleted_at))

    plugin = Plugin()
    registry.kyklos_pm.register(plugin, name="test-merge-hook")
    try:
        ed = api("thingseditor")
        a = ed.post_json("/api/v1/things", {"name": "Nut"}, status=201).json
        b = ed.post_json("/api/v1/things?duplicates=allow", {"name": "NUT"}, status=201).json
        ed.post_json(f"/api/v1/things/{a['id']}/merge", {"loser": b["id"]})
    finally:
        registry.kyklos_pm.unregister(plugin)
    assert calls == [("thing", a["id"], b["id"], None)]  # before the loser is deleted
