"""Filters by day of the year ("birthdays between 1 and 15 December", "birthdays this
month"), for date fields whose year may be unknown (``FieldInfo.year_optional``).

Such a field stores ``--MM-DD`` as a date in :data:`values.NO_YEAR`, so a plain date
range can never match a year-less value. The ``annual`` operator compares the month and
day only, on both databases, and so matches year-known and year-less dates alike::

    birth_date__annual=12-01,12-15     1 to 15 December, any year
    birth_date__annual=12-20,01-10     20 December to 10 January (across the year end)
    birth_date__annual=12              the whole of December ("this month")

Each day may also be written ``--MM-DD`` (ISO 8601:2000, vCard). 29 February is a day
like any other: a range that includes it matches the year-less 29 February too.
"""

from __future__ import annotations

import calendar
import re

from sqlalchemy import and_, extract, or_

from kyklos.i18n import _

OP = "annual"
_DAY = re.compile(r"(?:--)?(\d{2})-?(\d{2})")
_MONTH = re.compile(r"\d{1,2}")
#: the days of each month in a leap year (29 February is a birthday too)
_LAST = {m: calendar.monthrange(2000, m)[1] for m in range(1, 13)}


class Bad(ValueError):
    pass


def applies(f) -> bool:
    """Whether field ``f`` offers the operator: a stored date whose year may be
    unknown (a custom field's mirror holds text, so it is not one of them)."""
    return f.type == "date" and bool(getattr(f, "year_optional", False)) and not f.custom


def month_day(month: int, day: int) -> int:
    return month * 100 + day


def _one(text: str) -> int:
    m = _DAY.fullmatch(text.strip())
    if m is None:
        raise Bad(_("Give a day and a month (MM-DD)."))
    month, day = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= _LAST[month]:
        raise Bad(_("No such day in the year."))
    return month_day(month, day)


def parse(text: str) -> tuple[int, int]:
    """``(first, last)`` as ``MMDD`` numbers; raises :class:`Bad` with the reason."""
    text = text.strip()
    if _MONTH.fullmatch(text):
        month = int(text)
        if not 1 <= month <= 12:
            raise Bad(_("No such month."))
        return month_day(month, 1), month_day(month, _LAST[month])
    parts = text.split(",")
    if len(parts) != 2:
        raise Bad(_("Give two days (MM-DD) separated by a comma, or a month (1-12)."))
    return _one(parts[0]), _one(parts[1])


def text_of(value: tuple[int, int]) -> str:
    """The canonical query value of a parsed range (``12-01,12-15``)."""
    first, last = value
    return f"{first // 100:02d}-{first % 100:02d},{last // 100:02d}-{last % 100:02d}"


def condition(expr, value: tuple[int, int], md=None):
    """Month and day of ``expr`` within the range; a range whose first day comes after
    its last runs across the year end. ``md`` is the field's indexed ``month * 100 +
    day`` column when its model keeps one (``FieldInfo.day_of_year``)."""
    if md is None:
        # extract() is STRFTIME on SQLite and EXTRACT on PostgreSQL: the same number
        md = extract("month", expr) * 100 + extract("day", expr)
    first, last = value
    if first <= last:
        return and_(expr.is_not(None), md >= first, md <= last)
    return and_(expr.is_not(None), or_(md >= first, md <= last))
