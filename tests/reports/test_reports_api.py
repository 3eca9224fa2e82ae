"""Reports (RPT-03) through the API: grouping by fields, custom fields and periods in
the user's time zone; measures; the list's filters; refusals naming the reason; money at
dated rates; saving, sharing, pinning, exporting, drilling to the records."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from entities_support import grant, insert_things, roles_synced, thing_rules  # noqa: F401
from sqlalchemy import select

from kyklos.security.models import FieldPermission, Role, User

pytestmark = pytest.mark.usefixtures("thing_rules")
PROBLEM = "application/problem+json"
UTC = dt.UTC


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplemoney"]


def errors_of(res):
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def run(app, spec, status=200):
    return app.post_json("/api/v1/_reports/run", {"spec": spec}, status=status)


@pytest.fixture
def things(api, registry, dbsession):
    admin = api("admin")
    admin.post_json(
        "/api/v1/_custom-fields",
        {
            "entity": "thing",
            "name": "cf_tier",
            "type": "choice",
            "label": "Tier",
            "filterable": True,
            "choices": [{"value": "gold", "label": "Gold"}, {"value": "iron", "label": "Iron"}],
        },
        status=201,
    )
    ed = api("thingseditor")
    rows = [
        ("a", "red", 1, "gold"),
        ("b", "red", 5, "iron"),
        ("c", "blue", 5, "gold"),
        ("d", "blue", 9, None),
        ("e", "green", 2, "gold"),
        ("f", None, 4, None),
    ]
    ids = {}
    for name, colour, size, tier in rows:
        body = {"name": name, "colour": colour, "size": size}
        if tier:
            body["cf_tier"] = tier
        ids[name] = ed.post_json("/api/v1/things", body, status=201).json["id"]
    return ed, ids


def by_text(res, key="d0_text"):
    return {r[key]: r for r in res.json["rows"]}


def test_group_by_a_field_with_count_sum_avg_min_max(things):
    ed, _ids = things
    res = run(
        ed,
        {
            "entity": "thing",
            "group_by": [{"field": "colour"}],
            "measures": [
                {"op": "count"},
                {"op": "sum", "field": "size"},
                {"op": "avg", "field": "size"},
                {"op": "max", "field": "size"},
            ],
            "sort": "d0",
        },
    )
    rows = by_text(res)
    assert rows["red"]["m0"] == 2 and rows["red"]["m1"] == 6 and rows["red"]["m2"] == "3.00"
    assert rows["blue"]["m3"] == 9
    assert rows["(not set)"]["m0"] == 1  # the empty group is named in words
    assert [c["title"] for c in res.json["columns"]][:3] == [
        "Colour",
        "Number of records",
        "Sum of Size",
    ]
    res = run(
        ed,
        {
            "entity": "thing",
            "group_by": [{"field": "colour"}],
            "measures": [{"op": "min", "field": "size"}],
        },
    )
    assert by_text(res)["blue"]["m0"] == 5
    # the list's filters, in the list's vocabulary
    res = run(
        ed, {"entity": "thing", "filters": {"size__gte": "5"}, "group_by": [{"field": "colour"}]}
    )
    assert {r["d0"]: r["m0"] for r in res.json["rows"]} == {"red": 1, "blue": 2}
    # no grouping: one row of totals
    res = run(ed, {"entity": "thing", "measures": [{"op": "sum", "field": "size"}]})
    assert res.json["rows"][0]["m0"] == 26


def test_custom_field_groups_in_words_and_sort_and_limit(things):
    ed, _ids = things
    res = run(ed, {"entity": "thing", "group_by": [{"field": "cf_tier"}], "sort": "-m0"})
    assert [(r["d0_text"], r["m0"]) for r in res.json["rows"]] == [
        ("Gold", 3),
        ("(not set)", 2),
        ("Iron", 1),
    ]
    res = run(
        ed, {"entity": "thing", "group_by": [{"field": "cf_tier"}], "sort": "-m0", "limit": 1}
    )
    assert len(res.json["rows"]) == 1 and res.json["truncated"] is True
    # two dimensions: the pivot's cells
    res = run(ed, {"entity": "thing", "group_by": [{"field": "colour"}, {"field": "cf_tier"}]})
    cells = {(r["d0"], r["d1"]): r["m0"] for r in res.json["rows"]}
    assert cells[("red", "gold")] == 1 and cells[("blue", None)] == 1


def test_periods_are_the_users_days(api, registry, dbsession, make_user):
    # 23:30 UTC on 31 January is already 1 February in Athens
    ids = insert_things(registry, dbsession, [{"name": "late"}, {"name": "mid"}])
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.get(model, ids[0]).created_at = dt.datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
        db.get(model, ids[1]).created_at = dt.datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    reader = api("thingsreader")
    with dbsession() as db:
        db.get(User, reader.user_id).timezone = "UTC"
    spec = {
        "entity": "thing",
        "group_by": [{"field": "created_at", "bucket": "month"}],
        "sort": "d0",
    }
    got = {r["d0"]: r["m0"] for r in run(reader, spec).json["rows"]}
    assert got == {"2026-01-01": 2}
    with dbsession() as db:
        user = db.get(User, reader.user_id)
        user.timezone = "Europe/Athens"
    rows = run(reader, spec).json["rows"]
    assert {r["d0"]: r["m0"] for r in rows} == {"2026-01-01": 1, "2026-02-01": 1}
    assert [r["d0_text"] for r in rows] == ["January 2026", "February 2026"]
    for bucket, first in (
        ("week", "2026-01-12"),
        ("quarter", "2026-01-01"),
        ("year", "2026-01-01"),
        ("day", "2026-01-15"),
    ):
        spec["group_by"][0]["bucket"] = bucket
        assert run(reader, spec).json["rows"][0]["d0"] == first, bucket
    # the list cannot filter things by creation: no drill link rather than a wrong one
    assert run(reader, spec).json["rows"][0]["records_url"] is None


def test_periods_follow_daylight_saving_time(api, registry, dbsession):
    # 00:30 in Athens on the first of a month is still the previous day in UTC, and by
    # two hours in winter but three in summer: a bucket computed in UTC, or with one
    # fixed offset, puts these in the wrong month (or day, or year)
    moments = {
        "winter": dt.datetime(2026, 1, 31, 22, 30, tzinfo=UTC),  # 1 Feb 00:30 +02
        "summer": dt.datetime(2026, 6, 30, 21, 30, tzinfo=UTC),  # 1 Jul 00:30 +03
        "new year": dt.datetime(2025, 12, 31, 22, 30, tzinfo=UTC),  # 1 Jan 2026 00:30 +02
        "spring day": dt.datetime(2026, 3, 28, 22, 30, tzinfo=UTC),  # 29 Mar 00:30 +02
        "autumn day": dt.datetime(2026, 10, 24, 21, 30, tzinfo=UTC),  # 25 Oct 00:30 +03
        "far": dt.datetime(2150, 6, 30, 21, 30, tzinfo=UTC),  # 1 Jul 2150 00:30 +03
    }
    ids = insert_things(registry, dbsession, [{"name": n} for n in moments])
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        for i, when in zip(ids, moments.values(), strict=True):
            db.get(model, i).created_at = when
    reader = api("thingsreader")
    with dbsession() as db:
        db.get(User, reader.user_id).timezone = "Europe/Athens"

    def groups(bucket):
        spec = {"entity": "thing", "group_by": [{"field": "created_at", "bucket": bucket}]}
        return {r["d0"]: r["m0"] for r in run(reader, spec).json["rows"]}

    assert groups("month") == {
        "2026-01-01": 1,
        "2026-02-01": 1,
        "2026-03-01": 1,
        "2026-07-01": 1,
        "2026-10-01": 1,
        "2150-07-01": 1,
    }
    assert groups("day") == {
        "2026-01-01": 1,
        "2026-02-01": 1,
        "2026-03-29": 1,
        "2026-07-01": 1,
        "2026-10-25": 1,
        "2150-07-01": 1,
    }
    assert groups("year") == {"2026-01-01": 5, "2150-01-01": 1}
    assert groups("quarter") == {
        "2026-01-01": 3,
        "2026-07-01": 1,
        "2026-10-01": 1,
        "2150-07-01": 1,
    }
    # ISO weeks start on Monday: 1 Feb 2026 is a Sunday, 29 Mar a Sunday, 25 Oct a Sunday
    assert groups("week") == {
        "2025-12-29": 1,
        "2026-01-26": 1,
        "2026-03-23": 1,
        "2026-06-29": 1,
        "2026-10-19": 1,
        "2150-06-29": 1,
    }


def records(app, url):
    path = url.replace("http://localhost", "").replace("/things/", "/api/v1/things")
    path = path.replace("/deals/", "/api/v1/deals")
    return sorted(i["name"] for i in app.get(path).json["items"])


def test_drilling_from_a_cell_lists_its_records(things):
    ed, _ids = things
    res = run(
        ed,
        {
            "entity": "thing",
            "filters": {"size__gte": "2"},
            "group_by": [{"field": "colour"}, {"field": "cf_tier"}],
        },
    ).json
    cells = {(r["d0"], r["d1"]): r for r in res["rows"]}
    assert records(ed, cells[("blue", "gold")]["records_url"]) == ["c"]
    assert records(ed, cells[("blue", None)]["records_url"]) == ["d"]
    assert records(ed, cells[(None, None)]["records_url"]) == ["f"]
    for r in res["rows"]:
        assert len(records(ed, r["records_url"])) == r["m0"]


def test_bad_reports_are_refused_naming_each_part(things, dbsession, api):
    ed, _ids = things
    res = run(
        ed,
        {
            "entity": "thing",
            "group_by": [{"field": "id) UNION"}, {"field": "name"}],
            "measures": [{"op": "sum", "field": "colour"}, {"op": "median"}],
            "filters": {"size__contains": "x", "sort": "name"},
            "sort": "m9",
            "limit": 0,
            "chart": "3d",
            "currency": "XXQ",
        },
        status=400,
    )
    errors = errors_of(res)
    assert {
        "group_by.0.field",
        "measures.0.field",
        "measures.1.op",
        "filters.size__contains",
        "filters.sort",
        "sort",
        "limit",
        "chart",
        "currency",
    } <= set(errors)
    assert "group_by.1.field" not in errors  # a name is a fine group
    res = run(
        ed, {"entity": "thing", "group_by": [{"field": "size", "bucket": "month"}]}, status=400
    )
    assert "group_by.0.bucket" in errors_of(res)
    res = run(ed, {"entity": "nothing"}, status=400)
    assert "entity" in errors_of(res)
    ed.post_json("/api/v1/_reports/run", ["x"], status=400)
    # a field the viewer may not read: refused with the reason, wherever it is used
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "thingsreader")).scalar_one()
        db.add(FieldPermission(role_id=role.id, entity="thing", field="size", access="none"))
    reader = api("thingsreader")
    for spec, key in (
        ({"group_by": [{"field": "size"}]}, "group_by.0.field"),
        ({"measures": [{"op": "sum", "field": "size"}]}, "measures.0.field"),
        ({"filters": {"size__gte": "1"}}, "filters.size__gte"),
    ):
        errors = errors_of(run(reader, {"entity": "thing", **spec}, status=400))
        assert "may not read" in errors[key], (key, errors)
    options = reader.get("/api/v1/_reports/options", {"entity": "thing"}).json
    assert "size" not in {g["field"] for g in options["group_by"]}
    assert "size" not in {m["field"] for m in options["measures"]}


def test_money_is_converted_at_the_rates_of_each_records_day(api, dbsession):
    from kyklos.entities.money import set_rate

    with dbsession() as db:
        set_rate(db, "USD", dt.date(2026, 1, 1), Decimal("2"), base="EUR")
        set_rate(db, "USD", dt.date(2026, 6, 1), Decimal("4"), base="EUR")
    dealer = api("dealer")
    for name, amount, cur, day in (
        ("x", "100", "EUR", "2026-02-01"),
        ("y", "100", "USD", "2026-02-01"),
        ("z", "100", "USD", "2026-07-01"),
        ("w", "50", "GBP", "2026-07-01"),
    ):
        dealer.post_json(
            "/api/v1/deals",
            {"name": name, "value": {"amount": amount, "currency": cur}, "closes_on": day},
            status=201,
        )
    spec = {
        "entity": "deal",
        "measures": [{"op": "sum", "field": "value"}, {"op": "count"}],
        "currency": "EUR",
        "rates": "closes_on",
    }
    res = run(dealer, spec).json
    # 100 EUR + 100 USD at 2 + 100 USD at 4; the pound has no rate: left out and said so
    assert res["rows"][0]["m0"] == "175.00" and res["unconverted"] == 1
    assert res["rows"][0]["m0_text"] == "€175.00"
    assert [c["format"] for c in res["columns"]] == ["money", "count"]
    spec.update(currency="USD", group_by=[{"field": "closes_on", "bucket": "quarter"}], sort="d0")
    rows = run(dealer, spec).json["rows"]
    assert [(r["d0_text"], r["m0"]) for r in rows] == [("Q1 2026", "300.00"), ("Q3 2026", "100.00")]
    assert records(dealer, rows[0]["records_url"]) == ["x", "y"]


def test_save_share_pin_export(things, api, client, dbsession):
    ed, _ids = things
    spec = {
        "entity": "thing",
        "group_by": [{"field": "colour"}],
        "measures": [{"op": "count"}, {"op": "sum", "field": "size"}],
    }
    rep = ed.post_json("/api/v1/_reports", {"name": "By colour", "spec": spec}, status=201).json
    url = f"/api/v1/_reports/{rep['id']}"
    assert rep["spec"]["measures"][1] == {"op": "sum", "field": "size"}
    rows = ed.get(url + "/run").json["rows"]
    assert {r["d0"]: r["m0"] for r in rows}["red"] == 2
    # not shared: another reader cannot find it
    reader = api("thingsreader")
    reader.get(url, status=404)
    assert reader.get("/api/v1/_reports").json["items"] == []
    reader.patch_json(url, {"name": "x"}, status=404)
    # shared with the reader's role: visible, not editable
    ed.patch_json(url, {"shared_roles": ["thingsreader"]})
    assert reader.get(url).json["name"] == "By colour"
    reader.patch_json(url, {"name": "x"}, status=403)
    reader.delete(url, status=403)
    bad = ed.patch_json(
        url, {"shared_roles": ["nobody"], "shared_users": [999999, "x"]}, status=400
    )
    assert {"shared_roles", "shared_users"} <= set(errors_of(bad))
    # pinned: a tile of the reader's home page, with the reader's numbers
    assert reader.put(url + "/pin").json["pinned"] is True
    web = client("thingsreader")
    with dbsession() as db:
        reader_id = db.execute(select(User.id).where(User.id == reader.user_id)).scalar_one()
        web_user = db.execute(select(User).where(User.email != None)).scalars().all()  # noqa: E711
    assert reader_id and web_user
    web_url = f"/reports/{rep['id']}"
    page = web.get(web_url)
    assert page.html.find(id="report-table") is not None
    # export through the core writers: groups in words, numbers as numbers
    ed.get(url + "/export", {"format": "ods"}, status=400)
    reader.get(url + "/export", {"format": "csv"}, status=403)  # no export permission
    body = ed.get(url + "/export", {"format": "csv"}).body.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(body)))
    assert table[0] == ["Colour", "Number of records", "Sum of Size"]
    assert ["red", "2", "6"] in table
    xlsx = ed.get(url + "/export", {"format": "xlsx"})
    assert xlsx.body[:2] == b"PK"
    assert reader.delete(url + "/pin").json["pinned"] is False
    ed.delete(url, status=204)
    ed.get(url, status=404)


def test_pinned_report_is_a_home_tile(things, client, dbsession):
    web = client("thingseditor")
    ed, _ids = things
    csrf = web.get("/reports/new?entity=thing").html.find("input", {"name": "csrf_token"})
    form = {
        "csrf_token": csrf["value"],
        "entity": "thing",
        "was_entity": "thing",
        "group.0": "colour",
        "measure.0.op": "count",
        "sort": "-m0",
        "limit": "50",
        "chart": "bar",
        "name": "Colours",
        "action": "save",
    }
    res = web.post("/reports/new", form, status=302)
    rid = int(res.location.rstrip("/").rsplit("/", 1)[1])
    page = web.get(f"/reports/{rid}")
    assert page.html.find(id="report-chart") is not None
    form = {
        "csrf_token": csrf["value"],
        "entity": "thing",
        "was_entity": "thing",
        "group.0": "colour",
        "measure.0.op": "count",
        "action": "pin",
    }
    web.post(f"/reports/{rid}", form, status=302)
    home = web.get("/")
    tile = home.html.find(id=f"k-widget-report-{rid}-chart")
    assert tile is not None and "red" in tile["data-chart"]
