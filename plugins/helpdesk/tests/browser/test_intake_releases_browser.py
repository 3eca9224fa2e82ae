"""Barcode intake and releases in real Chromium, in English and in Greek: an agent
scans a serial number with the keyboard (a wedge scanner types the code and Enter),
finds the customer's unit with its warranty and open case, and opens a new case that
starts with the customer, product, serial number and the channel "scanner"; a manager
publishes a release with the button and each customer contact gets one e-mail."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "open": "Open a case",
        "subject": "Subject",
        "save": "Save",
        "scanner": "Scanner",
        "warranty": "under warranty until",
        "publish": "Publish and notify customers",
        "again": "Notify new customers",
        "notified": "E-mails sent: 1",
        "skipped": "already told before: 1",
        "history": "Service history",
        "unknown": "Nothing you may see has the code",
    },
    "el": {
        "open": "Άνοιγμα υπόθεσης",
        "subject": "Θέμα",
        "save": "Αποθήκευση",
        "scanner": "Σαρωτής",
        "warranty": "σε εγγύηση έως",
        "publish": "Δημοσίευση και ενημέρωση πελατών",
        "again": "Ενημέρωση νέων πελατών",
        "notified": "Μηνύματα που στάλθηκαν: 1",
        "skipped": "ενημερωμένοι ήδη: 1",
        "history": "Ιστορικό σέρβις",
        "unknown": "Τίποτα απ' όσα μπορείτε να δείτε",
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


def _unit(admin):
    product = admin.post_json(
        "/api/v1/products", {"sku": "BOIL-24", "name": "Boiler 24kW"}, status=201
    ).json
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Maria",
            "last_name": "Papadaki",
            "email": "maria@example.com",
            "account_id": acc["id"],
            "language": "el",
        },
        status=201,
    )
    unit = admin.post_json(
        "/api/v1/installed-products",
        {
            "account_id": acc["id"],
            "catalog_product": product["id"],
            "serial_number": "SN-1001",
            "warranty_until": (dt.date.today() + dt.timedelta(days=300)).isoformat(),
        },
        status=201,
    ).json
    return product, acc, unit


@pytest.mark.parametrize("lang", ["en", "el"])
def test_scan_a_serial_with_the_keyboard_and_open_a_case(
    page, live_server, make_user, api, dbsession, lang
):
    from kyklos_helpdesk.service import ensure_types

    with dbsession() as db:
        ensure_types(db)
    w = WORDS[lang]
    admin = api("admin")
    email = f"agent-{lang}@example.com"
    make_user(email=email, roles=("helpdeskmanager",), name="Eleni Agent", locale=lang)
    product, acc, unit = _unit(admin)
    admin.post_json(
        "/api/v1/cases",
        {"subject": "Noisy pump", "account_id": acc["id"], "serial_number": "SN-1001"},
        status=201,
    )
    _login(page, live_server, email)
    page.goto(f"{live_server}/helpdesk/intake")
    # the field has the focus: a wedge scanner types into it and presses Enter
    expect(page.locator("#hd-code")).to_be_focused()
    page.keyboard.type("NOPE-1", delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#hd-intake-unknown")).to_contain_text(w["unknown"])
    expect(page.locator("#hd-code")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("sn-1001", delay=5)
    page.keyboard.press("Enter")
    card = page.locator(".hd-intake-unit")
    expect(card).to_contain_text("Hotel Knossos")
    expect(card).to_contain_text("SN-1001")
    expect(card).to_contain_text(w["warranty"])
    expect(card).to_contain_text("Noisy pump")
    save_screenshot(page, f"helpdesk-intake-{lang}")
    # keyboard only: tab to "Open a case" and press Enter
    link = card.get_by_role("link", name=w["open"])
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/new**")
    expect(page.locator("input[name='serial_number']")).to_have_value("SN-1001")
    expect(page.locator("select[name='channel'] option:checked")).to_have_text(w["scanner"])
    expect(page.locator("main")).to_contain_text("Hotel Knossos")
    expect(page.locator("main")).to_contain_text("Boiler 24kW")
    page.get_by_label(w["subject"], exact=True).fill("Pump leaks after restart")
    save_screenshot(page, f"helpdesk-intake-case-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Pump leaks after restart")
    cases = admin.get("/api/v1/cases?sort=-created_at").json["items"]
    got = cases[0]
    assert got["subject"] == "Pump leaks after restart"
    assert got["channel"] == "scanner" and got["serial_number"] == "SN-1001"
    assert got["account_id"] == acc["id"] and got["product_id"] == product["id"]
    # the case links to the unit's service history
    expect(page.locator("main")).to_contain_text(w["history"])
    page.goto(f"{live_server}/helpdesk/history/installed-products/{unit['id']}")
    expect(page.locator("#hd-history-cases")).to_contain_text("Pump leaks after restart")
    expect(page.locator("#hd-warranty")).to_contain_text(w["warranty"])
    save_screenshot(page, f"helpdesk-history-{lang}")


@pytest.mark.parametrize("lang", ["en", "el"])
def test_publish_a_release_and_the_customers_are_told_once(
    page, live_server, make_user, api, smtp_server, lang
):
    w = WORDS[lang]
    admin = api("admin")
    email = f"manager-{lang}@example.com"
    make_user(email=email, roles=("helpdeskmanager",), name="Nikos Manager", locale=lang)
    product, acc, unit = _unit(admin)
    rel = admin.post_json(
        "/api/v1/releases",
        {"product_id": product["id"], "name": "2.4.1", "notes": "Fixes error E42."},
        status=201,
    ).json
    admin.patch_json(
        f"/api/v1/installed-products/{unit['id']}",
        {"helpdesk_release": rel["id"], "version": unit["version"]},
    )
    _login(page, live_server, email)
    page.goto(f"{live_server}/releases/{rel['id']}")
    expect(page.locator("main")).to_contain_text("SN-1001")
    page.get_by_role("button", name=w["publish"]).click()
    # the notices go out in a background job; the page follows it
    page.wait_for_url("**/helpdesk/releases/*/notices?job=*")
    expect(page.locator("#hd-notice-job")).to_contain_text(w["notified"])
    expect(page.locator("#hd-notice-job")).to_have_attribute("data-job-state", "done")
    save_screenshot(page, f"helpdesk-release-{lang}")
    (msg,) = smtp_server.wait(1)
    assert msg["To"] == "maria@example.com"
    assert msg["Subject"].startswith("Νέα έκδοση 2.4.1")  # the contact's language
    # the button again: nobody is mailed twice
    page.get_by_role("button", name=w["again"]).click()
    expect(page.locator("#hd-notice-job")).to_contain_text(w["skipped"])
    expect(page.locator("#hd-release-notices tbody tr")).to_have_count(1)
    save_screenshot(page, f"helpdesk-release-again-{lang}")
    import time

    time.sleep(1)  # a second mail would have been handed to SMTP by now
    assert len(smtp_server.messages) == 1
    assert admin.get(f"/api/v1/releases/{rel['id']}").json["notified"] == 1
