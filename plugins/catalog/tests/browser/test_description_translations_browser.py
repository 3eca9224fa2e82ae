"""Product descriptions per language in real Chromium, in English and in Greek: a manager
writes the Greek and Polish descriptions in the text areas of the product's form (one
per language, line breaks kept) and reads them, each under its language's name, on the
product's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"save": "Save", "label": "Description in other languages"},
    "el": {"save": "Αποθήκευση", "label": "Περιγραφή σε άλλες γλώσσες"},
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "catalog"]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_writes_descriptions_per_language(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    admin = api("admin")
    oil = admin.post_json(
        "/api/v1/products",
        {
            "sku": "OIL-1L",
            "name": "Olive oil 1 l",
            "description": "Cold-pressed.",
            "list_price": {"amount": "9.80", "currency": "EUR"},
        },
        status=201,
    ).json
    email = f"describe-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Catalog Manager", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Catalog Manager")
    page.goto(f"{live_server}/products/{oil['id']}/edit")
    expect(page.locator("main")).to_contain_text(w["label"])
    # a text area per language, named by the language itself
    greek = page.locator("textarea[name='el']")
    expect(greek).to_be_visible()
    greek.fill("Ψυχρή έκθλιψη.\nΟξύτητα κάτω από 0,3 %.")
    page.locator("textarea[name='pl']").fill("Tłoczona na zimno.")
    greek.scroll_into_view_if_needed()
    save_screenshot(page, f"catalog-description-form-{lang}")
    page.get_by_role("button", name=w["save"]).first.click()
    expect(page.locator("h1")).to_contain_text("Olive oil 1 l")
    main = page.locator("main")
    expect(main).to_contain_text("Ελληνικά")
    expect(main).to_contain_text("Οξύτητα κάτω από 0,3 %.")
    expect(main).to_contain_text("Polski")
    expect(main).to_contain_text("Tłoczona na zimno.")
    # the line break is kept on the page: two lines, not one
    text = main.locator(".k-pre", has_text="Ψυχρή έκθλιψη.").first
    box = text.bounding_box()
    assert box is not None and box["height"] > 30
    text.scroll_into_view_if_needed()
    save_screenshot(page, f"catalog-description-detail-{lang}")
    got = admin.get(f"/api/v1/products/{oil['id']}").json
    assert got["description_translations"] == {
        "el": "Ψυχρή έκθλιψη.\nΟξύτητα κάτω από 0,3 %.",
        "pl": "Tłoczona na zimno.",
    }
