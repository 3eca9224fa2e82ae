"""Occasions of the people in the database: birthdays, anniversaries, name days (D8).

The database narrows the candidates with indexed columns (``birth_md``,
``anniversary_md``, ``name_day_key``); the domain engine then decides exactly, with
each person's own calendar and the movable feasts of that year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from kyklos_sdk import field_access, get_entity_type

from .domain.occasions import CALENDARS, Occasion, occasions_between
from .models import Person
from .namedays import keys_between

#: longest window one request may ask for (a year and a day: every occasion once)
MAX_DAYS = 366
#: the field each kind of occasion is read from: a birthday tells the birth date (its
#: "years" the age), so it is shown only to whom may read that field
SOURCES = {"birthday": "birth_date", "anniversary": "anniversary_date", "name_day": "first_name"}


def readable_kinds(request, kinds=tuple(SOURCES)) -> tuple[str, ...]:
    """The ``kinds`` whose source field the user may read (the core's field rules)."""
    readable, _w = field_access(request, get_entity_type(request, "person"))
    return tuple(k for k in kinds if SOURCES[k] in readable)


@dataclass
class Found:
    occasion: Occasion
    person: Person


@dataclass
class Page:
    """One page of occasions: ``items`` (with their people loaded) and the ``total``."""

    items: list[Found]
    total: int


_COLUMNS = (Person.id, Person.first_name, Person.birth_date, Person.anniversary_date,
            Person.name_day_calendar, Person.country)


def _md(day: dt.date) -> int:
    return day.month * 100 + day.day


def _md_clause(column, start: dt.date, end: dt.date):
    """``column`` (month*100+day) falls on a day from ``start`` to ``end``."""
    if (end - start).days >= 365:
        return column.is_not(None)
    a, b = _md(start), _md(end)
    if start.year == end.year:
        clause = column.between(a, b)
    else:
        clause = or_(column >= a, column <= b)
    # 29 February is celebrated on 28 February in common years.
    feb28 = [
        dt.date(y, 2, 28)
        for y in range(start.year, end.year + 1)
        if start <= dt.date(y, 2, 28) <= end and not _leap(y)
    ]
    if feb28:
        clause = or_(clause, column == 229)
    return clause


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def find_occasions(
    db,
    start: dt.date,
    end: dt.date,
    calendars=CALENDARS,
    base=None,
    kinds=("birthday", "anniversary", "name_day"),
    limit: int = 200,
    offset: int = 0,
) -> Page:
    """Occasions from ``start`` to ``end`` (inclusive) of the people ``base`` selects
    (a ``select(Person)`` already narrowed to what the user may read), sorted by date;
    the people of the ``limit`` shown are loaded, the rest only counted."""
    if end < start:
        return Page([], 0)
    end = min(end, start + dt.timedelta(days=MAX_DAYS - 1))
    stmt = base if base is not None else select(Person).where(Person.deleted_at.is_(None))
    clauses = []
    if "birthday" in kinds:
        clauses.append(_md_clause(Person.birth_md, start, end))
    if "anniversary" in kinds:
        clauses.append(_md_clause(Person.anniversary_md, start, end))
    if "name_day" in kinds and calendars:
        keys = keys_between(start, end, calendars)
        if keys:
            clauses.append(and_(Person.name_day_key.in_(sorted(keys))))
    if not clauses:
        return Page([], 0)
    # Only the columns the engine needs: a popular name day is thousands of people.
    rows = db.execute(stmt.where(or_(*clauses)).with_only_columns(*_COLUMNS)).mappings().all()
    found = [o for o in occasions_between(rows, start, end, tuple(calendars))
             if o.kind in kinds]
    shown = found[offset:offset + limit]
    ids = {o.person_id for o in shown}
    people = {}
    if ids:
        people = {p.id: p for p in db.execute(
            select(Person).where(Person.id.in_(ids))).scalars()}
    return Page([Found(o, people[o.person_id]) for o in shown if o.person_id in people],
                len(found))


def upcoming_for(person, today: dt.date, days: int = 60, calendars=CALENDARS,
                 kinds=tuple(SOURCES)):
    """The person's own occasions of ``kinds`` in the next ``days`` days."""
    found = occasions_between([person], today, today + dt.timedelta(days=days),
                              tuple(calendars))
    return [o for o in found if o.kind in kinds]
