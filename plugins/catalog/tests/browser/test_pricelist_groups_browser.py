"""The price list form in real Chromium, in English and in Greek: a manager makes a list
for the accounts tagged "hotel", choosing the tag from a drop-down (the segment and the
territory are drop-downs of their names too), reads the group in words on the list's
page, and a tagged account's price names the list and why."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "save": "Save",
        "name": "Name",
        "currency": "Currency",
        "tag": "For accounts tagged",
        "segment": "For the accounts of segment",
        "territory": "For the accounts in territory",
    },
    "el": {
        "save": "Αποθήκευση",
        "name": "Όνομα",
        "currency": "Νόμισμα",
        "tag": "Για λογαριασμούς με ετικέτα",
        "segment": "Για τους λογαριασμούς του τμήματος",
        "territory": "Για τους λογαριασμούς της περιοχής",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "catalog"]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_makes_a_price_list_for_a_tag(page, live_server, make_user, api, dbsession, lang):
    from kyklos.security.models import Territory, TerritoryValue

    w = WORDS[lang]
    admin = api("admin")
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos", "country": "GR"}).json
    admin.post_json(f"/api/v1/accounts/{acc['id']}/tags", {"name": "hotel"})
    admin.post_json(
        "/api/v1/_segments",
        {"entity": "account", "name": "Crete west", "kind": "dynamic", "definition": {"and": []}},
    )
    with dbsession() as db:
        t = Territory(name="Greece", description="")
        db.add(t)
        db.flush()
        db.add(TerritoryValue(territory_id=t.id, value="GR"))
    prod = admin.post_json(
        "/api/v1/products",
        {"sku": "OIL-5", "name": "Olive oil", "list_price": {"amount": "100", "currency": "EUR"}},
    ).json
    email = f"pricelists-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Price Manager", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Price Manager")
    page.goto(f"{live_server}/price-lists/new")
    page.get_by_label(w["name"], exact=True).fill("Hotels 2026")
    page.get_by_label(w["currency"]).select_option(value="EUR")
    # the groups are offered by their names, never as numbers
    expect(page.get_by_label(w["segment"])).to_contain_text("Crete west")
    expect(page.get_by_label(w["territory"])).to_contain_text("Greece")
    page.get_by_label(w["tag"]).select_option(label="hotel")
    save_screenshot(page, f"catalog-pricelist-group-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Hotels 2026")
    main = page.locator("main")
    expect(main).to_contain_text(w["tag"])
    expect(main).to_contain_text("hotel")
    save_screenshot(page, f"catalog-pricelist-group-{lang}")
    pl_id = int(page.url.rstrip("/").split("/")[-1])
    admin.post_json(
        "/api/v1/price-rules",
        {"pricelist_id": pl_id, "product_id": prod["id"], "method": "fixed", "price": "80"},
    )
    got = admin.get(f"/api/v1/products/{prod['id']}/price?account_id={acc['id']}&currency=EUR").json
    assert got["unit_price"] == "80.00" and got["pricelist_id"] == pl_id
