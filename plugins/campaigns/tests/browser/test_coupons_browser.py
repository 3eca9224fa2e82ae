"""Coupons in real Chromium, in English and in Greek: a campaign manager opens the
campaign's coupons from its page, makes one for each person of the list, redeems one by
typing it as a customer reads it out, and sees it counted in the results."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "coupons": "Coupons",
        "make": "Make a coupon for each recipient",
        "made": "2 coupons made",
        "redeem": "Redeem",
        "redeemed": "Redeemed",
        "valid": "Valid",
        "used": "This coupon was used already.",
        "results": "Results",
        "counted": "Coupons redeemed",
        "compare": "Compare",
        "others": "Other recipients",
    },
    "el": {
        "coupons": "Κουπόνια",
        "make": "Ένα κουπόνι για κάθε παραλήπτη",
        "made": "Δημιουργήθηκαν 2 κουπόνια",
        "redeem": "Εξαργύρωση",
        "redeemed": "Εξαργυρώθηκε",
        "valid": "Ισχύει",
        "used": "Αυτό το κουπόνι έχει ήδη χρησιμοποιηθεί.",
        "results": "Αποτελέσματα",
        "counted": "Κουπόνια που εξαργυρώθηκαν",
        "compare": "Σύγκριση",
        "others": "Οι υπόλοιποι παραλήπτες",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "campaigns"]


@pytest.fixture
def kyklos_settings():
    return {"kyklos.secret": "campaign-browser-secret"}


def _setup(api, make_record, dbsession):
    from kyklos_contacts.api import set_consent

    boss = api("campaignmanager")
    for first, email in (("Maria", "maria@example.gr"), ("Nikos", "nikos@example.gr")):
        pid = make_record(
            "person", first_name=first, last_name="Roditi", email=email, city="Rhodes"
        )
        with dbsession() as db:
            set_consent(db, pid, "email", "opt_in")
    seg = boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "Rhodes",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Rhodes"}]},
        },
        status=201,
    ).json["id"]
    tl = boss.post_json(
        "/api/v1/target-lists",
        {"name": "Rhodes", "segment_id": seg, "kind": "dynamic"},
        status=201,
    ).json
    boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "The Marias",
            "kind": "dynamic",
            "definition": {"and": [{"field": "first_name", "op": "eq", "value": "Maria"}]},
        },
        status=201,
    )
    return boss.post_json(
        "/api/v1/campaigns", {"name": "Summer coupons", "list_id": tl["id"]}, status=201
    ).json


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_makes_and_redeems_coupons(
    page, live_server, make_user, api, make_record, dbsession, lang
):
    w = WORDS[lang]
    c = _setup(api, make_record, dbsession)
    email = f"coupons-{lang}@example.com"
    make_user(
        email=email,
        roles=("campaignmanager",),
        name="Eleni Marketing",
        locale=lang,
        timezone="Europe/Athens",
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/campaigns/{c['id']}")
    page.get_by_role("link", name=w["coupons"], exact=True).click()
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    page.locator("#cmp-valid-until").fill(until)
    page.get_by_role("button", name=w["make"]).click()
    expect(page.locator("body")).to_contain_text(w["made"])
    expect(page.locator("#cmp-coupons")).to_contain_text("Maria Roditi")
    code = page.locator("#cmp-coupons tr", has_text="Maria Roditi").locator("code").inner_text()
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", code)
    # typed as read out: lower case, a space for the dash
    page.locator("#cmp-coupon-code").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name=w["redeem"], exact=True).click()
    row = page.locator("#cmp-coupons tr", has_text="Maria Roditi")
    expect(row).to_contain_text(w["redeemed"])
    expect(page.locator("#cmp-coupons tr", has_text="Nikos Roditi")).to_contain_text(w["valid"])
    save_screenshot(page, f"campaigns-coupons-{lang}")
    # the same code again: refused in words on the form
    page.locator("#cmp-coupon-code").fill(code)
    page.get_by_role("button", name=w["redeem"], exact=True).click()
    expect(page.locator("#cmp-coupon-errors")).to_contain_text(w["used"])
    save_screenshot(page, f"campaigns-coupons-used-{lang}")
    page.get_by_role("link", name=w["results"], exact=True).click()
    expect(page.locator("#cmp-results tr", has_text=w["counted"])).to_contain_text("1")
    save_screenshot(page, f"campaigns-coupons-results-{lang}")
    # compared by a saved segment chosen by name: Maria redeemed, the others did not
    page.locator("#cmp-segment").select_option(label="The Marias")
    page.get_by_role("button", name=w["compare"]).click()
    table = page.locator("#cmp-segment-results")
    expect(table).to_contain_text(w["others"])
    row = table.locator("tr", has_text=w["counted"])
    expect(row.locator("td").nth(0)).to_have_text("1")
    expect(row.locator("td").nth(1)).to_have_text("0")
    expect(page.locator("#cmp-segment-chart").first).to_be_attached()
    save_screenshot(page, f"campaigns-results-segment-{lang}")
