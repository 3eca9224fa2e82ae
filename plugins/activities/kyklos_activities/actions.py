"""What users do to activities beyond the generic create/update/delete: answer an
invitation, complete, move, book a found slot, create one activity per person."""

from __future__ import annotations

import datetime as dt
import uuid

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select

from kyklos_sdk import (
    RecordError,
    StaleRecord,
    create_record,
    get_entity_type,
    get_record,
    record_change,
    segment_select,
    update_record,
    utcnow,
    visible_select,
)

from . import _, recurrence
from .models import (
    CANCELLED,
    DONE,
    RESPONSES,
    Activity,
    ActivityType,
    Participant,
    Status,
)

MASS_MAX = 5000
MASS_BATCH = "kyklos_activities.mass_batch"


def activity_type(request) -> object:
    return get_entity_type(request, "activity")


def my_participation(request, activity_id) -> Participant:
    """The user's own invitation to the activity; 404 when there is none."""
    ident = request.identity
    try:
        aid = int(activity_id)
    except (TypeError, ValueError):
        raise HTTPNotFound() from None
    row = request.dbsession.execute(
        select(Participant).where(
            Participant.activity_id == aid,
            Participant.kind == "user",
            Participant.user_id == ident.user.id,
        )
    ).scalar_one_or_none()
    if row is None:
        raise HTTPNotFound()
    return row


def respond(request, activity_id, response: str, source: str = "ui") -> Participant:
    """Accept, decline or tentatively accept an invitation (ACT-04). The answer is the
    invitee's own, so it needs no right to edit the activity; the organiser is told and
    the activity's history keeps who answered what."""
    if response not in RESPONSES:
        raise RecordError(
            {"response": _("Use accepted, declined or tentative.")}, title=_("Invalid data")
        )
    row = my_participation(request, activity_id)
    if row.status != response:
        before = row.status
        row.status = response
        row.responded_at = utcnow()
        request.dbsession.flush()
        activity = row.activity
        who = {"kind": "user", "id": row.user_id}
        record_change(request, get_entity_type(request, "activity"), activity, "update",
                      {"participants": [{**who, "status": before}, {**who, "status": response}]},
                      source)
        request.dbsession.flush()
        notify = getattr(request, "notify", None)
        organiser = {activity.owner_id, activity.responsible_id} - {request.identity.user.id, None}
        if notify is not None and organiser:
            m = {"who": request.identity.user.title, "subject": activity.subject}
            title = {
                "accepted": _("${who} accepted: ${subject}", mapping=m),
                "declined": _("${who} declined: ${subject}", mapping=m),
                "tentative": _("${who} may come: ${subject}", mapping=m),
            }[response]
            notify(
                sorted(organiser),
                title,
                url=request.route_path("entity.detail", slug="activities", id=activity.id),
                kind="invitation",
            )
    return row


def done_status(db, atype: ActivityType) -> str | None:
    return db.execute(
        select(Status.code)
        .where(Status.status_set_id == atype.status_set_id, Status.category == DONE)
        .order_by(Status.position, Status.id)
        .limit(1)
    ).scalar_one_or_none()


def complete(request, activity_id, source="ui") -> Activity:
    """Set the activity to the first "done" status of its type."""
    et = activity_type(request)
    record = get_record(request, et, activity_id, action="update")
    atype = request.dbsession.get(ActivityType, record.type_id)
    code = done_status(request.dbsession, atype)
    if code is None:
        raise RecordError({"status": _("This activity type has no done status.")})
    update_record(request, et, record, {"status": code}, source=source)
    return record


SCOPES = ("series", "occurrence")


def move(request, activity_id, day: dt.date, at: dt.time | None, version: int | None,
         occurrence=None, scope: str = "series", source: str = "ui", zone: str | None = None):
    """Move an activity to ``day``, keeping its wall-clock time in its own zone unless
    ``at`` gives a new one (in ``zone``, default the activity's zone: a calendar sends
    the viewer's); the duration stays. For a recurring activity ``scope`` says what
    moves: the whole ``series``, or only the ``occurrence`` starting at ``occurrence``
    (it becomes an exception of the series, which skips it). Returns the activity that
    moved (the exception, for one occurrence)."""
    et = activity_type(request)
    record = get_record(request, et, activity_id, action="update")
    if scope not in SCOPES:
        raise RecordError({"scope": _("Use series or occurrence.")})
    tz = recurrence.zone(record.timezone)
    if at is not None and zone:
        # The time was picked in another zone (the viewer's grid): express the dropped
        # instant in the activity's zone, whose wall clock recurrences keep.
        local = dt.datetime.combine(day, at, tzinfo=recurrence.zone(zone)).astimezone(tz)
        day, at = local.date(), local.time().replace(tzinfo=None)
    if scope == "occurrence" and record.rrule:
        from .exceptions import make_exception, occurrence_at

        if version is not None and version != record.version:
            raise StaleRecord(record, version, {})
        if occurrence is None:
            raise RecordError({"occurrence": _("Say which occurrence moves.")})
        when = occurrence_at(record, occurrence)
        local = when.astimezone(tz)
        new = dt.datetime.combine(day, at or local.time().replace(tzinfo=None), tzinfo=tz)
        return make_exception(request, record, when, new.astimezone(dt.UTC), source=source)
    data = {}
    if record.starts_at is not None:
        local = record.starts_at.astimezone(tz)
        new_time = at or local.time().replace(tzinfo=None)
        target = day
        if occurrence is not None and record.rrule:
            # Dragging a later occurrence two days on moves the whole series two days on.
            when = occurrence_at_or_none(record, occurrence)
            if when is not None:
                target = local.date() + (day - when.astimezone(tz).date())
        new = dt.datetime.combine(target, new_time, tzinfo=tz).astimezone(dt.UTC)
        data["starts_at"] = new
        if record.ends_at is not None:
            data["ends_at"] = new + (record.ends_at - record.starts_at)
    elif record.due_at is not None:
        local = record.due_at.astimezone(tz)
        data["due_at"] = dt.datetime.combine(
            day, at or local.time().replace(tzinfo=None), tzinfo=tz
        ).astimezone(dt.UTC)
    else:
        raise RecordError({"starts_at": _("This activity has no date to move.")})
    update_record(request, et, record, data, expected_version=version, source=source)
    return record


def occurrence_at_or_none(record, occurrence):
    from .exceptions import occurrence_at

    try:
        return occurrence_at(record, occurrence)
    except RecordError:
        return None


def book(request, subject, type_code, starts, ends, user_ids, resource_ids) -> Activity:
    """Create a meeting for a slot the availability finder proposed."""
    atype = request.dbsession.execute(
        select(ActivityType).where(ActivityType.code == type_code)
    ).scalar_one_or_none()
    if atype is None:
        raise RecordError({"type_id": _("No such activity type.")})
    participants = [{"kind": "user", "id": u} for u in user_ids]
    participants += [{"kind": "resource", "id": r} for r in resource_ids]
    data = {
        "type_id": atype.id,
        "subject": subject,
        "starts_at": starts,
        "ends_at": ends,
        "participants": participants,
    }
    return create_record(request, activity_type(request), data, source="ui")


def persons_in_segment(request, segment_id) -> list[int]:
    """Ids of the people in a segment (static or dynamic) that the user may see."""
    if isinstance(segment_id, str) and segment_id.isdigit() and len(segment_id) < 10:
        segment_id = int(segment_id)
    if isinstance(segment_id, bool) or not isinstance(segment_id, int):
        raise RecordError({"segment_id": _("Give a segment id.")})
    try:
        stmt = segment_select(request, segment_id)
    except HTTPNotFound:
        raise RecordError({"segment_id": _("No such segment.")}, status=404) from None
    person_et = get_entity_type(request, "person")
    # A segment of accounts (or anything else) selects other ids: refuse it rather
    # than write activities to whichever people have those numbers.
    column = stmt.selected_columns[0]
    if getattr(column, "table", None) is not person_et.model.__table__:
        raise RecordError({"segment_id": _("Not a segment of people.")})
    ids = list(request.dbsession.execute(stmt.limit(MASS_MAX + 1)).scalars())
    if not ids:
        raise RecordError({"segment_id": _("The segment has nobody you may see.")})
    if len(ids) > MASS_MAX:
        raise RecordError({"segment_id": _("More than ${n} people: narrow the segment.",
                                           mapping={"n": MASS_MAX})})
    return sorted(ids)


def create_mass_activity(request, template: dict, person_ids) -> dict:
    """Create the same activity once for each person (a segment's members: MKT-05), each
    kept in that person's history and timeline. All or nothing.

    :param template: activity fields (``type_id``, ``subject``, ``due_at``...), without
        ``person_id``; ``account_id`` defaults to each person's account
    :return: ``{"batch": id, "created": [activity ids]}``; raises :class:`RecordError`
        naming ``<person id>.<field>`` for a refusal
    """
    if not isinstance(template, dict):
        raise RecordError({"template": _("Send an object of activity fields.")})
    ids = list(dict.fromkeys(person_ids or ()))
    if not ids or len(ids) > MASS_MAX or any(
        isinstance(i, bool) or not isinstance(i, int) for i in ids
    ):
        raise RecordError(
            {"person_ids": _("Send 1 to ${n} person ids.", mapping={"n": MASS_MAX})}
        )
    for key in ("person_id", "participants", "external_uid"):
        if key in template:
            raise RecordError({f"template.{key}": _("Not allowed in a mass activity.")})
    db = request.dbsession
    person_et = get_entity_type(request, "person")
    found = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        stmt = visible_select(request, person_et).where(person_et.model.id.in_(part))
        for p in db.execute(stmt).scalars():
            found[p.id] = p
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(str(i) for i in missing[:20])
        raise RecordError({"person_ids": _("Not found: ${ids}", mapping={"ids": shown})},
                          status=404)
    et = activity_type(request)
    batch = str(uuid.uuid4())
    created = []
    errors = {}
    # The validate hook stamps the batch on each row, so history and the after-save
    # hooks see it as on any other field (mass_batch is read-only for clients).
    request.environ[MASS_BATCH] = batch
    try:
        with db.begin_nested():
            _create_each(request, et, template, ids, found, created, errors)
    finally:
        request.environ.pop(MASS_BATCH, None)
    return {"batch": batch, "created": created}


def _create_each(request, et, template, ids, found, created, errors) -> None:
    for pid in ids:
        data = dict(template)
        data["person_id"] = pid
        if "account_id" not in template and found[pid].account_id:
            data["account_id"] = found[pid].account_id
        try:
            record = create_record(request, et, data, source="bulk")
        except RecordError as exc:
            for key, msg in exc.errors.items():
                errors[f"{pid}.{key}"] = msg
            if len(errors) > 50:
                break
            continue
        created.append(record.id)
    if errors:
        raise RecordError(errors)


def open_items(request, limit: int = 500, user_ids=None) -> list[Activity]:
    """ACT-09: open activities the user must do or was invited to, overdue first, then
    by date; undated ones last. ``user_ids``: those of these users instead (the user
    and the people they stand in for during a delegation)."""
    ids = list(user_ids or [request.identity.user.id])
    invited = select(Participant.activity_id).where(
        Participant.kind == "user",
        Participant.user_id.in_(ids),
        Participant.status != "declined",
    )
    rows = request.dbsession.execute(
        select(Activity)
        .where(
            Activity.state == "open",
            Activity.responsible_id.in_(ids) | Activity.id.in_(invited),
        )
        .limit(limit)
    ).scalars().all()
    now = utcnow()

    def key(a):
        when = a.due_at or a.starts_at
        if when is None:
            return (2, dt.datetime.max.replace(tzinfo=dt.UTC), a.id)
        return (0 if when < now else 1, when, a.id)

    return sorted(rows, key=key)


def is_cancelled(activity) -> bool:
    return activity.state == CANCELLED
