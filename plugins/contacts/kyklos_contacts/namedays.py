"""Name-day keys for database look-ups, built from the public name-day tables."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from .domain import namedays_data as data
from .domain.occasions import CALENDARS, names_on
from .domain.translit import fold


@lru_cache(maxsize=1)
def known_name_keys() -> frozenset[str]:
    """Every folded name that has a name day in some calendar (aliases included)."""
    keys = {fold(n) for table in (data.GREEK, data.ROMANIAN) for _r, _l, names in table
            for n in names}
    keys.update(fold(n) for n in data.POLISH)
    keys.update(fold(a) for aliases in data.GREEK_LATIN_ALIASES.values() for a in aliases)
    return frozenset(keys)


@lru_cache(maxsize=1024)
def keys_on(day: dt.date, calendar: str) -> frozenset[str]:
    """Folded names (with their Latin aliases) celebrating on ``day`` in ``calendar``."""
    keys = set()
    for name in names_on(day, calendar):
        keys.add(fold(name))
        if calendar == "el":
            keys.update(fold(a) for a in data.GREEK_LATIN_ALIASES.get(name, ()))
    return frozenset(keys)


def keys_between(start: dt.date, end: dt.date, calendars=CALENDARS) -> set[str]:
    out: set[str] = set()
    day = start
    while day <= end:
        for cal in calendars:
            out |= keys_on(day, cal)
        day += dt.timedelta(days=1)
    return out
