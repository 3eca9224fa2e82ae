"""Variants in real Chromium, in English and in Greek: a manager creates a T-shirt on
the product form, makes its size × colour variants by ticking values on the product's
"Create variants" page, then picks one variant by its code on a quote written in the
user's language: the line shows the variant's name in that language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "sku": "Code (SKU)",
        "name": "Name",
        "save": "Save",
        "create": "Create variants",
        "made": "4 variants created.",
        "variant": "T-shirt (L, Red)",
        "add": "Add line",
    },
    "el": {
        "sku": "Κωδικός (SKU)",
        "name": "Όνομα",
        "save": "Αποθήκευση",
        "create": "Δημιουργία παραλλαγών",
        "made": "4 παραλλαγές",
        "variant": "Μπλουζάκι (L, Κόκκινο)",
        "add": "Προσθήκη",
    },
}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_make_size_by_colour_variants_and_quote_one(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    admin = api("admin")
    size = admin.post_json("/api/v1/product-attributes", {"name": "Size"}).json
    colour = admin.post_json("/api/v1/product-attributes", {"name": "Colour", "position": 1}).json
    for attr, names in (
        (size, (("S", None), ("L", None))),
        (colour, (("Red", "Κόκκινο"), ("Blue", "Μπλε"))),
    ):
        for i, (name, greek) in enumerate(names):
            body = {"attribute_id": attr["id"], "name": name, "position": i}
            if greek:
                body["title_translations"] = {"el": greek}
            admin.post_json("/api/v1/attribute-values", body)
    email = f"variants-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Sales Manager", locale=lang)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Sales Manager")

    page.goto(f"{live_server}/products/new")
    page.get_by_label(w["sku"]).fill(f"tee-{lang}")
    page.get_by_label(w["name"], exact=True).fill("T-shirt")
    page.locator("input[name='amount']").first.fill("10.00")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("T-shirt")
    product_url = page.url
    admin_id = int(product_url.rstrip("/").rsplit("/", 1)[1])
    # the Greek name of the template (an administrator's data, given through the API)
    got = admin.get(f"/api/v1/products/{admin_id}").json
    admin.patch_json(
        f"/api/v1/products/{admin_id}",
        {"name_translations": {"el": "Μπλουζάκι"}, "version": got["version"]},
    )
    page.reload()
    page.get_by_role("link", name=w["create"]).click()
    form = page.locator("#catalog-variants-form")
    for value in (
        "S",
        "L",
        "Red" if lang == "en" else "Κόκκινο",
        "Blue" if lang == "en" else "Μπλε",
    ):
        form.get_by_label(value, exact=True).check()
    save_screenshot(page, f"catalog-variants-form-{lang}")
    form.get_by_role("button", name=w["create"]).click()
    expect(page.locator("body")).to_contain_text(w["made"])
    expect(page.locator("main")).to_contain_text(f"TEE-{lang.upper()}-L-RED")
    save_screenshot(page, f"catalog-variants-made-{lang}")

    quote = admin.post_json(
        "/api/v1/quotes", {"title": "Team shirts", "currency": "EUR", "language": lang}
    ).json
    page.goto(f"{live_server}/quotes/{quote['id']}")
    page.fill("#sfa-line-qty", "20")
    wrapper = page.locator(".ts-wrapper:has(#sfa-line-product-ts-control)")
    wrapper.locator(".ts-control").click()
    page.keyboard.type(f"TEE-{lang.upper()}-L-RED")
    option = page.locator(".ts-dropdown .option", has_text=f"TEE-{lang.upper()}-L-RED").first
    expect(option).to_be_visible()
    # click once the picker's last search has answered, and go on when the choice shows
    expect(page.locator(".ts-wrapper.loading:has(#sfa-line-product-ts-control)")).to_have_count(0)
    option.click()
    expect(wrapper.locator(".ts-control .item")).to_have_count(1)
    expect(page.locator("#sfa-line-desc")).to_have_value(w["variant"])
    page.locator("#sfa-lines").get_by_role("button", name=w["add"]).click()
    rows = page.locator("tr.sfa-quote-line")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text(w["variant"])
    save_screenshot(page, f"sfa-quote-variant-line-{lang}")
