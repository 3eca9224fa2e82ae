"""Calendar queries: the occurrences of activities in a time range for users or
resources, busy intervals for the availability finder, and what a viewer may see.

A viewer sees an activity in full when they take part in it (owner, responsible or a
participant), or when the record rules let them read it and it is not private;
otherwise it shows only as "busy" (free/busy, as in other calendar systems).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from kyklos_sdk import get_entity_type, visible_select

from . import recurrence
from .models import CANCELLED, DECLINED, Activity, ActivityType, Booking, Participant


@dataclass
class Occurrence:
    """One occurrence of an activity as a calendar shows it."""

    activity: Activity
    starts_at: dt.datetime
    ends_at: dt.datetime
    visible: bool  # False: show as "busy" only
    #: the users / resources of the requested set this occurrence belongs to
    owners: set = field(default_factory=set)

    @property
    def id(self) -> int:
        return self.activity.id

    @property
    def point(self) -> bool:
        return self.ends_at <= self.starts_at


def range_clause(start: dt.datetime, end: dt.datetime):
    """Activities with an occurrence that may touch ``[start, end)`` (exact check in
    Python after expansion)."""
    return and_(
        Activity.span_start.is_not(None),
        Activity.span_start < end,
        or_(Activity.span_end.is_(None), Activity.span_end >= start),
    )


def expand(activity: Activity, start: dt.datetime, end: dt.datetime):
    """``(start, end)`` pairs of the activity's occurrences in the range."""
    first = activity.starts_at or activity.due_at
    if first is None:
        return []
    last = activity.ends_at if activity.starts_at is not None else None
    return recurrence.occurrences(
        first,
        last,
        activity.rrule,
        activity.timezone,
        activity.exdates,
        start,
        end,
        rdates=activity.rdates,
    )


def involved_ids(db, user_id: int, activity_ids) -> set[int]:
    """The activities among ``activity_ids`` the user takes part in."""
    if not activity_ids:
        return set()
    ids = list(activity_ids)
    rows = db.execute(
        select(Activity.id).where(
            Activity.id.in_(ids),
            or_(
                Activity.owner_id == user_id,
                Activity.responsible_id == user_id,
                Activity.id.in_(
                    select(Participant.activity_id).where(
                        Participant.kind == "user", Participant.user_id == user_id
                    )
                ),
            ),
        )
    ).scalars()
    return set(rows)


def readable_ids(request, activity_ids) -> set[int]:
    """The activities among ``activity_ids`` the record rules let the user read."""
    if not activity_ids:
        return set()
    et = get_entity_type(request, "activity")
    stmt = visible_select(request, et).where(Activity.id.in_(list(activity_ids)))
    return set(request.dbsession.execute(stmt.with_only_columns(Activity.id)).scalars())


def viewer_id(request) -> int | None:
    ident = getattr(request, "identity", None)
    return ident.user.id if ident is not None else None


def visibility(request, activities) -> dict[int, bool]:
    """Activity id -> whether the viewer sees it in full."""
    ids = {a.id for a in activities}
    me = viewer_id(request)
    involved = involved_ids(request.dbsession, me, ids) if me else set()
    readable = readable_ids(request, ids - involved)
    return {a.id: a.id in involved or (a.id in readable and not a.private) for a in activities}


def for_users(request, user_ids, start, end, include_tasks: bool = True) -> list[Occurrence]:
    """Occurrences in ``[start, end)`` of the activities the users take part in (not
    declined, not cancelled)."""
    db = request.dbsession
    user_ids = list(user_ids)
    if not user_ids:
        return []
    rows = db.execute(
        select(Activity, Participant.user_id)
        .join(Participant, Participant.activity_id == Activity.id)
        .where(
            Participant.kind == "user",
            Participant.user_id.in_(user_ids),
            Participant.status != DECLINED,
            Activity.state != CANCELLED,
            range_clause(start, end),
        )
        .order_by(Activity.span_start, Activity.id)
    ).all()
    by_id: dict[int, tuple[Activity, set]] = {}
    for activity, uid in rows:
        by_id.setdefault(activity.id, (activity, set()))[1].add(uid)
    return _occurrences(request, by_id, start, end, include_tasks)


def for_resources(request, resource_ids, start, end) -> list[Occurrence]:
    """Occurrences in ``[start, end)`` that book the resources (from the bookings)."""
    db = request.dbsession
    resource_ids = list(resource_ids)
    if not resource_ids:
        return []
    rows = db.execute(
        select(Booking.resource_id, Booking.starts_at, Booking.ends_at, Activity)
        .join(Activity, Activity.id == Booking.activity_id)
        .where(
            Booking.resource_id.in_(resource_ids),
            Booking.starts_at < end,
            Booking.ends_at > start,
        )
        .order_by(Booking.starts_at)
    ).all()
    seen: dict[tuple, Occurrence] = {}
    for rid, s, e, activity in rows:
        key = (activity.id, s)
        if key not in seen:
            seen[key] = Occurrence(activity, s, e, False)
        seen[key].owners.add(rid)
    out = list(seen.values())
    vis = visibility(request, [o.activity for o in out])
    for o in out:
        o.visible = vis[o.activity.id]
    return out


def _occurrences(request, by_id, start, end, include_tasks) -> list[Occurrence]:
    activities = [a for a, _u in by_id.values()]
    vis = visibility(request, activities)
    out = []
    for activity, owners in by_id.values():
        if not include_tasks and activity.starts_at is None:
            continue
        for s, e in expand(activity, start, end):
            out.append(Occurrence(activity, s, e, vis[activity.id], owners))
    out.sort(key=lambda o: (o.starts_at, o.activity.id))
    return out


def busy_for_users(request, user_ids, start, end) -> dict[int, list[tuple]]:
    """User id -> intervals they are busy in ``[start, end)`` (activities with a
    duration they take part in and did not decline)."""
    out: dict[int, list] = {uid: [] for uid in user_ids}
    for o in for_users(request, user_ids, start, end, include_tasks=False):
        if o.ends_at <= o.starts_at:
            continue
        for uid in o.owners:
            out.setdefault(uid, []).append((o.starts_at, o.ends_at))
    return out


def busy_for_resources(db, resource_ids, start, end) -> dict[int, list[tuple]]:
    out: dict[int, list] = {rid: [] for rid in resource_ids}
    if not resource_ids:
        return out
    rows = db.execute(
        select(Booking.resource_id, Booking.starts_at, Booking.ends_at).where(
            Booking.resource_id.in_(list(resource_ids)),
            Booking.starts_at < end,
            Booking.ends_at > start,
        )
    ).all()
    for rid, s, e in rows:
        out[rid].append((s, e))
    return out


def types_by_id(db) -> dict[int, ActivityType]:
    return {t.id: t for t in db.execute(select(ActivityType)).scalars()}
