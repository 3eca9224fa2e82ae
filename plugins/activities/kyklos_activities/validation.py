"""Checks and derived values of an activity write, run on every write path (API, forms,
import, mass actions) from the ``kyklos_record_validate`` hook."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kyklos_sdk import User, get_entity_type, site_setting, utcnow, visible_select

from . import _, about, org, recurrence
from .models import (
    ACCEPTED,
    DONE,
    NEEDS_ACTION,
    OPEN,
    PARTICIPANT_KINDS,
    Activity,
    ActivityType,
    Resource,
    Status,
    StatusSet,
)

MAX_PARTICIPANTS = 200
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 28 * 24 * 60
MAX_EXDATES = 500


def current(record, data: dict, name: str):
    """The value ``name`` will have after this write."""
    if name in data:
        return data[name]
    return getattr(record, name) if record is not None else None


def user_zone(request) -> str:
    ident = getattr(request, "identity", None)
    tz = getattr(ident.user, "timezone", None) if ident is not None else None
    if tz and recurrence.valid_zone(tz):
        return tz
    return default_zone(request)


def default_zone(request) -> str:
    """The zone of activities when the user has none: the deployment's explicit
    ``kyklos.activities.timezone``, else the site's default time zone (Settings)."""
    for tz in (
        request.registry.settings.get("kyklos.activities.timezone"),
        site_setting(request, "timezone.default"),
    ):
        if tz and recurrence.valid_zone(tz):
            return tz
    return "UTC"


def statuses_of(db, atype: ActivityType) -> list[Status]:
    return list(
        db.execute(
            select(Status)
            .where(Status.status_set_id == atype.status_set_id)
            .order_by(Status.position, Status.id)
        ).scalars()
    )


def default_status(statuses: list[Status]) -> Status | None:
    return next((s for s in statuses if s.is_default), statuses[0] if statuses else None)


def check_activity(request, record, data: dict, errors: dict, source: str) -> None:
    """Validate ``data`` for ``record`` (``None``: a new activity) and add the derived
    values (status default, state, completion time, end from the default duration,
    normalised recurrence, participants, span) to ``data``."""
    db = request.dbsession
    if "type_code" in data:
        _type_from_code(db, data, errors)
    type_id = current(record, data, "type_id")
    atype = db.get(ActivityType, type_id) if type_id else None
    if atype is None:
        errors.setdefault("type_id", _("Required."))
        return
    if "type_id" in data and not atype.active:
        errors["type_id"] = _("This activity type is no longer in use.")
    _check_status(db, record, data, errors, atype)
    if record is None:
        batch = request.environ.get("kyklos_activities.mass_batch")
        if batch and source == "bulk":
            data["mass_batch"] = batch
        if "private" not in data:
            data["private"] = atype.private_by_default
        if not data.get("timezone"):
            data["timezone"] = user_zone(request)
    tz_name = current(record, data, "timezone")
    if "timezone" in data and tz_name and not recurrence.valid_zone(tz_name):
        errors["timezone"] = _("Not a known time zone, e.g. Europe/Athens.")
        return
    _check_times(record, data, errors, atype, tz_name)
    _check_recurrence(db, record, data, errors, tz_name)
    _check_exception(request, record, data, errors)
    _check_external_uid(db, record, data, errors)
    _check_reminders(data, errors)
    _check_responsible(request, record, data, errors)
    about.check(request, record, data, errors)
    if "attendees" in data:
        _attendees(request, data, errors)
    _check_participants(request, record, data, errors, source)
    if not errors:
        _span(record, data)


def _check_status(db, record, data, errors, atype) -> None:
    statuses = statuses_of(db, atype)
    by_code = {s.code: s for s in statuses}
    code = current(record, data, "status")
    if code not in by_code:
        if "status" in data and code:
            codes = ", ".join(by_code)
            errors["status"] = _(
                "Not a status of this activity type; use one of: ${codes}.",
                mapping={"codes": codes},
            )
            return
        chosen = default_status(statuses)
        if chosen is None:
            errors["type_id"] = _("This activity type has no statuses.")
            return
        code = data["status"] = chosen.code
    state = by_code[code].category
    if record is None or record.state != state:
        data["state"] = state
    done_before = record is not None and record.completed_at is not None
    if state == DONE and not done_before:
        data["completed_at"] = utcnow()
    elif state != DONE and done_before:
        data["completed_at"] = None


def _local_midnight(value: dt.datetime, tz) -> dt.datetime:
    local = value.astimezone(tz)
    return dt.datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(dt.UTC)


def _check_times(record, data, errors, atype, tz_name) -> None:
    starts = current(record, data, "starts_at")
    ends = current(record, data, "ends_at")
    due = current(record, data, "due_at")
    all_day = current(record, data, "all_day")
    tz = recurrence.zone(tz_name)
    if all_day and starts is not None and any(
        k in data for k in ("starts_at", "ends_at", "all_day", "timezone")
    ):
        # An all-day activity covers whole local days: [midnight, midnight).
        first = _local_midnight(starts, tz)
        last = _local_midnight(ends, tz) if ends is not None else first
        if ends is None or last < ends or last <= first:
            local_last = last.astimezone(tz).date() + dt.timedelta(days=1)
            last = dt.datetime(
                local_last.year, local_last.month, local_last.day, tzinfo=tz
            ).astimezone(dt.UTC)
        if first != starts:
            data["starts_at"] = starts = first
        if last != ends:
            data["ends_at"] = ends = last
    if atype.duration_required:
        if starts is None:
            errors["starts_at"] = _("Required for this activity type.")
        if ends is None:
            errors["ends_at"] = _(
                "A ${type} needs a duration: give the end time.", mapping={"type": atype.title}
            )
    elif starts is not None and ends is None and atype.default_duration > 0:
        if "starts_at" in data or "ends_at" in data or record is None:
            data["ends_at"] = ends = starts + dt.timedelta(minutes=atype.default_duration)
    if not atype.can_be_pending and starts is None and due is None:
        errors.setdefault(
            "starts_at",
            _("A ${type} cannot be pending: give its date.", mapping={"type": atype.title}),
        )
    if ends is not None and starts is None:
        errors.setdefault("starts_at", _("Give the start as well as the end."))
    if starts is not None and ends is not None and ends < starts:
        errors["ends_at"] = _("The end is before the start.")


def _type_from_code(db, data, errors) -> None:
    code = data.pop("type_code")
    if code is None:
        return
    found = db.execute(select(ActivityType.id).where(ActivityType.code == code)).scalar()
    if found is None:
        errors["type_code"] = _("No activity type has this code.")
    elif "type_id" not in data:
        data["type_id"] = found
        # The record service found no type_id before this hook ran.
        errors.pop("type_id", None)
    elif data["type_id"] != found:
        errors["type_code"] = _("Give either the type or its code.")


def _exception_starts(db, record) -> list[str]:
    """The occurrences of a series that exceptions replace: always skipped."""
    if record is None:
        return []
    rows = db.execute(
        select(Activity.recurrence_id).where(
            Activity.series_id == record.id, Activity.recurrence_id.is_not(None)
        )
    ).scalars()
    return [iso_z(r) for r in rows]


def iso_z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _utc_list(values, errors, name) -> list[str] | None:
    """ISO 8601 date-times with a zone as sorted UTC strings; ``None`` (and the error
    on ``name``) when the value is not such a list."""
    if not isinstance(values, list) or len(values) > MAX_EXDATES:
        errors[name] = _("Send a list of ISO 8601 date-times.")
        return None
    clean = []
    for v in values:
        try:
            d = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        except ValueError:
            d = None
        if d is None or d.tzinfo is None:
            errors[name] = _("Send a list of ISO 8601 date-times with a zone.")
            return None
        clean.append(iso_z(d))
    return sorted(set(clean))


def _attendees(request, data, errors) -> None:
    """The ORGANIZER and ATTENDEEs an import gives (``attendees``), matched by
    :func:`ical.participants_for` on every import path: the matches become the
    participants, the others are kept in ``external_attendees``."""
    from . import ical

    raw = data.pop("attendees")
    if raw in (None, "", []):
        return
    people = ical.clean_people(raw)
    if people is None:
        errors["attendees"] = _(
            'Send a list like [{"email": "ann@example.com", "name": "Ann", '
            '"status": "accepted"}].')
        return
    found, external = ical.participants_for(request, people)
    if found:
        data["participants"] = found
    data["external_attendees"] = external


def _check_recurrence(db, record, data, errors, tz_name) -> None:
    rule = current(record, data, "rrule")
    if "rdates" in data:
        clean = _utc_list([] if data["rdates"] is None else data["rdates"], errors, "rdates")
        if clean is not None:
            data["rdates"] = clean
    if "exdates" in data:
        ex = [] if data["exdates"] is None else data["exdates"]
        if isinstance(ex, list):
            # A file or a client that does not know the exceptions must not bring the
            # replaced occurrences back.
            ex = ex + _exception_starts(db, record)
        if not isinstance(ex, list) or len(ex) > MAX_EXDATES:
            errors["exdates"] = _("Send a list of ISO 8601 date-times.")
        else:
            clean = []
            for v in ex:
                try:
                    d = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
                except ValueError:
                    d = None
                if d is None or d.tzinfo is None:
                    errors["exdates"] = _("Send a list of ISO 8601 date-times with a zone.")
                    break
                clean.append(iso_z(d))
            else:
                data["exdates"] = sorted(set(clean))
    if not rule:
        if "rrule" in data and data["rrule"] == "":
            data["rrule"] = None
        return
    if not any(k in data for k in ("rrule", "starts_at", "timezone")):
        return
    starts = current(record, data, "starts_at")
    if starts is None:
        errors["rrule"] = _("A repeating activity needs a start.")
        return
    try:
        text = recurrence.check(rule, starts, recurrence.zone(tz_name))
    except recurrence.RecurrenceError as exc:
        errors["rrule"] = _("Not a valid repeat rule: ${why}", mapping={"why": str(exc)[:200]})
        return
    if text != rule:
        data["rrule"] = text


def _check_exception(request, record, data, errors) -> None:
    """An exception replaces one real occurrence of a recurring activity, once."""
    if not any(k in data for k in ("series_id", "recurrence_id", "rrule")):
        return
    series_id = current(record, data, "series_id")
    rid = current(record, data, "recurrence_id")
    if series_id is None:
        return
    db = request.dbsession
    series = db.get(Activity, series_id)
    if series is None or not series.rrule or series.series_id is not None \
            or (record is not None and series.id == record.id):
        errors["series_id"] = _("Not a recurring activity.")
        return
    if rid is None:
        errors["recurrence_id"] = _("Give the start of the occurrence this one replaces.")
        return
    if current(record, data, "rrule"):
        errors["rrule"] = _("An exception of a series does not repeat itself.")
        return
    hits = recurrence.occurrences(series.starts_at, series.ends_at, series.rrule,
                                  series.timezone, [], rid, rid + dt.timedelta(seconds=1),
                                  rdates=series.rdates)
    if not any(s == rid for s, _e in hits):
        errors["recurrence_id"] = _("The series has no occurrence starting then.")
        return
    taken = db.execute(
        select(Activity.id).where(Activity.series_id == series.id,
                                  Activity.recurrence_id == rid)
    ).scalar()
    if taken is not None and (record is None or taken != record.id):
        errors["recurrence_id"] = _("This occurrence already has an exception: #${id}.",
                                    mapping={"id": taken})


def _check_external_uid(db, record, data, errors) -> None:
    """A UID names one activity: a second import of it is an update (``--key
    external_uid``), never a copy."""
    uid = data.get("external_uid")
    if not uid or (record is not None and record.external_uid == uid):
        return
    taken = db.execute(select(Activity.id).where(Activity.external_uid == uid)).scalar()
    if taken is not None:
        errors["external_uid"] = _(
            "Already imported as activity #${id}; import with the key external_uid to "
            "update it.", mapping={"id": taken})


def _check_reminders(data, errors) -> None:
    if "reminders" not in data:
        return
    value = data["reminders"] or []
    if (
        not isinstance(value, list)
        or len(value) > MAX_REMINDERS
        or any(
            isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_REMINDER_MINUTES
            for v in value
        )
    ):
        errors["reminders"] = _(
            "Send up to ${n} whole numbers of minutes (0 to 40320).", mapping={"n": MAX_REMINDERS}
        )
        return
    data["reminders"] = sorted(set(value))


def _acting_user_id(request) -> int | None:
    ident = getattr(request, "identity", None)
    return ident.user.id if ident is not None else None


def _check_responsible(request, record, data, errors) -> None:
    """ACT-04: work goes to oneself or to a subordinate in the org chart; the owner
    follows the responsible user, so record rules let them complete it."""
    me = _acting_user_id(request)
    if record is None and not data.get("responsible_id") and me is not None:
        data["responsible_id"] = me
    if "responsible_id" not in data:
        return
    new = data["responsible_id"]
    old = record.responsible_id if record is not None else None
    if new is None or new == old:
        return
    if me is not None and new != me and not request.has_permission("kyklos.admin"):
        if new not in org.subordinates(request.dbsession, me):
            errors["responsible_id"] = _(
                "You may assign activities only to yourself or to your subordinates."
            )
            return
    owner = current(record, data, "owner_id")
    if owner != new:
        data["owner_id"] = new


def _check_participants(request, record, data, errors, source) -> None:
    touched = ("participants", "responsible_id", "person_id", "account_id")
    if record is not None and not any(k in data for k in touched):
        return
    raw = data["participants"] if "participants" in data else (
        record.participants if record is not None else []
    )
    if raw is None:
        raw = []
    if not isinstance(raw, list) or len(raw) > MAX_PARTICIPANTS:
        errors["participants"] = _("Send a list of at most ${n} participants.",
                                   mapping={"n": MAX_PARTICIPANTS})
        return
    existing = {(p["kind"], p["id"]): p["status"] for p in (record.participants if record else [])}
    me = _acting_user_id(request)
    responsible = current(record, data, "responsible_id")
    wanted: dict[tuple[str, int], str] = {}
    for item in raw:
        if (
            not isinstance(item, dict)
            or item.get("kind") not in PARTICIPANT_KINDS
            or isinstance(item.get("id"), bool)
            or not isinstance(item.get("id"), int)
            or set(item) - {"kind", "id", "status"}
        ):
            errors["participants"] = _(
                'Each participant is {"kind": "user|person|account|resource", "id": 1}.'
            )
            return
        key = (item["kind"], item["id"])
        status = existing.get(key)
        if source == "import" and item.get("status") in (
                NEEDS_ACTION, ACCEPTED, "declined", "tentative"):
            # The file's PARTSTAT is the participant's answer, on a re-import as well.
            status = item["status"]
        elif status is None:
            if item["kind"] in ("account", "resource") or item["id"] in (me, responsible) \
                    and item["kind"] == "user":
                status = ACCEPTED
            else:
                status = NEEDS_ACTION
        wanted[key] = status
    # The responsible user and the main person and account take part too.
    if responsible:
        wanted.setdefault(("user", responsible), ACCEPTED)
    for kind in ("person", "account"):
        ref = current(record, data, f"{kind}_id")
        if ref:
            wanted.setdefault((kind, ref), ACCEPTED if kind == "account" else NEEDS_ACTION)
    bad = _missing_refs(request, wanted, existing)
    if bad:
        errors["participants"] = _("Not found: ${refs}", mapping={"refs": ", ".join(bad)})
        return
    items = [{"kind": k, "id": i, "status": s} for (k, i), s in wanted.items()]
    if record is None or items != record.participants:
        data["participants"] = items


def _missing_refs(request, wanted, existing) -> list[str]:
    """Participants that do not exist or that the user may not link (new ones only)."""
    db = request.dbsession
    new = {}
    for kind, ref in wanted:
        if (kind, ref) not in existing:
            new.setdefault(kind, set()).add(ref)
    bad = []
    for kind, ids in new.items():
        if kind == "user":
            found = set(
                db.execute(
                    select(User.id).where(User.id.in_(ids), User.is_active.is_(True),
                                          User.is_portal.is_(False))
                ).scalars()
            )
        elif kind == "resource":
            found = set(
                db.execute(
                    select(Resource.id).where(Resource.id.in_(ids), Resource.active.is_(True))
                ).scalars()
            )
        else:
            et = get_entity_type(request, kind)
            stmt = visible_select(request, et).where(et.model.id.in_(ids))
            found = set(db.execute(stmt.with_only_columns(et.model.id)).scalars())
        bad += [f"{kind} {i}" for i in sorted(ids - found)]
    return bad


def _span(record, data) -> None:
    keys = ("starts_at", "ends_at", "due_at", "rrule", "exdates", "rdates", "timezone")
    if record is not None and not any(k in data for k in keys):
        return
    starts = current(record, data, "starts_at")
    ends = current(record, data, "ends_at")
    due = current(record, data, "due_at")
    first = starts or due
    if first is None:
        span = (None, None)
    elif starts is None:
        span = (due, due)
    else:
        last = recurrence.last_end(
            starts, ends, current(record, data, "rrule"), current(record, data, "timezone"),
            current(record, data, "exdates"), current(record, data, "rdates"),
        )
        span = (starts, last)
    for name, value in zip(("span_start", "span_end"), span, strict=True):
        if record is None or getattr(record, name) != value:
            data[name] = value


#: entity type -> the fields that together are unique (the tables' unique constraints)
UNIQUE = {
    "statusset": (StatusSet, ("name",)),
    "activitytype": (ActivityType, ("code",)),
    "activitystatus": (Status, ("status_set_id", "code")),
}


def check_unique(request, entity_type, record, data: dict, errors: dict) -> None:
    """A second status set with a name, type with a code or status with a code in its
    set is a clear error on the field, not a failed insert (the database still has the
    last word when two administrators race)."""
    model, names = UNIQUE[entity_type.name]
    if not any(n in data for n in names) or any(n in errors for n in names):
        return
    values = {n: current(record, data, n) for n in names}
    if any(v is None for v in values.values()):
        return
    stmt = select(model.id).where(*(getattr(model, n) == v for n, v in values.items()))
    if record is not None and record.id is not None:
        stmt = stmt.where(model.id != record.id)
    if request.dbsession.execute(stmt.limit(1)).first() is not None:
        errors[names[-1]] = {
            "statusset": _("A status set with this name exists."),
            "activitytype": _("An activity type with this code exists."),
            "activitystatus": _("This set already has a status with this code."),
        }[entity_type.name]


def workflow_problems(request, wf) -> list:
    """Why a workflow on activities would break their rules (``kyklos_workflow_constraints``):
    a workflow on a derived field; for one on ``status``, per status set in use: the
    start (each type's default status), the states against the set's statuses, and a plain
    step to a "done" status from every open one ("Mark done" takes it)."""
    from .registry import DERIVED

    tr = request.localizer.translate
    if wf.field in DERIVED:
        return [_("“${f}” is worked out from the status: put the workflow on “Status”.",
                  mapping={"f": wf.field})]
    if wf.field != "status":
        return []
    db = request.dbsession
    types = db.execute(select(ActivityType).where(ActivityType.active.is_(True))
                       .order_by(ActivityType.position, ActivityType.id)).scalars().all()
    by_set: dict[int, list[ActivityType]] = {}
    for t in types:
        by_set.setdefault(t.status_set_id, []).append(t)
    states = {s.name for s in wf.states}
    out = []
    for set_id, set_types in by_set.items():
        sset = db.get(StatusSet, set_id)
        statuses = statuses_of(db, set_types[0])
        names = ", ".join(tr(_(t.title)) for t in set_types)
        m = {"set": sset.name if sset else "", "types": names}
        default = default_status(statuses)
        if default is not None and default.code != wf.initial:
            out.append(_("New activities of type ${types} start in “${d}”, the default of the "
                         "status set “${set}”; the workflow starts in “${i}”.",
                         mapping={**m, "d": tr(_(default.title)),
                                  "i": wf.state_label(wf.initial)}))
        codes = {s.code for s in statuses}
        for st in wf.states:
            if st.name not in codes:
                out.append(_("State “${s}” is not a status of the set “${set}” (${types}).",
                             mapping={**m, "s": st.label}))
        for status in statuses:
            if status.code not in states:
                out.append(_("The status “${st}” of the set “${set}” (${types}) is not a state: "
                             "activities in it would be stuck.",
                             mapping={**m, "st": tr(_(status.title))}))
        done = {s.code for s in statuses if s.category == DONE}
        if not done:
            continue
        done_titles = ", ".join(tr(_(s.title)) for s in statuses if s.code in done)
        for status in statuses:
            if status.category != OPEN or status.code not in states:
                continue
            plain = [t for t in wf.from_state(status.code)
                     if t.target in done and t.approval is None and not t.required]
            if not plain:
                out.append(_("“Mark done” would not work from “${s}” (${types}): add a step "
                             "from it to ${done} without an approval or required fields.",
                             mapping={**m, "s": tr(_(status.title)), "done": done_titles}))
    return out
