"""The hour grid's layout (timegrid.py) and moving to an hour through the API."""

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from activities_helpers import error_fields, iso, meeting
from kyklos_activities import timegrid as tg

ATHENS = ZoneInfo("Europe/Athens")
MONDAY = dt.date(2026, 10, 19)


def at(h, m=0, day=MONDAY):
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=ATHENS)


def placed(day):
    return {p.item: (p.start, p.end, p.lane, p.lanes) for p in day.timed}


def test_overlaps_share_the_width_of_their_cluster_only():
    days = tg.build([MONDAY], ATHENS, [
        ("a", at(9), at(10), False), ("b", at(9, 30), at(11), False),
        ("c", at(10), at(10, 30), False), ("d", at(14), at(15), False),
    ])
    got = placed(days[0])
    assert got == {"a": (540, 600, 0, 2), "b": (570, 660, 1, 2), "c": (600, 630, 0, 2),
                   "d": (840, 900, 0, 1)}
    classes = {p.item: p.classes for p in days[0].timed}
    assert classes["a"] == "k-r-37 k-s-4 k-c-1 k-w-6"
    assert classes["b"] == "k-r-39 k-s-6 k-c-7 k-w-6"
    assert classes["d"] == "k-r-57 k-s-4 k-c-1 k-w-12"


def test_five_lanes_round_up_to_six_columns_of_two():
    days = tg.build([MONDAY], ATHENS, [(i, at(9), at(10), False) for i in range(5)])
    assert [p.classes.split()[2:] for p in days[0].timed] == [
        ["k-c-1", "k-w-2"], ["k-c-3", "k-w-2"], ["k-c-5", "k-w-2"], ["k-c-7", "k-w-2"],
        ["k-c-9", "k-w-2"]]


def test_across_midnight_all_day_and_points():
    tue = MONDAY + dt.timedelta(days=1)
    days = tg.build([MONDAY, tue], ATHENS, [
        ("night", at(23), at(1, 0, tue), False),
        ("fair", at(0), at(0, 0, tue), True),
        ("call", at(8), at(8), False),  # a point in time still gets half an hour
        ("trip", at(0) - dt.timedelta(days=1), at(0, 0, tue), False),  # covers Monday
    ])
    assert days[0].allday == ["fair", "trip"]
    assert placed(days[0])["night"] == (1380, 1440, 0, 1)
    assert placed(days[1]) == {"night": (0, 60, 0, 1)}
    call = next(p for p in days[0].timed if p.item == "call")
    assert call.classes.startswith("k-r-33 k-s-2 ")


def test_wall_clock_rows_on_the_day_summer_time_ends():
    # 25 October 2026: Athens goes from UTC+3 to UTC+2 at 04:00.
    sunday = dt.date(2026, 10, 25)
    start = dt.datetime(2026, 10, 25, 8, tzinfo=dt.UTC)  # 10:00 local
    days = tg.build([sunday], ATHENS, [("x", start, start + dt.timedelta(hours=1), False)])
    assert placed(days[0])["x"][:2] == (600, 660)


def test_every_placement_class_has_a_css_rule():
    css = (Path(tg.__file__).parent / "static" / "activities.css").read_text()
    rules = set(re.findall(r"\.(k-[rscw]-\d+)\{", css))
    need = {f"k-r-{i}" for i in range(1, tg.QUARTERS + 1)}
    need |= {f"k-s-{i}" for i in range(1, tg.QUARTERS + 1)}
    need |= {f"k-c-{i}" for i in range(1, tg.COLUMNS + 1)}
    need |= {f"k-w-{i}" for i in range(1, tg.COLUMNS + 1)}
    assert need <= rules


def test_move_to_an_hour_in_the_viewers_zone(api, types):
    rep = api("sales")
    start = dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC)
    made = rep.post_json("/api/v1/activities", meeting(types, start, 45, timezone="UTC"),
                         status=201).json
    # Dropped on 14:30 of a grid shown in Athens time: 12:30 UTC, still 45 minutes.
    res = rep.post_json(f"/api/v1/activities/{made['id']}/move", {
        "date": "2027-03-03", "time": "14:30", "timezone": "Europe/Athens",
        "version": made["version"]}).json
    assert res["starts_at"] == iso(dt.datetime(2027, 3, 3, 12, 30, tzinfo=dt.UTC))
    assert res["ends_at"] == iso(dt.datetime(2027, 3, 3, 13, 15, tzinfo=dt.UTC))
    res = rep.post_json(f"/api/v1/activities/{made['id']}/move", {
        "date": "2027-03-03", "time": "10:00", "timezone": "Mars/Olympus"}, status=400)
    assert set(error_fields(res)) == {"timezone"}
    res = rep.post_json(f"/api/v1/activities/{made['id']}/move", {
        "date": "2027-03-03", "timezone": "Europe/Athens"}, status=400)
    assert set(error_fields(res)) == {"time"}
