"""Record forms in real Chromium: pick a related record by typing part of its name,
create one from the picker, start a record "from" another, type a time in the user's
zone and read it back identically, and no input blocked by the Content Security Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


@pytest.fixture
def types(dbsession):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


@pytest.fixture
def stages(dbsession):
    from kyklos_sfa.pipeline import ensure_defaults

    with dbsession() as db:
        ensure_defaults(db)


def log_in(page, live_server, make_user, timezone="Europe/Athens") -> int:
    email = "forms-rep@example.com"
    uid = make_user(email=email, roles=("sales",), name="Forms Rep", timezone=timezone)
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Forms Rep")
    return uid


def csp_messages(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    return messages


def type_in_picker(page, field: str, text: str) -> None:
    """Open ``field``'s picker (the Tom Select box kyklos.js made) and type ``text``."""
    control = page.locator(f".item-{field} .ts-control")
    expect(control).to_be_visible()
    control.click()
    page.keyboard.type(text, delay=30)


def test_pick_an_account_by_typing_part_of_its_name(page, live_server, make_user, make_record):
    messages = csp_messages(page)
    uid = log_in(page, live_server, make_user)
    for name in ("Olympus Foods AE", "Athena Logistics", "Nowak Sp. z o.o."):
        make_record("account", name=name, owner_id=uid)
    page.goto(f"{live_server}/persons/new")
    page.get_by_label("First name").fill("Eleni")
    page.get_by_label("Last name").fill("Papadaki")
    type_in_picker(page, "account_id", "lymp")
    option = page.locator(".item-account_id .ts-dropdown .option", has_text="Olympus Foods AE")
    expect(option).to_be_visible()
    expect(page.locator(".item-account_id .ts-dropdown .option", has_text="Nowak")).to_have_count(0)
    save_screenshot(page, "forms-picker-search")
    save_screenshot(page, "forms-picker-search", phone=True)
    option.click()
    expect(page.locator(".item-account_id .ts-control .item")).to_have_text("Olympus Foods AE")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("Eleni Papadaki")
    expect(page.locator("main")).to_contain_text("Olympus Foods AE")
    assert not [m for m in messages if "Content Security Policy" in m], messages


def test_create_an_account_from_the_picker(page, live_server, make_user, registry, dbsession):
    log_in(page, live_server, make_user)
    page.goto(f"{live_server}/persons/new")
    page.get_by_label("First name").fill("Jan")
    page.get_by_label("Last name").fill("Kowalski")
    type_in_picker(page, "account_id", "Kowalski Budownictwo")
    create = page.locator(".item-account_id .ts-dropdown .create")
    expect(create).to_contain_text("Kowalski Budownictwo")
    save_screenshot(page, "forms-picker-create")
    create.click()
    expect(page.locator(".item-account_id .ts-control .item")).to_have_text("Kowalski Budownictwo")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("Jan Kowalski")
    account = registry.kyklos_entities["account"].model
    person = registry.kyklos_entities["person"].model
    with dbsession() as db:
        acc = db.execute(select(account).where(account.name == "Kowalski Budownictwo")).scalar_one()
        p = db.execute(select(person).where(person.last_name == "Kowalski")).scalar_one()
        assert p.account_id == acc.id


def test_the_picker_offers_no_create_for_a_listed_name(page, live_server, make_user, make_record):
    uid = log_in(page, live_server, make_user)
    make_record("account", name="Olympus Foods AE", owner_id=uid)
    page.goto(f"{live_server}/persons/new")
    type_in_picker(page, "account_id", "olympus foods ae")
    dropdown = page.locator(".item-account_id .ts-dropdown")
    expect(dropdown.locator(".option", has_text="Olympus Foods AE")).to_have_count(1)
    expect(dropdown.locator(".create")).to_have_count(0)
    # a name not listed yet can still be created from here
    page.keyboard.type(" kriti", delay=30)
    expect(dropdown.locator(".create")).to_contain_text("olympus foods ae kriti")


def test_new_activity_from_a_person_has_the_person(
    page, live_server, make_user, make_record, types
):
    uid = log_in(page, live_server, make_user)
    acc = make_record("account", name="Olympus Foods AE", owner_id=uid)
    pid = make_record(
        "person", first_name="Maria", last_name="Ionescu", account_id=acc, owner_id=uid
    )
    page.goto(f"{live_server}/activities/new?from=person:{pid}")
    expect(page.locator(".item-person_id .ts-control .item")).to_have_text("Maria Ionescu")
    # the activity type is a drop-down of titles, not a number to type
    type_select = page.locator(".item-type_id select")
    expect(type_select).to_be_visible()
    expect(type_select.locator("option", has_text="Meeting")).to_have_count(1)
    save_screenshot(page, "forms-new-activity-from-person")


def test_athens_time_is_stored_utc_and_shown_back_identically(
    page, live_server, make_user, types, registry, dbsession
):
    messages = csp_messages(page)
    log_in(page, live_server, make_user, timezone="Europe/Athens")
    page.goto(f"{live_server}/activities/new")
    page.get_by_label("Subject").fill("Winter meeting in Athens")
    page.locator(".item-type_id select").select_option(str(types["meeting"]))
    page.locator(".item-starts_at input[type=date]").fill("2026-01-15")
    page.locator(".item-starts_at input[type=time]").fill("11:00")
    page.locator(".item-ends_at input[type=date]").fill("2026-01-15")
    page.locator(".item-ends_at input[type=time]").fill("12:00")
    save_screenshot(page, "forms-datetime-input")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("Winter meeting in Athens")
    main = page.locator("main")
    expect(main).to_contain_text("11:00")
    expect(main).not_to_contain_text("13:00")
    save_screenshot(page, "forms-datetime-detail")
    activity = registry.kyklos_entities["activity"].model
    with dbsession() as db:
        row = db.execute(
            select(activity).where(activity.subject == "Winter meeting in Athens")
        ).scalar_one()
        start = row.starts_at
        aid = row.id
    assert (start.hour, start.minute) == (9, 0)  # UTC in winter: Athens is UTC+2
    assert start.utcoffset() is None or start.utcoffset().total_seconds() == 0
    page.goto(f"{live_server}/activities/{aid}/edit")
    expect(page.locator(".item-starts_at input[type=time]")).to_have_value("11:00")
    expect(page.locator(".item-starts_at input[type=date]")).to_have_value("2026-01-15")
    assert not [m for m in messages if "Content Security Policy" in m], messages


@pytest.mark.parametrize("slug", ["persons", "activities", "opportunities", "quotes"])
def test_new_forms_have_nothing_blocked_by_the_csp(
    page, live_server, make_user, types, stages, registry, slug
):
    messages = csp_messages(page)
    log_in(page, live_server, make_user)
    page.goto(f"{live_server}/{slug}/new")
    expect(page.locator("#k-record-form")).to_be_visible()
    # pickers and native date inputs are in place
    page.wait_for_load_state("networkidle")
    et = registry.kyklos_entity_slugs[slug]
    for f in et.fields.values():
        if f.type == "reference":
            assert page.locator(f"#k-record-form input[name='{f.name}']").count() == 0, f.name
        if f.type in ("date", "datetime") and page.locator(f".item-{f.name}").count():
            if getattr(f, "year_optional", False):  # day and month drop-downs, a year box
                expect(page.locator(f".item-{f.name} select[name=month]")).to_have_count(1)
                continue
            expect(page.locator(f".item-{f.name} input[type=date]")).to_have_count(1)
    assert page.locator("#k-record-form .ts-wrapper").count() >= 1
    save_screenshot(page, f"forms-new-{slug}")
    save_screenshot(page, f"forms-new-{slug}", phone=True)
    blocked = [m for m in messages if "Content Security Policy" in m]
    assert not blocked, blocked
