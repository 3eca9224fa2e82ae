"""The mass notice of expiring contracts (HD-08) through the API and the page, with a
real SMTP server: one e-mail per contact of the customer in the contact's language,
logged on the customer's timeline, never twice for the same contract and end date."""

from __future__ import annotations

import re

import pytest

PROBLEM = "application/problem+json"


def _words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def _setup(admin):
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    other = admin.post_json("/api/v1/accounts", {"name": "Cafe Zorba"}, status=201).json
    for first, last, email, lang, account in (
        ("Maria", "Papadaki", "maria@example.com", "el", acc),
        ("John", "Smith", "john@example.com", "en", acc),
        ("No", "Mail", None, "en", acc),
        ("Ana", "Pop", "ana@example.com", "ro", other),
    ):
        body = {"first_name": first, "last_name": last, "account_id": account["id"]}
        if email:
            body.update(email=email, language=lang)
        admin.post_json("/api/v1/persons", body, status=201)
    ending = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Maintenance 2026",
            "account_id": acc["id"],
            "starts_on": "2026-02-01",
            "ends_on": "2027-01-31",
        },
        status=201,
    ).json
    later = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Till care",
            "account_id": other["id"],
            "starts_on": "2026-01-01",
            "ends_on": "2027-06-30",
        },
        status=201,
    ).json
    return acc, ending, later


def test_notices_go_once_to_each_contact_in_their_language(admin, smtp_server):
    acc, ending, later = _setup(admin)
    out = admin.post_json(
        "/api/v1/helpdesk/contract-notices",
        {"month": "2027-01", "contract_ids": [ending["id"]]},
    ).json
    assert out == {"sent": 2, "skipped": 0}
    msgs = smtp_server.wait(2)
    by_to = {m["To"]: m for m in msgs}
    assert set(by_to) == {"maria@example.com", "john@example.com"}
    en = by_to["john@example.com"]
    assert en["Subject"] == "Your support contract “Maintenance 2026” ends on January 31, 2027"
    assert "Dear John Smith" in en.get_body(preferencelist=("plain",)).get_content()
    el = by_to["maria@example.com"]
    assert (
        el["Subject"] == "Το συμβόλαιο υποστήριξης «Maintenance 2026» λήγει στις 31 Ιανουαρίου 2027"
    )
    assert "Hotel Knossos" in el.get_body(preferencelist=("plain",)).get_content()
    # again: nobody twice
    again = admin.post_json(
        "/api/v1/helpdesk/contract-notices",
        {"month": "2027-01", "contract_ids": [ending["id"]]},
    ).json
    assert again == {"sent": 0, "skipped": 2}
    # on the customer's timeline: two e-mail activities about the contract
    acts = admin.get("/api/v1/activities", {"account_id": acc["id"], "limit": 50}).json["items"]
    assert sum(1 for a in acts if a["subject"].startswith("Your support contract")) == 1
    assert sum(1 for a in acts if a["subject"].startswith("Το συμβόλαιο υποστήριξης")) == 1
    # a contract ending in another month is not of January's list
    res = admin.post_json(
        "/api/v1/helpdesk/contract-notices",
        {"month": "2027-01", "contract_ids": [later["id"]]},
        status=400,
    )
    assert res.content_type == PROBLEM
    assert [e["field"] for e in res.json["errors"]] == ["contract_ids"]
    # a manager's own words, with the contact's name filled in
    smtp_server.messages.clear()
    out = admin.post_json(
        "/api/v1/helpdesk/contract-notices",
        {
            "month": "2027-06",
            "contract_ids": [later["id"]],
            "templates": {"ro": {"subject": "Contractul ${contract}", "body": "Bună ${person}"}},
        },
    ).json
    assert out == {"sent": 1, "skipped": 0}
    (msg,) = smtp_server.wait(1)
    assert msg["Subject"] == "Contractul Till care"


def test_the_page_lists_previews_and_sends(admin, smtp_server):
    acc, ending, later = _setup(admin)
    page = admin.get("/helpdesk/contract-notices", {"month": "2027-01"})
    assert "Hotel Knossos" in page.text and "Maintenance 2026" in page.text
    assert "Cafe Zorba" not in page.text
    form = page.forms["hd-notice-form"]
    res = form.submit("action", value="preview")
    assert "Preview" in res.text and "Dear John Smith" in res.text
    assert smtp_server.messages == []
    res = res.forms["hd-notice-form"].submit("action", value="send")
    assert "E-mails sent: 2; already sent before: 0." in _words(res.text)
    assert len(smtp_server.wait(2)) == 2
    res = (
        admin.get("/helpdesk/contract-notices", {"month": "2027-01"})
        .forms["hd-notice-form"]
        .submit("action", value="send")
    )
    assert "E-mails sent: 0; already sent before: 2." in _words(res.text)


def test_an_agent_may_not_send(api, admin):
    _acc, ending, _later = _setup(admin)
    api("agent").post_json(
        "/api/v1/helpdesk/contract-notices",
        {"month": "2027-01", "contract_ids": [ending["id"]]},
        status=403,
    )
