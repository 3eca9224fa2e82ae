"""Business hours per weekday (SLA): a business-hours record's ``week`` is a list of
spans ``{"day": "sat", "opens": "09:00", "closes": "13:00"}`` (a day without a span is
closed; a day may have two spans, e.g. a lunch break), edited as rows of a weekday
drop-down and two time inputs, shown as "Monday 09:00–17:00", and counted by the SLA
clock with the country's public holidays off."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kyklos_activities.availability import public_holidays
from markupsafe import Markup, escape

from kyklos_sdk import RowColumn, rows_input

from . import _

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_WORDS = (
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
    ("sat", _("Saturday")),
    ("sun", _("Sunday")),
)
#: a new record's week: Monday to Friday 9 to 5
DEFAULT_WEEK = [{"day": d, "opens": "09:00", "closes": "17:00"} for d in DAYS[:5]]

WEEK_INPUT = rows_input(
    [
        RowColumn("day", _("Day"), "select", DAY_WORDS),
        RowColumn("opens", _("Opens"), "time", required=True),
        RowColumn("closes", _("Closes"), "time", required=True),
    ],
    blank_rows=2,
)


def _time(text) -> dt.time | None:
    """ "HH:MM" (a time input sends "HH:MM" or "HH:MM:SS"); "24:00" the day's end."""
    if not isinstance(text, str):
        return None
    if text.strip() in ("24:00", "24:00:00"):
        return dt.time.max
    try:
        return dt.time.fromisoformat(text.strip())
    except ValueError:
        return None


def _hhmm(value: dt.time) -> str:
    return "24:00" if value == dt.time.max else value.strftime("%H:%M")


def clean_week(value) -> tuple[list[dict] | None, object | None]:
    """``(spans sorted by day and time, None)`` or ``(None, error message)``."""
    if not isinstance(value, list):
        return None, _("Give the working hours as a list of days with their times.")
    spans = []
    for row in value:
        if not isinstance(row, dict) or row.get("day") not in DAYS:
            return None, _("Choose a day of the week for each row.")
        opens, closes = _time(row.get("opens")), _time(row.get("closes"))
        if opens is None or closes is None:
            return None, _("Give each day's opening and closing time.")
        if closes <= opens:
            return None, _("Closing time must be after opening time.")
        spans.append((DAYS.index(row["day"]), opens, closes))
    if not spans:
        return None, _("Choose at least one working day.")
    spans.sort()
    for (d1, _o1, c1), (d2, o2, _c2) in zip(spans, spans[1:], strict=False):
        if d1 == d2 and o2 < c1:
            return None, _("The times of one day overlap.")
    return [{"day": DAYS[d], "opens": _hhmm(o), "closes": _hhmm(c)} for d, o, c in spans], None


def validate_week(record, data, errors) -> None:
    """The ``week`` of a new record defaults to Monday to Friday 9 to 5; a given one is
    checked and stored sorted, with times as "HH:MM"."""
    if "week" not in data:
        if record is None:
            data["week"] = [dict(s) for s in DEFAULT_WEEK]
        return
    week, error = clean_week(data["week"])
    if error is not None:
        errors["week"] = error
    else:
        data["week"] = week


def render_week(request, field, value) -> Markup:
    """ "Monday 09:00–17:00", one line per span; closed days are left out."""
    words = dict(DAY_WORDS)
    week, _error = clean_week(value)
    lines = [
        Markup('<span class="text-nowrap">{} {}–{}</span>').format(
            request.localizer.translate(words[s["day"]]), s["opens"], s["closes"]
        )
        for s in week or ()
    ]
    return Markup("<br>").join(lines) if lines else escape("")


# --- the SLA clock ---------------------------------------------------------------------


@dataclass(frozen=True)
class WeekClock:
    """Working spans per weekday (0 = Monday) in a time zone, with the public holidays
    of ``country`` off."""

    spans: tuple[tuple[tuple[dt.time, dt.time], ...], ...]
    country: str | None
    tz: ZoneInfo

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self.spans[day.weekday()]) and day not in public_holidays(
            self.country, day.year
        )


def week_clock(hours) -> WeekClock:
    try:
        tz = ZoneInfo(hours.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    week, _error = clean_week(hours.week or [])
    per_day: list[list] = [[] for _d in DAYS]
    for s in week or ():
        per_day[DAYS.index(s["day"])].append((_time(s["opens"]), _time(s["closes"])))
    return WeekClock(tuple(tuple(d) for d in per_day), hours.country or None, tz)


def _utc(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)


def week_intervals(clock: WeekClock, start: dt.datetime, end: dt.datetime) -> list:
    """Working intervals (UTC) within ``[start, end)``."""
    out = []
    day = start.astimezone(clock.tz).date()
    last = end.astimezone(clock.tz).date()
    while day <= last:
        if clock.is_working_day(day):
            for opens, closes in clock.spans[day.weekday()]:
                s = max(_utc(day, opens, clock.tz), start)
                e = min(_utc(day, closes, clock.tz), end)
                if e > s:
                    out.append((s, e))
        day += dt.timedelta(days=1)
    return out


def includeme(config):
    config.add_input_kind("businessweek", WEEK_INPUT)
    config.add_display_kind("businessweek", render_week)
