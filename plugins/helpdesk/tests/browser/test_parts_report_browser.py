"""Parts and costs in the service history, and the failures report of the report
builder, in real Chromium, in English and in Greek: a helpdesk manager adds a part to
a case with the product picker (the unit cost comes from the catalog), sees the parts
and totals in their money format on the unit's history; opens "Failures per product
and serial number" at /reports, sees its chart and drills from a number to the cases."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "parts": "Parts and labour",
        "save": "Save",
        "billable": "Billable",
        "report": "Failures per product and serial number",
        "total": "€96.00",
        "not_billable": "Not billable",
    },
    "el": {
        "parts": "Ανταλλακτικά και εργασία",
        "save": "Αποθήκευση",
        "billable": "Χρεώσιμο",
        "report": "Βλάβες ανά προϊόν και σειριακό αριθμό",
        "total": "96,00\xa0€",
        "not_billable": "Μη χρεώσιμο",
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


def _setup(admin, types):
    boiler = admin.post_json(
        "/api/v1/products", {"sku": "BOIL-24", "name": "Boiler 24kW"}, status=201
    ).json
    pump = admin.post_json(
        "/api/v1/products",
        {
            "sku": "PUMP-1",
            "name": "Circulation pump",
            "cost": {"amount": "48.00", "currency": "EUR"},
        },
        status=201,
    ).json
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    unit = admin.post_json(
        "/api/v1/installed-products",
        {
            "account_id": acc["id"],
            "catalog_product": boiler["id"],
            "serial_number": "SN-1001",
            "warranty_until": (dt.date.today() - dt.timedelta(days=5)).isoformat(),
        },
        status=201,
    ).json
    case = admin.post_json(
        "/api/v1/cases",
        {
            "subject": "Pump leaks",
            "account_id": acc["id"],
            "product_id": boiler["id"],
            "serial_number": "SN-1001",
            "type_id": types["incident"],
        },
        status=201,
    ).json
    return boiler, pump, unit, case


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_part_on_a_case_shows_in_the_service_history_with_its_cost(
    page, live_server, make_user, api, dbsession, lang
):
    from kyklos_helpdesk.service import ensure_types

    with dbsession() as db:
        types = ensure_types(db)
    w = WORDS[lang]
    admin = api("admin")
    email = f"hdm-{lang}@example.com"
    make_user(email=email, roles=("helpdeskmanager",), name="Nikos Manager", locale=lang)
    boiler, pump, unit, case = _setup(admin, types)
    _login(page, live_server, email)
    page.goto(f"{live_server}/parts-used/new?from=case:{case['id']}")
    # the part is picked from the catalog by its name, never by an id
    wrapper = page.locator("select[name='product_id']").locator(
        "xpath=following-sibling::div[contains(@class,'ts-wrapper')][1]"
    )
    wrapper.locator(".ts-control").click()
    page.keyboard.type("Circulation", delay=30)
    page.wait_for_load_state("networkidle")
    wrapper.locator(".ts-dropdown .option", has_text="Circulation pump").click()
    page.keyboard.press("Escape")
    page.locator("input[name='quantity']").fill("2")
    save_screenshot(page, f"helpdesk-part-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_be_visible()
    (part,) = admin.get("/api/v1/parts-used").json["items"]
    assert part["case_id"] == case["id"] and part["product_id"] == pump["id"]
    assert part["unit_cost"]["amount"] == "48.00" and part["billable"] is True
    page.goto(f"{live_server}/helpdesk/history/installed-products/{unit['id']}")
    section = page.locator("#hd-history-parts")
    expect(page.locator("main")).to_contain_text(w["parts"])
    expect(section).to_contain_text("Circulation pump")
    expect(section).to_contain_text(w["billable"])
    expect(page.locator(".hd-total-all")).to_have_text(w["total"])
    save_screenshot(page, f"helpdesk-history-parts-{lang}")


@pytest.mark.parametrize("lang", ["en", "el"])
def test_the_failures_report_with_its_chart_drills_to_the_cases(
    page, live_server, make_user, api, dbsession, lang
):
    from kyklos_helpdesk.service import ensure_types

    with dbsession() as db:
        types = ensure_types(db)
    w = WORDS[lang]
    admin = api("admin")
    email = f"hdr-{lang}@example.com"
    make_user(email=email, roles=("helpdeskmanager",), name="Nikos Manager", locale=lang)
    boiler, _pump, _unit, _case = _setup(admin, types)
    admin.post_json(
        "/api/v1/cases",
        {
            "subject": "No heat",
            "product_id": boiler["id"],
            "serial_number": "SN-1001",
            "type_id": types["complaint"],
        },
        status=201,
    )
    _login(page, live_server, email)
    page.goto(f"{live_server}/reports")
    page.get_by_role("link", name=w["report"]).click()
    expect(page.locator("h1")).to_have_text(w["report"])
    expect(page.locator("#report-chart")).to_be_visible()
    row = page.locator("#report-table tbody tr").first
    expect(row).to_contain_text("Boiler 24kW")
    expect(row).to_contain_text("SN-1001")
    save_screenshot(page, f"helpdesk-failures-report-{lang}")
    row.get_by_role("link").first.click()
    page.wait_for_url("**/cases**")
    expect(page.locator("main")).to_contain_text("Pump leaks")
    expect(page.locator("main")).to_contain_text("No heat")
    save_screenshot(page, f"helpdesk-failures-drill-{lang}")
