"""The list path's cheaper serialisation and loading (issue 11) give exactly what the
record serialiser gives, with a fixed number of statements whatever the page size."""

from __future__ import annotations

import pytest
from entities_support import insert_things, roles_synced, thing_rules  # noqa: F401 - fixtures

from kyklos.entities import query, service

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def test_list_items_equal_the_record_serialiser(api, registry, kyklos_app):
    admin = api("admin")
    for name, ftype, extra in [("cf_day", "date", {}), ("cf_amount", "decimal", {}),
                               ("cf_price", "money", {}), ("cf_at", "datetime", {}),
                               ("cf_n", "integer", {}), ("cf_ok", "boolean", {}),
                               ("cf_tags", "multichoice", {"choices": ["a", "b"]})]:
        admin.post_json("/api/v1/_custom-fields", {"entity": "thing", "name": name,
                        "type": ftype, "label": {"en": name}, **extra}, status=201)
    ed = api("thingseditor")
    ed.post_json("/api/v1/things", {"name": "full", "size": 3, "cf_day": "2025-02-03",
                                    "cf_amount": "1.50", "cf_price": {"amount": "9.90",
                                    "currency": "EUR"}, "cf_at": "2025-02-03T10:00:00Z",
                                    "cf_n": 4, "cf_ok": True, "cf_tags": ["b", "a"]},
                 status=201)
    ed.post_json("/api/v1/things", {"name": "empty"}, status=201)
    listed = ed.get("/api/v1/things", {"sort": "name"}).json["items"]
    singles = [ed.get(f"/api/v1/things/{i['id']}").json for i in listed]
    assert listed == singles
    projected = ed.get("/api/v1/things", {"sort": "name", "fields": "cf_price,name,cf_day"})
    assert [list(i) for i in projected.json["items"]] == [
        ["id", "version", "cf_price", "name", "cf_day"]] * 2
    assert projected.json["items"][0]["cf_price"] == singles[0]["cf_price"]


def test_statement_count_does_not_grow_with_the_page(api, registry, dbsession, query_counter):
    ed = api("thingseditor")
    insert_things(registry, dbsession, [{"name": f"t{i:03}"} for i in range(120)])
    counts = []
    for limit in ("5", "100"):
        ed.get("/api/v1/things", {"limit": limit})  # warm: definitions, caches
        with query_counter() as qc:
            assert len(ed.get("/api/v1/things", {"limit": limit}).json["items"]) == int(limit)
        counts.append(qc.count)
    assert counts[0] == counts[1]
    with query_counter() as qc:
        ed.get("/api/v1/things", {"limit": "100", "fields": "name"})
    assert qc.count <= counts[1]


def test_serializer_unit_matches_service(registry, api, kyklos_app, dbsession):
    from pyramid.request import Request
    from pyramid.scripting import prepare

    ed = api("thingseditor")
    ed.post_json("/api/v1/things", {"name": "x", "size": 2}, status=201)
    req = Request.blank("/", headers={"Authorization": ed.extra_environ["HTTP_AUTHORIZATION"]},
                        base_url="http://localhost")
    env = prepare(request=req, registry=registry)
    request = env["request"]
    try:
        import transaction

        request.tm = transaction.TransactionManager(explicit=True)
        request.tm.begin()
        et = registry.kyklos_entities["thing"]
        lp = query.parse_list_params(request, et, req.GET)
        rows = query.run_list(request, et, lp).items
        for fields in (None, ["name", "size"]):
            one = query.serializer(request, et, fields)
            assert [one(r) for r in rows] == [service.serialize(request, et, r, fields)
                                              for r in rows]
        request.tm.abort()
    finally:
        env["closer"]()
