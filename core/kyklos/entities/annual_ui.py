"""The list form's day-of-the-year filter (:mod:`kyklos.entities.annual`): from a day
and a month until a day and a month, each a drop-down (months by name in the user's
language), under the date range of a field whose year may be unknown.

Form keys: ``fad.<field>``/``fam.<field>`` (from day, month) and ``ftd.<field>``/
``ftm.<field>`` (until day, month). A month without a day means its first day (from)
or its last (until); one month alone means that whole month ("birthdays this month").
"""

from __future__ import annotations

from babel.dates import get_month_names

from kyklos.entities import annual
from kyklos.i18n import babel_locale

KEYS = ("fad.", "fam.", "ftd.", "ftm.")
applies = annual.applies


def months(request) -> list[tuple[str, str]]:
    """``[("1", "January"), ...]`` in the user's language (stand-alone month names)."""
    names = get_month_names("wide", context="stand-alone", locale=babel_locale(request))
    return [(str(m), names[m]) for m in range(1, 13)]


def chosen(given: dict) -> tuple[str, str, str, str]:
    """The drop-downs' values for the list's ``annual`` parameter (empty when none or
    when it does not parse: the query parser explains that one)."""
    raw = given.get(annual.OP, "")
    if not raw:
        return ("", "", "", "")
    try:
        first, last = annual.parse(raw)
    except annual.Bad:
        return ("", "", "", "")
    return (str(first % 100), str(first // 100), str(last % 100), str(last // 100))


def params(form) -> list[tuple[str, str]]:
    """``[("<field>__annual", "MM-DD,MM-DD")]`` from the form's drop-downs."""
    names = {k[4:] for k in form if k.startswith(KEYS)}
    out = []
    for name in sorted(names):
        fd, fm, td, tm = (form.get(f"{p}{name}", "").strip() for p in KEYS)
        fm, tm = fm or tm, tm or fm
        if not fm:
            continue  # no month chosen: no filter (a day alone means nothing)
        if not (fm.isdigit() and tm.isdigit() and len(fm) <= 2 and len(tm) <= 2):
            out.append((f"{name}__{annual.OP}", f"{fm[:2]},{tm[:2]}"))  # the parser says why
            continue
        last = annual._LAST.get(int(tm), 31)
        fd, td = fd or "1", td or str(last)
        out.append(
            (
                f"{name}__{annual.OP}",
                f"{int(fm):02d}-{fd[:2].zfill(2)},{int(tm):02d}-{td[:2].zfill(2)}",
            )
        )
    return out
