"""iCalendar (RFC 5545): subscription feeds for a user's or a resource's calendar, and
import of .ics events.

Feeds are reached by a secret address that Outlook, Thunderbird and Google Calendar
poll without a login; only the token's SHA-256 is stored and a revoked token ends the
feed. Imported events keep their UID in ``external_uid``: importing the same file again
updates the activities instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

import icalendar
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import or_, select

from kyklos_sdk import (
    RecordError,
    create_record,
    get_entity_type,
    update_record,
    utcnow,
    visible_select,
)

from . import _, calendar, recurrence
from .models import CANCELLED, DECLINED, Activity, ActivityType, FeedToken, Participant, Resource

PRODID = "-//Kyklos//Activities//EN"
#: how far back and ahead a feed reaches
FEED_PAST = dt.timedelta(days=92)
FEED_AHEAD = dt.timedelta(days=400)
FEED_MAX = 5000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_EVENTS = 5000
_OWN_UID = re.compile(r"^activity-(\d{1,18})@(.+)$")


# --- tokens ------------------------------------------------------------------------------


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db, user_id: int, resource_id: int | None = None) -> tuple[str, FeedToken]:
    """A new feed token; the token itself is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    row = FeedToken(
        token_hash=digest(token), prefix=token[:6], user_id=user_id, resource_id=resource_id
    )
    db.add(row)
    db.flush()
    return token, row


def find_token(db, token: str) -> FeedToken | None:
    if not token or len(token) > 100:
        return None
    row = db.execute(
        select(FeedToken).where(FeedToken.token_hash == digest(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return row


# --- export ------------------------------------------------------------------------------


def uid_of(request, activity) -> str:
    if activity.external_uid:
        return activity.external_uid
    host = (request.registry.settings.get("kyklos.base_url") or request.host_url).split("//")[-1]
    return f"activity-{activity.id}@{host.rstrip('/').split('/')[0] or 'kyklos'}"


def _status(activity) -> str:
    if activity.state == CANCELLED:
        return "CANCELLED"
    return "CONFIRMED"


def event(request, activity, types, full: bool) -> icalendar.Event | None:
    """The VEVENT of an activity; ``full`` False gives a "Busy" block only."""
    ev = icalendar.Event()
    ev.add("uid", uid_of(request, activity))
    ev.add("dtstamp", activity.updated_at or utcnow())
    ev.add("sequence", max(0, (activity.version or 1) - 1))
    tz = recurrence.zone(activity.timezone)
    if activity.starts_at is not None:
        if activity.all_day:
            start = activity.starts_at.astimezone(tz).date()
            end = (activity.ends_at or activity.starts_at).astimezone(tz).date()
            ev.add("dtstart", start)
            ev.add("dtend", max(end, start + dt.timedelta(days=1)))
        elif activity.rrule:
            # Recurrences repeat at local wall-clock time: give the zone with the start.
            ev.add("dtstart", activity.starts_at.astimezone(tz))
            ev.add("dtend", (activity.ends_at or activity.starts_at).astimezone(tz))
        else:
            ev.add("dtstart", activity.starts_at)
            ev.add("dtend", activity.ends_at or activity.starts_at)
    elif activity.due_at is not None:
        day = activity.due_at.astimezone(tz).date()
        ev.add("dtstart", day)
        ev.add("dtend", day + dt.timedelta(days=1))
    else:
        return None
    if activity.rrule:
        ev.add("rrule", icalendar.vRecur.from_ical(activity.rrule))
        for ex in activity.exdates or ():
            try:
                when = dt.datetime.fromisoformat(ex.replace("Z", "+00:00")).astimezone(tz)
            except ValueError:
                continue
            ev.add("exdate", when)
    ev.add("status", _status(activity))
    if not full:
        ev.add("summary", request.localizer.translate(_("Busy")))
        ev.add("class", "PRIVATE" if activity.private else "CONFIDENTIAL")
        ev.add("transp", "OPAQUE")
        return ev
    ev.add("summary", activity.subject)
    if activity.description:
        ev.add("description", activity.description)
    if activity.location:
        ev.add("location", activity.location)
    ev.add("class", "PRIVATE" if activity.private else "PUBLIC")
    atype = types.get(activity.type_id)
    if atype is not None:
        ev.add("categories", [atype.title])
        ev.add("x-kyklos-type", atype.code)
    ev.add("x-kyklos-status", activity.status)
    for minutes in activity.reminders or ():
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", activity.subject)
        alarm.add("trigger", dt.timedelta(minutes=-minutes))
        ev.add_component(alarm)
    return ev


def calendar_of(name: str) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def _feed_activities(db, token: FeedToken) -> list[Activity]:
    now = utcnow()
    lo, hi = now - FEED_PAST, now + FEED_AHEAD
    stmt = select(Activity).where(calendar.range_clause(lo, hi))
    if token.resource_id is not None:
        stmt = stmt.where(
            Activity.state != CANCELLED,
            Activity.id.in_(
                select(Participant.activity_id).where(
                    Participant.kind == "resource", Participant.resource_id == token.resource_id
                )
            ),
        )
    else:
        uid = token.user_id
        stmt = stmt.where(
            or_(
                Activity.responsible_id == uid,
                Activity.id.in_(
                    select(Participant.activity_id).where(
                        Participant.kind == "user",
                        Participant.user_id == uid,
                        Participant.status != DECLINED,
                    )
                ),
            )
        )
    return list(db.execute(stmt.order_by(Activity.span_start).limit(FEED_MAX)).scalars())


def feed(request, token: FeedToken) -> bytes:
    """The VCALENDAR of a feed token. A user's feed is their own calendar, shown in
    full; a resource's feed shows what books it, private activities as "Busy"."""
    db = request.dbsession
    types = calendar.types_by_id(db)
    if token.resource_id is not None:
        resource = db.get(Resource, token.resource_id)
        name = resource.name if resource else "Resource"
    else:
        from kyklos_sdk import User

        user = db.get(User, token.user_id)
        name = user.title if user else "Kyklos"
    cal = calendar_of(name)
    for a in _feed_activities(db, token):
        full = token.resource_id is None or not a.private
        ev = event(request, a, types, full)
        if ev is not None:
            cal.add_component(ev)
    token.last_used_at = utcnow()
    return cal.to_ical()


# --- import ------------------------------------------------------------------------------


def _as_utc(value, tz) -> tuple[dt.datetime, bool]:
    """A DTSTART/DTEND value as aware UTC, and whether it was a whole date."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # floating time: the importing user's zone
            value = value.replace(tzinfo=tz)
        return value.astimezone(dt.UTC), False
    return dt.datetime.combine(value, dt.time(0), tzinfo=tz).astimezone(dt.UTC), True


def _text(component, name, limit) -> str | None:
    value = component.get(name)
    if value is None:
        return None
    text = str(value).replace("\x00", "")
    return text[:limit] if text else None


def event_data(request, ev, types_by_code, tz) -> dict:
    """Activity fields of a VEVENT."""
    subject = _text(ev, "summary", 300) or request.localizer.translate(_("(no subject)"))
    data: dict = {"subject": subject}
    start = ev.get("dtstart")
    if start is None:
        raise RecordError({"dtstart": _("The event has no start.")})
    starts, whole = _as_utc(start.dt, tz)
    end = ev.get("dtend")
    if end is not None:
        ends, _w = _as_utc(end.dt, tz)
    elif ev.get("duration") is not None:
        ends = starts + ev.get("duration").dt
    else:
        ends = starts + (dt.timedelta(days=1) if whole else dt.timedelta(0))
    data["starts_at"] = starts
    data["ends_at"] = max(ends, starts)
    data["all_day"] = whole
    if isinstance(start.dt, dt.datetime) and start.dt.tzinfo is not None:
        key = getattr(start.dt.tzinfo, "key", None)
        if key and recurrence.valid_zone(key):
            data["timezone"] = key
    code = str(ev.get("x-kyklos-type") or "")
    atype = types_by_code.get(code) or types_by_code.get(
        "meeting" if ends > starts and not whole else "task"
    )
    if atype is None:
        raise RecordError({"type_id": _("No activity type for this event.")})
    data["type_id"] = atype.id
    if not atype.duration_required and ends <= starts:
        data.pop("ends_at")
    for field, name, limit in (("description", "description", 100_000),
                               ("location", "location", 300)):
        value = _text(ev, name, limit)
        if value:
            data[field] = value
    data["private"] = str(ev.get("class") or "").upper() in ("PRIVATE", "CONFIDENTIAL")
    rule = ev.get("rrule")
    if rule is not None:
        data["rrule"] = rule.to_ical().decode("ascii")
    exdates = []
    raw_ex = ev.get("exdate")
    for group in raw_ex if isinstance(raw_ex, list) else ([raw_ex] if raw_ex else []):
        for item in group.dts:
            when, _w = _as_utc(item.dt, tz)
            exdates.append(when.isoformat().replace("+00:00", "Z"))
    if exdates:
        data["exdates"] = exdates
    status = str(ev.get("x-kyklos-status") or "")
    if status:
        data["status"] = status[:40]
    elif str(ev.get("status") or "").upper() == "CANCELLED":
        data["status"] = "cancelled"
    return data


def _existing(request, uid: str):
    """The activity a UID refers to: one imported with it, or one we exported."""
    db = request.dbsession
    found = db.execute(select(Activity).where(Activity.external_uid == uid)).scalar_one_or_none()
    if found is not None:
        return found
    m = _OWN_UID.match(uid)
    if m:
        a = db.get(Activity, int(m.group(1)))
        if a is not None and uid_of(request, a) == uid:
            return a
    return None


def import_ics(request, data) -> tuple[int, int, list[dict]]:
    """Import the VEVENTs of an .ics document (bytes or str) as activities.

    An event whose UID was imported (or exported by us) before updates that activity.
    Each event is written on its own savepoint: a bad event is reported in ``errors``
    (``{"uid", "summary", "errors"}``) and the others are kept.

    :return: ``(created, updated, errors)``
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_IMPORT_BYTES:
        raise RecordError({"file": _("The file is larger than 5 MB.")}, status=413)
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise RecordError({"file": _("Not an iCalendar file: ${why}",
                                     mapping={"why": str(exc)[:200]})}) from None
    events = [c for c in cal.walk("VEVENT")]
    if len(events) > MAX_IMPORT_EVENTS:
        raise RecordError({"file": _("At most ${n} events per file.",
                                     mapping={"n": MAX_IMPORT_EVENTS})})
    db = request.dbsession
    et = get_entity_type(request, "activity")
    types_by_code = {t.code: t for t in db.execute(select(ActivityType)).scalars()}
    from .validation import user_zone

    tz = recurrence.zone(user_zone(request))
    created = updated = 0
    errors: list[dict] = []
    seen: set[str] = set()
    for ev in events:
        uid = _text(ev, "uid", 255)
        summary = _text(ev, "summary", 300) or ""
        if ev.get("recurrence-id") is not None:
            errors.append({"uid": uid, "summary": summary,
                           "errors": {"recurrence-id": request.localizer.translate(
                               _("Changed single occurrences are not imported."))}})
            continue
        try:
            fields = event_data(request, ev, types_by_code, tz)
            with db.begin_nested():
                record = _existing(request, uid) if uid else None
                if record is not None:
                    if not visible(request, et, record):
                        raise RecordError({"uid": _("An activity you cannot see has this UID.")})
                    update_record(request, et, record, fields, source="import")
                    updated += 1
                else:
                    if uid in seen:
                        raise RecordError({"uid": _("This UID appears twice in the file.")})
                    if uid:  # also one of ours whose activity is gone: keep its UID
                        fields["external_uid"] = uid
                    create_record(request, et, fields, source="import")
                    created += 1
            if uid:
                seen.add(uid)
        except RecordError as exc:
            errors.append({
                "uid": uid,
                "summary": summary,
                "errors": {k: request.localizer.translate(v) for k, v in exc.errors.items()},
            })
        except (HTTPForbidden, HTTPNotFound):
            errors.append({"uid": uid, "summary": summary,
                           "errors": {"": request.localizer.translate(_("Not allowed."))}})
        except (ValueError, TypeError, AttributeError) as exc:
            # A malformed property spoils only its own event.
            errors.append({"uid": uid, "summary": summary, "errors": {"": str(exc)[:200]}})
    return created, updated, errors


def visible(request, et, record) -> bool:
    stmt = visible_select(request, et).where(et.model.id == record.id)
    return request.dbsession.execute(stmt.with_only_columns(et.model.id)).first() is not None
