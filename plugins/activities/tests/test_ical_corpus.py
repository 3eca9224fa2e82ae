"""iCalendar as other programs write it (issue #18): Windows zone names, Exchange's
all-day series, VALARM, ORGANIZER / ATTENDEE, ``BYDAY=MO, TU``, two RRULE lines; and a
feed that readers such as ``recurring-ical-events`` expand with the moved occurrences.
The real files are in ``corpus/`` (see its README)."""

import datetime as dt
from pathlib import Path

import icalendar
import recurring_ical_events
from sqlalchemy import select

CORPUS = Path(__file__).parent / "corpus"


def _import(api, body: bytes, status=200):
    return api.post("/api/v1/activities/_import/ics", body, status=status,
                    headers={"Content-Type": "text/calendar"}).json


def _rows(dbsession):
    from kyklos_activities.models import Activity

    with dbsession() as db:
        return {a.subject: {c: getattr(a, c) for c in (
            "id", "timezone", "all_day", "rrule", "exdates", "reminders", "participants",
            "starts_at", "recurrence_id", "series_id")}
            for a in db.execute(select(Activity).order_by(Activity.id)).scalars()}


def test_exchange_file_with_windows_zone(api, types, dbsession):
    rep = api("sales")
    body = (CORPUS / "exchange-2010-windows-zone.ics").read_bytes()
    res = _import(rep, body)
    assert res == {"created": 3, "updated": 0, "errors": []}
    rows = _rows(dbsession)
    one = rows["outlook event with alarm"]
    # "GMT Standard Time" is Europe/London: 18:30 BST is 17:30 UTC
    assert one["timezone"] == "Europe/London"
    assert one["starts_at"].replace(tzinfo=dt.UTC) == dt.datetime(2024, 10, 4, 17, 30,
                                                                   tzinfo=dt.UTC)
    series = rows["test123"]
    assert series["all_day"] and series["rrule"].startswith("FREQ=WEEKLY")
    assert len(series["exdates"]) == 1
    # the same file again: updated by UID, nobody duplicated
    assert _import(rep, body) == {"created": 0, "updated": 3, "errors": []}
    assert len(_rows(dbsession)) == 3


def _outlook_like(first: dt.date, user_email: str, person_email: str, extra_rule=""):
    """An event in the form Outlook writes one (spaces in BYDAY, VALARM, organiser,
    attendees with answers, a room)."""
    d = first.strftime("%Y%m%d")
    return f"""BEGIN:VCALENDAR
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
VERSION:2.0
METHOD:REQUEST
BEGIN:VEVENT
UID:outlook-weekly-42
DTSTAMP:20260101T000000Z
DTSTART;TZID=W. Europe Standard Time:{d}T090000
DTEND;TZID=W. Europe Standard Time:{d}T100000
RRULE:FREQ=WEEKLY;COUNT=6;BYDAY=MO, TU{extra_rule}
SUMMARY:Planning
ORGANIZER;CN="Boss":mailto:{user_email}
ATTENDEE;CN=Client;ROLE=REQ-PARTICIPANT;PARTSTAT=TENTATIVE;RSVP=TRUE:mailto:{person_email}
ATTENDEE;CUTYPE=ROOM;CN=Sala Duża;PARTSTAT=ACCEPTED:mailto:sala@example.org
ATTENDEE;CN=Stranger;PARTSTAT=NEEDS-ACTION:mailto:nobody@example.net
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:REMINDER
TRIGGER;RELATED=START:-PT15M
END:VALARM
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-P1D
END:VALARM
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode("utf-8")


def test_outlook_rules_alarms_and_attendees(api, types, dbsession, resource):
    rep = api("sales", email="boss@example.com")
    resource(name="Sala Duża")
    client = rep.post_json("/api/v1/persons", {"first_name": "Ola", "last_name": "Klient",
                                               "email": "ola@example.pl"}).json
    first = dt.date.today() + dt.timedelta(days=14 - dt.date.today().weekday())
    res = _import(rep, _outlook_like(first, "boss@example.com", "ola@example.pl"))
    assert res["errors"] == [] and res["created"] == 1
    row = _rows(dbsession)["Planning"]
    assert row["rrule"] == "FREQ=WEEKLY;COUNT=6;BYDAY=MO,TU"
    assert row["timezone"] == "Europe/Berlin"
    assert row["reminders"] == [15, 1440]
    got = {(p["kind"], p["id"]): p["status"] for p in row["participants"]}
    assert got[("person", client["id"])] == "tentative"
    assert [s for (kind, _i), s in got.items() if kind == "resource"] == ["accepted"]
    assert ("user", rep.user_id) in got  # the organiser, found by e-mail
    assert len(got) == 3  # the stranger's address matched nobody
    # two RRULE lines: refused, saying why
    res = _import(rep, _outlook_like(first, "boss@example.com", "ola@example.pl",
                                     extra_rule="\nRRULE:FREQ=MONTHLY;COUNT=2"), status=400)
    assert res["created"] == 0 and res["updated"] == 0
    assert "RRULE" in res["errors"][0]["errors"]["rrule"]


def test_feed_zones_alarms_people_and_moved_occurrences(api, testapp, types, dbsession):
    rep = api("sales", email="rep@example.com")
    first = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())
    d1, d2 = first.strftime("%Y%m%d"), (first + dt.timedelta(days=7)).strftime("%Y%m%d")
    body = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:series-1
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Warsaw:{d1}T090000
DTEND;TZID=Europe/Warsaw:{d1}T100000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Weekly
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT10M
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:series-1
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=Europe/Warsaw:{d2}T090000
DTSTART;TZID=Europe/Warsaw:{d2}T150000
DTEND;TZID=Europe/Warsaw:{d2}T160000
SUMMARY:Weekly (moved)
END:VEVENT
BEGIN:VEVENT
UID:one-off-1
DTSTAMP:20260101T000000Z
DTSTART;TZID=America/New_York:{d1}T120000
DTEND;TZID=America/New_York:{d1}T130000
SUMMARY:Call New York
END:VEVENT
BEGIN:VEVENT
UID:allday-1
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:{d1}
DTEND;VALUE=DATE:{(first + dt.timedelta(days=1)).strftime("%Y%m%d")}
RRULE:FREQ=DAILY;COUNT=5
EXDATE;VALUE=DATE:{(first + dt.timedelta(days=2)).strftime("%Y%m%d")}
SUMMARY:Trade fair
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode()
    assert _import(rep, body)["errors"] == []
    from kyklos_activities.ical import create_token
    from kyklos_activities.models import Activity

    with dbsession() as db:
        owner = db.execute(select(Activity.responsible_id)).scalars().first()
        token, _row = create_token(db, owner)
    res = testapp.get(f"/activities/ical/{token}.ics")
    cal = icalendar.Calendar.from_ical(res.body)
    zones = {str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")}
    assert {"Europe/Warsaw", "America/New_York"} <= zones
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert str(events["Call New York"]["dtstart"].dt.tzinfo) == "America/New_York"
    fair = events["Trade fair"]
    assert [d.dt for d in fair["exdate"].dts] == [first + dt.timedelta(days=2)]
    assert events["Weekly"].walk("VALARM")[0]["trigger"].dt == dt.timedelta(minutes=-10)
    assert str(events["Weekly"]["organizer"]).lower() == "mailto:rep@example.com"
    # a reader expanding the feed sees the moved occurrence at its new time
    starts = sorted(
        (str(e["summary"]), e["dtstart"].dt)
        for e in recurring_ical_events.of(cal).between(first, first + dt.timedelta(days=21))
        if str(e["summary"]).startswith("Weekly"))
    assert [s for s, _d in starts] == ["Weekly", "Weekly", "Weekly (moved)"]
    moved = next(d for s, d in starts if s == "Weekly (moved)")
    assert (moved.hour, moved.date()) == (15, first + dt.timedelta(days=7))
