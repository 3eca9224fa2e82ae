"""The settings page in real Chromium, in English and in Greek: an administrator opens it
from the administration page, changes the company name and the default currency, and a
new record's money field then starts in that currency."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "admin": "Administration",
        "settings": "Settings",
        "company_name": "Company name",
        "currency": "Default currency",
        "save": "Save settings",
        "saved": "Settings saved.",
        "company": "Company",
        "restart": "restart",
    },
    "el": {
        "admin": "Διαχείριση",
        "settings": "Ρυθμίσεις",
        "company_name": "Επωνυμία εταιρείας",
        "currency": "Προεπιλεγμένο νόμισμα",
        "save": "Αποθήκευση ρυθμίσεων",
        "saved": "Οι ρυθμίσεις αποθηκεύτηκαν.",
        "company": "Εταιρεία",
        "restart": "επανεκκίνηση",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["samplemoney"]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_admin_changes_company_name_and_default_currency(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    email = f"settings-{lang}@example.com"
    make_user(email=email, roles=("admin",), name="Admin Person", locale=lang)
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Admin Person")

    page.goto(f"{live_server}/admin")
    page.get_by_role("link", name=w["settings"], exact=True).first.click()
    expect(page.locator("h1")).to_have_text(w["settings"])
    expect(page.locator("#h-company")).to_have_text(w["company"])
    expect(page.locator("#plugins")).to_contain_text(w["restart"])

    name = "Κύκλος Εμπορική Α.Ε." if lang == "el" else "Kyklos Trading Ltd"
    page.get_by_label(w["company_name"]).fill(name)
    page.get_by_label(w["currency"]).select_option("PLN")
    save_screenshot(page, f"settings-{lang}")
    save_screenshot(page, f"settings-{lang}", phone=True)
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator(".alert-success")).to_contain_text(w["saved"])
    expect(page.get_by_label(w["company_name"])).to_have_value(name)
    expect(page.get_by_label(w["currency"])).to_have_value("PLN")

    got = api("admin").get("/api/v1/_settings").json
    assert got["company.name"] == name
    assert got["currency.default"] == "PLN" and got["currency.in_use"][0] == "PLN"

    # a new record's amount now starts in złoty, offered first
    page.goto(f"{live_server}/deals/new")
    currency = page.locator(".item-currency select")
    expect(currency).to_have_value("PLN")
    first = currency.locator("option").first
    expect(first).to_have_attribute("value", "PLN")
    save_screenshot(page, f"settings-new-deal-{lang}")


def test_logo_rates_and_a_refused_value(page, live_server, make_user, tmp_path):
    import datetime as dt

    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (160, 60), (20, 90, 160)).save(logo)
    make_user(email="settings-logo@example.com", roles=("admin",), name="Admin Person")
    page.goto(f"{live_server}/login")
    page.fill("#email", "settings-logo@example.com")
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    page.goto(f"{live_server}/settings")

    # a refused value: nothing is saved and the field says why
    page.get_by_label("Company name").fill("Not saved")
    page.get_by_label("Public address").fill("crm.example.com")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#k-settings-errors")).to_be_visible()
    expect(page.locator("#set-base_url-error")).to_contain_text("http://")
    save_screenshot(page, "settings-error-en")

    page.get_by_label("Public address").fill("https://crm.example.com")
    page.get_by_label("Logo").set_input_files(str(logo))
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".alert-success")).to_contain_text("Settings saved.")
    expect(page.locator("img.k-settings-logo")).to_be_visible()

    # a rate entered by hand, a month old: the page warns about it
    page.locator("#rate-currency").select_option("USD")
    page.locator("#rate-date").fill((dt.date.today() - dt.timedelta(days=30)).isoformat())
    page.locator("#rate-value").fill("1.0850")
    page.get_by_role("button", name="Save rate").click()
    expect(page.locator(".alert-success")).to_contain_text("Exchange rate saved.")
    expect(page.locator("table.k-rates")).to_contain_text("1.085")
    save_screenshot(page, "settings-logo-rates-en")
