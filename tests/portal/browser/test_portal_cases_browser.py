"""The helpdesk in the customer portal, in real Chromium, in English and in Greek: an
invited customer opens "My cases", opens a new case (type and product from
drop-downs), lands on the case's page and sees the case in "My cases" with its state
and type in their language; another company's case is neither listed nor opened."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "cases": "My cases",
        "new": "Open a new case",
        "state": "New",
        "type": "Complaint",
        "notfound": "Page not found",
        "locale": "en-GB",
        "submit": "Open the case",
    },
    "el": {
        "cases": "Οι υποθέσεις μου",
        "new": "Άνοιγμα νέας υπόθεσης",
        "state": "Νέα",
        "type": "Παράπονο",
        "notfound": "δεν βρέθηκε",
        "locale": "el-GR",
        "submit": "Άνοιγμα της υπόθεσης",
    },
}
CHOSEN = "a long walk on the beach 7"


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_customer_opens_a_case_and_sees_it_in_my_cases(
    browser, live_server, api, smtp_server, dbsession, lang
):
    from kyklos_helpdesk.service import ensure_types

    w = WORDS[lang]
    with dbsession() as db:
        ensure_types(db)
    admin = api("admin")
    ours = admin.post_json("/api/v1/accounts", {"name": "Αθηνά Εμπορική ΑΕ"}).json["id"]
    theirs = admin.post_json("/api/v1/accounts", {"name": "Other Corp"}).json["id"]
    email = f"eleni-{lang}@athena.example"
    eleni = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Ελένη", "last_name": "Παπαδοπούλου", "account_id": ours, "email": email},
    ).json["id"]
    admin.post_json("/api/v1/products", {"sku": "PR-1", "name": "Εκτυπωτής laser"})
    other = admin.post_json(
        "/api/v1/cases", {"subject": "Other company's fault", "account_id": theirs}
    ).json["id"]
    admin.post_json("/api/v1/_portal/accounts", {"record_id": eleni}, status=201)
    body = smtp_server.wait(1)[0].get_body(("plain",)).get_content()
    # invited through the API: the link names the API client's host, not the server's
    token = re.search(r"/portal/welcome\?token=(\S+)", body).group(1)
    link = f"{live_server}/portal/welcome?token={token}"

    ctx = browser.new_context(locale=w["locale"])
    customer = ctx.new_page()
    try:
        customer.goto(link)
        customer.fill("#password", CHOSEN)
        customer.fill("#confirm", CHOSEN)
        customer.locator("form[action*='/portal/welcome'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal/login$"))
        customer.fill("#email", email)
        customer.fill("#password", CHOSEN)
        customer.locator("form[action$='/portal/login'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal$"))
        card = customer.locator("#k-portal-helpdesk-cases")
        expect(card).to_contain_text(w["cases"])
        card.click()
        expect(customer.locator("h1")).to_have_text(w["cases"])
        save_screenshot(customer, f"portal-cases-empty-{lang}")

        customer.get_by_role("link", name=w["new"]).click()
        customer.fill("#subject", "Ο εκτυπωτής μπλοκάρει")
        customer.select_option("#type_id", label=w["type"])
        customer.select_option("#product_id", label="Εκτυπωτής laser")
        customer.fill("#description", "Κάθε δεύτερη σελίδα μπλοκάρει.")
        save_screenshot(customer, f"portal-case-new-{lang}")
        customer.get_by_role("button", name=w["submit"]).click()
        expect(customer.locator("#k-portal-case-subject")).to_have_text("Ο εκτυπωτής μπλοκάρει")
        expect(customer.locator("#k-portal-case-description")).to_contain_text("δεύτερη σελίδα")
        details = customer.locator("#k-portal-case-details")
        expect(details).to_contain_text(w["state"])
        expect(details).to_contain_text("Εκτυπωτής laser")
        # the portal never links to a staff page
        expect(
            customer.locator("main a[href*='/products/'], main a[href*='/case-types/']")
        ).to_have_count(0)
        save_screenshot(customer, f"portal-case-{lang}")

        customer.get_by_role("link", name=w["cases"]).first.click()
        table = customer.locator("#k-portal-cases")
        expect(table).to_contain_text("Ο εκτυπωτής μπλοκάρει")
        expect(table).to_contain_text(w["state"])
        expect(table).to_contain_text(w["type"])
        expect(table).not_to_contain_text("Other company's fault")
        save_screenshot(customer, f"portal-cases-{lang}")
        save_screenshot(customer, f"portal-cases-{lang}", phone=True)

        res = customer.goto(f"{live_server}/portal/helpdesk/cases/{other}")
        assert res.status == 404
        expect(customer.locator("h1")).to_contain_text(w["notfound"])
    finally:
        ctx.close()
