"""The installed base in real Chromium, in English and in Greek: a manager adds a
customer's installed product by picking it from the catalog (the description fills
itself with the product's name) and finds the customer on the product's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"field": "Product from the catalog", "save": "Save", "panel": "Installed at customers"},
    "el": {
        "field": "Προϊόν από τον κατάλογο",
        "save": "Αποθήκευση",
        "panel": "Εγκατεστημένο σε πελάτες",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "catalog"]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_picks_an_installed_product_from_the_catalog(
    page, live_server, make_user, api, lang
):
    w = WORDS[lang]
    admin = api("admin")
    for i in range(3):
        admin.post_json("/api/v1/products", {"sku": f"OTHER-{i}", "name": f"Toner {i}"})
    printer = admin.post_json(
        "/api/v1/products", {"sku": "PRN-100", "name": "Laser printer 100"}
    ).json
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}).json
    email = f"installed-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Installed Manager", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Installed Manager")
    page.goto(f"{live_server}/installed-products/new?account_id={acc['id']}")
    picker = page.get_by_role("combobox", name=w["field"])
    picker.click()
    page.keyboard.type("laser", delay=20)
    page.locator("div[role=option]", has_text="Laser printer 100").click()
    page.keyboard.press("Escape")
    save_screenshot(page, f"catalog-installed-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Laser printer 100")
    save_screenshot(page, f"catalog-installed-{lang}")
    page.goto(f"{live_server}/products/{printer['id']}")
    panel = page.locator("main .card", has_text=w["panel"]).first
    expect(panel).to_contain_text("Hotel Knossos")
    save_screenshot(page, f"catalog-installed-on-product-{lang}")
