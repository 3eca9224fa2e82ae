"""The week view in real Chromium: an hour grid; drag an event to another day and hour,
or a repeating event's one occurrence; the move persists. The mass activity page lists
segments by name."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD

pytestmark = pytest.mark.browser
ATHENS = ZoneInfo("Europe/Athens")


def test_drag_event_to_another_day(page, live_server, make_user, kyklos_app, login, types):
    import webtest

    make_user(email="cal@example.com", roles=("sales",), name="Calendar User")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(app, "cal@example.com")
    csrf = app.get("/activities/mine").html.select_one("input[name=csrf_token]")["value"]
    today = dt.datetime.now(dt.UTC).astimezone(ATHENS).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    start = dt.datetime.combine(monday, dt.time(10), tzinfo=ATHENS)
    made = app.post_json("/api/v1/activities", {
        "type_id": types["meeting"], "subject": "Drag me", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=1)).isoformat()},
        headers={"X-CSRF-Token": csrf}, status=201).json

    page.goto(f"{live_server}/login")
    page.fill("#email", "cal@example.com")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Calendar User")
    page.goto(f"{live_server}/activities/calendar?view=week&date={monday.isoformat()}")
    thursday = (monday + dt.timedelta(days=3)).isoformat()
    event = page.locator(f"li.k-ev[data-id='{made['id']}']")
    monday_col = page.locator(f".k-tg-col[data-date='{monday.isoformat()}']")
    expect(monday_col.locator("li.k-ev")).to_have_count(1)
    # Placed by time: the event's top is the 10:00 line and it is an hour tall.
    slot10 = monday_col.locator(".k-slot[data-time='10:00']").bounding_box()
    slot11 = monday_col.locator(".k-slot[data-time='11:00']").bounding_box()
    box = event.bounding_box()
    assert abs(box["y"] - slot10["y"]) < 3 and abs(box["y"] + box["height"] - slot11["y"]) < 4
    # The grid opened at the working day, not at midnight.
    assert page.locator("#k-tg-scroll").evaluate("e => e.scrollTop") > 0
    target = page.locator(f".k-tg-col[data-date='{thursday}'] .k-slot[data-time='14:30']")
    with page.expect_navigation():
        event.drag_to(target, source_position={"x": 8, "y": 3},
                      target_position={"x": 8, "y": 3})
    thursday_col = page.locator(f".k-tg-col[data-date='{thursday}']")
    expect(thursday_col.locator("li.k-ev")).to_contain_text("Drag me")
    expect(monday_col.locator("li.k-ev")).to_have_count(0)
    page.screenshot(path="/tmp/kyklos-activities-week.png", full_page=True)
    moved = app.get(f"/api/v1/activities/{made['id']}").json
    new_start = dt.datetime.fromisoformat(moved["starts_at"].replace("Z", "+00:00"))
    assert new_start.astimezone(ATHENS) == dt.datetime.combine(
        monday + dt.timedelta(days=3), dt.time(14, 30), tzinfo=ATHENS)
    assert moved["version"] == made["version"] + 1
    # Dropped on the all-day row, an event changes day and keeps its time.
    friday = (monday + dt.timedelta(days=4)).isoformat()
    with page.expect_navigation():
        page.locator(f"li.k-ev[data-id='{made['id']}']").drag_to(
            page.locator(f".k-tg-allday section[data-date='{friday}']"))
    moved = app.get(f"/api/v1/activities/{made['id']}").json
    new_start = dt.datetime.fromisoformat(moved["starts_at"].replace("Z", "+00:00"))
    assert new_start.astimezone(ATHENS) == dt.datetime.combine(
        monday + dt.timedelta(days=4), dt.time(14, 30), tzinfo=ATHENS)


def test_drag_one_occurrence_of_a_series(page, live_server, make_user, kyklos_app, login,
                                         types):
    """Dragging a repeating event asks what to move; "This occurrence" moves only it."""
    import webtest

    make_user(email="rec@example.com", roles=("sales",), name="Series User")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(app, "rec@example.com")
    csrf = app.get("/activities/mine").html.select_one("input[name=csrf_token]")["value"]
    today = dt.datetime.now(dt.UTC).astimezone(ATHENS).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    start = dt.datetime.combine(monday, dt.time(9), tzinfo=ATHENS)
    made = app.post_json("/api/v1/activities", {
        "type_id": types["meeting"], "subject": "Daily", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(minutes=30)).isoformat(), "timezone": "Europe/Athens",
        "rrule": "FREQ=DAILY;COUNT=3"}, headers={"X-CSRF-Token": csrf}, status=201).json

    page.goto(f"{live_server}/login")
    page.fill("#email", "rec@example.com")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Series User")
    page.goto(f"{live_server}/activities/calendar?view=week&date={monday.isoformat()}")
    tuesday = (monday + dt.timedelta(days=1)).isoformat()
    friday = (monday + dt.timedelta(days=4)).isoformat()
    event = page.locator(f".k-tg-col[data-date='{tuesday}'] li.k-ev")
    event.drag_to(page.locator(f".k-tg-col[data-date='{friday}'] .k-slot[data-time='11:00']"),
                  source_position={"x": 8, "y": 2}, target_position={"x": 8, "y": 2})
    dialog = page.locator("#k-scope")
    expect(dialog).to_be_visible()
    with page.expect_navigation():
        dialog.get_by_role("button", name="This occurrence").click()
    expect(page.locator(f".k-tg-col[data-date='{tuesday}'] li.k-ev")).to_have_count(0)
    expect(page.locator(f".k-tg-col[data-date='{friday}'] li.k-ev")).to_contain_text("Daily")
    expect(page.locator(f".k-tg-col[data-date='{monday.isoformat()}'] li.k-ev")).to_have_count(1)
    series = app.get(f"/api/v1/activities/{made['id']}").json
    moved_from = (start + dt.timedelta(days=1)).astimezone(dt.UTC)
    assert series["exdates"] == [moved_from.isoformat().replace("+00:00", "Z")]
    assert series["starts_at"] == made["starts_at"]
    exception = app.get("/api/v1/activities", {"series_id": str(made["id"])}).json["items"]
    assert len(exception) == 1
    got = dt.datetime.fromisoformat(exception[0]["starts_at"].replace("Z", "+00:00"))
    assert got.astimezone(ATHENS) == dt.datetime.combine(
        monday + dt.timedelta(days=4), dt.time(11), tzinfo=ATHENS)


def test_mass_activity_page_lists_segments_by_name(page, live_server, make_user, api):
    make_user(email="mass@example.com", roles=("manager",), name="Mass User")
    seg = api("manager").post_json("/api/v1/_segments", {
        "entity": "person", "name": "Zakłady w Polsce", "kind": "dynamic",
        "definition": {"field": "country", "op": "eq", "value": "PL"}}, status=201).json
    page.goto(f"{live_server}/login")
    page.fill("#email", "mass@example.com")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Mass User")
    page.goto(f"{live_server}/activities/mass")
    select = page.locator("select#k-mass-segment")
    expect(select).to_have_count(1)
    # the server lists the segments by name (a lone one is chosen already)
    expect(select.locator("option")).to_have_text(["Choose a segment…", "Zakłady w Polsce"])
    assert select.input_value() == str(seg["id"])
