"""Business hours per weekday and the monthly statement in real Chromium, in English
and in Greek: a helpdesk manager sets a shop's week (Saturday half-day) with time
inputs, and reads a customer's statement of November with its overage, in words and
numbers of the manager's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "name": "Name",
        "save": "Save",
        "saturday": "Saturday",
        "sat_line": "Saturday 09:00–13:00",
        "title": "Monthly statements",
        "month": "November 2026",
        "over": "1.5",
        "used": "5.5",
    },
    "el": {
        "name": "Όνομα",
        "save": "Αποθήκευση",
        "saturday": "Σάββατο",
        "sat_line": "Σάββατο 09:00–13:00",
        "title": "Μηνιαίες καταστάσεις",
        "month": "Νοέμβριος 2026",
        "over": "1,5",
        "used": "5,5",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


def _login(page, live_server, email):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_weekday_hours_and_the_monthly_statement(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    admin = api("admin")
    email = f"hdm-{lang}@example.com"
    make_user(
        email=email,
        roles=("helpdeskmanager",),
        name="Eleni Manager",
        locale=lang,
        timezone="Europe/Athens",
    )
    _login(page, live_server, email)

    # business hours: Monday 9-17 and a Saturday half-day, with time inputs
    page.goto(f"{live_server}/business-hours/new")
    page.get_by_label(w["name"], exact=True).fill("Shop")
    page.locator("select[name='r0-day']").select_option("mon")
    page.locator("input[name='r0-opens']").fill("09:00")
    page.locator("input[name='r0-closes']").fill("17:00")
    page.locator("select[name='r1-day']").select_option(label=w["saturday"])
    page.locator("input[name='r1-opens']").fill("09:00")
    page.locator("input[name='r1-closes']").fill("13:00")
    assert page.locator("input[name='r1-opens']").get_attribute("type") == "time"
    save_screenshot(page, f"helpdesk-business-hours-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Shop")
    expect(page.locator("main")).to_contain_text(w["sat_line"])
    save_screenshot(page, f"helpdesk-business-hours-{lang}")

    # a customer's November: 6 h in October, 5.5 h in November of a 10 h bank
    acc = admin.post_json("/api/v1/accounts", {"name": f"Hotel Knossos {lang}"}).json
    contract = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Maintenance 2026",
            "account_id": acc["id"],
            "starts_on": "2026-10-01",
            "ends_on": "2027-09-30",
            "quantity": "10",
        },
    ).json
    case = admin.post_json(
        "/api/v1/cases",
        {"subject": "Boiler", "account_id": acc["id"], "contract_id": contract["id"]},
    ).json
    for day, hours in (("2026-10-15", "6"), ("2026-11-05", "3"), ("2026-11-20", "2.5")):
        admin.post_json(
            "/api/v1/case-time",
            {"case_id": case["id"], "spent_on": day, "quantity": hours, "note": "Service"},
            status=201,
        )
    page.goto(f"{live_server}/helpdesk/statements?month=2026-11")
    expect(page.locator("h1")).to_contain_text(w["title"])
    main = page.locator("main")
    expect(main).to_contain_text(w["month"])
    section = page.locator(f".hd-statement[data-account='{acc['id']}']")
    expect(section).to_contain_text("Maintenance 2026")
    expect(section.locator(".hd-used")).to_have_text(w["used"])
    expect(section.locator(".hd-over")).to_have_text(w["over"])
    save_screenshot(page, f"helpdesk-statement-{lang}")
