"""A quote built from the catalog in real Chromium, in English and in Greek: a sales
manager picks two products by name on the quote page, sees each line's name, unit and
price filled in with the rule that gave the price, adds them, and reads the margin."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "variant": "Create the variant",
        "converted": "Prices converted from EUR",
        "add": "Add line",
        "piece": "Piece",
        "hour": "Hour",
        "margin": "Margin",
        "rack": "Steel rack 200 cm",
        "rule": "Knossos contract",
        "lines": "Lines",
    },
    "el": {
        "variant": "Δημιουργία παραλλαγής",
        "converted": "μετατράπηκαν από EUR",
        "add": "Προσθήκη",
        "piece": "Τεμάχιο",
        "hour": "Ώρα",
        "margin": "Περιθώριο",
        "rack": "Μεταλλικό ράφι 200 cm",
        "rule": "Knossos contract",
        "lines": "Γραμμές",
    },
}


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


def _pick(page, text):
    wrapper = page.locator(".ts-wrapper:has(#sfa-line-product-ts-control)")
    wrapper.locator(".ts-control").click()
    page.keyboard.type(text)
    option = page.locator(".ts-dropdown .option", has_text=text).first
    expect(option).to_be_visible()
    # click once the picker's last search has answered, and go on when the choice shows
    expect(page.locator(".ts-wrapper.loading:has(#sfa-line-product-ts-control)")).to_have_count(0)
    option.click()
    expect(wrapper.locator(".ts-control .item")).to_have_count(1)


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_quote_from_two_products_with_prices_and_margin(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    admin = api("admin")
    rack_id = admin.post_json(
        "/api/v1/products",
        {
            "sku": f"RACK-{lang}",
            "name": "Steel rack 200 cm",
            "name_translations": {"el": "Μεταλλικό ράφι 200 cm"},
            "unit": "piece",
            "tax_rate": "24",
            "list_price": money("200.00"),
            "cost": money("120.00"),
        },
    ).json["id"]
    admin.post_json(
        "/api/v1/products",
        {
            "sku": f"FIT-{lang}",
            "name": "Installation work",
            "kind": "hours",
            "unit": "hour",
            "tax_rate": "24",
            "list_price": money("40.00"),
            "cost": money("25.00"),
        },
    )
    admin.post_json(
        "/api/v1/_exchange-rates",
        {"rates": [{"currency": "PLN", "rate_date": "2020-01-01", "rate": "4.00"}]},
    )
    admin.patch_json("/api/v1/_settings", {"currency.in_use": ["EUR", "PLN"]})
    acc = admin.post_json("/api/v1/accounts", {"name": f"Hotel Knossos {lang}"}).json
    own = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Knossos contract", "currency": "EUR", "account_id": acc["id"]},
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": own["id"],
            "product_id": rack_id,
            "min_quantity": "10",
            "method": "fixed",
            "price": "170.00",
        },
    )
    email = f"quote-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Sales Manager", locale=lang)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Sales Manager")
    quote = (
        api("admin")
        .post_json(
            "/api/v1/quotes",
            {"title": "Storage room", "currency": "EUR", "account_id": acc["id"], "language": lang},
        )
        .json
    )
    page.goto(f"{live_server}/quotes/{quote['id']}")

    # first product: 12 racks reach the contract's fixed price
    page.fill("#sfa-line-qty", "12")
    _pick(page, "RACK")
    expect(page.locator("#sfa-line-desc")).to_have_value(w["rack"])
    expect(page.locator("#sfa-line-price")).to_have_value("170.00" if lang == "en" else "170,00")
    expect(page.locator("#sfa-line-reason")).to_contain_text(w["rule"])
    expect(page.locator("#sfa-line-unit option:checked")).to_have_text(w["piece"])
    save_screenshot(page, f"sfa-quote-pick-{lang}")
    page.locator("#sfa-lines").get_by_role("button", name=w["add"]).click()
    expect(page.locator("tr.sfa-quote-line")).to_have_count(1)

    # second product: no rule, the list price; the quantity is typed after the pick
    _pick(page, "FIT")
    expect(page.locator("#sfa-line-price")).to_have_value("40.00" if lang == "en" else "40,00")
    page.fill("#sfa-line-qty", "3")
    page.locator("#sfa-line-qty").dispatch_event("change")
    page.locator("#sfa-lines").get_by_role("button", name=w["add"]).click()
    rows = page.locator("tr.sfa-quote-line")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(w["rack"])
    expect(rows.nth(0)).to_contain_text(w["rule"])
    expect(rows.nth(1)).to_contain_text(w["hour"])
    # 12 x 170 = 2040 less 12 x 120 = 600; 3 x 40 = 120 less 75 = 45: margin 645
    margin = page.locator(".sfa-margin")
    expect(margin).to_contain_text("645")
    expect(page.locator("main")).to_contain_text(w["margin"])
    page.locator("#sfa-quote-lines").scroll_into_view_if_needed()
    save_screenshot(page, f"sfa-quote-lines-{lang}")

    # the same offer in zloty: every price converted at the dated rate, which is named
    page.locator("#sfa-variant-currency").select_option("PLN")
    page.get_by_role("button", name=w["variant"]).click()
    note = page.locator(".sfa-conversion")
    expect(note).to_contain_text(w["converted"])
    expect(note).to_contain_text("4")
    expect(page.locator("tr.sfa-quote-line").nth(0)).to_contain_text("680")  # 170 x 4
    save_screenshot(page, f"sfa-quote-variant-pln-{lang}")
