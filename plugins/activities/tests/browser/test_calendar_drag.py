"""The week view in real Chromium: drag an event to another day; the move persists."""

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
    expect(page.locator(f"[data-date='{monday.isoformat()}'] li.k-ev")).to_have_count(1)
    with page.expect_navigation():
        event.drag_to(page.locator(f"section[data-date='{thursday}']"))
    expect(page.locator(f"section[data-date='{thursday}'] li.k-ev")).to_contain_text("Drag me")
    expect(page.locator(f"section[data-date='{monday.isoformat()}'] li.k-ev")).to_have_count(0)
    page.screenshot(path="/tmp/kyklos-activities-week.png", full_page=True)
    moved = app.get(f"/api/v1/activities/{made['id']}").json
    new_start = dt.datetime.fromisoformat(moved["starts_at"].replace("Z", "+00:00"))
    assert new_start.astimezone(ATHENS) == start + dt.timedelta(days=3)
    assert moved["version"] == made["version"] + 1
