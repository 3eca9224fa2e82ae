"""The notice of expiring contracts in real Chromium, in English and in Greek: a manager
ticks a contract and sends; the page follows the background job to its result in words
and links to the jobs page, which lists the job as done."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "send": "Send",
        "done": "E-mails sent: 2; already sent before: 0.",
        "follow": "Follow it on the jobs page",
    },
    "el": {
        "send": "Αποστολή",
        "done": "Στάλθηκαν e-mail: 2· είχαν ήδη σταλεί: 0.",
        "follow": "Παρακολουθήστε το στη σελίδα εργασιών",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_sends_notices_and_follows_the_job(
    page, live_server, make_user, api, smtp_server, lang
):
    w = WORDS[lang]
    admin = api("admin")
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}).json["id"]
    for first, email in (("Maria", "maria@example.com"), ("John", "john@example.com")):
        admin.post_json(
            "/api/v1/persons",
            {"first_name": first, "last_name": "K", "account_id": acc, "email": email},
            status=201,
        )
    admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Maintenance 2026",
            "account_id": acc,
            "starts_on": "2026-02-01",
            "ends_on": "2027-01-31",
        },
        status=201,
    )
    email = f"boss-{lang}@example.com"
    make_user(email=email, roles=("helpdeskmanager",), name="Boss", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/helpdesk/contract-notices?month=2027-01")
    page.locator("#hd-notice-form input[name='contract_id']").first.check()
    page.locator("#hd-notice-send").click()
    box = page.locator("#hd-notice-job")
    expect(box).to_contain_text(w["done"])
    save_screenshot(page, f"helpdesk-notices-job-{lang}")
    assert len(smtp_server.wait(2)) == 2
    page.get_by_role("link", name=w["follow"]).click()
    expect(page.locator("tr[data-job-state='done']")).to_have_count(1)
