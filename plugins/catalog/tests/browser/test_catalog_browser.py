"""The catalog in real Chromium, in English and in Greek: a manager creates a product
with its category picked by name and its unit and type from drop-downs, and reads its
prices (the volume tier of a price list, with the reason) on the product's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "login": "Log in",
        "save": "Save",
        "sku": "Code (SKU)",
        "name": "Name",
        "unit": "Unit",
        "hour": "Hour",
        "kind": "Type",
        "service": "Service",
        "prices": "Prices",
        "category": "Olive oil",
        "catlabel": "Category",
        "list": "Wholesale",
    },
    "el": {
        "login": "Σύνδεση",
        "save": "Αποθήκευση",
        "sku": "Κωδικός (SKU)",
        "name": "Όνομα",
        "unit": "Μονάδα",
        "hour": "Ώρα",
        "kind": "Τύπος",
        "service": "Υπηρεσία",
        "prices": "Τιμές",
        "category": "Ελαιόλαδο",
        "list": "Wholesale",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "catalog"]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_creates_a_product_and_reads_its_prices(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    admin = api("admin")
    oil = admin.post_json("/api/v1/product-categories", {"name": "Olive oil"}).json
    wholesale = admin.post_json(
        "/api/v1/price-lists", {"name": "Wholesale", "currency": "EUR", "priority": 10}
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": wholesale["id"],
            "category_id": oil["id"],
            "min_quantity": "0",
            "method": "discount",
            "discount_percent": "10",
        },
    )
    email = f"catalog-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Catalog Manager", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Catalog Manager")
    page.goto(f"{live_server}/products/new")
    page.get_by_label(w["sku"]).fill("oil-5l")
    page.get_by_label(w["name"], exact=True).fill("Extra virgin olive oil 5 l")
    # the category is offered by its name, in the user's language
    page.locator("select[name='category_id']").select_option(label=w["category"])
    page.get_by_label(w["unit"]).select_option(label=w["hour"])
    page.get_by_label(w["kind"]).select_option(label=w["service"])
    page.locator("input[name='amount']").first.fill("40.00")
    save_screenshot(page, f"catalog-product-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Extra virgin olive oil 5 l")
    main = page.locator("main")
    expect(main).to_contain_text("OIL-5L")
    expect(main).to_contain_text(w["category"])
    expect(main).to_contain_text(w["hour"])
    panel = main.locator(".card", has_text=w["prices"]).first
    expect(panel).to_contain_text("36")  # 10 % off 40.00
    expect(panel).to_contain_text("Wholesale")
    save_screenshot(page, f"catalog-product-{lang}")
