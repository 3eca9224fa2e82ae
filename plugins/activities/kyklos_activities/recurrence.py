"""Recurring activities: RFC 5545 RRULE values checked with dateutil and expanded on read.

Occurrences repeat at the activity's wall-clock time in its own time zone, so a weekly
10:00 meeting in Athens stays at 10:00 across the change to and from summer time; they
are converted to UTC only when they leave this module.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as du

#: frequencies we expand; finer ones could produce millions of occurrences a year
FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
MAX_LENGTH = 500
#: most occurrences expanded for one activity in one call
MAX_OCCURRENCES = 2000
#: a finite rule with more occurrences than this is treated as endless for ``span_end``
SPAN_LIMIT = 5000
_PART_RE = re.compile(r"^[A-Z]+=[A-Z0-9,+\-:]+$")
_UNTIL_RE = re.compile(r"UNTIL=(\d{8})(T(\d{6})(Z?))?")
ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS",
     "BYWEEKNO", "BYYEARDAY", "WKST", "BYHOUR", "BYMINUTE"}
)


class RecurrenceError(ValueError):
    """The rule cannot be used; the message says why (English; callers translate)."""


def zone(name: str | None, default: str = "UTC") -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def normalise(rule: str, tz: ZoneInfo) -> str:
    """The rule in canonical form: no ``RRULE:`` prefix, upper case, only allow-listed
    parts, and UNTIL in UTC (a floating UNTIL is taken in ``tz``)."""
    if not isinstance(rule, str):
        raise RecurrenceError("not a string")
    text = rule.strip().upper()
    if text.startswith("RRULE:"):
        text = text[6:]
    if not text or len(text) > MAX_LENGTH or "\n" in text or "\r" in text:
        raise RecurrenceError("empty or too long")
    parts = [p for p in text.split(";") if p]
    keys = []
    for p in parts:
        if not _PART_RE.match(p):
            raise RecurrenceError(f"bad part {p[:40]}")
        key = p.split("=", 1)[0]
        if key not in ALLOWED_PARTS or key in keys:
            raise RecurrenceError(f"part {key} is not allowed here")
        keys.append(key)
    freq = dict(p.split("=", 1) for p in parts).get("FREQ")
    if freq not in FREQS:
        raise RecurrenceError("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
    if "COUNT" in keys and "UNTIL" in keys:
        raise RecurrenceError("COUNT and UNTIL exclude each other")
    text = ";".join(parts)

    def until_utc(m):
        day, _t, hms, z = m.groups()
        if z:
            return m.group(0)
        local = dt.datetime.strptime(day + (hms or "235959"), "%Y%m%d%H%M%S").replace(tzinfo=tz)
        return "UNTIL=" + local.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    return _UNTIL_RE.sub(until_utc, text)


def build(rule: str, start_utc: dt.datetime, tz: ZoneInfo) -> du.rrule:
    """The dateutil rule for an activity starting at ``start_utc`` (aware)."""
    local = start_utc.astimezone(tz)
    try:
        return du.rrulestr(rule, dtstart=local, cache=False)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError(str(exc)) from None


def check(rule: str, start_utc: dt.datetime, tz: ZoneInfo) -> str:
    """Normalise and parse ``rule``; raises :class:`RecurrenceError`."""
    text = normalise(rule, tz)
    r = build(text, start_utc, tz)
    try:
        first = next(iter(r), None)
    except (ValueError, OverflowError) as exc:
        raise RecurrenceError(str(exc)) from None
    if first is None:
        raise RecurrenceError("the rule has no occurrence")
    return text


def _exclusions(exdates) -> set[dt.datetime]:
    out = set()
    for v in exdates or ():
        try:
            d = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        except ValueError:
            continue
        if d.tzinfo is not None:
            out.add(d.astimezone(dt.UTC))
    return out


def extra_starts(rdates) -> list[dt.datetime]:
    """The RDATE starts (aware UTC), sorted, without duplicates."""
    return sorted(_exclusions(rdates))


def occurrences(
    start_utc: dt.datetime,
    end_utc: dt.datetime | None,
    rule: str | None,
    tz_name: str | None,
    exdates,
    range_start: dt.datetime,
    range_end: dt.datetime,
    limit: int = MAX_OCCURRENCES,
    rdates=(),
) -> list[tuple[dt.datetime, dt.datetime]]:
    """``(start, end)`` in UTC of each occurrence overlapping ``[range_start,
    range_end)``: the rule's (or the start alone), and the extra ``rdates`` (RFC 5545
    RDATE, same duration), less ``exdates``. A point in time (no end) counts when it
    lies inside the range."""
    duration = (end_utc - start_utc) if end_utc else dt.timedelta(0)

    def overlaps(s, e):
        if e > s:
            return s < range_end and e > range_start
        return range_start <= s < range_end

    extra = extra_starts(rdates)
    if extra:
        base = occurrences(start_utc, end_utc, rule, tz_name, exdates, range_start, range_end,
                           limit)
        skip = _exclusions(exdates)
        seen = {s for s, _e in base}
        for s in extra:
            if s not in seen and s not in skip and overlaps(s, s + duration):
                seen.add(s)
                base.append((s, s + duration))
        return sorted(base)[:limit]
    if not rule:
        return [(start_utc, start_utc + duration)] if overlaps(start_utc, start_utc + duration) \
            else []
    tz = zone(tz_name)
    r = build(rule, start_utc, tz)
    skip = _exclusions(exdates)
    # Occurrences that start before the range may still run into it.
    lo = (range_start - duration).astimezone(tz) - dt.timedelta(seconds=1)
    hi = range_end.astimezone(tz)
    out = []
    for occ in r.xafter(lo, count=None, inc=False):
        if occ > hi:
            break
        s = _resolve(occ, tz)
        if s in skip:
            continue
        if overlaps(s, s + duration):
            out.append((s, s + duration))
            if len(out) >= limit:
                break
    return out


def _resolve(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A wall-clock time in ``tz`` as UTC. A time the spring change skips resolves with
    the earlier offset (PEP 495 ``fold=0``): it moves forward by the gap, as calendar
    clients do; an ambiguous autumn time takes its first occurrence."""
    return local.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)


def last_end(
    start_utc: dt.datetime, end_utc: dt.datetime | None, rule: str | None, tz_name, exdates,
    rdates=(),
) -> dt.datetime | None:
    """The end of the last occurrence (the extra ``rdates`` included), or ``None`` when
    the rule never ends (or has more than :data:`SPAN_LIMIT` occurrences)."""
    duration = (end_utc - start_utc) if end_utc else dt.timedelta(0)
    skip = _exclusions(exdates)
    extra = [s for s in extra_starts(rdates) if s not in skip]
    if extra:
        last = last_end(start_utc, end_utc, rule, tz_name, exdates)
        return None if last is None else max(last, extra[-1] + duration)
    if not rule:
        return start_utc + duration
    tz = zone(tz_name)
    r = build(rule, start_utc, tz)
    if r._count is None and r._until is None:
        return None
    skip = _exclusions(exdates)
    last = None
    for n, occ in enumerate(r):
        if n >= SPAN_LIMIT:
            return None
        s = _resolve(occ, tz)
        if s not in skip:
            last = s
    return (last + duration) if last else start_utc + duration
