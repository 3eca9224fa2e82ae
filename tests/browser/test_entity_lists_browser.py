"""Lists made for people, in real Chromium (issue 16, point 8): the people list at a
desk (primary filters, "more filters" folded away, the account filter a picker that
shows the chosen account's name, long notes clamped) and on a 390 px phone, where each
record is a card with its name and two key values and nothing scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

LONG_NOTE = (
    "Met at the Thessaloniki trade fair; wants a quote for forty pallets of olive oil "
    "delivered to Gdańsk before Easter, with the label printed in Polish and Greek, and "
    "asked us to call back after the board meeting on Thursday about payment terms."
)


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def log_in(page, live_server, make_user) -> int:
    email = "lists-rep@example.com"
    uid = make_user(email=email, roles=("sales",), name="Giorgos Papadakis")
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Giorgos Papadakis")
    return uid


def test_people_list_at_a_desk_and_on_a_phone(page, live_server, make_user, make_record):
    page.set_viewport_size({"width": 1280, "height": 900})
    uid = log_in(page, live_server, make_user)
    acc = make_record("account", name="Elaiourgia Karagianni AE", city="Kalamata", owner_id=uid)
    other = make_record("account", name="Nowak Logistics Sp. z o.o.", city="Gdańsk", owner_id=uid)
    people = [
        ("Eleni", "Karagianni", acc, "+302721012345", "eleni@karagianni.gr"),
        ("Nikos", "Karagiannis", acc, "+306944123456", "nikos@karagianni.gr"),
        ("Anna", "Nowak", other, "+48587654321", "anna.nowak@nowak-logistics.pl"),
    ]
    for first, last, account, phone, email in people:
        make_record(
            "person",
            first_name=first,
            last_name=last,
            account_id=account,
            phone=phone,
            email=email,
            owner_id=uid,
            notes=LONG_NOTE,
        )

    page.goto(f"{live_server}/persons/?cols=first_name,last_name,account_id,phone,email,notes")
    filters = page.locator("#k-filters")
    # the few filters a rep uses are there; the rest are folded under "More filters"
    for label in ("Last name", "Account", "City", "Owner"):
        expect(filters.locator(".k-filter > label", has_text=label).first).to_be_visible()
    more = page.locator("#k-more-filters")
    expect(more).not_to_have_attribute("open", "")
    expect(more.locator(".k-filter").first).to_be_hidden()
    more.locator("summary").click()
    expect(more.locator(".k-filter").first).to_be_visible()
    # long notes are clamped to a few lines, not a wall of text
    note = page.locator("table.k-list tbody .k-clamp").first
    box = note.bounding_box()
    font = float(note.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert box["height"] <= 3 * 1.6 * font, (box, font)
    assert note.evaluate("el => el.scrollHeight > el.clientHeight + 1")  # more than shown
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    save_screenshot(page, "entity-list-people")

    # a reference filter: chosen by the account's name, shown by its name afterwards
    page.goto(f"{live_server}/persons/?account_id__eq={acc}")
    picker = page.locator("#k-filters [name='fv.account_id']")
    assert picker.evaluate("el => el.tagName") == "SELECT"
    assert picker.get_attribute("data-k-picker").endswith("/accounts/_lookup")
    chosen = picker.evaluate("el => el.options[el.selectedIndex].text")
    assert chosen == "Elaiourgia Karagianni AE"
    expect(page.locator("#k-filters")).to_contain_text("Elaiourgia Karagianni AE")
    expect(page.locator("table.k-list tbody tr")).to_have_count(2)
    save_screenshot(page, "entity-list-people-filtered")

    # a phone: every record is a card with its whole name and two key values
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/persons/?cols=first_name,last_name,account_id,phone,email,notes")
    expect(page.locator("table.k-list thead")).to_be_hidden()
    cards = page.locator("table.k-list tbody tr")
    expect(cards).to_have_count(3)
    for i in range(3):
        card = cards.nth(i)
        title = card.locator("td.k-card-title")
        expect(title).to_be_visible()
        expect(title.locator(".k-card-whole")).to_be_visible()
        values = card.locator("td.k-card-value")
        expect(values).to_have_count(2)
        for j in range(2):
            expect(values.nth(j)).to_be_visible()
        expect(card.locator("td.k-card-hidden").first).to_be_hidden()
        assert card.bounding_box()["width"] <= 390
    first = cards.filter(has_text="Anna Nowak")
    expect(first.locator("td.k-card-value").first).to_contain_text("Nowak Logistics")
    label = first.locator("td.k-card-value").first.evaluate(
        "el => getComputedStyle(el, '::before').content"
    )
    assert "Account" in label
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    save_screenshot(page, "entity-list-people", phone=True)


@pytest.fixture
def types(dbsession):
    """The default activity types (the emptied test database lost the seeded rows)."""
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


def test_activities_list_filters_and_bulk_set(page, live_server, make_user, make_record, types):
    import datetime as dt

    page.set_viewport_size({"width": 1280, "height": 900})
    uid = log_in(page, live_server, make_user)
    acc = make_record("account", name="Elaiourgia Karagianni AE", owner_id=uid)
    due = dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)
    for subject in ("Call about the olive oil order", "Send the price list"):
        make_record(
            "activity",
            subject=subject,
            type_id=types["call"],
            due_at=due,
            owner_id=uid,
            responsible_id=uid,
        )
    page.goto(f"{live_server}/activities/")
    filters = page.locator("#k-filters")
    type_filter = filters.locator("select[name='fv.type_id']")
    expect(type_filter.locator("option", has_text="Call")).to_have_count(1)
    expect(filters.locator("input[name='ff.due_at']")).to_be_visible()
    more = page.locator("#k-more-filters")
    expect(more).to_contain_text("Subject")
    expect(filters.get_by_text("Subject", exact=True)).to_be_hidden()
    # a field people never fill in (the iCalendar UID) is no filter for them
    expect(filters).not_to_contain_text("iCalendar UID")
    type_filter.select_option(label="Call")
    filters.get_by_role("button", name="Apply").click()
    expect(page.locator("table.k-list tbody tr")).to_have_count(2)
    save_screenshot(page, "entity-list-activities")
    # bulk: set the account of both, picked by name on the next step
    page.locator("[data-select-all]").check()
    page.select_option("#k-bulk-action", "set")
    page.select_option("#k-bulk-field", "account_id")
    page.locator(".k-bulk-bar").get_by_role("button", name="Apply").click()
    expect(page.locator("h1")).to_contain_text("Change Account of 2 records")
    picker = page.locator("#k-bulk-set [name='value']")
    assert picker.get_attribute("data-k-picker").endswith("/accounts/_lookup")
    save_screenshot(page, "entity-bulk-set-account")
    # whatever enhances the picker, the form posts the chosen id
    picker.evaluate(
        """(el, id) => { const o = new Option("Elaiourgia Karagianni AE", id, true, true);
        el.add(o); }""",
        str(acc),
    )
    page.locator("#k-bulk-set").get_by_role("button", name="Change them").click()
    expect(page.locator(".alert")).to_contain_text("2 records changed.")
    expect(page.locator("table.k-list tbody")).to_contain_text("Elaiourgia Karagianni AE")
    save_screenshot(page, "entity-list-activities", phone=True)
