"""The portal's "Our prices" in real Chromium, in English and in Greek: a customer whose
company has its own price list logs in, opens "Our prices" from the portal's home and
reads their price with the rule in words, the product's name and description in their
language, searches, and never sees the cost."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import save_screenshot

pytestmark = pytest.mark.browser

CHOSEN = "a long walk on the beach 7"
WORDS = {
    "en": {
        "locale": "en-GB",
        "page": "Our prices",
        "name": "Olive oil 1 l",
        "desc": "Cold-pressed.",
        "reason": "Price list Hotels 2026: fixed price.",
        "list": "List price.",
        "search": "Search",
    },
    "el": {
        "locale": "el-GR",
        "page": "Οι τιμές μας",
        "name": "Ελαιόλαδο 1 l",
        "desc": "Ψυχρής έκθλιψης.",
        "reason": "Τιμοκατάλογος Hotels 2026: σταθερή τιμή.",
        "list": "Τιμή καταλόγου.",
        "search": "Αναζήτηση",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "catalog"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_customer_reads_their_prices(browser, live_server, api, smtp_server, lang):
    w = WORDS[lang]
    admin = api("admin")
    hotel = admin.post_json("/api/v1/accounts", {"name": "Hotel Aegli"}).json["id"]
    oil = admin.post_json(
        "/api/v1/products",
        {
            "sku": "OIL-1L",
            "name": "Olive oil 1 l",
            "name_translations": {"el": "Ελαιόλαδο 1 l"},
            "description": "Cold-pressed.",
            "description_translations": {"el": "Ψυχρής έκθλιψης."},
            "list_price": {"amount": "10.00", "currency": "EUR"},
            "cost": {"amount": "6.17", "currency": "EUR"},
        },
        status=201,
    ).json
    admin.post_json(
        "/api/v1/products",
        {
            "sku": "HON-450",
            "name": "Thyme honey",
            "list_price": {"amount": "8.00", "currency": "EUR"},
            "cost": {"amount": "4.93", "currency": "EUR"},
        },
        status=201,
    )
    hotels = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Hotels 2026", "currency": "EUR", "account_id": hotel},
        status=201,
    ).json["id"]
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": hotels,
            "product_id": oil["id"],
            "method": "fixed",
            "price": "8.50",
            "min_quantity": "0",
        },
        status=201,
    )
    email = f"eleni-{lang}@aegli.example"
    person = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Ελένη", "last_name": "Πελάτισσα", "account_id": hotel, "email": email},
    ).json["id"]
    admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
    body = smtp_server.wait(1)[0].get_body(("plain",)).get_content()
    # the link starts with the site's address; the test server listens elsewhere
    link = live_server + re.search(r"/portal/welcome\?token=\S+", body).group(0)

    ctx = browser.new_context(locale=w["locale"], viewport={"width": 1280, "height": 900})
    customer = ctx.new_page()
    try:
        customer.goto(link)
        customer.fill("#password", CHOSEN)
        customer.fill("#confirm", CHOSEN)
        customer.locator("form[action*='/portal/welcome'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal/login$"))
        customer.fill("#email", email)
        customer.fill("#password", CHOSEN)
        customer.locator("form[action$='/portal/login'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal$"))
        tile = customer.locator("#k-portal-catalog-prices")
        expect(tile).to_contain_text(w["page"])
        tile.click()
        expect(customer.locator("h1")).to_contain_text(w["page"])
        table = customer.locator("#catalog-portal-prices")
        oil_row = table.locator("tr", has_text="OIL-1L")
        expect(oil_row).to_contain_text(w["name"])
        expect(oil_row).to_contain_text(w["desc"])
        expect(oil_row.locator(".catalog-portal-price")).to_contain_text(re.compile(r"8[.,]50"))
        expect(oil_row.locator(".catalog-portal-reason")).to_have_text(w["reason"])
        honey = table.locator("tr", has_text="HON-450")
        expect(honey.locator(".catalog-portal-reason")).to_have_text(w["list"])
        expect(customer.locator("body")).not_to_contain_text("6,17")
        expect(customer.locator("body")).not_to_contain_text("6.17")
        save_screenshot(customer, f"catalog-portal-prices-{lang}")
        customer.fill("#catalog-q", "honey")
        customer.get_by_role("button", name=w["search"]).click()
        expect(table.locator("tr.catalog-portal-product")).to_have_count(1)
        expect(table).to_contain_text("HON-450")
        save_screenshot(customer, f"catalog-portal-search-{lang}")
    finally:
        ctx.close()
