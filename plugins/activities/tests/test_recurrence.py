"""Recurring activities: rules checked and normalised, occurrences expanded on read at
local wall-clock time (across summer-time changes), exceptions skipped."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from activities_helpers import error_fields, future, iso, meeting
from kyklos_activities import recurrence

ATHENS = ZoneInfo("Europe/Athens")
UTC = dt.UTC


def local(y, m, d, h, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=ATHENS).astimezone(UTC)


def test_weekly_keeps_local_time_across_dst():
    # Mondays 10:00 in Athens from 16 March 2026; summer time starts 29 March.
    start = local(2026, 3, 16, 10)
    occ = recurrence.occurrences(
        start, start + dt.timedelta(hours=1), "FREQ=WEEKLY;COUNT=4", "Europe/Athens", [],
        start, start + dt.timedelta(days=60),
    )
    assert [s.astimezone(ATHENS).hour for s, _e in occ] == [10, 10, 10, 10]
    assert [s.hour for s, _e in occ] == [8, 8, 7, 7]  # UTC hour moves with the offset
    assert all(e - s == dt.timedelta(hours=1) for s, e in occ)


def test_exdates_and_range():
    start = local(2026, 5, 4, 9)
    skipped = local(2026, 5, 11, 9)
    occ = recurrence.occurrences(
        start, start + dt.timedelta(minutes=30), "FREQ=WEEKLY", "Europe/Athens",
        [iso(skipped)], local(2026, 5, 5, 0), local(2026, 6, 1, 0),
    )
    assert [s.astimezone(ATHENS).date() for s, _e in occ] == [
        dt.date(2026, 5, 18), dt.date(2026, 5, 25)]


def test_occurrence_running_into_the_range_counts():
    start = local(2026, 5, 4, 23)
    occ = recurrence.occurrences(start, start + dt.timedelta(hours=3), "FREQ=DAILY;COUNT=3",
                                 "Europe/Athens", [], local(2026, 5, 5, 0), local(2026, 5, 5, 12))
    assert occ == [(start, start + dt.timedelta(hours=3))]


def test_normalise_and_refuse():
    tz = ATHENS
    assert recurrence.normalise("RRULE:freq=weekly;byday=mo,we", tz) == "FREQ=WEEKLY;BYDAY=MO,WE"
    # A floating UNTIL is taken in the activity's zone and stored in UTC.
    assert recurrence.normalise("FREQ=DAILY;UNTIL=20260601T120000", tz) == \
        "FREQ=DAILY;UNTIL=20260601T090000Z"
    for bad in ("FREQ=SECONDLY", "FREQ=DAILY;COUNT=2;UNTIL=20260101T000000Z",
                "FREQ=DAILY;X-EVIL=1", "FREQ=DAILY\nDTSTART:2020", "", "FREQ=DAILY;FREQ=DAILY"):
        with pytest.raises(recurrence.RecurrenceError):
            recurrence.normalise(bad, tz)


def test_last_end():
    start = local(2026, 1, 5, 10)
    end = start + dt.timedelta(hours=1)
    assert recurrence.last_end(start, end, "FREQ=WEEKLY;COUNT=3", "Europe/Athens", []) == \
        local(2026, 1, 19, 11)
    assert recurrence.last_end(start, end, "FREQ=WEEKLY", "Europe/Athens", []) is None
    assert recurrence.last_end(start, end, None, None, []) == end


def test_api_expands_recurrence_in_calendar(api, types):
    rep = api("sales")
    start = future(days=3, hour=9)
    body = meeting(types, start, rrule="FREQ=DAILY;COUNT=5", timezone="Europe/Athens",
                   exdates=[iso(start + dt.timedelta(days=2))])
    a = rep.post_json("/api/v1/activities", body, status=201).json
    assert a["rrule"] == "FREQ=DAILY;COUNT=5"
    assert a["span_end"] == iso(start + dt.timedelta(days=4, hours=1))
    res = rep.get("/api/v1/activities/_calendar", {
        "from": iso(start - dt.timedelta(days=1)), "to": iso(start + dt.timedelta(days=10))})
    starts = [i["start"] for i in res.json["items"] if i["id"] == a["id"]]
    assert starts == [iso(start + dt.timedelta(days=d)) for d in (0, 1, 3, 4)]
    assert all(i["activity"]["subject"] == "Project meeting" for i in res.json["items"])


def test_api_refuses_a_bad_rule(api, types):
    rep = api("sales")
    res = rep.post_json("/api/v1/activities", meeting(types, future(), rrule="FREQ=HOURLY"),
                        status=400)
    assert "rrule" in error_fields(res)
    res = rep.post_json("/api/v1/activities", {"type_id": types["task"], "subject": "x",
                                                "rrule": "FREQ=DAILY"}, status=400)
    assert "rrule" in error_fields(res)
