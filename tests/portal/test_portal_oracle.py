"""The portal's access-control oracle (like tests/security/test_territory_oracle.py):
random accounts, people and quotes; a portal user of account A reaches exactly what an
oracle written from the declarations' meaning says (their account; its people; its
quotes once sent, placed by the quote's account, else its contact's) through every
path: API list, detail, search and export, the portal pages and the quote PDF; other
types answer nothing. Staff rules are unchanged, and a "customer" rule gives staff
nothing."""

from __future__ import annotations

import csv
import io
import random
import re

import pytest
import webtest
from portal_support import invitation_link
from sqlalchemy import select

from kyklos.security.models import RecordRule, Role, User
from kyklos.security.tokens import create_token

SLUGS = {"account": "accounts", "person": "persons", "quote": "quotes"}
STATUSES = ("draft", "sent", "accepted", "rejected")


@pytest.fixture
def world(api):
    rnd = random.Random(20261206)
    admin = api("admin")
    accounts = [
        admin.post_json("/api/v1/accounts", {"name": f"Oracle account {i}"}).json["id"]
        for i in range(4)
    ]
    people = {}  # id -> account id or None
    for i in range(14):
        acc = rnd.choice(accounts + [None])
        body = {
            "first_name": "Oracle",
            "last_name": f"person {i}",
            "email": f"oracle{i}@example.com",
        }
        if acc is not None:
            body["account_id"] = acc
        people[admin.post_json("/api/v1/persons", body).json["id"]] = acc
    quotes = {}  # id -> (account, person, status)
    for i in range(24):
        acc = rnd.choice(accounts + [None, None])
        person = rnd.choice(list(people) + [None])
        status = rnd.choice(STATUSES)
        body = {
            "title": f"Oracle quote {i}",
            "currency": "EUR",
            "status": status,
            "account_id": acc,
            "person_id": person,
        }
        quotes[admin.post_json("/api/v1/quotes", body).json["id"]] = (acc, person, status)
    return admin, accounts, people, quotes


def _expected(customer, people, quotes):
    def quote_customer(acc, person):
        if acc is not None:
            return acc
        return people.get(person) if person is not None else None

    return {
        "account": {customer},
        "person": {p for p, a in people.items() if a == customer},
        "quote": {
            q
            for q, (a, p, s) in quotes.items()
            if s != "draft" and quote_customer(a, p) == customer
        },
    }


def _portal_user(admin, smtp_server, accept, person, n):
    admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
    mail = smtp_server.wait(n)[n - 1]
    return accept(invitation_link(mail), mail["To"])


def _token_app(kyklos_app, dbsession, email):
    with dbsession() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        token, _row = create_token(db, user, name="portal oracle")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    return app


def test_portal_users_reach_exactly_their_customer(
    world, smtp_server, accept, kyklos_app, dbsession
):
    admin, accounts, people, quotes = world
    everything = {"account": set(accounts), "person": set(people), "quote": set(quotes)}
    # one portal user in each of two different accounts
    chosen = []
    for p, a in people.items():
        if a is not None and a not in [c[1] for c in chosen]:
            chosen.append((p, a))
        if len(chosen) == 2:
            break
    assert len(chosen) == 2
    checks = leaked = missing = 0
    for n, (person, customer) in enumerate(chosen, start=1):
        email = admin.get(f"/api/v1/persons/{person}").json["email"]
        web = _portal_user(admin, smtp_server, accept, person, n)
        tapi = _token_app(kyklos_app, dbsession, email)
        expect = _expected(customer, people, quotes)
        for name, slug in SLUGS.items():
            listed = {r["id"] for r in tapi.get(f"/api/v1/{slug}?limit=200").json["items"]}
            leaked += len(listed - expect[name])
            missing += len(expect[name] - listed)
            for rid in everything[name]:
                tapi.get(f"/api/v1/{slug}/{rid}", status=200 if rid in expect[name] else 404)
                checks += 1
            body = tapi.get(f"/api/v1/{slug}/_export?format=csv&cols=id").text
            rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
            exported = {int(r[0]) for r in rows[1:] if r and r[0].isdigit()}
            assert exported == expect[name], (name, exported)
            checks += 1
        for g in tapi.get("/api/v1/_search?q=Oracle&limit=100").json["groups"]:
            got = {i["id"] for i in g["items"]}
            assert got <= expect.get(g["type"], set()), g["type"]
            checks += 1
        # other types: closed (no permission) whatever the record
        for slug in ("opportunities", "leads", "activities", "quote-lines"):
            assert tapi.get(f"/api/v1/{slug}", expect_errors=True).status_int in (403, 404)
        # the portal pages: the people and quotes of the customer only
        company = web.get("/portal/contacts/company").text
        mine = web.get("/portal/sfa/quotes").text
        for p in people:
            shown = re.search(rf"Oracle person {list(people).index(p)}(?!\d)", company)
            shown = shown is not None
            assert shown == (p in expect["person"]), p
        for q in quotes:
            url = f"/portal/sfa/quotes/{q}/pdf"
            assert (url in mine) == (q in expect["quote"]), q
            res = web.get(url, status=200 if q in expect["quote"] else 404)
            if q in expect["quote"]:
                assert res.content_type == "application/pdf"
            checks += 1
        # the staff PDF route with a portal token: the same rules
        for q in quotes:
            tapi.get(f"/api/v1/quotes/{q}/pdf", status=200 if q in expect["quote"] else 404)
            checks += 1
    print(f"portal oracle: {checks} checks; rows leaked {leaked}, wrongly hidden {missing}")
    assert leaked == 0 and missing == 0
    assert checks > 150


def test_staff_rules_are_unchanged(world, api, dbsession, registry):
    admin, accounts, people, quotes = world
    perms = [registry.kyklos_entities[n].permission("read") for n in SLUGS]
    with dbsession() as db:
        own = Role(name="own_rep", title="Own", permissions=perms)
        cust = Role(name="cust_rep", title="Customer scope", permissions=perms)
        db.add_all([own, cust])
        db.flush()
        for n in SLUGS:
            db.add(RecordRule(role_id=own.id, entity=n, action="read", scope="own"))
            db.add(RecordRule(role_id=cust.id, entity=n, action="read", scope="customer"))
    rep = api("own_rep")
    mine = admin.post_json("/api/v1/accounts", {"name": "Rep's own", "owner_id": rep.user_id})
    ids = {r["id"] for r in rep.get("/api/v1/accounts?limit=200").json["items"]}
    assert ids == {mine.json["id"]}
    # staff have no customer: the portal scope gives them nothing
    other = api("cust_rep")
    for slug in SLUGS.values():
        assert other.get(f"/api/v1/{slug}?limit=200").json["items"] == []
    # the administrator still sees everything
    assert {r["id"] for r in admin.get("/api/v1/quotes?limit=200").json["items"]} == set(quotes)
