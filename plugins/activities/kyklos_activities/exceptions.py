"""Exceptions of recurring activities (RFC 5545 RECURRENCE-ID): one occurrence of a
series moved or changed on its own.

An exception is an activity of its own with ``series_id`` (the series) and
``recurrence_id`` (the original start of the occurrence it replaces); the series gets
that start as an EXDATE, so calendars, bookings and reminders see one or the other,
never both. Every write goes through the record service (history, hooks, bookings).
Exceptions come from a drag of one occurrence (:func:`make_exception`) or from an
imported event with a RECURRENCE-ID (:func:`link`, after the event was saved: in a
batch import its series may have been written in the same flush).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kyklos_sdk import RecordError, create_record, get_entity_type, update_record

from . import _, ical, recurrence
from .models import Activity
from .validation import iso_z

#: what an exception made by a drag copies from its series
COPIED = ("type_id", "subject", "description", "priority", "location", "private", "timezone",
          "all_day", "responsible_id", "account_id", "person_id", "reminders", "status")


def _series_of(request, record):
    db = request.dbsession
    if record.series_id is not None:
        return db.get(Activity, record.series_id)
    uid = ical.series_uid_of(record.external_uid, record.recurrence_id)
    series = ical.find_by_uid(request, uid) if uid else None
    if series is None or not series.rrule or series.series_id is not None:
        return None
    taken = db.execute(
        select(Activity.id).where(Activity.series_id == series.id,
                                  Activity.recurrence_id == record.recurrence_id)
    ).scalar()
    if taken is not None:
        return None  # another activity replaces that occurrence already
    # The link is derived from the event's UID, as ``span_start`` is from its times.
    record.series_id = series.id
    db.flush()
    return series


def link(request, record, source: str) -> None:
    """Make ``record`` (an activity with a ``recurrence_id``) the exception of its
    series, found by id or by the series UID inside its import key, and skip the
    replaced occurrence in the series."""
    if record.recurrence_id is None:
        return
    series = _series_of(request, record)
    if series is None:
        return
    when = iso_z(record.recurrence_id)
    if when not in (series.exdates or []):
        et = get_entity_type(request, "activity")
        update_record(request, et, series, {"exdates": [*(series.exdates or []), when]},
                      source=source)


def adopt(request, series, source: str) -> None:
    """Link exceptions imported before their series (a later file brought it)."""
    if not series.rrule or not series.external_uid or series.recurrence_id is not None:
        return
    orphans = request.dbsession.execute(
        select(Activity).where(
            Activity.series_id.is_(None),
            Activity.recurrence_id.is_not(None),
            Activity.external_uid.startswith(series.external_uid + "#", autoescape=True),
        )
    ).scalars().all()
    for orphan in orphans:
        link(request, orphan, source)


def occurrence_at(series, value) -> dt.datetime:
    """The occurrence of ``series`` starting at ``value`` (ISO 8601 or datetime)."""
    try:
        when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(
            str(value).replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise RecordError({"occurrence": _("Not a date and time with a zone (ISO 8601).")})
    when = when.astimezone(dt.UTC)
    hits = recurrence.occurrences(series.starts_at, series.ends_at, series.rrule,
                                  series.timezone, series.exdates, when,
                                  when + dt.timedelta(seconds=1), rdates=series.rdates)
    if not any(s == when for s, _e in hits):
        raise RecordError({"occurrence": _("The series has no occurrence starting then.")})
    return when


def make_exception(request, series, occurrence: dt.datetime, starts: dt.datetime,
                   source: str = "ui") -> Activity:
    """Move one occurrence of ``series`` to ``starts`` (its duration kept): a new
    activity replacing it, with the series' fields and participants."""
    et = get_entity_type(request, "activity")
    data = {name: getattr(series, name) for name in COPIED}
    duration = (series.ends_at - series.starts_at) if series.ends_at else None
    data.update(
        series_id=series.id,
        recurrence_id=occurrence,
        starts_at=starts,
        ends_at=starts + duration if duration is not None else None,
        participants=[{"kind": p["kind"], "id": p["id"]} for p in series.participants],
    )
    return create_record(request, et, data, source=source)
