"""Offer templates in real Chromium, in English and in Greek: a sales manager opens a
deal, chooses "New quote from template" and a template from the drop-down, gets a quote
whose rack line has the customer's contract price, then saves that quote as a new
template under another name."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "from_template": "New quote from template",
        "create": "Create quote",
        "save": "Save as template",
        "rack": "Steel rack 200 cm",
        "created": "Created",
        "saved": "Saved as the offer template",
    },
    "el": {
        "from_template": "Νέα προσφορά από πρότυπο",
        "create": "Δημιουργία προσφοράς",
        "save": "Αποθήκευση ως πρότυπο",
        "rack": "Μεταλλικό ράφι 200 cm",
        "created": "Δημιουργήθηκε",
        "saved": "Αποθηκεύτηκε ως πρότυπο προσφοράς",
    },
}


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_new_quote_from_template_and_save_as_template(
    page, live_server, make_user, api, stages, lang
):
    w = WORDS[lang]
    admin = api("admin")
    rack = admin.post_json(
        "/api/v1/products",
        {
            "sku": f"RACK-{lang}",
            "name": "Steel rack 200 cm",
            "name_translations": {"el": "Μεταλλικό ράφι 200 cm"},
            "unit": "piece",
            "tax_rate": "24",
            "list_price": money("200.00"),
        },
    ).json
    acc = admin.post_json("/api/v1/accounts", {"name": f"Ξενοδοχείο Κνωσός {lang}"}).json
    own = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Knossos contract", "currency": "EUR", "account_id": acc["id"]},
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": own["id"],
            "product_id": rack["id"],
            "min_quantity": "10",
            "method": "fixed",
            "price": "170.00",
        },
    )
    email = f"offer-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Sales Manager", locale=lang)
    template = admin.post_json(
        "/api/v1/quote-templates",
        {"name": "Αποθήκη", "currency": "EUR", "language": lang, "terms": "30 ημέρες"},
    ).json
    admin.post_json(
        "/api/v1/quote-template-lines",
        {"template_id": template["id"], "product_id": rack["id"], "quantity": "10"},
    )
    opp = admin.post_json(
        "/api/v1/opportunities",
        {"name": "Ράφια αποθήκης", "stage_id": stages["qualification"], "account_id": acc["id"]},
    ).json

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Sales Manager")

    # --- New quote from template, from the deal's page --------------------------------
    page.goto(f"{live_server}/opportunities/{opp['id']}")
    page.get_by_role("link", name=w["from_template"]).click()
    expect(page.locator("h1")).to_have_text(w["from_template"])
    page.select_option("#sfa-template", label="Αποθήκη (EUR)")
    expect(page.locator("#sfa-quote-title")).to_have_value("Ράφια αποθήκης")
    save_screenshot(page, f"sfa-quote-from-template-{lang}")
    page.get_by_role("button", name=w["create"]).click()
    expect(page).to_have_url(re.compile(r"/quotes/\d+$"))
    expect(page.locator("body")).to_contain_text(w["created"])
    row = page.locator("tr.sfa-quote-line")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(w["rack"])
    expect(row).to_contain_text("170")
    expect(row).to_contain_text("Knossos contract")

    # --- Save as template ----------------------------------------------------------------
    page.get_by_role("link", name=w["save"]).click()
    expect(page.locator("h1")).to_have_text(w["save"])
    page.fill("#sfa-template-name", "Αποθήκη 2")
    page.locator("#sfa-save-template").get_by_role("button", name=w["save"]).click()
    expect(page).to_have_url(re.compile(r"/quote-templates/\d+$"))
    expect(page.locator("body")).to_contain_text(w["saved"])
    # the template's line names the product, in the reader's language (its price is
    # asked again on each quote)
    expect(page.locator("body")).to_contain_text(w["rack"])
    save_screenshot(page, f"sfa-saved-template-{lang}")
    names = [t["name"] for t in admin.get("/api/v1/quote-templates?sort=name").json["items"]]
    assert names == ["Αποθήκη", "Αποθήκη 2"]


START = {
    "en": {"panel": "Start from a template", "button": "Start from this template"},
    "el": {"panel": "Έναρξη από πρότυπο", "button": "Έναρξη από αυτό το πρότυπο"},
}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_the_new_quote_form_starts_from_a_template(page, live_server, make_user, api, lang):
    """A rep opens the generic "New quote" form, picks the customer in its picker, then a
    template in the "Start from a template" panel: the quote's rack line carries the
    customer's contract price."""
    w, s = WORDS[lang], START[lang]
    admin = api("admin")
    rack = admin.post_json(
        "/api/v1/products",
        {
            "sku": f"RACK-N-{lang}",
            "name": "Steel rack 200 cm",
            "name_translations": {"el": "Μεταλλικό ράφι 200 cm"},
            "unit": "piece",
            "tax_rate": "24",
            "list_price": money("200.00"),
        },
    ).json
    acc = admin.post_json("/api/v1/accounts", {"name": f"Ξενοδοχείο Φαιστός {lang}"}).json
    own = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Phaistos contract", "currency": "EUR", "account_id": acc["id"]},
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": own["id"],
            "product_id": rack["id"],
            "min_quantity": "10",
            "method": "fixed",
            "price": "165.00",
        },
    )
    email = f"newquote-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Sales Manager", locale=lang)
    template = admin.post_json(
        "/api/v1/quote-templates", {"name": "Ράφια", "currency": "EUR", "language": lang}
    ).json
    admin.post_json(
        "/api/v1/quote-template-lines",
        {"template_id": template["id"], "product_id": rack["id"], "quantity": "10"},
    )

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Sales Manager")

    page.goto(f"{live_server}/quotes/new")
    panel = page.locator("#sfa-template-panel")
    expect(panel).to_contain_text(s["panel"])
    control = page.locator(".item-account_id .ts-control")
    expect(control).to_be_visible()
    control.click()
    page.keyboard.type("Φαιστός", delay=30)
    option = page.locator(".item-account_id .ts-dropdown .option", has_text=acc["name"])
    expect(option).to_be_visible()
    # the picker searches as each letter is typed: click once the last answer is in, and
    # go on only when the choice shows (a click on a list being redrawn was lost once)
    expect(page.locator(".item-account_id .ts-wrapper.loading")).to_have_count(0)
    option.click()
    expect(page.locator(".item-account_id .ts-control .item")).to_have_text(acc["name"])
    page.select_option("#sfa-new-template", label="Ράφια (EUR)")
    save_screenshot(page, f"sfa-new-quote-form-template-{lang}")
    panel.get_by_role("button", name=s["button"]).click()
    expect(page).to_have_url(re.compile(r"/quotes/\d+$"))
    expect(page.locator("body")).to_contain_text(w["created"])
    expect(page.locator("main")).to_contain_text(acc["name"])
    row = page.locator("tr.sfa-quote-line")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(w["rack"])
    expect(row).to_contain_text("165")
    expect(row).to_contain_text("Phaistos contract")
    save_screenshot(page, f"sfa-new-quote-from-template-done-{lang}")
