"""Acting on a record in real Chromium: log a call from a person's page and see it on
the timeline; schedule a meeting with that person, a room and a car at 11:00 Athens
time and see 11:00 in the form, the detail page, the calendar and the list; a second
meeting in the same room at the same time is refused inline, before and on saving; the
same pages in Greek show no English type or status."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser
ATHENS = ZoneInfo("Europe/Athens")
#: English titles of seeded types and statuses a Greek page must not show
ENGLISH = (
    "Meeting",
    "Call",
    "Task",
    "Planned",
    "Done",
    "In progress",
    "Requested",
    "Cancelled",
    "Overdue",
    "Today",
    "Open",
    "accepted",
    "needs-action",
    "planned",
)


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


def _weekday_ahead(days=8):
    day = dt.datetime.now(ATHENS).date() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _login(page, base, email):
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_be_visible()


def _pick(page, selector, ids):
    """Choose options of a (picker-enhanced) multiple select."""
    page.locator(selector).evaluate(
        """(el, ids) => {
            if (el.tomselect) { el.tomselect.setValue(ids); return; }
            for (const o of el.options) { o.selected = ids.includes(o.value); }
            el.dispatchEvent(new Event("change", {bubbles: true}));
        }""",
        [str(i) for i in ids],
    )


@pytest.fixture
def world(make_user, make_record, types, resource):
    make_user(
        email="rep@example.com",
        roles=("sales",),
        name="Maria Papadopoulou",
        timezone="Europe/Athens",
    )
    acc = make_record("account", name="Ολυμπιακή Ζυθοποιία ΑΕ")
    person = make_record("person", first_name="Γιώργος", last_name="Καραγιάννης", account_id=acc)
    room = resource("Αίθουσα Α", "room")
    car = resource("Toyota Corolla ΙΚΥ-1234", "car")
    return {"account": acc, "person": person, "room": room, "car": car}


def test_call_meeting_and_double_booking(page, live_server, world):
    base = live_server
    _login(page, base, "rep@example.com")
    person_url = f"{base}/persons/{world['person']}"
    page.goto(person_url)
    expect(page.locator("#k-activities")).to_be_visible()
    save_screenshot(page, "activities-person-page")
    save_screenshot(page, "activities-person-page", phone=True)

    # Log a call from the person's page: it is on their timeline and in the panel.
    page.get_by_role("link", name="Log a call").first.click()
    expect(page.locator("h1")).to_have_text("Log a call")
    page.fill("#k-q-notes", "Wants 12 fridges before Easter")
    save_screenshot(page, "activities-log-call")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(person_url)
    expect(page.locator("#k-activities .k-act-done")).to_contain_text("Call with Γιώργος")
    timeline = page.locator("#k-timeline, .k-timeline").first
    expect(timeline).to_contain_text("Call: Call with Γιώργος Καραγιάννης")

    # Schedule a meeting with the person, a room and a car at 11:00 (Athens).
    day = _weekday_ahead()
    page.get_by_role("link", name="Schedule a meeting").first.click()
    expect(page.locator("#k-q-people option[selected]")).to_have_count(1)
    page.fill("#k-q-subject", "Παρουσίαση ψυγείων")
    page.fill("#k-q-date", day.isoformat())
    page.fill("#k-q-start", "11:00")
    page.fill("#k-q-end", "12:00")
    _pick(page, "#k-q-resources", [world["room"], world["car"]])
    expect(page.locator("#k-q-resources-check")).to_have_text("")
    save_screenshot(page, "activities-schedule-meeting")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/activities/\d+$"))
    meeting_url = page.url
    detail = page.locator("main, body").first
    expect(detail).to_contain_text("11:00")
    expect(detail).not_to_contain_text("13:00")
    expect(page.locator(".k-participants")).to_contain_text("Αίθουσα Α")
    expect(page.locator(".k-participants")).to_contain_text("Toyota Corolla")
    save_screenshot(page, "activities-meeting-detail")

    # The edit form shows 11:00 back.
    page.goto(meeting_url + "/edit")
    expect(page.locator("input[type=time]").first).to_have_value("11:00")
    save_screenshot(page, "activities-meeting-form")
    # The calendar (day view) and the list.
    page.goto(f"{base}/activities/calendar?view=day&date={day.isoformat()}")
    expect(page.locator("li.k-ev").filter(has_text="Παρουσίαση")).to_contain_text("11:00")
    save_screenshot(page, "activities-calendar-day")
    page.goto(f"{base}/activities/?about_type=person&about_id={world['person']}")
    expect(page.locator("body")).to_contain_text("11:00")
    save_screenshot(page, "activities-list")

    # A second meeting in the same room at the same time, from the account's page:
    # the form says so next to the room before saving, and refuses it on saving.
    page.goto(f"{base}/accounts/{world['account']}")
    page.get_by_role("link", name="Schedule a meeting").first.click()
    page.fill("#k-q-date", day.isoformat())
    page.fill("#k-q-start", "11:30")
    page.fill("#k-q-end", "12:30")
    _pick(page, "#k-q-resources", [world["room"]])
    check = page.locator("#k-q-resources-check")
    expect(check).to_contain_text("Αίθουσα Α is already booked")
    expect(check).to_have_class(re.compile("invalid-feedback"))
    save_screenshot(page, "activities-double-booking-inline")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#k-q-resources-check")).to_contain_text("already booked")
    expect(page.locator("#k-q-date")).to_have_value(day.isoformat())
    save_screenshot(page, "activities-double-booking-refused")


def test_greek_pages_show_no_english_types_or_statuses(
    page, live_server, world, make_user, kyklos_app, login, types
):
    import webtest

    make_user(
        email="el@example.com",
        roles=("sales",),
        name="Ελένη Παππά",
        locale="el",
        timezone="Europe/Athens",
    )
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(app, "el@example.com")
    csrf = app.get("/activities/mine").html.select_one("input[name=csrf_token]")["value"]
    h = {"X-CSRF-Token": csrf}
    day = _weekday_ahead()
    start = dt.datetime.combine(day, dt.time(11), tzinfo=ATHENS)
    meeting = app.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": "Συνάντηση γνωριμίας",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "about_type": "person",
            "about_id": world["person"],
            "participants": [{"kind": "resource", "id": world["room"]}],
        },
        headers=h,
        status=201,
    ).json
    app.post_json(
        "/api/v1/activities",
        {
            "type_code": "call",
            "subject": "Τηλεφώνημα",
            "status": "done",
            "starts_at": dt.datetime.now(ATHENS).isoformat(),
            "about_type": "person",
            "about_id": world["person"],
        },
        headers=h,
        status=201,
    )
    app.post_json(
        "/api/v1/activities",
        {
            "type_code": "task",
            "subject": "Αποστολή τιμοκαταλόγου",
            "due_at": (dt.datetime.now(ATHENS) - dt.timedelta(days=1)).isoformat(),
            "about_type": "person",
            "about_id": world["person"],
        },
        headers=h,
        status=201,
    )

    _login(page, live_server, "el@example.com")
    pages = {
        "person": (f"/persons/{world['person']}", "#k-activities"),
        "activity": (f"/activities/{meeting['id']}", "main"),
        "calendar": (f"/activities/calendar?view=week&date={day.isoformat()}", "#k-cal"),
        "mine": ("/activities/mine", "main"),
        "form": (f"/activities/{meeting['id']}/edit", "#k-record-form"),
    }
    left = {}
    for name, (path, where) in pages.items():
        page.goto(live_server + path)
        text = page.locator(where).first.inner_text()
        found = [w for w in ENGLISH if re.search(rf"\b{re.escape(w)}\b", text)]
        if found:
            left[name] = found
        save_screenshot(page, f"activities-el-{name}")
    save_screenshot(page, "activities-el-form", phone=True)
    assert not left, f"English words left on Greek pages: {left}"
