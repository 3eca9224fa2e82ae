"""iCalendar files through the common importer (``kyklos import``, the import API and
wizard), exceptions of recurring events (RECURRENCE-ID) and moving one occurrence."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import icalendar
from activities_helpers import error_fields, iso, meeting
from sqlalchemy import select

from kyklos_sdk.testing import run_cli, write_ini

ATHENS = ZoneInfo("Europe/Athens")


def _monday(weeks=1):
    today = dt.datetime.now(dt.UTC).astimezone(ATHENS).date()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7 * weeks)


def _at(day, h, m=0):
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=ATHENS).astimezone(dt.UTC)


def _ics(first: dt.date) -> bytes:
    """A weekly series whose second occurrence was moved, the override first (as some
    exports write it), and a single event."""
    d1, d2 = first.strftime("%Y%m%d"), (first + dt.timedelta(days=7)).strftime("%Y%m%d")
    return f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
BEGIN:VEVENT
UID:weekly-1@example.org
RECURRENCE-ID;TZID=Europe/Athens:{d2}T090000
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Athens:{d2}T113000
DTEND;TZID=Europe/Athens:{d2}T123000
SUMMARY:Εβδομαδιαία σύσκεψη (μετατέθηκε)
END:VEVENT
BEGIN:VEVENT
UID:weekly-1@example.org
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Athens:{d1}T090000
DTEND;TZID=Europe/Athens:{d1}T100000
RRULE:FREQ=WEEKLY;COUNT=4
SUMMARY:Εβδομαδιαία σύσκεψη
LOCATION:Θεσσαλονίκη
END:VEVENT
BEGIN:VEVENT
UID:single-2@example.org
DTSTAMP:20260101T000000Z
DTSTART:{d1}T130000Z
DTEND:{d1}T133000Z
SUMMARY:Spotkanie z klientem
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode("utf-8")


def _activities(dbsession):
    from kyklos_activities.models import Activity

    with dbsession() as db:
        rows = db.execute(select(Activity).order_by(Activity.id)).scalars().all()
        return [{c: getattr(a, c) for c in ("id", "subject", "external_uid", "series_id",
                                            "recurrence_id", "exdates", "rrule", "starts_at",
                                            "type_id", "mass_batch")} for a in rows]


def _check_imported(rows, first):
    by_uid = {r["external_uid"]: r for r in rows}
    series = by_uid["weekly-1@example.org"]
    moved_from = _at(first + dt.timedelta(days=7), 9)
    exception = by_uid["weekly-1@example.org#" + moved_from.strftime("%Y%m%dT%H%M%SZ")]
    assert exception["series_id"] == series["id"]
    assert exception["recurrence_id"] == moved_from
    assert exception["starts_at"] == _at(first + dt.timedelta(days=7), 11, 30)
    assert exception["rrule"] is None
    assert series["exdates"] == [iso(moved_from)]
    assert series["rrule"] == "FREQ=WEEKLY;COUNT=4"
    return series, exception


def test_api_import_of_ics_file_with_exception_never_duplicates(api, types, dbsession):
    rep = api("sales")
    first = _monday()
    opts = {"key": "external_uid", "on_duplicate": "update"}
    res = rep.post("/api/v1/activities/_import", {"options": json.dumps(opts)},
                   upload_files=[("file", "events.ics", _ics(first))], status=202)
    run = rep.get(res.headers["Location"]).json
    assert run["state"] == "done" and run["created"] == 3 and run["rejected"] == 0, run
    rows = _activities(dbsession)
    assert len(rows) == 3
    series, exception = _check_imported(rows, first)
    assert {r["type_id"] for r in rows} == {types["meeting"]}
    # The calendar shows the moved occurrence on its new time, and not the old one.
    cal = rep.get("/api/v1/activities/_calendar", {
        "from": first.isoformat(), "to": (first + dt.timedelta(days=27)).isoformat()}).json
    starts = sorted((i["start"], i["id"]) for i in cal["items"] if i["id"] in
                    (series["id"], exception["id"]))
    assert starts == sorted([
        (iso(_at(first, 9)), series["id"]),
        (iso(_at(first + dt.timedelta(days=7), 11, 30)), exception["id"]),
        (iso(_at(first + dt.timedelta(days=14), 9)), series["id"]),
        (iso(_at(first + dt.timedelta(days=21), 9)), series["id"]),
    ])
    # The same file again: updates, no copy; the exception stays excluded.
    res = rep.post("/api/v1/activities/_import", {"options": json.dumps(opts)},
                   upload_files=[("file", "events.ics", _ics(first))], status=202)
    run = rep.get(res.headers["Location"]).json
    assert run["created"] == 0 and run["rejected"] == 0, run
    rows = _activities(dbsession)
    assert len(rows) == 3
    _check_imported(rows, first)
    # Without a key the importer refuses the rows rather than copying them.
    res = rep.post("/api/v1/activities/_import", {},
                   upload_files=[("file", "events.ics", _ics(first))], status=202)
    run = rep.get(res.headers["Location"]).json
    assert run["created"] == 0 and run["rejected"] == 3, run
    assert len(_activities(dbsession)) == 3
    # Not iCalendar: a clear error naming the file, nothing written.
    res = rep.post("/api/v1/activities/_import", {},
                   upload_files=[("file", "bad.ics", b"hello")], status=400)
    assert "bad.ics" in res.json["detail"]


def test_cli_import_ics(api, types, dbsession, db_url, tmp_path):
    api("admin", email="boss@example.com")
    ini = write_ini(tmp_path, plugins="contacts activities", url=db_url)
    first = _monday(2)
    path = tmp_path / "events.ics"
    path.write_bytes(_ics(first))
    args = ("import", ini, "activity", path, "--key", "external_uid")
    proc = run_cli(*args, "--on-duplicate", "update")
    assert proc.returncode == 0, proc.stderr
    assert "3 created" in proc.stdout
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "3 skipped" in proc.stdout
    rows = _activities(dbsession)
    assert len(rows) == 3
    _check_imported(rows, first)


def test_own_endpoint_imports_exception_and_feed_exports_it(client, api, types, dbsession,
                                                            testapp):
    import re

    app = client("sales")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                     app.get("/activities/mine").text).group(1)
    first = _monday()
    res = app.post("/api/v1/activities/_import/ics", _ics(first),
                   headers={"Content-Type": "text/calendar", "X-CSRF-Token": csrf})
    assert res.json == {"created": 3, "updated": 0, "errors": []}
    series, exception = _check_imported(_activities(dbsession), first)
    page = app.get("/activities/feeds")
    res = app.post("/activities/feeds", {"csrf_token": csrf, "resource": ""}, status=201)
    url = re.search(r'k-feed-url" readonly value="([^"]+)"', res.text).group(1)
    cal = icalendar.Calendar.from_ical(testapp.get(url.replace("http://localhost", "")).body)
    weekly = [e for e in cal.walk("VEVENT") if str(e["uid"]) == "weekly-1@example.org"]
    assert len(weekly) == 2
    override = next(e for e in weekly if e.get("recurrence-id") is not None)
    assert override["recurrence-id"].dt == _at(first + dt.timedelta(days=7), 9)
    master = next(e for e in weekly if e.get("recurrence-id") is None)
    # The moved occurrence is replaced through its RECURRENCE-ID: no EXDATE hides it.
    assert master.get("exdate") is None
    # The same again through the page: updates only.
    res = app.post("/api/v1/activities/_import/ics", _ics(first),
                   headers={"Content-Type": "text/calendar", "X-CSRF-Token": csrf})
    assert res.json == {"created": 0, "updated": 3, "errors": []}
    assert page.status_int == 200


def test_move_one_occurrence_makes_an_exception(api, types, dbsession, resource):
    rep = api("sales")
    room = resource()
    first = _monday()
    series = rep.post_json("/api/v1/activities", meeting(
        types, _at(first, 10), subject="Standup", rrule="FREQ=DAILY;COUNT=5",
        timezone="Europe/Athens", participants=[{"kind": "resource", "id": room}]),
        status=201).json
    url = f"/api/v1/activities/{series['id']}/move"
    second = _at(first + dt.timedelta(days=1), 10)
    # Someone else has the room on Thursday at 15:00: moving there is refused.
    rep.post_json("/api/v1/activities", meeting(
        types, _at(first + dt.timedelta(days=3), 15), subject="Other",
        participants=[{"kind": "resource", "id": room}]), status=201)
    res = rep.post_json(url, {"date": (first + dt.timedelta(days=3)).isoformat(),
                              "time": "15:00", "scope": "occurrence",
                              "occurrence": iso(second)}, status=409)
    assert "participants" in error_fields(res)
    assert rep.get(f"/api/v1/activities/{series['id']}").json["exdates"] == []
    # Tuesday's standup moves to Thursday 12:00 only.
    res = rep.post_json(url, {"date": (first + dt.timedelta(days=3)).isoformat(),
                              "time": "12:00", "scope": "occurrence",
                              "occurrence": iso(second), "version": series["version"]},
                        status=201)
    moved = res.json
    assert moved["series_id"] == series["id"] and moved["recurrence_id"] == iso(second)
    assert moved["starts_at"] == iso(_at(first + dt.timedelta(days=3), 12))
    assert moved["rrule"] is None and moved["subject"] == "Standup"
    assert {"kind": "resource", "id": room, "status": "accepted"} in moved["participants"]
    again = rep.get(f"/api/v1/activities/{series['id']}").json
    assert again["exdates"] == [iso(second)]
    hist = rep.get(f"/api/v1/activities/{series['id']}/history").json["items"]
    assert any("exdates" in (h.get("changes") or {}) for h in hist), hist
    # Tuesday 10:00 is free again: the room can be booked then.
    rep.post_json("/api/v1/activities", meeting(
        types, second, subject="Tuesday", participants=[{"kind": "resource", "id": room}]),
        status=201)
    # The same occurrence cannot be moved twice; a time that is no occurrence is refused.
    res = rep.post_json(url, {"date": first.isoformat(), "scope": "occurrence",
                              "occurrence": iso(second)}, status=400)
    assert "occurrence" in error_fields(res)
    res = rep.post_json(url, {"date": first.isoformat(), "scope": "occurrence",
                              "occurrence": iso(second + dt.timedelta(minutes=5))}, status=400)
    assert "occurrence" in error_fields(res)
    res = rep.post_json(url, {"date": first.isoformat(), "scope": "sometimes"}, status=400)
    assert "scope" in error_fields(res)
    # The whole series: dragging the third occurrence a day on moves every one a day on.
    third = _at(first + dt.timedelta(days=2), 10)
    res = rep.post_json(url, {"date": (first + dt.timedelta(days=3)).isoformat(),
                              "scope": "series", "occurrence": iso(third)})
    assert res.json["starts_at"] == iso(_at(first + dt.timedelta(days=1), 10))
    # A client may also create the exception itself.
    res = rep.post_json("/api/v1/activities", meeting(
        types, _at(first + dt.timedelta(days=4), 8), series_id=series["id"],
        recurrence_id=iso(_at(first + dt.timedelta(days=4), 10))), status=201)
    assert iso(_at(first + dt.timedelta(days=4), 10)) in rep.get(
        f"/api/v1/activities/{series['id']}").json["exdates"]


def test_type_code_and_mass_batch_in_history(api, types, make_record):
    manager = api("manager")
    res = manager.post_json("/api/v1/activities", {"type_code": "call", "subject": "Call"},
                            status=201)
    assert res.json["type_id"] == types["call"] and res.json["type_code"] == "call"
    res = manager.post_json("/api/v1/activities", {"type_code": "nope", "subject": "x"},
                            status=400)
    assert "type_code" in error_fields(res)
    person = make_record("person", first_name="Ana", last_name="Pop")
    res = manager.post_json("/api/v1/activities/_mass", {
        "template": {"type_code": "letter", "subject": "Invitație"}, "person_ids": [person]},
        status=201)
    aid = res.json["created"][0]
    hist = manager.get(f"/api/v1/activities/{aid}/history").json["items"]
    create = next(h for h in hist if h["action"] == "create")
    assert res.json["batch"] in json.dumps(create)
