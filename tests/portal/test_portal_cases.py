"""The helpdesk in the customer portal: the portal oracle's idea for cases (random
accounts, people and cases; a portal user of account A reaches exactly the cases the
declaration says - by the case's account, else its contact's - through the API list,
detail, export and search, and through "My cases" and the case pages); opening a case
from the portal page and through the API (channel "portal", the customer's account
and contact whatever was sent, the assignment rules applied); and portal logins kept
out of the staff's user lists and pickers."""

from __future__ import annotations

import csv
import io
import random
import re

import pytest
import webtest
from portal_support import form_csrf, invitation_link
from sqlalchemy import select

from kyklos.security.models import User
from kyklos.security.tokens import create_token


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


@pytest.fixture
def world(api):
    rnd = random.Random(20261207)
    admin = api("admin")
    accounts = [
        admin.post_json("/api/v1/accounts", {"name": f"Case account {i}"}).json["id"]
        for i in range(3)
    ]
    people = {}  # id -> account id or None
    for i in range(9):
        acc = accounts[i] if i < len(accounts) else rnd.choice(accounts + [None])
        body = {"first_name": "Case", "last_name": f"person {i}", "email": f"case{i}@example.com"}
        if acc is not None:
            body["account_id"] = acc
        people[admin.post_json("/api/v1/persons", body).json["id"]] = acc
    cases = {}  # id -> account the case belongs to (its own, else its contact's)
    for i in range(20):
        acc = rnd.choice(accounts + [None, None])
        person = rnd.choice(list(people) + [None])
        body = {"subject": f"Oracle case {i}", "description": f"Secret text {i}"}
        if person is not None:
            body["person_id"] = person
        if acc is not None:
            body["account_id"] = acc
        res = admin.post_json("/api/v1/cases", body, status=201).json
        # a contact without an account given fills in the contact's account
        cases[res["id"]] = res["account_id"]
    return admin, accounts, people, cases


def _portal_user(admin, smtp_server, accept, person, n):
    admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
    mail = smtp_server.wait(n)[n - 1]
    return accept(invitation_link(mail), mail["To"])


def _token_app(kyklos_app, dbsession, email):
    with dbsession() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        token, _row = create_token(db, user, name="portal cases")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    return app


def test_a_portal_user_reaches_exactly_the_cases_of_their_customer(
    world, smtp_server, accept, kyklos_app, dbsession
):
    admin, accounts, people, cases = world
    chosen = [(p, a) for p, a in people.items() if a in accounts[:2]][:2]
    assert {a for _p, a in chosen} == set(accounts[:2])
    checks = 0
    for n, (person, customer) in enumerate(chosen, start=1):
        email = admin.get(f"/api/v1/persons/{person}").json["email"]
        web = _portal_user(admin, smtp_server, accept, person, n)
        tapi = _token_app(kyklos_app, dbsession, email)
        expect = {c for c, a in cases.items() if a == customer}
        assert expect, "the oracle needs cases of both customers"
        listed = tapi.get("/api/v1/cases?limit=200").json["items"]
        assert {r["id"] for r in listed} == expect
        # internal fields stay with the staff
        assert not {"owner_id", "team_id", "priority", "from_email"} & set(listed[0])
        for cid in cases:
            tapi.get(f"/api/v1/cases/{cid}", status=200 if cid in expect else 404)
            checks += 1
        body = tapi.get("/api/v1/cases/_export?format=csv&cols=id").text
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
        assert {int(r[0]) for r in rows[1:] if r and r[0].isdigit()} == expect
        for g in tapi.get("/api/v1/_search?q=Oracle&limit=100").json["groups"]:
            if g["type"] == "case":
                assert {i["id"] for i in g["items"]} <= expect
        # a customer reads and opens cases, never changes one
        some = next(iter(expect))
        version = tapi.get(f"/api/v1/cases/{some}").json["version"]
        res = tapi.patch_json(
            f"/api/v1/cases/{some}", {"subject": "changed", "version": version}, expect_errors=True
        )
        assert res.status_int in (403, 404)
        tapi.post(f"/api/v1/cases/{some}/transitions/close", status=403)
        # the pages: My cases lists exactly these, each case page opens only for them
        mine = web.get("/portal/helpdesk/cases").text
        for cid in cases:
            url = f"/portal/helpdesk/cases/{cid}"
            assert (f'href="http://localhost{url}"' in mine) == (cid in expect), cid
            page = web.get(url, status=200 if cid in expect else 404)
            if cid in expect:
                assert re.search(r"Secret text \d+", page.text)
            checks += 1
        assert "My cases" in web.get("/portal").text
    assert checks >= 2 * 2 * len(cases)


def test_opening_a_case_from_the_portal_page_and_the_api(
    world, smtp_server, accept, kyklos_app, dbsession, make_user
):
    from kyklos_helpdesk.service import ensure_types

    with dbsession() as db:  # the migration seeds them; each test starts empty
        ensure_types(db)
    admin, accounts, people, cases = world
    anna = make_user(email="anna@example.com", roles=("agent",), name="Anna Agent")
    team = admin.post_json("/api/v1/support-teams", {"name": "Printers"}).json
    admin.post_json("/api/v1/support-team-members", {"team_id": team["id"], "user_id": anna})
    printer = admin.post_json("/api/v1/products", {"sku": "PR-1", "name": "Laser printer"}).json
    admin.post_json(
        "/api/v1/products", {"sku": "SUP", "name": "Support hours", "kind": "hours"}, status=201
    )
    admin.post_json(
        "/api/v1/case-assignment-rules",
        {"name": "Printers", "product_id": printer["id"], "team_id": team["id"]},
        status=201,
    )
    person, customer = next((p, a) for p, a in people.items() if a == accounts[0])
    web = _portal_user(admin, smtp_server, accept, person, 1)
    form = web.get("/portal/helpdesk/cases/new")
    # products only: services and hours are no thing a case is about
    assert "Laser printer" in form.text and "Support hours" not in form.text
    assert "Complaint" in form.text
    # bad input: the page names the field and writes nothing
    bad = web.post(
        "/portal/helpdesk/cases/new",
        {"subject": " ", "description": "x", "csrf_token": form_csrf(form)},
        status=400,
    )
    assert "is-invalid" in bad.text
    before = len(admin.get("/api/v1/cases?limit=200").json["items"])
    assert before == len(cases)
    select = form.text.split('name="type_id"', 1)[1].split("</select>", 1)[0]
    types = dict(re.findall(r'<option value="(\d+)"[^>]*>\s*([^<]+?)\s*</option>', select))
    complaint = next(k for k, v in types.items() if v == "Complaint")
    res = web.post(
        "/portal/helpdesk/cases/new",
        {
            "subject": "Printer jams",
            "description": "Every second page jams.",
            "type_id": complaint,
            "product_id": str(printer["id"]),
            "csrf_token": form_csrf(form),
        },
        status=303,
    )
    page = res.follow()
    assert "Printer jams" in page.text and "Every second page jams." in page.text
    assert "Laser printer" in page.text and "/products/" not in page.text
    cid = int(res.location.rstrip("/").rsplit("/", 1)[1])
    case = admin.get(f"/api/v1/cases/{cid}").json
    assert case["channel"] == "portal"
    assert (case["account_id"], case["person_id"]) == (customer, person)
    assert (case["team_id"], case["owner_id"]) == (team["id"], anna)
    listing = web.get("/portal/helpdesk/cases").text
    # number, state and type in words (a customer reads no internal id)
    assert case["number"] in listing and "Complaint" in listing and ">New<" in listing
    assert "Restricted" not in listing
    # through the API: whatever account the client names, the case is the customer's
    email = admin.get(f"/api/v1/persons/{person}").json["email"]
    tapi = _token_app(kyklos_app, dbsession, email)
    res = tapi.post_json(
        "/api/v1/cases",
        {"subject": "By API", "account_id": accounts[1]},
        expect_errors=True,
    )
    assert res.status_int == 400 and res.content_type == "application/problem+json"
    assert any(e["field"] == "account_id" for e in res.json["errors"])
    made = tapi.post_json("/api/v1/cases", {"subject": "By API"}, status=201).json
    stored = admin.get(f"/api/v1/cases/{made['id']}").json
    assert (stored["channel"], stored["account_id"]) == ("portal", customer)
    # the products a customer may name: active stock items, with what the portal's price
    # page shows of them (code, name), never what they cost the company or list at
    products = tapi.get("/api/v1/products").json["items"]
    assert [p["id"] for p in products] == [printer["id"]]
    assert products[0]["name"] == "Laser printer"
    assert not {"cost", "list_price"} & set(products[0])
    res = tapi.post_json("/api/v1/cases", {"subject": "Mine", "owner_id": anna}, expect_errors=True)
    assert res.status_int in (400, 403)


def test_portal_logins_stay_out_of_staff_user_lists(
    world, smtp_server, accept, client, make_user, dbsession
):
    admin, accounts, people, cases = world
    person = next(p for p, a in people.items() if a is not None)
    email = admin.get(f"/api/v1/persons/{person}").json["email"]
    _portal_user(admin, smtp_server, accept, person, 1)
    make_user(email="staffer@example.com", roles=("user",), name="Case Staffer")
    boss = client("admin")
    found = boss.get("/_lookup/users?q=example.com").json
    emails = {u["subtitle"] or u["title"] for u in found}
    assert "staffer@example.com" in emails and email not in emails
    assert "staffer@example.com" in boss.get("/admin/users").text
    assert email not in boss.get("/admin/users").text
    listed = boss.get("/activities/_users?q=example.com").json
    assert "staffer@example.com" in {u["subtitle"] for u in listed}
    assert email not in {u["subtitle"] for u in listed}
    # nor does the picker resolve a customer's login by its id
    with dbsession() as db:
        uid = db.execute(select(User.id).where(User.email == email)).scalar_one()
    assert boss.get(f"/_lookup/users?id={uid}").json == []
    assert boss.get(f"/activities/_users?id={uid}").json == []
