"""The home page and global search in real Chromium: a user finds a person by a Latin
spelling of a Greek name (and a person loaded in bulk by last name), opens the record,
and finds it among the recent records of the home page, above the KPI charts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def test_search_then_home(page, live_server, make_user, api, registry, dbsession):
    from kyklos_sdk import bulk_insert

    admin = api("admin")
    acc = admin.post_json(
        "/api/v1/accounts", {"name": "Kritiki Marine S.A.", "country": "GR"}, status=201
    ).json["id"]
    admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Θοδωρής",
            "last_name": "Καραγιάννης",
            "account_id": acc,
            "job_title": "Fleet manager",
        },
    )
    admin.post_json(
        "/api/v1/persons?duplicates=allow", {"first_name": "Ilias", "last_name": "Karagiannis"}
    )
    with dbsession() as db:
        bulk_insert(
            db,
            registry.kyklos_entities["person"].model.__table__,
            [{"first_name": "Zofia", "last_name": "Nowak", "account_id": acc}],
        )
    admin.post_json(
        "/api/v1/quotes",
        {"title": "Hull sensors", "currency": "EUR", "account_id": acc},
        status=201,
    )

    email = "browser-home@example.com"
    make_user(email=email, roles=("admin",), name="Maria Papadopoulou")
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Papadopoulou")

    # an empty day says what to do
    expect(page.locator("#k-home-recent .k-home-empty")).to_contain_text("Records you open")

    page.fill("#k-search", "Karagiannis")
    page.press("#k-search", "Enter")
    hits = page.locator("#k-search-person .k-search-hit")
    expect(hits).to_have_count(2)
    greek = hits.filter(has_text="Θοδωρής Καραγιάννης")
    expect(greek.locator(".k-search-subtitle")).to_have_text("Kritiki Marine S.A.")
    expect(greek.locator(".k-search-type")).to_have_text("Person")
    expect(page.locator("#k-search-account")).to_have_count(0)
    save_screenshot(page, "search-karagiannis")
    save_screenshot(page, "search-karagiannis", phone=True)

    page.fill("#k-search-q", "Nowak")
    page.press("#k-search-q", "Enter")
    expect(page.locator("#k-search-person .k-search-hit")).to_have_count(1)
    expect(page.locator("#k-search-person .k-search-hit a")).to_have_text("Zofia Nowak")

    page.fill("#k-search-q", "Karagiannis")
    page.press("#k-search-q", "Enter")
    page.locator("#k-search-person .k-search-hit a", has_text="Θοδωρής Καραγιάννης").click()
    expect(page.locator("h1")).to_contain_text("Καραγιάννης")

    page.goto(f"{live_server}/")
    recent = page.locator("#k-home-recent .k-recent li")
    expect(recent.first).to_contain_text("Θοδωρής Καραγιάννης")
    expect(recent.first).to_contain_text("opened")
    # the day's sections come first, then the KPI charts
    order = page.evaluate("""() => {
        const r = document.querySelector('#k-home-recent');
        const k = document.querySelector('#k-kpi');
        return k ? !!(r.compareDocumentPosition(k) & Node.DOCUMENT_POSITION_FOLLOWING) : null;
    }""")
    assert order in (True, None)
    save_screenshot(page, "home-day")
    save_screenshot(page, "home-day", phone=True)

    # the same in Greek
    page.context.add_cookies([{"name": "_LOCALE_", "value": "el", "url": live_server}])
    page.goto(f"{live_server}/search?q=Καραγιάννης")
    expect(page.locator("#k-search-person .k-search-type").first).to_have_text("Πρόσωπο")
    save_screenshot(page, "search-karagiannis-el")
    page.goto(f"{live_server}/")
    expect(page.locator("#k-home-recent h2")).to_have_text("Πρόσφατες εγγραφές")
    save_screenshot(page, "home-day-el")
