"""The availability finder (ACT-07, D9): pure interval arithmetic, and the API and page
over real activities and bookings."""

import datetime as dt
from zoneinfo import ZoneInfo

from activities_helpers import error_fields, iso, meeting
from kyklos_activities import availability as av

ATHENS = ZoneInfo("Europe/Athens")
WARSAW = ZoneInfo("Europe/Warsaw")
UTC = dt.UTC
H = dt.timedelta(hours=1)


def at(y, m, d, h, mi=0, tz=ATHENS):
    return dt.datetime(y, m, d, h, mi, tzinfo=tz).astimezone(UTC)


def wt(country="GR", tz=ATHENS, hours="09:00-17:00", days="mon-fri"):
    start, end = av.parse_hours(hours)
    return av.WorkingTime(start, end, av.parse_weekdays(days), country, tz)


def test_merge_and_subtract():
    a = at(2026, 6, 1, 9)
    busy = av.merge([(a + H, a + 2 * H), (a, a + H), (a + 90 * dt.timedelta(minutes=1),
                                                      a + 3 * H), (a + 5 * H, a + 5 * H)])
    assert busy == [(a, a + 3 * H)]
    free = av.subtract([(a - H, a + 8 * H)], busy + [(a + 4 * H, a + 5 * H)])
    assert free == [(a - H, a), (a + 3 * H, a + 4 * H), (a + 5 * H, a + 8 * H)]


def test_overlapping_busy_of_several_parties():
    day = at(2026, 6, 2, 0)  # a Tuesday
    anna = [(at(2026, 6, 2, 9), at(2026, 6, 2, 10, 30))]
    giorgos = [(at(2026, 6, 2, 10), at(2026, 6, 2, 12))]
    room = [(at(2026, 6, 2, 13), at(2026, 6, 2, 14))]
    slots = av.find_slots([anna, giorgos, room], H, day, day + 24 * H, wt(), limit=3)
    assert slots == [(at(2026, 6, 2, 12), at(2026, 6, 2, 13)),
                     (at(2026, 6, 2, 14), at(2026, 6, 2, 15)),
                     (at(2026, 6, 2, 15), at(2026, 6, 2, 16))]


def test_slots_start_on_quarter_hours():
    day = at(2026, 6, 2, 0)
    busy = [(at(2026, 6, 2, 9), at(2026, 6, 2, 9, 10))]
    slots = av.find_slots([busy], dt.timedelta(minutes=30), day, day + 24 * H, wt(), limit=1)
    assert slots == [(at(2026, 6, 2, 9, 15), at(2026, 6, 2, 9, 45))]


def test_dst_change_in_athens():
    """Summer time starts on Sunday 29 March 2026: 09:00 local is 07:00 UTC on Friday
    27 March and 06:00 UTC on Monday 30 March."""
    lo, hi = at(2026, 3, 27, 16), at(2026, 3, 31, 0)
    slots = av.find_slots([], H, lo, hi, wt(), limit=2)
    assert slots == [(dt.datetime(2026, 3, 27, 14, tzinfo=UTC), dt.datetime(2026, 3, 27, 15,
                                                                            tzinfo=UTC)),
                     (dt.datetime(2026, 3, 30, 6, tzinfo=UTC), dt.datetime(2026, 3, 30, 7,
                                                                           tzinfo=UTC))]
    assert slots[1][0].astimezone(ATHENS).hour == 9


def test_orthodox_easter_monday_is_off_in_greece_not_in_poland():
    # 2026: Orthodox Easter is 12 April (Monday 13 April off in GR, and Good Friday
    # 10 April); Catholic Easter is 5 April (Monday 6 April off in PL).
    lo, hi = at(2026, 4, 9, 17), at(2026, 4, 15, 0)
    gr = av.find_slots([], H, lo, hi, wt("GR"), limit=1)
    assert gr[0][0].astimezone(ATHENS).date() == dt.date(2026, 4, 14)
    pl = av.find_slots([], H, at(2026, 4, 9, 17, tz=WARSAW), at(2026, 4, 15, 0, tz=WARSAW),
                       wt("PL", WARSAW), limit=1)
    assert pl[0][0].astimezone(WARSAW).date() == dt.date(2026, 4, 10)
    assert dt.date(2026, 4, 6) in av.public_holidays("PL", 2026)
    assert dt.date(2026, 4, 13) in av.public_holidays("RO", 2026)


def test_weekend_and_no_room():
    lo, hi = at(2026, 6, 6, 0), at(2026, 6, 8, 0)  # Saturday and Sunday
    assert av.find_slots([], H, lo, hi, wt()) == []
    assert av.find_slots([], 9 * H, at(2026, 6, 1, 0), at(2026, 6, 6, 0), wt()) == []


def test_settings_parsing():
    assert av.parse_weekdays("mon-fri") == frozenset(range(5))
    assert av.parse_weekdays("sun-tue") == frozenset({6, 0, 1})
    assert av.parse_weekdays("0,2,4") == frozenset({0, 2, 4})
    for bad in ("17:00-09:00", "nine-five"):
        try:
            av.parse_hours(bad)
        except av.SettingError:
            continue
        raise AssertionError(bad)


def _next_weekday(days=10):
    d = dt.datetime.now(UTC).astimezone(ATHENS).date() + dt.timedelta(days=days)
    while d.weekday() >= 5 or d in av.public_holidays("GR", d.year):
        d += dt.timedelta(days=1)
    return d


def test_api_finds_slot_around_activities_recurrence_and_bookings(api, types, make_user,
                                                                   resource):
    rep = api("sales")
    other = make_user(roles=("sales",))
    room = resource()
    day = _next_weekday()

    def local(h, mi=0):
        return dt.datetime.combine(day, dt.time(h, mi), tzinfo=ATHENS).astimezone(UTC)

    # The rep: busy 09:00-10:00; the colleague (invited): 10:00-11:30; the room booked
    # 12:00-13:00 by a third meeting; a daily recurring 13:00-14:00 of the rep.
    rep.post_json("/api/v1/activities", meeting(types, local(9)), status=201)
    rep.post_json("/api/v1/activities", meeting(
        types, local(10), 90, participants=[{"kind": "user", "id": other}]), status=201)
    api("sales").post_json("/api/v1/activities", meeting(
        types, local(12), participants=[{"kind": "resource", "id": room}]), status=201)
    rep.post_json("/api/v1/activities", meeting(
        types, local(13) - dt.timedelta(days=3), rrule="FREQ=DAILY",
        timezone="Europe/Athens"), status=201)
    # A declined invitation does not block.
    declined = api("sales").post_json("/api/v1/activities", meeting(
        types, local(14), participants=[{"kind": "user", "id": rep.user_id}]), status=201).json
    rep.post_json(f"/api/v1/activities/{declined['id']}/respond", {"response": "declined"})
    res = rep.get("/api/v1/activities/_availability", {
        "users": f"{rep.user_id},{other}", "resources": str(room), "duration": "30",
        "from": day.isoformat(), "to": day.isoformat(), "limit": "3"})
    assert [s["start"] for s in res.json["slots"]] == [iso(local(11, 30)), iso(local(14)),
                                                      iso(local(14, 30))]
    res = rep.get("/api/v1/activities/_availability", {
        "users": f"{rep.user_id},{other}", "resources": str(room), "duration": "60",
        "from": day.isoformat(), "to": day.isoformat(), "limit": "2"})
    assert [s["start"] for s in res.json["slots"]] == [iso(local(14)), iso(local(15))]


def test_api_validates_parameters(api):
    rep = api("sales")
    res = rep.get("/api/v1/activities/_availability", {"duration": "2", "users": "x"},
                  status=400)
    assert {"duration", "users"} <= set(error_fields(res))
    res = rep.get("/api/v1/activities/_availability", {"bogus": "1"}, status=400)
    assert "bogus" in error_fields(res)
    res = rep.get("/api/v1/activities/_availability", {"users": "999999"}, status=400)
    assert "users" in error_fields(res)


def test_page_proposes_and_books_a_slot(client, types, resource):
    app = client("sales")
    room = resource("Sala konferencyjna")
    day = _next_weekday(12)
    page = app.get("/activities/availability", {
        "resources": str(room), "duration": "30", "from": day.isoformat(),
        "to": day.isoformat()})
    assert "Book this" in page.text
    form = book_form(page)
    form["subject"] = "Planning"
    res = form.submit("slot", index=0).follow()
    assert "Planning" in res.text
    again = app.get("/activities/availability", {
        "resources": str(room), "duration": "30", "from": day.isoformat(),
        "to": day.isoformat()})
    first = dt.datetime.combine(day, dt.time(9), tzinfo=ATHENS)
    # The booked 09:00 slot is gone; the first proposal is now 09:30.
    assert book_form(again).fields["slot"][0].value_if_submitted().startswith(
        (first + dt.timedelta(minutes=30)).astimezone(UTC).isoformat()[:16])


def book_form(page):
    return next(f for f in page.forms.values() if f.action.endswith("/activities/book"))


def test_public_holidays_are_those_of_each_users_country(client, make_user, dbsession):
    """A Romanian rep (time zone Europe/Bucharest) is not offered 1 December (Romania's
    national day); a Greek rep is. A Greek colleague's 25 March blocks a joint slot."""
    from sqlalchemy import select

    from kyklos_sdk import User

    ro = client("sales")
    gr = client("sales")
    with dbsession() as db:
        user = db.execute(select(User).where(User.email == ro.email)).scalar_one()
        user.timezone = "Europe/Bucharest"
        gr_id = db.execute(select(User.id).where(User.email == gr.email)).scalar_one()
        ro_id = user.id
    assert av.country_of(None, type("U", (), {"timezone": "Europe/Bucharest"})()) == "RO"
    assert av.country_of(None, type("U", (), {"country": "pl", "timezone": "Europe/Athens"})()) \
        == "PL"
    # 1 December 2027 is a Wednesday.
    q = {"duration": "60", "from": "2027-12-01", "to": "2027-12-01", "limit": "1"}
    assert gr.get("/api/v1/activities/_availability", q).json["slots"]
    assert ro.get("/api/v1/activities/_availability", q).json["slots"] == []
    # 25 March 2027 (Thursday) is a Greek holiday, not a Romanian one: the Romanian rep
    # is free, but not together with the Greek colleague.
    q = {"duration": "60", "from": "2027-03-25", "to": "2027-03-25", "limit": "1"}
    assert ro.get("/api/v1/activities/_availability", q).json["slots"]
    joint = dict(q, users=f"{ro_id},{gr_id}")
    assert ro.get("/api/v1/activities/_availability", joint).json["slots"] == []
