"""One access-control engine for aggregates: a report counts exactly the records its
viewer may read, and a related field (the account's city) only where the viewer may
read the account. Compared with a recount in Python of what the same viewer reads
through the list API (the oracle), not with the engine's SQL."""

from __future__ import annotations

from collections import Counter

import pytest

from kyklos.security.models import RecordRule, Role, Territory, TerritoryValue, UserTerritory


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


@pytest.fixture
def world(api, registry, dbsession):
    ets = registry.kyklos_entities
    perms = [ets[n].permission("read") for n in ("account", "person")]
    with dbsession() as db:
        role = Role(name="city_rep", title="City rep", permissions=perms)
        db.add(role)
        db.flush()
        for n in ("account", "person"):
            db.add(RecordRule(role_id=role.id, entity=n, action="read", scope="territory"))
        # and the people the rep owns, wherever they are
        db.add(RecordRule(role_id=role.id, entity="person", action="read", scope="own"))
    admin = api("admin")
    rep = api("city_rep")
    with dbsession() as db:
        t = Territory(name="Greece", description="")
        db.add(t)
        db.flush()
        db.add(TerritoryValue(territory_id=t.id, value="GR"))
        db.add(UserTerritory(user_id=rep.user_id, territory_id=t.id))
    accounts = {}
    for key, country, city in (
        ("ath", "GR", "Athens"),
        ("pat", "GR", "Patras"),
        ("ath2", "GR", "Athens"),
        ("clu", "RO", "Cluj"),
        ("buc", "RO", "Bucharest"),
    ):
        accounts[key] = admin.post_json(
            "/api/v1/accounts", {"name": f"Acc {key}", "country": country, "city": city}, status=201
        ).json["id"]
    n = 0
    for acc, own_country, owned, times in (
        ("ath", None, False, 3),
        ("pat", "RO", False, 2),
        ("ath2", None, False, 1),
        ("clu", "GR", False, 2),
        ("buc", None, False, 1),
        (None, "GR", False, 2),
        (None, "RO", False, 1),
        ("clu", None, True, 2),
        ("buc", "RO", True, 1),
    ):
        for _i in range(times):
            n += 1
            body = {"first_name": "Oracle", "last_name": f"p{n}", "country": own_country}
            if acc:
                body["account_id"] = accounts[acc]
            if owned:
                body["owner_id"] = rep.user_id
            admin.post_json("/api/v1/persons", body, status=201)
    return admin, rep


def _visible(app, slug):
    items = app.get(f"/api/v1/{slug}?limit=200").json["items"]
    return {r["id"]: r for r in items}


@pytest.mark.parametrize("who", ["admin", "rep"])
def test_report_counts_equal_a_recount_of_what_the_viewer_reads(world, who):
    admin, rep = world
    app = admin if who == "admin" else rep
    people = _visible(app, "persons")
    accounts = _visible(app, "accounts")
    oracle = Counter()
    for p in people.values():
        acc = accounts.get(p.get("account_id"))
        oracle[acc["city"] if acc else None] += 1
    res = app.post_json(
        "/api/v1/_reports/run",
        {"spec": {"entity": "person", "group_by": [{"field": "account.city"}], "limit": 1000}},
    ).json
    got = {r["d0"]: r["m0"] for r in res["rows"]}
    assert got == dict(oracle)
    assert sum(got.values()) == len(people)
    if who == "rep":
        # the rep's own people at Romanian accounts are counted, their cities are not
        assert "Cluj" not in got and "Bucharest" not in got and got[None] >= 3
        assert got == {"Athens": 4, "Patras": 2, None: 5}
    else:
        assert got["Cluj"] == 4
    # filtering on the related field answers the same as the list's own filter
    res = app.post_json(
        "/api/v1/_reports/run",
        {
            "spec": {
                "entity": "person",
                "filters": {"account.city": "Athens"},
                "group_by": [{"field": "owner_id"}],
            }
        },
    ).json
    listed = app.get("/api/v1/persons?account.city=Athens&limit=200").json["items"]
    assert sum(r["m0"] for r in res["rows"]) == len(listed)


def test_a_shared_report_shows_each_viewer_their_own_records(world):
    admin, rep = world
    rep_id = rep.user_id
    saved = admin.post_json(
        "/api/v1/_reports",
        {
            "name": "People per country",
            "shared_users": [rep_id],
            "spec": {"entity": "person", "group_by": [{"field": "country"}]},
        },
        status=201,
    ).json
    mine = rep.get(f"/api/v1/_reports/{saved['id']}/run").json["rows"]
    theirs = admin.get(f"/api/v1/_reports/{saved['id']}/run").json["rows"]
    assert sum(r["m0"] for r in mine) == len(_visible(rep, "persons"))
    assert sum(r["m0"] for r in theirs) == len(_visible(admin, "persons"))
    assert sum(r["m0"] for r in mine) < sum(r["m0"] for r in theirs)
