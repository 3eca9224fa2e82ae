"""Territory record rules on the shipped entity types (SEC-04): a rep in territory
"Greece" reaches exactly the accounts, people, leads, opportunities, quotes and
activities placed in Greece - on list, detail, search, export and the pipeline
aggregate - compared with an oracle written from the declarations' meaning (an account
by its country; the others through their account, else their person or own country),
not from the engine's SQL. A territory rule on a type without a place is refused."""

from __future__ import annotations

import csv
import io

import pytest
from secsupport import add_territory, csrf
from sqlalchemy import select

from kyklos.security.models import RecordRule, Role

TYPES = ("account", "person", "lead", "opportunity", "quote", "activity")
SLUGS = {
    "account": "accounts",
    "person": "persons",
    "lead": "leads",
    "opportunity": "opportunities",
    "quote": "quotes",
    "activity": "activities",
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def _perm(registry, name, verb):
    return registry.kyklos_entities[name].permission(verb)


@pytest.fixture
def world(api, registry, dbsession):
    """Accounts in GR, RO and none; people, leads, deals, quotes and activities hanging
    from them (or standing alone); a rep whose only rule is "territory"."""
    from kyklos_activities.defaults import ensure_defaults as activity_defaults
    from kyklos_sfa.models import Stage
    from kyklos_sfa.pipeline import ensure_defaults as sfa_defaults

    with dbsession() as db:
        sfa_defaults(db)
        types = {code: t.id for code, t in activity_defaults(db).items()}
        stage = db.execute(select(Stage.id).order_by(Stage.position)).scalars().first()
        perms = [_perm(registry, n, v) for n in TYPES for v in ("read", "export")] + [
            "activities.calendar.view"
        ]
        role = Role(name="terr_rep", title="Territory rep", permissions=perms)
        db.add(role)
        db.flush()
        for n in TYPES:
            db.add(RecordRule(role_id=role.id, entity=n, action="read", scope="territory"))
    admin = api("admin")
    rep = api("terr_rep")
    with dbsession() as db:
        add_territory(db, "Greece", ["GR"], [rep.user_id])
        add_territory(db, "Romania", ["RO"], [])

    def post(name, body):
        return admin.post_json(f"/api/v1/{SLUGS[name]}", body, status=201).json["id"]

    expect: dict[str, set[int]] = {n: set() for n in TYPES}
    names: dict[str, dict[int, str]] = {n: {} for n in TYPES}

    def made(name, rid, title, greek):
        names[name][rid] = title
        if greek:
            expect[name].add(rid)

    accounts = {}
    for key, country in (("gr", "GR"), ("ro", "RO"), ("none", None)):
        title = f"Zorbas account {key}"
        accounts[key] = post("account", {"name": title, "country": country})
        made("account", accounts[key], title, country == "GR")
    people = {}
    # (key, account, own country): the account decides when there is one
    for key, acc, own in (
        ("gr_acc", "gr", "RO"),
        ("ro_acc", "ro", "GR"),
        ("alone_gr", None, "GR"),
        ("alone_ro", None, "RO"),
        ("nowhere", None, None),
    ):
        body = {"first_name": "Zorbas", "last_name": key, "country": own}
        if acc:
            body["account_id"] = accounts[acc]
        people[key] = post("person", body)
        greek = (acc == "gr") if acc else own == "GR"
        made("person", people[key], key, greek)
    for key, country in (("gr", "GR"), ("ro", "RO"), ("none", None)):
        rid = post("lead", {"last_name": f"Zorbas lead {key}", "country": country})
        made("lead", rid, key, country == "GR")
    # (key, account, person): the account decides, else the person's place
    links = (
        ("acc_gr", "gr", "alone_ro"),
        ("acc_ro", "ro", "alone_gr"),
        ("person_gr", None, "alone_gr"),
        ("person_via_acc", None, "gr_acc"),  # a person placed by their own country (RO)
        ("nothing", None, None),
    )
    for key, acc, person in links:
        greek = (acc == "gr") if acc else person == "alone_gr"
        body = {
            "account_id": accounts[acc] if acc else None,
            "person_id": people[person] if person else None,
        }
        rid = post(
            "opportunity",
            {
                "name": f"Zorbas deal {key}",
                "stage_id": stage,
                "amount": {"amount": "100", "currency": "EUR"},
                **body,
            },
        )
        made("opportunity", rid, key, greek)
        rid = post("quote", {"title": f"Zorbas quote {key}", "currency": "EUR", **body})
        made("quote", rid, key, greek)
        rid = post(
            "activity",
            {
                "type_id": types["task"],
                "subject": f"Zorbas task {key}",
                "due_at": "2030-01-02T10:00:00Z",
                **body,
            },
        )
        made("activity", rid, key, greek)
    return admin, rep, expect, names


def _ids(app, slug):
    return {r["id"] for r in app.get(f"/api/v1/{slug}?limit=200").json["items"]}


def test_a_rep_in_greece_reaches_exactly_the_greek_records(world):
    admin, rep, expect, names = world
    checks = 0
    for name in TYPES:
        slug = SLUGS[name]
        everything = _ids(admin, slug)
        assert set(names[name]) <= everything
        # list
        assert _ids(rep, slug) == expect[name], name
        # detail: each record, in and out of the territory
        for rid in names[name]:
            rep.get(f"/api/v1/{slug}/{rid}", status=200 if rid in expect[name] else 404)
            checks += 1
        # export: the rows are the territory's records
        body = rep.get(f"/api/v1/{slug}/_export?format=csv&columns=id").text
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
        got = {int(r[0]) for r in rows[1:] if r and r[0].isdigit()}
        assert got == expect[name], (name, got)
        checks += 3
    # search: only Greek records answer
    found = rep.get("/api/v1/_search?q=Zorbas&limit=100").json["groups"]
    for g in found:
        ids = {i["id"] for i in g["items"]}
        assert ids <= expect[g["type"]], g["type"]
    assert {g["type"] for g in found} >= {"account", "person"}
    # aggregate: the pipeline counts and totals only Greek deals
    cols = rep.get("/api/v1/sfa/pipeline").json["columns"]
    cards = {c for col in cols for c in col["cards"]}
    assert cards == expect["opportunity"]
    assert sum(col["count"] for col in cols) == len(expect["opportunity"])
    assert checks > 40


def test_moving_an_account_moves_its_people_and_deals(world, dbsession):
    admin, rep, expect, names = world
    gr = next(i for i, t in names["account"].items() if t.endswith(" gr"))
    admin.patch_json(f"/api/v1/accounts/{gr}", {"country": "RO"})
    assert _ids(rep, "accounts") == set()
    assert _ids(rep, "persons") == {i for i, t in names["person"].items() if t == "alone_gr"}
    assert _ids(rep, "opportunities") == {
        i for i, t in names["opportunity"].items() if t == "person_gr"
    }


def test_territory_rule_on_a_type_without_a_place_is_refused(client, registry, dbsession):
    admin = client("admin")
    hh = {"X-CSRF-Token": csrf(admin)}
    with dbsession() as db:
        role = Role(name="placeless", title="Placeless", permissions=[])
        db.add(role)
        db.flush()
        rid = role.id
    assert not registry.kyklos_entities["stage"].territory_paths
    res = admin.post_json(
        "/api/v1/_security/rules",
        {"role_id": rid, "entity": "stage", "action": "read", "scope": "territory"},
        headers=hh,
        status=400,
    )
    assert res.content_type == "application/problem+json"
    [err] = res.json["errors"]
    assert err["field"] == "scope" and "territory rule cannot apply" in err["detail"]
    ok = admin.post_json(
        "/api/v1/_security/rules",
        {"role_id": rid, "entity": "account", "action": "read", "scope": "territory"},
        headers=hh,
    )
    assert ok.status_int in (200, 201)
    # the admin page says why
    page = admin.get(f"/admin/roles/{rid}")
    form = next(f for f in page.forms.values() if f.action.endswith(f"/admin/roles/{rid}/rules"))
    form["entity"], form["action"], form["scope"] = "stage", "read", "territory"
    res = form.submit(status=400)
    assert "territory rule cannot apply" in res.text
    with dbsession() as db:
        assert not db.execute(
            select(RecordRule).where(RecordRule.entity == "stage", RecordRule.role_id == rid)
        ).first()


def test_territory_pages_in_plain_words(client, make_user, dbsession):
    admin = client("admin")
    page = admin.get("/admin/territories")
    assert 'id="territories-empty"' in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/admin/territories"))
    assert ("GR", True) in [(o[0], "Greece" in o[2]) for o in form["countries"].options]
    form["name"] = "Greece"
    form["countries"] = ["GR", "CY"]
    res = form.submit(status=303).follow()
    assert 'id="territory-no-people"' in res.text
    rep = make_user(email="rep.gr@example.com", name="Eleni Rep")
    form = next(f for f in res.forms.values() if "user_ids" in f.fields)
    # the picker's select lists only the members; a chosen id is posted as is
    form.fields["user_ids"][0].options.append((str(rep), False, "Eleni Rep"))
    form["user_ids"] = [str(rep)]
    form["other_values"] = "Attica"
    res = form.submit(status=303).follow()
    assert "Eleni Rep" in res.text and "Attica" in res.text
    with dbsession() as db:
        from kyklos.security.models import Territory, User

        t = db.execute(select(Territory).where(Territory.name == "Greece")).scalar_one()
        assert sorted(t.value_list) == ["Attica", "CY", "GR"]
        assert [x.name for x in db.get(User, rep).territories] == ["Greece"]
    listing = admin.get("/admin/territories")
    assert "Cyprus" in listing.text and "Greece" in listing.text
