"""iCalendar RDATE (extra occurrences) and ORGANIZER / ATTENDEE on every import path
(issue #18): the import API, the common importer (API upload, wizard) and ``kyklos
import``. Each test counts what goes in (``recurring-ical-events`` on the file) and what
comes out (the calendar API, the feed read by ``recurring-ical-events``).

Files: ``corpus/davx5-rdate-tzid.ics`` (DAVx5, see ``corpus/README.md``); the
``RDATE;VALUE=DATE`` list follows the example of RFC 5545 section 3.8.5.2; the invitation
has the shape Outlook writes (``test_ical_corpus._outlook_like``)."""

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from sqlalchemy import select
from test_ical_corpus import _outlook_like

from kyklos_sdk.testing import run_cli, write_ini

CORPUS = Path(__file__).parent / "corpus"
DAVX5 = CORPUS / "davx5-rdate-tzid.ics"
BERLIN = ZoneInfo("Europe/Berlin")
ATHENS = ZoneInfo("Europe/Athens")


def _z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _file_starts(body: bytes, lo, hi) -> list[str]:
    """The occurrence starts a reader finds in ``body`` (aware UTC, ISO)."""
    cal = icalendar.Calendar.from_ical(body)
    return sorted(_z(e["dtstart"].dt) for e in recurring_ical_events.of(cal).between(lo, hi))


def _calendar_starts(client, activity_id, lo: dt.date, hi: dt.date) -> list[str]:
    cal = client.get(
        "/api/v1/activities/_calendar", {"from": lo.isoformat(), "to": hi.isoformat()}
    ).json
    return sorted(i["start"] for i in cal["items"] if i["id"] == activity_id)


def _activity(dbsession, **where):
    from kyklos_activities.models import Activity

    with dbsession() as db:
        stmt = select(Activity)
        for k, v in where.items():
            stmt = stmt.where(getattr(Activity, k) == v)
        a = db.execute(stmt).scalar_one()
        return {
            c: getattr(a, c)
            for c in (
                "id",
                "subject",
                "rrule",
                "rdates",
                "exdates",
                "participants",
                "external_attendees",
                "span_end",
                "responsible_id",
            )
        }


def _check_davx5(client, dbsession):
    """The DAVx5 series: 16 Tuesdays less 9 EXDATEs, plus the RDATE = 8 occurrences,
    the same in the file, in Kyklos' calendar and in the activity's VEVENT."""
    body = DAVX5.read_bytes()
    lo, hi = dt.date(2019, 10, 1), dt.date(2020, 3, 1)
    expected = _file_starts(body, lo, hi)
    assert len(expected) == 8
    # The RDATE is 16:15 in Berlin on 4 February 2020, after the rule's UNTIL.
    rdate = _z(dt.datetime(2020, 2, 4, 16, 15, tzinfo=BERLIN))
    assert expected[-1] == rdate
    row = _activity(dbsession, external_uid="f0f31ddb-6918-46af-a5a1-0a7254fbce71")
    assert row["rdates"] == [rdate]
    assert len(row["exdates"]) == 9
    # The span reaches the RDATE occurrence (1 h 30 long), not only the rule's last one.
    assert _z(row["span_end"]) == _z(dt.datetime(2020, 2, 4, 17, 45, tzinfo=BERLIN))
    assert _calendar_starts(client, row["id"], lo, hi) == expected
    return row


def _export(registry, dbsession, activity_id) -> bytes:
    """The activity as the feed writes it (the feed itself covers only the coming
    months; this file is from 2019)."""
    from kyklos_activities import calendar, ical
    from kyklos_activities.models import Activity

    from kyklos_sdk import request_as

    with dbsession() as db:
        owner = db.get(Activity, activity_id).responsible_id
    with request_as(registry, owner) as req:
        a = req.dbsession.get(Activity, activity_id)
        cal = ical.calendar_of("test")
        cal.add_component(ical.event(req, a, calendar.types_by_id(req.dbsession), True))
        cal.add_missing_timezones()
        return cal.to_ical()


def test_davx5_rdate_through_the_import_api_and_back_out(api, types, dbsession, registry):
    rep = api("sales")
    res = rep.post(
        "/api/v1/activities/_import/ics",
        DAVX5.read_bytes(),
        headers={"Content-Type": "text/calendar"},
    ).json
    assert res == {"created": 1, "updated": 0, "errors": []}
    row = _check_davx5(rep, dbsession)
    # The API gives and takes the extra occurrences.
    got = rep.get(f"/api/v1/activities/{row['id']}").json
    assert got["rdates"] == row["rdates"]
    out = _export(registry, dbsession, row["id"])
    assert b"RDATE;TZID=Europe/Berlin:20200204T161500" in out
    lo, hi = dt.date(2019, 10, 1), dt.date(2020, 3, 1)
    assert _file_starts(out, lo, hi) == _file_starts(DAVX5.read_bytes(), lo, hi)
    # Again: an update, still one activity with one RDATE.
    res = rep.post(
        "/api/v1/activities/_import/ics",
        DAVX5.read_bytes(),
        headers={"Content-Type": "text/calendar"},
    ).json
    assert res == {"created": 0, "updated": 1, "errors": []}
    assert _check_davx5(rep, dbsession)["rdates"] == row["rdates"]


def test_davx5_rdate_through_the_common_importer_and_the_cli(
    api, types, dbsession, db_url, tmp_path
):
    rep = api("admin", email="boss@example.com")
    opts = {"key": "external_uid", "on_duplicate": "update"}
    res = rep.post(
        "/api/v1/activities/_import",
        {"options": json.dumps(opts)},
        upload_files=[("file", "davx5.ics", DAVX5.read_bytes())],
        status=202,
    )
    run = rep.get(res.headers["Location"]).json
    assert run["state"] == "done" and run["created"] == 1 and run["rejected"] == 0, run
    _check_davx5(rep, dbsession)
    # ``kyklos import`` of the same file: updated by its UID, nothing doubled.
    ini = write_ini(tmp_path, plugins="contacts activities", url=db_url)
    proc = run_cli(
        "import", ini, "activity", DAVX5, "--key", "external_uid", "--on-duplicate", "update"
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 updated" in proc.stdout, proc.stdout
    _check_davx5(rep, dbsession)


def _dates_file(first: dt.date) -> bytes:
    """An all-day series with extra days (``RDATE;VALUE=DATE`` list, RFC 5545 3.8.5.2)
    and a timed event with extra times in another zone (``RDATE;TZID``)."""
    day = dt.timedelta(days=1)

    def d(n):
        return (first + n * day).strftime("%Y%m%d")

    return f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example Corp.//CalDAV Client//EN
BEGIN:VEVENT
UID:fair-days@example.com
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:{d(0)}
DTEND;VALUE=DATE:{d(1)}
RRULE:FREQ=WEEKLY;COUNT=3
RDATE;VALUE=DATE:{d(2)},{d(10)}
RDATE;VALUE=DATE:{d(30)}
EXDATE;VALUE=DATE:{d(7)}
SUMMARY:Trade fair days
END:VEVENT
BEGIN:VEVENT
UID:extra-times@example.com
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Athens:{d(1)}T100000
DTEND;TZID=Europe/Athens:{d(1)}T110000
RDATE;TZID=America/New_York:{d(3)}T090000,{d(5)}T090000
SUMMARY:Call with extra dates
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode()


def test_date_and_zoned_rdates_in_calendar_and_feed(api, testapp, types, dbsession):
    rep = api("sales", email="rep@example.com")
    first = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())
    body = _dates_file(first)
    res = rep.post(
        "/api/v1/activities/_import/ics", body, headers={"Content-Type": "text/calendar"}
    ).json
    assert res == {"created": 2, "updated": 0, "errors": []}
    lo, hi = first - dt.timedelta(days=1), first + dt.timedelta(days=40)
    fair = _activity(dbsession, external_uid="fair-days@example.com")
    call = _activity(dbsession, external_uid="extra-times@example.com")
    assert len(fair["rdates"]) == 3 and len(call["rdates"]) == 2
    # In: 3 weekly days less 1 + 3 extra days = 5; 1 call + 2 extra = 3.
    cal_in = icalendar.Calendar.from_ical(body)
    by_uid = {}
    for e in recurring_ical_events.of(cal_in).between(lo, hi):
        by_uid.setdefault(str(e["uid"]), []).append(e["dtstart"].dt)
    assert len(by_uid["fair-days@example.com"]) == 5
    assert len(by_uid["extra-times@example.com"]) == 3
    calls = _calendar_starts(rep, call["id"], lo, hi)
    assert calls == sorted(_z(v) for v in by_uid["extra-times@example.com"])
    assert (
        _z(
            dt.datetime.combine(
                first + dt.timedelta(days=3), dt.time(9), tzinfo=ZoneInfo("America/New_York")
            )
        )
        in calls
    )
    fair_days = rep.get(
        "/api/v1/activities/_calendar", {"from": lo.isoformat(), "to": hi.isoformat()}
    ).json
    days = sorted(i["start"] for i in fair_days["items"] if i["id"] == fair["id"])
    assert len(days) == 5
    # Out: the feed, read by recurring-ical-events, has the same occurrences.
    from kyklos_activities.ical import create_token

    with dbsession() as db:
        token, _row = create_token(db, fair["responsible_id"])
    feed = testapp.get(f"/activities/ical/{token}.ics").body
    out = icalendar.Calendar.from_ical(feed)
    events = {str(e["summary"]): e for e in out.walk("VEVENT")}
    # An all-day series writes its extra days as dates, as its DTSTART.
    fair_rdates = [
        v.dt
        for r in (
            events["Trade fair days"]["rdate"]
            if isinstance(events["Trade fair days"]["rdate"], list)
            else [events["Trade fair days"]["rdate"]]
        )
        for v in r.dts
    ]
    assert sorted(fair_rdates) == [first + dt.timedelta(days=n) for n in (2, 10, 30)]
    got = {}
    for e in recurring_ical_events.of(out).between(lo, hi):
        got.setdefault(str(e["summary"]), []).append(e["dtstart"].dt)
    assert sorted(got["Trade fair days"]) == sorted(by_uid["fair-days@example.com"])
    assert sorted(_z(v) for v in got["Call with extra dates"]) == calls


def test_bad_rdates_are_refused_naming_the_field(api, types):
    rep = api("sales")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    res = rep.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": "x",
            "starts_at": _z(start),
            "ends_at": _z(start + dt.timedelta(hours=1)),
            "rdates": ["2026-13-01T10:00"],
        },
        status=400,
    ).json
    assert "rdates" in json.dumps(res)
    res = rep.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": "x",
            "starts_at": _z(start),
            "ends_at": _z(start + dt.timedelta(hours=1)),
            "rdates": [_z(start + dt.timedelta(days=2))],
        },
        status=201,
    ).json
    assert res["rdates"] == [_z(start + dt.timedelta(days=2))]


def _check_people(dbsession, rep, client_id, room_name):
    from kyklos_activities.models import Resource

    row = _activity(dbsession, subject="Planning")
    got = {(p["kind"], p["id"]): p["status"] for p in row["participants"]}
    assert got[("person", client_id)] == "tentative"
    assert got[("user", rep.user_id)] == "accepted"  # the organiser, by e-mail
    with dbsession() as db:
        room = db.execute(select(Resource.id).where(Resource.name == room_name)).scalar()
    assert got[("resource", room)] == "accepted"
    assert len(got) == 3
    # The address that matched nobody is kept, with its name and answer.
    assert row["external_attendees"] == [
        {"email": "nobody@example.net", "name": "Stranger", "status": "needs-action"}
    ]
    return row


def test_attendees_on_every_import_path(api, types, dbsession, resource, db_url, tmp_path):
    rep = api("admin", email="boss@example.com")
    resource(name="Sala Duża")
    person = rep.post_json(
        "/api/v1/persons", {"first_name": "Ola", "last_name": "Klient", "email": "ola@example.pl"}
    ).json
    first = dt.date.today() + dt.timedelta(days=14 - dt.date.today().weekday())
    body = _outlook_like(first, "boss@example.com", "ola@example.pl")
    # 1. The import API.
    res = rep.post(
        "/api/v1/activities/_import/ics", body, headers={"Content-Type": "text/calendar"}
    ).json
    assert res == {"created": 1, "updated": 0, "errors": []}
    row = _check_people(dbsession, rep, person["id"], "Sala Duża")
    # The feed gives all four back: organiser, person, room and the stranger.
    from kyklos_activities.ical import create_token

    with dbsession() as db:
        token, _row = create_token(db, row["responsible_id"])
    out = icalendar.Calendar.from_ical(rep.get(f"/activities/ical/{token}.ics").body)
    ev = next(e for e in out.walk("VEVENT") if str(e["summary"]) == "Planning")
    attendees = {str(a).lower(): a.params for a in ev["attendee"]}
    assert attendees["mailto:ola@example.pl"]["PARTSTAT"] == "TENTATIVE"
    assert attendees["mailto:nobody@example.net"]["CN"] == "Stranger"
    assert str(ev["organizer"]).lower() == "mailto:boss@example.com"
    assert (
        len(list(recurring_ical_events.of(out).between(first, first + dt.timedelta(days=30)))) == 6
    )
    # 2. The common importer (the wizard's and the API's upload): an answer changed in
    # the file is the participant's new answer.
    changed = body.replace(b"PARTSTAT=TENTATIVE", b"PARTSTAT=DECLINED")
    opts = {"key": "external_uid", "on_duplicate": "update"}
    res = rep.post(
        "/api/v1/activities/_import",
        {"options": json.dumps(opts)},
        upload_files=[("file", "invite.ics", changed)],
        status=202,
    )
    run = rep.get(res.headers["Location"]).json
    assert run["state"] == "done" and run["updated"] == 1 and run["rejected"] == 0, run
    row = _activity(dbsession, subject="Planning")
    assert {p["status"] for p in row["participants"] if p["kind"] == "person"} == {"declined"}
    # 3. ``kyklos import`` into an empty calendar: the same participants as the API.
    from kyklos_activities.models import Activity

    with dbsession() as db:
        db.delete(db.get(Activity, row["id"]))
    path = tmp_path / "invite.ics"
    path.write_bytes(body)
    ini = write_ini(tmp_path, plugins="contacts activities", url=db_url)
    proc = run_cli(
        "import", ini, "activity", path, "--key", "external_uid", "--as", "boss@example.com"
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 created" in proc.stdout, proc.stdout
    _check_people(dbsession, rep, person["id"], "Sala Duża")


def test_bad_attendees_are_refused_naming_the_field(api, types):
    rep = api("sales")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    res = rep.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": "x",
            "starts_at": _z(start),
            "attendees": [{"email": "a@example.com", "status": "maybe-later"}],
        },
        status=400,
    ).json
    assert "attendees" in json.dumps(res)
