"""The list serialiser's shortcuts (loaded columns read from the instance dict, custom
dates converted inline) and the page query sharing its criteria with the count give
exactly what the record serialiser and a separate count give, for odd stored values
and for expired records too."""

from __future__ import annotations

import pytest
import transaction
from entities_support import insert_things, roles_synced, thing_rules  # noqa: F401
from pyramid.request import Request
from pyramid.scripting import prepare

from kyklos.entities import query, service

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def _request(registry, client, path="/"):
    req = Request.blank(path, headers={
        "Authorization": client.extra_environ["HTTP_AUTHORIZATION"]},
        base_url="http://localhost")
    env = prepare(request=req, registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    return request, env


def test_serializer_matches_service_for_odd_stored_values(api, registry, dbsession):
    admin = api("admin")
    for name, ftype in [("cf_day", "date"), ("cf_at", "datetime"), ("cf_amount", "decimal"),
                        ("cf_label", "string")]:
        admin.post_json("/api/v1/_custom-fields", {"entity": "thing", "name": name,
                        "type": ftype, "label": {"en": name}}, status=201)
    ed = api("thingseditor")
    ed.get("/api/v1/things")  # the custom-field definitions are loaded
    # stored values as an import, an old version or a hand edit may have left them:
    # non-canonical and invalid dates, a number where a date belongs, offsets, exponents
    odd = [
        {"cf_day": "2025-02-03", "cf_at": "2025-02-03T10:00:00Z", "cf_amount": "1.50"},
        {"cf_day": "20250203", "cf_at": "2025-02-03T12:00:00+02:00", "cf_amount": "1.5e3"},
        {"cf_day": "2025-W06-1", "cf_at": "not a time", "cf_amount": "x"},
        {"cf_day": "2025-02-30", "cf_at": None, "cf_amount": None, "cf_label": "é"},
        {"cf_day": 20250203, "cf_label": None},
        {},
    ]
    insert_things(registry, dbsession,
                  [{"name": f"odd{i}", "size": i, "custom": c} for i, c in enumerate(odd)])
    request, env = _request(registry, ed, "/?sort=name")
    try:
        et = registry.kyklos_entities["thing"]
        lp = query.parse_list_params(request, et, request.GET)
        rows = query.run_list(request, et, lp).items
        assert len(rows) == len(odd)
        for fields in (None, ["cf_day", "name", "cf_at", "cf_amount", "created_at"]):
            one = query.serializer(request, et, fields)
            assert [one(r) for r in rows] == [service.serialize(request, et, r, fields)
                                              for r in rows]
        # expired records: the values are not in the instance dict any more and load
        # again through the attributes, as the record serialiser reads them
        for r in rows:
            request.dbsession.expire(r)
        one = query.serializer(request, et)
        got = [one(r) for r in rows]
        for r in rows:
            request.dbsession.expire(r)
        assert got == [service.serialize(request, et, r) for r in rows]
        assert got[0]["cf_day"] == "2025-02-03"
        assert got[1]["cf_day"] == "2025-02-03"  # from_json accepted it, to_json is ISO
        assert got[3]["cf_day"] is None  # no such day
        assert got[4]["cf_day"] is None  # not text
    finally:
        request.tm.abort()
        env["closer"]()


def test_count_shares_the_page_criteria(api, registry, dbsession, query_counter):
    ed = api("thingseditor")
    insert_things(registry, dbsession, [{"name": f"c{i:02}", "size": i % 3} for i in range(30)])
    page = ed.get("/api/v1/things", {"size": "1", "limit": "4", "count": "exact"}).json
    assert page["count"] == 10 and not page["count_capped"]
    nxt = ed.get("/api/v1/things", {"size": "1", "limit": "4", "count": "exact",
                                    "cursor": page["next_cursor"]}).json
    assert nxt["count"] == 10  # the count ignores the cursor
    assert len({i["id"] for i in page["items"] + nxt["items"]}) == 8
    with query_counter() as qc:
        ed.get("/api/v1/things", {"size": "1", "limit": "4"})
    counts = [s for s in qc.statements if "count(" in s.lower()]
    assert len(counts) == 1 and "samplea_thing" in counts[0]
