"""Territories in real Chromium, in English and in Greek (SEC-04): the administrator
creates a territory, picks its country from a drop-down of translated names and its
rep with a people picker; with a "records in my territories" rule the rep's account
list shows only the accounts in that country."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"name": "Greece", "country": "Greece", "typed": "Gree", "empty": "No territory yet"},
    "el": {"name": "Κρήτη", "country": "Ελλάδα", "typed": "Ελλ", "empty": "Καμία περιοχή"},
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def _login(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_admin_builds_a_territory_and_the_rep_sees_only_it(
    page, live_server, make_user, api, dbsession, lang
):
    from kyklos.security.models import RecordRule, Role

    w = WORDS[lang]
    with dbsession() as db:
        role = Role(
            name=f"terr-{lang}",
            title="Territory rep",
            permissions=["contacts.account.read"],
        )
        db.add(role)
        db.flush()
        db.add(RecordRule(role_id=role.id, entity="account", action="read", scope="territory"))
    admin_email = f"terr-admin-{lang}@example.com"
    make_user(email=admin_email, roles=("admin",), name="Anna Admin", locale=lang)
    rep_email = f"terr-rep-{lang}@example.com"
    make_user(email=rep_email, roles=(f"terr-{lang}",), name="Eleni Rep", locale=lang)
    admin = api("admin")
    for name, country in (("Knossos Travel", "GR"), ("Dacia Trade", "RO"), ("Nowhere Ltd", None)):
        admin.post_json("/api/v1/accounts", {"name": name, "country": country}, status=201)

    _login(page, live_server, admin_email)
    page.goto(f"{live_server}/admin/territories")
    expect(page.locator("#territories-empty")).to_contain_text(w["empty"])
    page.locator("#t-name").fill(w["name"])
    page.locator(".ts-wrapper:has(#t-countries-ts-control) .ts-control").click()
    page.keyboard.type(w["typed"], delay=30)
    page.locator(".ts-dropdown .option", has_text=w["country"]).first.click()
    page.keyboard.press("Escape")
    save_screenshot(page, f"territory-new-{lang}")
    page.locator("form[action$='/admin/territories'] button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(w["name"])
    expect(page.locator("#territory-no-people")).to_be_visible()
    users = page.locator(".ts-wrapper:has(#t-users-ts-control) .ts-control")
    users.click()
    page.keyboard.type("Eleni", delay=30)
    page.locator(".ts-dropdown .option", has_text="Eleni Rep").first.click()
    page.keyboard.press("Escape")
    save_screenshot(page, f"territory-edit-{lang}")
    page.locator("form button.btn-primary[type=submit]").click()
    expect(page.locator(".ts-wrapper:has(#t-users-ts-control) .item")).to_contain_text("Eleni Rep")
    expect(page.locator(".ts-wrapper:has(#t-countries-ts-control) .item")).to_contain_text(
        w["country"]
    )
    page.goto(f"{live_server}/admin/territories")
    expect(page.locator("table")).to_contain_text(w["country"])
    save_screenshot(page, f"territory-list-{lang}")

    page.context.clear_cookies()
    _login(page, live_server, rep_email)
    page.goto(f"{live_server}/accounts")
    expect(page.locator("main")).to_contain_text("Knossos Travel")
    expect(page.locator("main")).not_to_contain_text("Dacia Trade")
    expect(page.locator("main")).not_to_contain_text("Nowhere Ltd")
    save_screenshot(page, f"territory-rep-accounts-{lang}")
    with dbsession() as db:
        from kyklos.security.models import Territory

        t = db.execute(select(Territory).where(Territory.name == w["name"])).scalar_one()
        assert t.value_list == ["GR"]
