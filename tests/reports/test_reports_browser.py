"""The report builder in real Chromium, in English and in Greek: a person picks the
records, a grouping and a measure from drop-downs, sees the table and the chart, opens
the records behind a number, saves the report and pins it to the home page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "people": "People",
        "city": "Account › City",
        "count": "Number of records",
        "show": "Show the report",
        "save": "Save",
        "pin": "Pin to my home page",
        "month": "Month",
        "created": "Created",
    },
    "el": {
        "people": "Πρόσωπα",
        "city": "Λογαριασμός › Πόλη",
        "count": "Πλήθος εγγραφών",
        "show": "Εμφάνιση αναφοράς",
        "save": "Αποθήκευση",
        "pin": "Καρφίτσωμα στην αρχική μου σελίδα",
        "month": "Μήνας",
        "created": "Δημιουργήθηκε",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def _login(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_build_a_report_drill_save_and_pin_it(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    email = f"reports-{lang}@example.com"
    make_user(
        email=email, roles=("admin",), name="Rita Reports", locale=lang, timezone="Europe/Athens"
    )
    admin = api("admin")
    accounts = {}
    for name, city in (("Knossos Travel", "Ηράκλειο"), ("Pella Foods", "Θεσσαλονίκη")):
        accounts[city] = admin.post_json(
            "/api/v1/accounts", {"name": name, "city": city, "country": "GR"}, status=201
        ).json["id"]
    for i in range(3):
        admin.post_json(
            "/api/v1/persons",
            {"first_name": "Eva", "last_name": f"H{i}", "account_id": accounts["Ηράκλειο"]},
            status=201,
        )
    admin.post_json(
        "/api/v1/persons",
        {"first_name": "Nikos", "last_name": "T", "account_id": accounts["Θεσσαλονίκη"]},
        status=201,
    )

    _login(page, live_server, email)
    page.goto(f"{live_server}/reports")
    page.select_option("#rep-entity", label=w["people"])
    page.locator("form[action$='/reports/new'] button[type=submit]").click()
    expect(page.locator("h1")).to_be_visible()
    # choosing the grouping redraws the form (reports.js); no field name is ever typed
    page.select_option("#group-0", label=w["city"])
    page.wait_for_load_state()
    expect(page.locator("#group-0")).to_have_value("account.city")
    page.select_option("#group-1", label=w["created"])
    page.wait_for_load_state()
    expect(page.locator("#bucket-1")).to_have_value("month")
    page.locator("#report-run").click()
    table = page.locator("#report-table")
    expect(table).to_contain_text("Ηράκλειο")
    expect(table.locator("thead")).to_contain_text(w["count"])
    expect(page.locator("#report-pivot")).to_be_visible()
    expect(page.locator("#report-chart canvas")).to_be_visible()
    save_screenshot(page, f"report-builder-{lang}")
    # save and pin
    page.fill("#rep-name", "Πόλεις" if lang == "el" else "Cities")
    page.locator("#report-save").click()
    expect(page.locator("h1")).to_have_text("Πόλεις" if lang == "el" else "Cities")
    expect(page.locator("#report-table")).to_contain_text("3")
    page.locator("#report-pin").click()
    expect(page.locator("#report-unpin")).to_be_visible()
    # e-mail delivery: a recipient and a frequency from drop-downs
    page.select_option("#schedule-user", label="Rita Reports")
    page.select_option("#schedule-frequency", index=1)
    page.locator("#schedule-add").click()
    expect(page.locator("#report-schedules li")).to_contain_text("Rita Reports")
    save_screenshot(page, f"report-saved-{lang}")
    # the number opens the records behind it: the people list with the same filters
    page.locator("#report-table tbody tr", has_text="Ηράκλειο").locator("a").first.click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text(w["people"])
    expect(page.locator("table")).to_contain_text("H2")
    expect(page.locator("table")).not_to_contain_text("Nikos")
    save_screenshot(page, f"report-drill-{lang}")
    page.goto(f"{live_server}/")
    tile = page.locator("canvas[id^='k-widget-report-']")
    expect(tile).to_be_visible()
    save_screenshot(page, f"report-home-{lang}")
