"""SLA and survey in real Chromium, in English and in Greek: a helpdesk manager sets an
SLA policy up with drop-downs, a case shows its targets in words in the manager's
language; once closed, the customer opens the e-mailed link in a browser without
logging in and rates the help; the rating shows on the case."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "name": "Name",
        "priority": "Priority",
        "urgent": "Urgent",
        "first": "First response within (business hours)",
        "resolution": "Resolution within (business hours)",
        "save": "Save",
        "panel": "Service level",
        "due": "due in",
        "survey": "How did we do?",
        "excellent": "Excellent",
        "comment": "Anything to add? (optional)",
        "send": "Send my rating",
        "thanks": "Thank you: your rating is recorded.",
    },
    "el": {
        "name": "Όνομα",
        "priority": "Προτεραιότητα",
        "urgent": "Επείγουσα",
        "first": "Πρώτη απάντηση εντός (ωρών εξυπηρέτησης)",
        "resolution": "Επίλυση εντός (ωρών εξυπηρέτησης)",
        "save": "Αποθήκευση",
        "panel": "Επίπεδο εξυπηρέτησης",
        "due": "λήγει σε",
        "survey": "Πώς τα πήγαμε;",
        "excellent": "Εξαιρετικά",
        "comment": "Κάτι ακόμη; (προαιρετικό)",
        "send": "Αποστολή βαθμολογίας",
        "thanks": "Ευχαριστούμε: η βαθμολογία σας καταχωρίστηκε.",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def _login(page, live_server, email):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_sla_in_words_and_the_customers_rating(
    page, browser, live_server, make_user, api, smtp_server, lang
):
    w = WORDS[lang]
    admin = api("admin")
    email = f"mgr-{lang}@example.com"
    make_user(
        email=email,
        roles=("helpdeskmanager",),
        name="Eleni Manager",
        locale=lang,
        timezone="Europe/Athens",
    )
    _login(page, live_server, email)
    page.goto(f"{live_server}/sla-policies/new")
    page.get_by_label(w["name"], exact=True).fill("Urgent cases")
    page.get_by_label(w["priority"], exact=True).select_option(label=w["urgent"])
    page.get_by_label(w["first"], exact=True).fill("1")
    page.get_by_label(w["resolution"], exact=True).fill("4")
    save_screenshot(page, f"helpdesk-sla-policy-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Urgent cases")

    person = admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Maria",
            "last_name": "Papadaki",
            "email": f"maria-{lang}@example.com",
            "language": lang,
        },
    ).json
    case = admin.post_json(
        "/api/v1/cases",
        {"subject": "Boiler shows E42", "priority": "urgent", "person_id": person["id"]},
    ).json
    page.goto(f"{live_server}/cases/{case['id']}")
    main = page.locator("main")
    expect(main).to_contain_text(w["panel"])
    expect(main).to_contain_text(w["due"])
    save_screenshot(page, f"helpdesk-case-sla-{lang}")

    for step in ("resolve", "close"):
        admin.post(f"/api/v1/cases/{case['id']}/transitions/{step}", status=200)
    (msg,) = smtp_server.wait(1)
    body = msg.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/portal/survey/\S+", body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)
    # the customer: another browser, no login
    customer = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        cpage = customer.new_page()
        cpage.goto(f"{live_server}{path}")
        expect(cpage.locator("h1")).to_contain_text(w["survey"])
        cpage.get_by_label(w["excellent"]).check()
        cpage.get_by_label(w["comment"]).fill("Fast and kind")
        save_screenshot(cpage, f"helpdesk-survey-{lang}")
        cpage.get_by_role("button", name=w["send"]).click()
        expect(cpage.locator("#hd-survey-thanks")).to_contain_text(w["thanks"])
        save_screenshot(cpage, f"helpdesk-survey-thanks-{lang}")
    finally:
        customer.close()
    page.goto(f"{live_server}/cases/{case['id']}")
    expect(page.locator("main")).to_contain_text(w["excellent"])
    expect(page.locator("main")).to_contain_text("Fast and kind")
    save_screenshot(page, f"helpdesk-case-rated-{lang}")
