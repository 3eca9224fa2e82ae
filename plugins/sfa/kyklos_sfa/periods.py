"""Reporting periods: ``2027`` (year), ``2027-H1`` (half, a semester), ``2027-Q3``
(quarter) and ``2027-05`` (month), as inclusive date ranges."""

from __future__ import annotations

import calendar
import datetime as dt
import re

_RE = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?$")


class PeriodError(ValueError):
    pass


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """``(first day, last day)`` of a period; raises :class:`PeriodError`."""
    m = _RE.match(text or "")
    if not m:
        raise PeriodError(text)
    year = int(m.group(1))
    part = m.group(2)
    if not 1900 <= year <= 2999:
        raise PeriodError(text)
    if part is None:
        first, last = 1, 12
    elif part[0] == "H":
        first = 1 if part == "H1" else 7
        last = first + 5
    elif part[0] == "Q":
        first = (int(part[1]) - 1) * 3 + 1
        last = first + 2
    else:
        first = last = int(part)
        if not 1 <= first <= 12:
            raise PeriodError(text)
    end_day = calendar.monthrange(year, last)[1]
    return dt.date(year, first, 1), dt.date(year, last, end_day)


def period_of(day: dt.date, kind: str) -> str:
    """The period of ``kind`` (year, half, quarter, month) containing ``day``."""
    if kind == "year":
        return str(day.year)
    if kind == "half":
        return f"{day.year}-H{1 if day.month <= 6 else 2}"
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def next_period(text: str) -> str:
    """The period of the same kind that follows ``text`` (2027-H1 -> 2027-H2)."""
    start, end = parse_period(text)
    kind = "year" if len(text) == 4 else {"H": "half", "Q": "quarter"}.get(text[5], "month")
    return period_of(end + dt.timedelta(days=1), kind)


def months_between(start: dt.date, end: dt.date) -> list[str]:
    """``YYYY-MM`` of every month from ``start``'s to ``end``'s, inclusive."""
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
