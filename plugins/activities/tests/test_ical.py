"""iCalendar: secret, revocable feeds for a user and a resource; .ics import that
updates instead of duplicating (also the round trip of our own feed)."""

import datetime as dt
import re

import icalendar
from activities_helpers import future, iso, meeting


def _csrf(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _new_feed(app, resource=""):
    page = app.get("/activities/feeds")
    res = app.post("/activities/feeds", {"csrf_token": _csrf(page), "resource": resource},
                   status=201)
    url = re.search(r'class="form-control k-feed-url" readonly value="([^"]+)"', res.text)
    return url.group(1).replace("http://localhost", "")


def _me(app, dbsession):
    from sqlalchemy import select

    from kyklos_sdk import User

    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == app.email)).scalar_one()


def test_user_feed_parses_and_revokes(client, api, types, testapp, dbsession):
    app = client("sales")
    me = _me(app, dbsession)
    other = api("sales")
    start = future()
    other.post_json("/api/v1/activities", meeting(
        types, start, subject="Budget review", location="Αθήνα",
        participants=[{"kind": "user", "id": me}], reminders=[15]), status=201)
    other.post_json("/api/v1/activities", meeting(
        types, start + dt.timedelta(days=1), subject="Weekly", rrule="FREQ=WEEKLY;COUNT=3",
        timezone="Europe/Athens", participants=[{"kind": "user", "id": me}]), status=201)
    other.post_json("/api/v1/activities", meeting(types, start, subject="Not mine"), status=201)
    url = _new_feed(app)
    res = testapp.get(url)  # no login: the address is the credential
    assert res.content_type == "text/calendar"
    cal = icalendar.Calendar.from_ical(res.body)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Budget review", "Weekly"}
    budget = events["Budget review"]
    assert budget["dtstart"].dt == start
    assert budget["dtend"].dt == start + dt.timedelta(hours=1)
    assert str(budget["location"]) == "Αθήνα"
    assert budget.walk("VALARM")
    weekly = events["Weekly"]
    assert weekly["rrule"].to_ical() == b"FREQ=WEEKLY;COUNT=3"
    assert weekly["dtstart"].dt.tzinfo.key == "Europe/Athens"
    # Nobody else can revoke it (nor learn that it exists) ...
    page = app.get("/activities/feeds")
    form = next(f for f in page.forms.values() if "revoke" in f.fields)
    token_id = form["revoke"].value
    stranger = client("sales")
    stranger.post("/activities/feeds", {"csrf_token": _csrf(stranger.get("/activities/feeds")),
                                        "revoke": token_id}, status=404)
    testapp.get(url, status=200)
    # ... revoking it ends the feed, and the page says so.
    page = form.submit("revoke").follow()
    assert "revoked" in page.html.select_one("table.k-feeds").text
    testapp.get(url, status=404)
    # A new address works; the revoked one stays dead.
    again = _new_feed(app)
    assert again != url
    testapp.get(again, status=200)
    testapp.get(url, status=404)
    testapp.get("/activities/ical/not-a-token.ics", status=404)


def test_resource_feed_hides_private_activities(client, api, types, testapp, resource):
    app = client("admin")  # may read every activity: sees the others' subjects
    colleague = client("sales")  # reads only their own: others' bookings are "Busy"
    room = resource()
    rep = api("sales")
    start = future()
    rep.post_json("/api/v1/activities", meeting(
        types, start, subject="Board", participants=[{"kind": "resource", "id": room}]),
        status=201)
    rep.post_json("/api/v1/activities", meeting(
        types, start + dt.timedelta(hours=2), subject="Salary talk", private=True,
        participants=[{"kind": "resource", "id": room}]), status=201)
    url = _new_feed(app, str(room))
    cal = icalendar.Calendar.from_ical(testapp.get(url).body)
    assert str(cal["x-wr-calname"]) == "Αίθουσα συσκέψεων"
    summaries = sorted(str(e["summary"]) for e in cal.walk("VEVENT"))
    assert summaries == ["Board", "Busy"]
    assert "Salary talk" not in testapp.get(url).text
    # a feed has no login: it shows what its owner may read, never more
    other = _new_feed(colleague, str(room))
    cal = icalendar.Calendar.from_ical(testapp.get(other).body)
    assert sorted(str(e["summary"]) for e in cal.walk("VEVENT")) == ["Busy", "Busy"]
    assert "Board" not in testapp.get(other).text


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//EN
BEGIN:VEVENT
UID:abc-123@example.org
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Athens:{day}T100000
DTEND;TZID=Europe/Athens:{day}T113000
SUMMARY:Συνάντηση με λογιστή
LOCATION:Πειραιάς
DESCRIPTION:Ισολογισμός
RRULE:FREQ=WEEKLY;COUNT=2
END:VEVENT
BEGIN:VEVENT
UID:holiday-1@example.org
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:{day}
SUMMARY:Day off
CLASS:PRIVATE
END:VEVENT
BEGIN:VEVENT
UID:broken@example.org
DTSTAMP:20260101T000000Z
SUMMARY:No start
END:VEVENT
END:VCALENDAR
"""


def test_import_ics_creates_then_updates(api, types):
    rep = api("sales")
    day = future().date().strftime("%Y%m%d")
    body = ICS.format(day=day)
    res = rep.post("/api/v1/activities/_import/ics", body,
                   headers={"Content-Type": "text/calendar"})
    assert res.json["created"] == 2 and res.json["updated"] == 0
    assert [e["uid"] for e in res.json["errors"]] == ["broken@example.org"]
    items = rep.get("/api/v1/activities", {"sort": "subject"}).json["items"]
    by_subject = {i["subject"]: i for i in items}
    meet = by_subject["Συνάντηση με λογιστή"]
    assert meet["external_uid"] == "abc-123@example.org"
    assert meet["rrule"] == "FREQ=WEEKLY;COUNT=2" and meet["timezone"] == "Europe/Athens"
    assert meet["location"] == "Πειραιάς"
    assert by_subject["Day off"]["all_day"] is True and by_subject["Day off"]["private"] is True
    res = rep.post("/api/v1/activities/_import/ics",
                   body.replace("Πειραιάς", "Θεσσαλονίκη"),
                   headers={"Content-Type": "text/calendar"})
    assert res.json["created"] == 0 and res.json["updated"] == 2
    again = rep.get(f"/api/v1/activities/{meet['id']}").json
    assert again["location"] == "Θεσσαλονίκη"
    assert len(rep.get("/api/v1/activities").json["items"]) == 2
    res = rep.post("/api/v1/activities/_import/ics", "not a calendar",
                   headers={"Content-Type": "text/calendar"}, status=400)
    assert res.json["errors"][0]["field"] == "file"


def test_feed_round_trip_through_import(client, types, testapp, dbsession):
    """Export our own feed, delete the activities, import the feed: they come back."""
    app = client("sales")
    csrf = _csrf(app.get("/activities/mine"))
    start = future()
    made = app.post_json("/api/v1/activities", meeting(
        types, start, subject="Round trip", description="Line 1\nLine 2", reminders=[30]),
        headers={"X-CSRF-Token": csrf}, status=201).json
    data = testapp.get(_new_feed(app)).body
    app.delete(f"/api/v1/activities/{made['id']}", headers={"X-CSRF-Token": csrf}, status=204)
    page = app.get("/activities/import")
    form = next(f for f in page.forms.values() if "file" in f.fields)
    form["file"] = ("feed.ics", data, "text/calendar")
    res = form.submit()
    assert res.html.select_one(".k-created").text == "1"
    items = app.get("/api/v1/activities").json["items"]
    assert len(items) == 1
    back = items[0]
    assert back["subject"] == "Round trip" and back["description"] == "Line 1\nLine 2"
    assert back["starts_at"] == iso(start)
    assert back["ends_at"] == iso(start + dt.timedelta(hours=1))
    assert back["type_id"] == types["meeting"]
    # The same file again updates the re-created activity: no duplicate.
    form = next(f for f in app.get("/activities/import").forms.values() if "file" in f.fields)
    form["file"] = ("feed.ics", data, "text/calendar")
    assert form.submit().html.select_one(".k-updated").text == "1"
    assert len(app.get("/api/v1/activities").json["items"]) == 1
