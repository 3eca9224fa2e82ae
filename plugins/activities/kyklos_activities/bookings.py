"""Resource bookings: derived from an activity's resource participants, one row per
occurrence, and refused by the database when they overlap (see the migration)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from kyklos_sdk import RecordError, format_datetime, format_time, utcnow

from . import _, recurrence
from .models import CANCELLED, Booking, Resource

#: how far ahead an endless recurrence books its resources
HORIZON = dt.timedelta(days=366)
MAX_BOOKINGS = 500


class DoubleBooking(RecordError):
    """A resource is already booked for an overlapping time (HTTP 409)."""

    def __init__(self, errors, resource_ids):
        super().__init__(errors, title=_("Resource already booked"), status=409)
        self.resource_ids = resource_ids


def occurrence_ranges(activity, now=None) -> list[tuple[dt.datetime, dt.datetime]]:
    """The time ranges the activity's resources are busy."""
    s, e = activity.starts_at, activity.ends_at
    if s is None or e is None or e <= s or activity.state == CANCELLED:
        return []
    if not activity.rrule and not activity.rdates:
        return [(s, e)]
    until = activity.span_end or max(s, now or utcnow()) + HORIZON
    return recurrence.occurrences(
        s,
        e,
        activity.rrule,
        activity.timezone,
        activity.exdates,
        s,
        until,
        limit=MAX_BOOKINGS,
        rdates=activity.rdates,
    )


def sync(request, activity) -> None:
    """Replace the activity's bookings; raise :class:`DoubleBooking` naming the resource
    when one is taken. The insert runs in a savepoint, so the caller's session stays
    usable (a form can show the error)."""
    db = request.dbsession
    resources = sorted(set(activity.ids_of("resource")))
    ranges = occurrence_ranges(activity) if resources else []
    rows = [
        {"resource_id": r, "activity_id": activity.id, "starts_at": s, "ends_at": e}
        for r in resources
        for s, e in ranges
    ]
    try:
        with db.begin_nested():
            db.execute(delete(Booking).where(Booking.activity_id == activity.id))
            if rows:
                db.execute(insert(Booking), rows)
    except IntegrityError:
        raise conflict(request, activity, resources, ranges) from None


def conflict(request, activity, resources, ranges) -> DoubleBooking:
    """The error naming which resource is taken, when and by what."""
    db = request.dbsession
    lo = min(s for s, _e in ranges)
    hi = max(e for _s, e in ranges)
    found = db.execute(
        select(Booking.resource_id, Booking.starts_at, Booking.ends_at, Resource.name)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Booking.resource_id.in_(resources),
            Booking.activity_id != activity.id,
            Booking.starts_at < hi,
            Booking.ends_at > lo,
        )
        .order_by(Booking.starts_at)
    ).all()
    clashes = [
        row for row in found if any(row.starts_at < e and s < row.ends_at for s, e in ranges)
    ]
    if not clashes:
        names = ", ".join(
            db.execute(select(Resource.name).where(Resource.id.in_(resources))).scalars()
        )
        msg = _("${names} is already booked at that time.", mapping={"names": names})
        return DoubleBooking({"participants": msg}, resources)
    first = clashes[0]
    msg = _(
        "${name} is already booked from ${start} to ${end}.",
        mapping={
            "name": first.name,
            "start": format_datetime(request, first.starts_at, "short"),
            "end": _end(request, first.starts_at, first.ends_at),
        },
    )
    return DoubleBooking({"participants": msg}, sorted({c.resource_id for c in clashes}))


def _end(request, start, end) -> str:
    """The end of a booking: its time alone when it ends the day it starts."""
    tz = request.timezone
    if start.astimezone(tz).date() == end.astimezone(tz).date():
        return format_time(request, end)
    return format_datetime(request, end, "short")


def remove(request, activity_id: int) -> None:
    request.dbsession.execute(delete(Booking).where(Booking.activity_id == activity_id))


def bookings_between(db, resource_ids, start, end) -> list:
    if not resource_ids:
        return []
    return list(
        db.execute(
            select(Booking)
            .where(
                Booking.resource_id.in_(list(resource_ids)),
                Booking.starts_at < end,
                Booking.ends_at > start,
            )
            .order_by(Booking.starts_at)
        ).scalars()
    )
