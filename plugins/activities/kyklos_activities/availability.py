"""The availability finder (ACT-07, D9): the earliest slots in which every person and
resource asked for is free, within working hours, on working days that are not public
holidays of the company's country.

Pure interval arithmetic on sorted lists: working intervals are built per local day
(wall-clock hours converted to UTC day by day, so a change to summer time moves them
correctly), busy intervals of everyone are merged in one sort-and-sweep pass and cut
out, and slots are taken from what remains. Cost is O(n log n) in the busy intervals.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays as holidays_lib

Interval = tuple[dt.datetime, dt.datetime]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_WINDOW = dt.timedelta(days=366)


class SettingError(ValueError):
    pass


@dataclass(frozen=True)
class WorkingTime:
    """Working hours and days in a time zone, and the country whose holidays are off."""

    start: dt.time
    end: dt.time
    weekdays: frozenset[int]
    country: str | None
    tz: ZoneInfo

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and day not in public_holidays(
            self.country, day.year
        )


def parse_hours(text: str) -> tuple[dt.time, dt.time]:
    """``"09:00-17:00"`` -> (09:00, 17:00)."""
    try:
        a, b = (p.strip() for p in str(text).split("-"))
        start, end = dt.time.fromisoformat(a), dt.time.fromisoformat(b)
    except ValueError:
        raise SettingError(f"working hours {text!r}: use HH:MM-HH:MM") from None
    if end <= start:
        raise SettingError(f"working hours {text!r}: the end is not after the start")
    return start, end


def parse_weekdays(text: str) -> frozenset[int]:
    """``"mon-fri"``, ``"mon,tue,thu"`` or ``"0-4"`` -> weekday numbers (Monday 0)."""
    out: set[int] = set()

    def day(token: str) -> int:
        token = token.strip().lower()[:3]
        if token.isdigit() and 0 <= int(token) <= 6:
            return int(token)
        if token in DAYS:
            return DAYS.index(token)
        raise SettingError(f"working days {text!r}: unknown day {token!r}")

    for part in str(text).split(","):
        if not part.strip():
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            lo, hi = day(a), day(b)
            out.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(0, hi + 1)])
        else:
            out.add(day(part))
    if not out:
        raise SettingError("no working days")
    return frozenset(out)


@functools.lru_cache(maxsize=64)
def public_holidays(country: str | None, year: int) -> frozenset[dt.date]:
    """Public holidays of ``country`` (ISO 3166 code) in ``year``; Orthodox Easter for
    GR and RO, Catholic for PL, as the ``holidays`` package computes them."""
    if not country:
        return frozenset()
    try:
        return frozenset(holidays_lib.country_holidays(country.upper(), years=year).keys())
    except NotImplementedError:
        return frozenset()


def working_time(settings: dict, tz: ZoneInfo, country: str | None = None) -> WorkingTime:
    """Working hours and days from the settings; ``country`` (a user's, see
    :func:`country_of`) whose holidays are days off, else the deployment's."""
    start, end = parse_hours(settings.get("kyklos.activities.working_hours") or "09:00-17:00")
    days = parse_weekdays(settings.get("kyklos.activities.working_days") or "mon-fri")
    if not country:
        country = (settings.get("kyklos.activities.country") or "").strip().upper() or None
    return WorkingTime(start, end, days, country, tz)


def zone_country(zone: str | None) -> str | None:
    """The country of an IANA time zone (``Europe/Bucharest`` -> ``RO``), from CLDR."""
    if not zone:
        return None
    from babel.core import get_global

    return get_global("zone_territories").get(zone)


def country_of(request, user) -> str | None:
    """Whose public holidays are a user's days off: the user's own country when the user
    model has one, else their time zone's country, else the deployment's default (the
    site setting ``country.default``, else the plugin's ``country`` setting)."""
    own = (getattr(user, "country", None) or "").strip().upper() if user is not None else ""
    if len(own) == 2:
        return own
    by_zone = zone_country(getattr(user, "timezone", None)) if user is not None else None
    if by_zone:
        return by_zone
    from kyklos_sdk import site_setting

    default = (site_setting(request, "country.default") or "").strip().upper()
    if len(default) == 2:
        return default
    return (request.registry.settings.get("kyklos.activities.country") or "").strip().upper() \
        or None


def holiday_busy(country: str | None, tz: ZoneInfo, start: dt.datetime,
                 end: dt.datetime) -> list[Interval]:
    """The public holidays of ``country`` within ``[start, end)`` as busy whole local
    days: a colleague abroad is not offered on their holiday."""
    out = []
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if day in public_holidays(country, day.year):
            after = day + dt.timedelta(days=1)
            out.append((_utc(day, dt.time(0), tz), _utc(after, dt.time(0), tz)))
        day += dt.timedelta(days=1)
    return out


def _utc(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)


def working_intervals(wt: WorkingTime, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """Working intervals (UTC) within ``[start, end)``."""
    out = []
    day = start.astimezone(wt.tz).date()
    last = end.astimezone(wt.tz).date()
    while day <= last:
        if wt.is_working_day(day):
            s = max(_utc(day, wt.start, wt.tz), start)
            e = min(_utc(day, wt.end, wt.tz), end)
            if e > s:
                out.append((s, e))
        day += dt.timedelta(days=1)
    return out


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of the intervals (touching ones joined)."""
    out: list[list] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def subtract(free: list[Interval], busy: list[Interval]) -> list[Interval]:
    """``free`` minus ``busy``; both sorted and non-overlapping (one sweep)."""
    out = []
    j = 0
    for s, e in free:
        cur = s
        while j < len(busy) and busy[j][1] <= cur:
            j += 1
        k = j
        while k < len(busy) and busy[k][0] < e:
            bs, be = busy[k]
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
            if cur >= e:
                break
            k += 1
        if cur < e:
            out.append((cur, e))
    return out


def _ceil(value: dt.datetime, step: dt.timedelta) -> dt.datetime:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    n = -((epoch - value) // step)  # ceiling division
    return epoch + n * step


def find_slots(
    busy: Iterable[Iterable[Interval]],
    duration: dt.timedelta,
    start: dt.datetime,
    end: dt.datetime,
    wt: WorkingTime,
    limit: int = 5,
    step: dt.timedelta = dt.timedelta(minutes=15),
) -> list[Interval]:
    """The earliest ``limit`` slots of ``duration`` in ``[start, end)`` free for every
    party (``busy`` is one list of intervals per party). Slots start on ``step``
    boundaries and do not overlap one another."""
    if duration <= dt.timedelta(0) or end <= start:
        return []
    all_busy = merge(i for party in busy for i in party)
    free = subtract(working_intervals(wt, start, end), all_busy)
    stride = -(-duration // step) * step  # the duration rounded up to whole steps
    out = []
    for s, e in free:
        t = _ceil(s, step)
        while t + duration <= e:
            out.append((t, t + duration))
            if len(out) >= limit:
                return out
            t += stride
    return out
