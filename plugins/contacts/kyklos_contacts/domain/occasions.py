"""Occasions engine: birthdays, anniversaries and name days.

Name days come from :mod:`.namedays_data` for three calendars:

``el``  Greek Orthodox (Greece, Cyprus) - Orthodox Easter
``ro``  Romanian Orthodox (Romania, Moldova) - Orthodox Easter
``pl``  Polish Catholic imieniny - all fixed dates (Western Easter would apply)

Names are looked up by their :func:`.translit.fold` key, so "Γιώργος", "ΓΙΩΡΓΟΣ",
"Giorgos" and "Yorgos" find the same feast, and so do "Ștefan"/"Stefan" or
"Wojciech"/"WOJCIECH".

Dates without a known year (vCard ``--0203``, Apple's 1604 placeholder) are stored with
the year :data:`NO_YEAR`; their occasions have ``years=None``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dateutil.easter import EASTER_ORTHODOX, EASTER_WESTERN, easter

from . import namedays_data as data
from .translit import fold

__all__ = [
    "CALENDARS",
    "COUNTRY_CALENDARS",
    "NO_YEAR",
    "Occasion",
    "calendar_for_country",
    "catholic_easter",
    "name_days",
    "names_on",
    "occasion_date",
    "occasions_between",
    "orthodox_easter",
]

Date = datetime.date

#: Year used for "day and month known, year unknown" (Apple's convention: a leap year,
#: so 29 February survives).
NO_YEAR = 1604

CALENDARS = ("el", "ro", "pl")

#: Default name-day calendar for a contact's country (ISO 3166-1 alpha-2).
COUNTRY_CALENDARS = {"GR": "el", "CY": "el", "RO": "ro", "MD": "ro", "PL": "pl"}

_EASTER_METHOD = {"el": EASTER_ORTHODOX, "ro": EASTER_ORTHODOX, "pl": EASTER_WESTERN}

KINDS = ("birthday", "anniversary", "name_day")
LABELS = {"birthday": "Birthday", "anniversary": "Anniversary", "name_day": "Name day"}


def orthodox_easter(year: int) -> Date:
    """Orthodox Easter Sunday (Julian computus) as a Gregorian date."""
    return easter(year, EASTER_ORTHODOX)


def catholic_easter(year: int) -> Date:
    """Western (Catholic / Protestant) Easter Sunday."""
    return easter(year, EASTER_WESTERN)


def calendar_for_country(country: str | None) -> str | None:
    """The name-day calendar of a country code ("GR" -> "el"), or ``None``."""
    if not country:
        return None
    cc = country.strip().upper()
    return COUNTRY_CALENDARS.get("GR" if cc == "EL" else cc)


def _check_calendar(calendar: str) -> str:
    if calendar not in CALENDARS:
        raise ValueError(f"unknown name-day calendar {calendar!r}; use one of {CALENDARS}")
    return calendar


@lru_cache(maxsize=256)
def _easter(calendar: str, year: int) -> Date:
    return easter(year, _EASTER_METHOD[calendar])


def _resolve(rule: tuple, calendar: str, year: int) -> Date | None:
    """The date a feast rule gives in *year* (None if the fixed day does not exist)."""
    kind = rule[0]
    if kind == "easter":
        return _easter(calendar, year) + datetime.timedelta(days=rule[1])
    _, month, day, *move = rule
    try:
        day_ = Date(year, month, day)
    except ValueError:  # 29 February in a common year
        return None
    if kind == "moved":
        lo, hi, to = move
        e = _easter(calendar, year)
        first = Date.min if lo is None else e + datetime.timedelta(days=lo)
        if first <= day_ <= e + datetime.timedelta(days=hi):
            return e + datetime.timedelta(days=to)
    return day_


@lru_cache(maxsize=8)
def _feasts(calendar: str) -> tuple[tuple[tuple, str, tuple[str, ...]], ...]:
    """All (rule, label, names) of a calendar; Polish is turned into fixed feasts."""
    if calendar == "el":
        return data.GREEK
    if calendar == "ro":
        return data.ROMANIAN
    by_day: dict[tuple[int, int], list[str]] = {}
    for name, days in data.POLISH.items():
        for month_day in days:
            by_day.setdefault(month_day, []).append(name)
    return tuple(
        (data.fixed(m, d), "Imieniny", tuple(sorted(names)))
        for (m, d), names in sorted(by_day.items())
    )


@lru_cache(maxsize=8)
def _index(calendar: str) -> dict[str, tuple[int, ...]]:
    """fold(name) -> indexes into _feasts(calendar)."""
    index: dict[str, list[int]] = {}
    for i, (_rule, _label, names) in enumerate(_feasts(calendar)):
        for name in names:
            index.setdefault(fold(name), []).append(i)
    if calendar == "el":
        for canonical, aliases in data.GREEK_LATIN_ALIASES.items():
            for alias in aliases:
                for i in index.get(fold(canonical), ()):
                    index.setdefault(fold(alias), []).append(i)
    return {key: tuple(dict.fromkeys(ids)) for key, ids in index.items()}


@lru_cache(maxsize=8192)  # first names repeat: folding each one once matters at scale
def _feast_ids(first_name: str, calendar: str) -> tuple[int, ...]:
    """Feasts of a first name: the whole name first, else its first word."""
    key = fold(first_name)
    index = _index(calendar)
    if key in index:
        return index[key]
    words = key.split()
    if len(words) > 1:
        return index.get(words[0], ())
    return ()


def name_days(first_name: str, year: int, calendar: str) -> list[Date]:
    """Dates in *year* on which someone called *first_name* celebrates, sorted.

    Empty when the name is unknown.  Compound names ("Anna Maria", "Jan-Paweł") fall
    back to their first word when the whole name has no entry.
    """
    _check_calendar(calendar)
    dates = {
        resolved
        for i in _feast_ids(first_name, calendar)
        if (resolved := _resolve(_feasts(calendar)[i][0], calendar, year)) is not None
    }
    return sorted(dates)


@lru_cache(maxsize=64)
def _year_table(calendar: str, year: int) -> dict[Date, tuple[str, ...]]:
    table: dict[Date, list[str]] = {}
    for rule, _label, names in _feasts(calendar):
        resolved = _resolve(rule, calendar, year)
        if resolved is not None:
            bucket = table.setdefault(resolved, [])
            bucket.extend(n for n in names if n not in bucket)
    return {day: tuple(names) for day, names in table.items()}


def names_on(day: Date, calendar: str) -> list[str]:
    """Display names celebrating on *day* in *calendar* (movable feasts included)."""
    _check_calendar(calendar)
    return list(_year_table(calendar, day.year).get(day, ()))


def occasion_date(original: Date, year: int) -> Date:
    """The anniversary of *original* in *year*; 29 February becomes 28 February in
    common years (the day most people celebrate on)."""
    try:
        return original.replace(year=year)
    except ValueError:
        return Date(year, 2, 28)


@dataclass(frozen=True)
class Occasion:
    """One occasion of one person.

    ``kind`` is "birthday", "anniversary" or "name_day"; ``label`` a short English text
    (the plugin translates by ``kind``); ``years`` the age reached / anniversary number,
    ``None`` for name days and for dates whose year is unknown.
    """

    person_id: Any
    date: Date
    kind: str
    label: str
    years: int | None = None


def _get(person: Any, name: str) -> Any:
    if isinstance(person, Mapping):
        return person.get(name)
    return getattr(person, name, None)


def _as_date(value: Any) -> Date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, Date):
        return value
    return None


def _person_calendar(person: Any, allowed: tuple[str, ...] | None) -> str | None:
    calendar = _get(person, "name_day_calendar")
    if not calendar:
        country = _get(person, "country") or _get(person, "country_code")
        calendar = calendar_for_country(country)
    if not calendar and allowed:
        calendar = allowed[0]  # the tenant's default calendar
    if calendar not in CALENDARS or (allowed is not None and calendar not in allowed):
        return None
    return calendar


def _anniversaries(person_id: Any, original: Date | None, kind: str, start: Date,
                   end: Date) -> Iterable[Occasion]:
    if original is None:
        return
    for year in range(start.year, end.year + 1):
        day = occasion_date(original, year)
        if not start <= day <= end:
            continue
        if original.year == NO_YEAR:
            years = None
        else:
            years = year - original.year
            if years <= 0:  # the event itself, or before it happened
                continue
        yield Occasion(person_id, day, kind, LABELS[kind], years)


def occasions_between(people: Iterable[Any], start: Date, end: Date,
                      calendars: Iterable[str] | str | None = None) -> list[Occasion]:
    """All occasions of *people* from *start* to *end* (both inclusive), sorted by date.

    *people* are mappings or objects with ``id``, ``first_name`` and optionally
    ``birth_date``, ``anniversary_date``, ``name_day_calendar`` and ``country`` (or
    ``country_code``).  A person's name-day calendar is ``name_day_calendar``, else the
    calendar of their country (:data:`COUNTRY_CALENDARS`).

    *calendars* are the name-day calendars the caller cares about (e.g. the tenant's):
    people whose calendar is not among them get no name days, and the first one is the
    fallback for people with neither a calendar nor a known country.  ``None`` allows
    every calendar and has no fallback.

    Windows may span a new year (``2024-12-20 .. 2025-01-10``).
    """
    if end < start:
        return []
    if isinstance(calendars, str):
        calendars = (calendars,)
    allowed = None if calendars is None else tuple(_check_calendar(c) for c in calendars)
    result: list[Occasion] = []
    for person in people:
        person_id = _get(person, "id")
        result.extend(_anniversaries(person_id, _as_date(_get(person, "birth_date")),
                                     "birthday", start, end))
        result.extend(_anniversaries(person_id, _as_date(_get(person, "anniversary_date")),
                                     "anniversary", start, end))
        first_name = _get(person, "first_name")
        calendar = _person_calendar(person, allowed) if first_name else None
        if calendar is None:
            continue
        for year in range(start.year, end.year + 1):
            for day in name_days(first_name, year, calendar):
                if start <= day <= end:
                    result.append(Occasion(person_id, day, "name_day", LABELS["name_day"]))
    result.sort(key=lambda o: (o.date, KINDS.index(o.kind), str(o.person_id)))
    return result
