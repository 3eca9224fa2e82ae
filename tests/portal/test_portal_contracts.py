"""The helpdesk's "My contracts" in the customer portal (HD-10): a portal user of
account A sees A's support contracts with the balance of the bank in words, never B's,
on the page and through the API."""

from __future__ import annotations

import pytest
import webtest
from portal_support import invitation_link
from sqlalchemy import select

from kyklos.security.models import User
from kyklos.security.tokens import create_token


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


def test_my_contracts_shows_only_the_customers_contracts(
    api, smtp_server, accept, kyklos_app, dbsession
):
    admin = api("admin")
    a = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}).json["id"]
    b = admin.post_json("/api/v1/accounts", {"name": "Hotel Minos"}).json["id"]
    for acc, name in ((a, "Knossos maintenance"), (b, "Minos maintenance")):
        admin.post_json(
            "/api/v1/support-contracts",
            {"name": name, "account_id": acc, "starts_on": "2026-01-01", "quantity": "20"},
            status=201,
        )
    case = admin.post_json("/api/v1/cases", {"subject": "Boiler", "account_id": a}).json
    admin.post_json(
        "/api/v1/case-time",
        {"case_id": case["id"], "spent_on": "2026-02-01", "quantity": "5"},
        status=201,
    )
    person = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Maria", "last_name": "P", "email": "maria@example.com", "account_id": a},
    ).json["id"]
    admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
    mail = smtp_server.wait(1)[0]
    portal = accept(invitation_link(mail), mail["To"])
    home = portal.get("/portal").text
    assert "My contracts" in home
    text = portal.get("/portal/helpdesk/contracts").text
    assert "Knossos maintenance" in text and "15 of 20 hours left" in text
    assert "Minos" not in text
    with dbsession() as db:
        user = db.execute(select(User).where(User.email == "maria@example.com")).scalar_one()
        token, _row = create_token(db, user, name="portal contracts")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    listed = app.get("/api/v1/support-contracts").json["items"]
    assert [c["name"] for c in listed] == ["Knossos maintenance"]
    assert "notes" not in listed[0] and "overage" not in listed[0]
