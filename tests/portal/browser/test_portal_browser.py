"""The customer portal in real Chromium, in English and in Greek: a member of staff
invites a person from their page; the e-mail (real SMTP) carries a link opened in a
second browser context, where the person chooses a password, logs in at /portal, sees
"My company" and "My quotes" in their language, downloads their quote's PDF, and gets
"not found" for another company's quote."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"invite": "Invite to the portal", "company": "My company", "quotes": "My quotes",
           "sent": "Sent", "notfound": "Page not found", "locale": "en-GB",
           "save": "Save the password", "login": "Log in", "welcome": "Welcome"},
    "el": {"invite": "Πρόσκληση στην πύλη", "company": "Η εταιρεία μου",
           "quotes": "Οι προσφορές μου", "sent": "Στάλθηκε", "notfound": "δεν βρέθηκε",
           "locale": "el-GR", "save": "Αποθήκευση", "login": "Σύνδεση", "welcome": "Καλώς"},
}
CHOSEN = "a long walk on the beach 7"


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


@pytest.mark.parametrize("lang", ["en", "el"])
def test_staff_invites_and_the_customer_uses_the_portal(
    page, browser, live_server, make_user, api, smtp_server, lang
):
    w = WORDS[lang]
    staff_email = f"portal-staff-{lang}@example.com"
    make_user(email=staff_email, roles=("admin",), name="Stella Staff", locale=lang)
    admin = api("admin")
    ours = admin.post_json("/api/v1/accounts", {"name": "Αθηνά Εμπορική ΑΕ", "country": "GR",
                                                "city": "Αθήνα"}).json["id"]
    theirs = admin.post_json("/api/v1/accounts", {"name": "Other Corp"}).json["id"]
    email = f"maria-{lang}@athena.example"
    maria = admin.post_json("/api/v1/persons", {
        "first_name": "Μαρία", "last_name": "Κωνσταντίνου", "account_id": ours,
        "email": email, "job_title": "Προμήθειες"}).json["id"]
    admin.post_json("/api/v1/persons", {"first_name": "Γιώργος", "last_name": "Νικολάου",
                                        "account_id": ours})
    mine = admin.post_json("/api/v1/quotes", {"title": "Server room upgrade", "currency": "EUR",
                                              "account_id": ours, "status": "sent"}).json["id"]
    other = admin.post_json("/api/v1/quotes", {"title": "Other offer", "currency": "EUR",
                                               "account_id": theirs, "status": "sent"}).json["id"]

    # staff: the person's page, "Invite to the portal"
    page.goto(f"{live_server}/login")
    page.fill("#email", staff_email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/persons/{maria}")
    page.get_by_role("button", name=w["invite"]).click()
    expect(page.locator(".alert-success")).to_contain_text(email)
    save_screenshot(page, f"portal-invited-{lang}")
    body = smtp_server.wait(1)[0].get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/portal/welcome\?token=\S+", body).group(0)

    # the customer, in a browser of their own
    ctx = browser.new_context(locale=w["locale"])
    customer = ctx.new_page()
    try:
        customer.goto(link)
        customer.fill("#password", CHOSEN)
        customer.fill("#confirm", CHOSEN)
        save_screenshot(customer, f"portal-welcome-{lang}")
        customer.locator("form[action*='/portal/welcome'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal/login$"))
        customer.fill("#email", email)
        customer.fill("#password", CHOSEN)
        save_screenshot(customer, f"portal-login-{lang}")
        customer.locator("form[action$='/portal/login'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal$"))
        expect(customer.locator("h1")).to_contain_text(w["welcome"])
        expect(customer.locator("#k-portal-contacts-company")).to_contain_text(w["company"])
        expect(customer.locator("#k-portal-sfa-quotes")).to_contain_text(w["quotes"])
        save_screenshot(customer, f"portal-home-{lang}")
        save_screenshot(customer, f"portal-home-{lang}", phone=True)

        customer.locator("#k-portal-contacts-company").click()
        expect(customer.locator("#k-portal-account")).to_have_text("Αθηνά Εμπορική ΑΕ")
        expect(customer.locator("#k-portal-people")).to_contain_text("Γιώργος Νικολάου")
        expect(customer.locator("body")).not_to_contain_text("Other Corp")
        save_screenshot(customer, f"portal-company-{lang}")

        customer.goto(f"{live_server}/portal/sfa/quotes")
        table = customer.locator("#k-portal-quotes")
        expect(table).to_contain_text("Server room upgrade")
        expect(table).to_contain_text(w["sent"])
        expect(table).not_to_contain_text("Other offer")
        save_screenshot(customer, f"portal-quotes-{lang}")
        res = customer.request.get(f"{live_server}/portal/sfa/quotes/{mine}/pdf")
        assert res.status == 200 and res.headers["content-type"] == "application/pdf"

        # another company's quote: not found, on the page and the PDF
        res = customer.goto(f"{live_server}/portal/sfa/quotes/{other}/pdf")
        assert res.status == 404
        expect(customer.locator("h1")).to_contain_text(w["notfound"])
        save_screenshot(customer, f"portal-notfound-{lang}")
        # staff pages stay closed: the staff login page answers
        customer.goto(f"{live_server}/persons/{maria}")
        assert "/login" in customer.url and "/portal" not in customer.url
    finally:
        ctx.close()
