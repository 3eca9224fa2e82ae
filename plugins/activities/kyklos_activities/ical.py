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
import json
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
from .defaults import TYPES
from .models import CANCELLED, DECLINED, Activity, ActivityType, FeedToken, Participant, Resource

PRODID = "-//Kyklos//Activities//EN"
#: how far back and ahead a feed reaches
FEED_PAST = dt.timedelta(days=92)
FEED_AHEAD = dt.timedelta(days=400)
FEED_MAX = 5000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_EVENTS = 5000
_OWN_UID = re.compile(r"^activity-(\d{1,18})@(.+)$")
DEFAULT_TYPE_CODES = frozenset(t[0] for t in TYPES)


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
    """The UID of the activity's VEVENT; an exception shares its series' UID."""
    if activity.recurrence_id is not None:
        series = request.dbsession.get(Activity, activity.series_id) if activity.series_id \
            else None
        if series is not None:
            return uid_of(request, series)
        imported = series_uid_of(activity.external_uid, activity.recurrence_id)
        if imported:
            return imported
    if activity.external_uid:
        return activity.external_uid
    host = (request.registry.settings.get("kyklos.base_url") or request.host_url).split("//")[-1]
    return f"activity-{activity.id}@{host.rstrip('/').split('/')[0] or 'kyklos'}"


def _recurrence_id(request, activity):
    """RECURRENCE-ID as the series gives its starts: a date, or a time in its zone."""
    series = request.dbsession.get(Activity, activity.series_id) if activity.series_id else None
    tz = recurrence.zone((series or activity).timezone)
    if series is not None and series.all_day:
        return activity.recurrence_id.astimezone(tz).date()
    return activity.recurrence_id.astimezone(tz)


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
    if activity.recurrence_id is not None:
        ev.add("recurrence-id", _recurrence_id(request, activity))
    tz = recurrence.zone(activity.timezone)
    if activity.starts_at is not None:
        if activity.all_day:
            start = activity.starts_at.astimezone(tz).date()
            end = (activity.ends_at or activity.starts_at).astimezone(tz).date()
            ev.add("dtstart", start)
            ev.add("dtend", max(end, start + dt.timedelta(days=1)))
        else:
            # Local wall-clock time with its zone (a VTIMEZONE is written for it): a
            # series repeats at that time, and a one-off keeps the zone it was set in.
            ev.add("dtstart", activity.starts_at.astimezone(tz))
            ev.add("dtend", (activity.ends_at or activity.starts_at).astimezone(tz))
    elif activity.due_at is not None:
        day = activity.due_at.astimezone(tz).date()
        ev.add("dtstart", day)
        ev.add("dtend", day + dt.timedelta(days=1))
    else:
        return None
    if activity.rrule:
        ev.add("rrule", icalendar.vRecur.from_ical(activity.rrule))
        # An occurrence moved by an exception is replaced through its RECURRENCE-ID; an
        # EXDATE for it as well would hide the moved one from readers.
        moved = set(request.dbsession.execute(
            select(Activity.recurrence_id).where(Activity.series_id == activity.id)
        ).scalars()) if activity.id else set()
        for ex in activity.exdates or ():
            try:
                when = dt.datetime.fromisoformat(ex.replace("Z", "+00:00")).astimezone(tz)
            except ValueError:
                continue
            if when in moved:
                continue
            # An all-day series excludes days (VALUE=DATE, as its DTSTART).
            ev.add("exdate", when.date() if activity.all_day else when)
    for extra in activity.rdates or ():
        try:
            when = dt.datetime.fromisoformat(extra.replace("Z", "+00:00")).astimezone(tz)
        except ValueError:
            continue
        # As DTSTART: a day for an all-day activity, else a time in its zone.
        ev.add("rdate", when.date() if activity.all_day else when)
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
    _add_people(request, ev, activity)
    for minutes in activity.reminders or ():
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", activity.subject)
        alarm.add("trigger", dt.timedelta(minutes=-minutes))
        ev.add_component(alarm)
    return ev


def _add_people(request, ev, activity) -> None:
    """ORGANIZER (the responsible user) and an ATTENDEE per user, person and resource
    taking part, with their answer."""
    from kyklos_contacts.models import Person

    from kyklos_sdk import User

    db = request.dbsession
    responsible = db.get(User, activity.responsible_id) if activity.responsible_id else None
    if responsible is not None and responsible.email:
        ev.add("organizer", f"mailto:{responsible.email}",
               parameters={"CN": responsible.title or responsible.email})
    for p in activity.participants or ():
        params = {"PARTSTAT": _PARTSTAT_OUT.get(p["status"], "NEEDS-ACTION")}
        if p["kind"] == "user":
            who = db.get(User, p["id"])
            address, name = (who.email, who.title) if who else (None, None)
        elif p["kind"] == "person":
            who = db.get(Person, p["id"])
            address, name = (who.email, who.full_name) if who else (None, None)
        elif p["kind"] == "resource":
            who = db.get(Resource, p["id"])
            address, name = (None, who.name) if who else (None, None)
            params["CUTYPE"] = "RESOURCE"
        else:
            continue
        if not name:
            continue
        params["CN"] = name
        ev.add("attendee", f"mailto:{address}" if address else f"urn:kyklos:{p['kind']}:{p['id']}",
               parameters=params)
    for p in activity.external_attendees or ():
        if not isinstance(p, dict) or not p.get("email"):
            continue
        params = {"PARTSTAT": _PARTSTAT_OUT.get(p.get("status"), "NEEDS-ACTION")}
        if p.get("name"):
            params["CN"] = p["name"]
        ev.add("attendee", f"mailto:{p['email']}", parameters=params)


_PARTSTAT_OUT = {"accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE",
                 "needs-action": "NEEDS-ACTION"}


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


def _readable_by_owner(request, token: FeedToken, found) -> set[int]:
    """The activities of a resource feed that the feed's owner may read: a feed has no
    login, so it shows exactly what its owner would see, and others' bookings as "Busy"."""
    if token.resource_id is None or not found:
        return set()
    from kyklos_sdk import get_entity_type, request_as, visible_select

    with request_as(request.registry, token.user_id) as sub:
        et = get_entity_type(sub, "activity")
        ids = [a.id for a in found]
        stmt = visible_select(sub, et).where(et.model.id.in_(ids))
        return {r.id for r in sub.dbsession.execute(stmt).scalars()}


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
    found = _feed_activities(db, token)
    readable = _readable_by_owner(request, token, found)
    for a in found:
        full = token.resource_id is None or (not a.private and a.id in readable)
        ev = event(request, a, types, full)
        if ev is not None:
            cal.add_component(ev)
    # A VTIMEZONE for every zone the events use (readers need no zone database).
    cal.add_missing_timezones()
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


def exception_key(uid: str, recurrence_id: dt.datetime) -> str:
    """The import key of an exception: its series' UID and the occurrence it replaces
    (one UID names a whole series in iCalendar)."""
    return f"{uid}#{recurrence_id.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def series_uid_of(key: str | None, recurrence_id: dt.datetime | None) -> str | None:
    """The series UID inside an exception's key (the inverse of :func:`exception_key`)."""
    if not key or recurrence_id is None:
        return None
    suffix = exception_key("", recurrence_id)
    return key[: -len(suffix)] if key.endswith(suffix) and len(key) > len(suffix) else None


def zone_name(key: str | None, tzid: str | None) -> str | None:
    """The IANA name of an event's zone: the parsed zone's own, else its TZID read as a
    Windows zone name (CLDR's windowsZones table as icalendar ships it: "W. Europe
    Standard Time" is Europe/Berlin), an IANA name, or a custom TZID that ends in one
    ("/freeassociation.sourceforge.net/Europe/Warsaw"). ``None`` when nothing names a
    zone we know (the times themselves stay exact through the file's VTIMEZONE)."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    for name in (key, WINDOWS_TO_OLSON.get(str(tzid or "").strip()), tzid):
        name = str(name or "").strip().strip('"')
        if not name:
            continue
        if recurrence.valid_zone(name):
            return name
        parts = [p for p in name.split("/") if p]
        for i in range(len(parts) - 1):
            if recurrence.valid_zone("/".join(parts[i:])):
                return "/".join(parts[i:])
    return None


def event_data(ev, tz, type_codes=DEFAULT_TYPE_CODES) -> dict:
    """The activity values of a VEVENT, shared by :func:`import_ics` and the importer's
    ``ics`` format: plain values (aware UTC datetimes, ``type_code`` for the type,
    ``subject`` ``None`` when the event has none). Floating times and whole dates are
    taken in ``tz``. Raises :class:`RecordError` when the event cannot be an activity."""
    data: dict = {"subject": _text(ev, "summary", 300)}
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
    if ends > starts:
        data["ends_at"] = ends
    data["all_day"] = whole
    if isinstance(start.dt, dt.datetime) and start.dt.tzinfo is not None:
        key = zone_name(getattr(start.dt.tzinfo, "key", None), start.params.get("TZID"))
        if key:
            data["timezone"] = key
    elif whole or isinstance(start.dt, dt.datetime):
        # Whole days and floating times are wall-clock times of the zone they were read in.
        data["timezone"] = getattr(tz, "key", None) or "UTC"
    code = str(ev.get("x-kyklos-type") or "")
    data["type_code"] = code if code in type_codes else (
        "meeting" if ends > starts and not whole else "task"
    )
    uid = _text(ev, "uid", 200)
    rid = ev.get("recurrence-id")
    if rid is not None:
        rid_value = rid.dt
        if whole and isinstance(rid_value, dt.datetime):
            # Exchange gives an all-day occurrence as midnight in the organiser's zone
            # (RECURRENCE-ID;TZID=...): the occurrence is that day of the series.
            rid_value = rid_value.date()
        data["recurrence_id"], _w = _as_utc(rid_value, tz)
        if uid:
            data["external_uid"] = exception_key(uid, data["recurrence_id"])
    elif uid:
        data["external_uid"] = uid
    for field, name, limit in (("description", "description", 100_000),
                               ("location", "location", 300)):
        value = _text(ev, name, limit)
        if value:
            data[field] = value
    data["private"] = str(ev.get("class") or "").upper() in ("PRIVATE", "CONFIDENTIAL")
    rule = ev.get("rrule")
    if isinstance(rule, list):
        raise RecordError({"rrule": _(
            "The event has ${n} repetition rules (RRULE lines); an activity repeats by "
            "one rule: join them into one or split the event.", mapping={"n": len(rule)})})
    if rule is not None and rid is None:
        data["rrule"] = rule.to_ical().decode("ascii")
    reminders = _reminders(ev, starts)
    if reminders:
        data["reminders"] = reminders
    people = _people(ev)
    if people:
        data["attendees"] = people
    exdates = []
    raw_ex = ev.get("exdate")
    for group in raw_ex if isinstance(raw_ex, list) else ([raw_ex] if raw_ex else []):
        for item in group.dts:
            when, _w = _as_utc(item.dt, tz)
            exdates.append(when.isoformat().replace("+00:00", "Z"))
    if exdates and "rrule" in data:
        data["exdates"] = exdates
    rdates = []
    raw_r = ev.get("rdate")
    for group in raw_r if isinstance(raw_r, list) else ([raw_r] if raw_r else []):
        for item in group.dts:
            value = item.dt
            if isinstance(value, tuple):  # VALUE=PERIOD: the period's start
                value = value[0]
            when, _w = _as_utc(value, tz)
            rdates.append(when.isoformat().replace("+00:00", "Z"))
    if rdates and rid is None:
        data["rdates"] = sorted(set(rdates))
        if exdates and "exdates" not in data:
            data["exdates"] = exdates
    status = str(ev.get("x-kyklos-status") or "")
    if status:
        data["status"] = status[:40]
    elif str(ev.get("status") or "").upper() == "CANCELLED":
        data["status"] = "cancelled"
    return data


def _reminders(ev, starts: dt.datetime) -> list[int]:
    """Minutes before the start of the event's VALARMs (relative or absolute triggers)."""
    out: list[int] = []
    for alarm in ev.walk("VALARM"):
        trigger = alarm.get("trigger")
        if trigger is None:
            continue
        value = trigger.dt
        if isinstance(value, dt.timedelta):
            if str(trigger.params.get("RELATED", "START")).upper() == "END":
                continue
            minutes = int(-value.total_seconds() // 60)
        elif isinstance(value, dt.datetime):
            when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            minutes = int((starts - when).total_seconds() // 60)
        else:
            continue
        if 0 <= minutes <= 40320 and minutes not in out:
            out.append(minutes)
    return sorted(out)[:10]


_PARTSTAT_IN = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative",
                "NEEDS-ACTION": "needs-action", "DELEGATED": "needs-action"}


def _people(ev) -> list[dict]:
    """ORGANIZER and ATTENDEEs as ``{"email", "name", "cutype", "status"}``."""
    out: list[dict] = []
    for name in ("organizer", "attendee"):
        values = ev.get(name)
        for value in values if isinstance(values, list) else ([values] if values else []):
            address = str(value)
            email = address[7:] if address.lower().startswith("mailto:") else ""
            params = getattr(value, "params", {})
            status = "accepted" if name == "organizer" else _PARTSTAT_IN.get(
                str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(), "needs-action")
            out.append({"email": email.strip().lower()[:254],
                        "name": str(params.get("CN", "")).strip()[:200],
                        "cutype": str(params.get("CUTYPE", "INDIVIDUAL")).upper(),
                        "status": status})
    return out[:100]


def clean_people(raw) -> list[dict] | None:
    """``attendees`` as an import or API client sends them (a list, or its JSON text),
    in the shape of :func:`_people`; ``None`` when it is not such a list."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(raw, list) or len(raw) > 100:
        return None
    out = []
    for p in raw:
        if not isinstance(p, dict) or set(p) - {"email", "name", "cutype", "status"} \
                or not all(isinstance(v, str) for v in p.values()):
            return None
        status = p.get("status") or "needs-action"
        if status not in _PARTSTAT_OUT:
            return None
        email = p.get("email", "").strip().lower()[:254]
        name = p.get("name", "").strip()[:200]
        if not email and not name:
            return None
        out.append({"email": email, "name": name,
                    "cutype": (p.get("cutype") or "INDIVIDUAL").upper()[:20], "status": status})
    return out


def participants_for(request, people: list[dict]) -> tuple[list[dict], list[dict]]:
    """The participants the organiser and attendees name: users and people by e-mail
    (people only when the user may see them), resources (rooms) by name; and the
    external attendees (``{"email", "name", "status"}``): addresses that match nobody,
    kept so they are neither lost nor turned into contacts behind the user's back."""
    from kyklos_contacts.models import Person, PersonEmail
    from sqlalchemy import func

    from kyklos_sdk import User

    db = request.dbsession
    out: dict[tuple[str, int], str] = {}
    external: dict[str, dict] = {}
    person_et = get_entity_type(request, "person")
    for p in people:
        key = None
        if p["cutype"] in ("ROOM", "RESOURCE") and p["name"]:
            rid = db.execute(select(Resource.id).where(
                func.lower(Resource.name) == p["name"].lower(), Resource.active.is_(True))
            ).scalars().first()
            key = ("resource", rid) if rid else None
        if key is None and p["email"]:
            uid = db.execute(select(User.id).where(
                func.lower(User.email) == p["email"], User.is_active.is_(True))
            ).scalars().first()
            if uid:
                key = ("user", uid)
            elif request.has_permission(person_et.permission("read")):
                visible_people = visible_select(request, person_et).with_only_columns(Person.id)
                pid = db.execute(
                    select(PersonEmail.person_id).where(
                        func.lower(PersonEmail.email) == p["email"],
                        PersonEmail.person_id.in_(visible_people))
                ).scalars().first()
                key = ("person", pid) if pid else None
        if key is not None:
            out.setdefault(key, p["status"])
        elif p["email"] and p["email"] not in external:
            external[p["email"]] = {"email": p["email"], "name": p["name"],
                                    "status": p["status"]}
    return ([{"kind": k, "id": i, "status": s} for (k, i), s in out.items()],
            list(external.values()))


# Outlook and Exchange write "BYDAY=MO, TU": the space is not RFC 5545 but the meaning
# is plain, so it is dropped before parsing (only on unfolded RRULE/EXRULE lines).
_RULE_LINE = re.compile(rb"(?im)^((?:RRULE|EXRULE)[^:\r\n]*:)([^\r\n]*)")


def _tidy_rules(data: bytes) -> bytes:
    return _RULE_LINE.sub(lambda m: m.group(1) + re.sub(rb",\s+", b",", m.group(2)), data)


def parse_calendar(data) -> list:
    """The VEVENTs of an .ics document, series before their exceptions (an exception
    is linked to a series that must exist first). Raises :class:`RecordError`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_IMPORT_BYTES:
        raise RecordError({"file": _("The file is larger than 5 MB.")}, status=413)
    data = _tidy_rules(data)
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise RecordError({"file": _("Not an iCalendar file: ${why}",
                                     mapping={"why": str(exc)[:200]})}) from None
    events = list(cal.walk("VEVENT"))
    if len(events) > MAX_IMPORT_EVENTS:
        raise RecordError({"file": _("At most ${n} events per file.",
                                     mapping={"n": MAX_IMPORT_EVENTS})})
    return sorted(events, key=lambda ev: ev.get("recurrence-id") is not None)


#: the columns of the importer's ``ics`` format: field names, so they map themselves
ICS_COLUMNS = ("external_uid", "recurrence_id", "type_code", "subject", "starts_at", "ends_at",
               "all_day", "timezone", "rrule", "exdates", "rdates", "location", "description",
               "private", "status", "attendees")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def ics_rows(data: bytes, zone_name: str) -> list[list[str]]:
    """The importer's ``ics`` format (``kyklos_import_formats``): one row per VEVENT,
    the header first; floating times are taken in ``zone_name`` (the deployment's).
    A file that is not iCalendar raises ``ValueError``; an event that cannot be an
    activity becomes a row the record service rejects with the reason."""
    try:
        events = parse_calendar(data)
    except RecordError as exc:
        raise ValueError("; ".join(f"{k}: {translate_default(v)}"
                                   for k, v in exc.errors.items())) from None
    tz = recurrence.zone(zone_name)
    rows = [list(ICS_COLUMNS)]
    for ev in events:
        try:
            values = event_data(ev, tz)
        except RecordError:
            # No start: keep the row so the summary names it (starts_at is required).
            values = {"subject": _text(ev, "summary", 300),
                      "external_uid": _text(ev, "uid", 200), "type_code": "meeting"}
        except (ValueError, TypeError, AttributeError):
            values = {"subject": _text(ev, "summary", 300),
                      "external_uid": _text(ev, "uid", 200), "type_code": "?"}
        if not values.get("subject"):
            values["subject"] = values.get("location") or "—"
        rows.append([_cell(values.get(c)) for c in ICS_COLUMNS])
    return rows


def translate_default(msg) -> str:
    """An error message in the source language (the parser has no request)."""
    return msg.interpolate() if hasattr(msg, "interpolate") else str(msg)


def find_by_uid(request, uid: str):
    """The activity a UID refers to: one imported with it, or one we exported."""
    db = request.dbsession
    found = db.execute(select(Activity).where(Activity.external_uid == uid)).scalar_one_or_none()
    if found is not None:
        return found
    m = _OWN_UID.match(uid)
    if m:
        a = db.get(Activity, int(m.group(1)))
        if a is not None and a.recurrence_id is None and uid_of(request, a) == uid:
            return a
    return None


def _existing(request, fields: dict):
    """The activity an event updates: by its key, or the exception of one of our own
    series for the same occurrence (our feed exports exceptions without a key)."""
    key = fields.get("external_uid")
    if not key:
        return None
    found = find_by_uid(request, key)
    rid = fields.get("recurrence_id")
    if found is not None or rid is None:
        return found
    series = find_by_uid(request, series_uid_of(key, rid) or "")
    if series is None:
        return None
    return request.dbsession.execute(
        select(Activity).where(Activity.series_id == series.id, Activity.recurrence_id == rid)
    ).scalar_one_or_none()


def import_ics(request, data) -> tuple[int, int, list[dict]]:
    """Import the VEVENTs of an .ics document (bytes or str) as activities.

    An event whose UID was imported (or exported by us) before updates that activity;
    an event with a RECURRENCE-ID becomes an exception of its series (which then skips
    that occurrence). Each event is written on its own savepoint: a bad event is
    reported in ``errors`` (``{"uid", "summary", "errors"}``) and the others are kept.

    :return: ``(created, updated, errors)``
    """
    events = parse_calendar(data)
    db = request.dbsession
    et = get_entity_type(request, "activity")
    types_by_code = {t.code: t for t in db.execute(select(ActivityType)).scalars()}
    from .validation import user_zone

    tz = recurrence.zone(user_zone(request))
    created = updated = 0
    errors: list[dict] = []
    seen: set[str] = set()
    for ev in events:
        uid = _text(ev, "uid", 200)
        summary = _text(ev, "summary", 300) or ""
        try:
            fields = event_data(ev, tz, frozenset(types_by_code))
            fields["subject"] = fields["subject"] or request.localizer.translate(
                _("(no subject)"))
            fields["type_id"] = types_by_code[fields.pop("type_code")].id
            key = fields.get("external_uid")
            with db.begin_nested():
                record = _existing(request, fields)
                if record is not None:
                    if not visible(request, et, record):
                        raise RecordError({"uid": _("An activity you cannot see has this UID.")})
                    fields.pop("external_uid", None)
                    update_record(request, et, record, fields, source="import")
                    updated += 1
                else:
                    if key in seen:
                        raise RecordError({"uid": _("This UID appears twice in the file.")})
                    # One of ours whose activity is gone keeps its UID as well.
                    create_record(request, et, fields, source="import")
                    created += 1
            if key:
                seen.add(key)
        except RecordError as exc:
            errors.append({
                "uid": uid,
                "summary": summary,
                "errors": {k: request.localizer.translate(v) for k, v in exc.errors.items()},
            })
        except (HTTPForbidden, HTTPNotFound):
            errors.append({"uid": uid, "summary": summary,
                           "errors": {"": request.localizer.translate(_("Not allowed."))}})
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # A malformed property spoils only its own event.
            errors.append({"uid": uid, "summary": summary, "errors": {"": str(exc)[:200]}})
    return created, updated, errors


def visible(request, et, record) -> bool:
    stmt = visible_select(request, et).where(et.model.id == record.id)
    return request.dbsession.execute(stmt.with_only_columns(et.model.id)).first() is not None
