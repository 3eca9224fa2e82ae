"""The "create an activity" action of automation rules (WF-03): e.g. a follow-up task
for the owner one day after a meeting ends, or three days after an opportunity was won.

Rule config: ``{"type": "create_activity", "activity_type": "task", "subject": "Call
$record_title", "due_in_days": 3, "assignee": "owner", "description": "...",
"priority": "normal"}``. ``type`` names the action itself (every action's config has
it), so the activity type is ``activity_type``. The new activity is about what the
record is about (a meeting's person and account), or about the record itself. The
action runs in a job as no user, so it writes the row itself (the checks of the write
path need a user); the run id makes it idempotent.
"""

from __future__ import annotations

import datetime as dt
import string

from pyramid.threadlocal import get_current_request
from sqlalchemy import select

from kyklos_sdk import record_created, record_titles, utcnow

from . import _
from .models import ACCEPTED, NEEDS_ACTION, Activity, ActivityType, Participant
from .validation import default_status, default_zone, statuses_of

MAX_DAYS = 3650
KEYS = {"type", "activity_type", "subject", "due_in_days", "description", "priority",
        "assignee", "_index"}
PRIORITIES = (("low", _("Low")), ("normal", _("Normal")), ("high", _("High")))


class CreateActivityError(Exception):
    """The activity cannot be created (the run log shows this message)."""


def _user_fields(et) -> list:
    return [f for f in et.fields.values() if f.type == "reference" and f.reference == "user"]


class CreateActivity:
    type = "create_activity"
    title = _("Create an activity")

    def validate(self, registry, entity_type, config) -> list[str]:
        out = []
        if not isinstance(config, dict):
            return ["create_activity: config must be an object"]
        extra = set(config) - KEYS
        if extra:
            out.append(f"create_activity: unknown keys {sorted(extra)}")
        code = config.get("activity_type")
        if not isinstance(code, str) or not code:
            out.append("create_activity: 'activity_type' must be an activity type code, "
                       "e.g. task")
        elif _type_codes() is not None and code not in _type_codes():
            out.append(f"create_activity: no activity type {code!r}")
        subject = config.get("subject")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 300:
            out.append("create_activity: 'subject' must be text of 1 to 300 characters")
        days = config.get("due_in_days", 0)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
            out.append(f"create_activity: 'due_in_days' must be 0 to {MAX_DAYS}")
        if config.get("priority", "normal") not in dict(PRIORITIES):
            out.append("create_activity: 'priority' must be low, normal or high")
        who = config.get("assignee", "owner")
        names = {f"field:{f.name}" for f in _user_fields(entity_type)}
        if who != "owner" and who not in names:
            out.append("create_activity: 'assignee' must be owner or field:<a user field>")
        description = config.get("description")
        if description is not None and (not isinstance(description, str)
                                        or len(description) > 10000):
            out.append("create_activity: 'description' must be text")
        return out

    def describe(self, request, entity_type, record, config) -> str:
        return (f"create {config.get('activity_type')} "
                f"'{_subject(entity_type, record, config)}'")

    def params(self, request, entity_type) -> list[dict]:
        t = request.localizer.translate
        types = request.dbsession.execute(
            select(ActivityType).where(ActivityType.active.is_(True))
            .order_by(ActivityType.position, ActivityType.id)
        ).scalars().all()
        et_type = request.registry.kyklos_entities["activitytype"]
        titles = record_titles(request, et_type, types)
        who = [("owner", t(_("its owner")))] + [
            (f"field:{f.name}", t(f.title)) for f in _user_fields(entity_type)
            if f.name != "owner_id"
        ]
        return [
            {"name": "activity_type", "title": _("Activity type"), "kind": "choice",
             "choices": [(a.code, titles.get(a.id, a.title)) for a in types],
             "required": True, "default": "task"},
            {"name": "subject", "title": _("Subject"), "kind": "text", "required": True,
             "help": _("You may use $record_title, e.g. Follow up: $record_title.")},
            {"name": "assignee", "title": _("For"), "kind": "choice", "choices": who,
             "default": "owner"},
            {"name": "due_in_days", "title": _("Due after (days)"), "kind": "number",
             "default": 0},
            {"name": "priority", "title": _("Priority"), "kind": "choice",
             "choices": [(k, t(v)) for k, v in PRIORITIES], "default": "normal"},
            {"name": "description", "title": _("Description"), "kind": "textarea"},
        ]

    def summary(self, request, entity_type, config):
        t = request.localizer.translate
        code = config.get("activity_type")
        row = request.dbsession.execute(
            select(ActivityType).where(ActivityType.code == code)).scalar_one_or_none()
        kind = code
        if row is not None:
            kind = record_titles(
                request, request.registry.kyklos_entities["activitytype"], [row]
            ).get(row.id, row.title)
        who = config.get("assignee", "owner")
        if who == "owner":
            whom = t(_("its owner"))
        else:
            f = entity_type.fields.get(who.partition(":")[2])
            whom = t(_("the person in “${f}”", mapping={"f": t(f.title) if f else who}))
        days = int(config.get("due_in_days") or 0)
        mapping = {"kind": str(kind).lower(), "s": config.get("subject") or "", "who": whom,
                   "n": days}
        if days == 0:
            return _("create a ${kind} “${s}” for ${who}, due at once", mapping=mapping)
        return request.localizer.pluralize(
            "create a ${kind} “${s}” for ${who}, due ${n} day later",
            "create a ${kind} “${s}” for ${who}, due ${n} days later",
            days, domain="kyklos_activities", mapping=mapping,
        )

    def run(self, request, entity_type, record, config, run) -> dict:
        return create_for(request, entity_type, record, config, getattr(run, "id", run))


def _type_codes() -> set[str] | None:
    """The activity type codes, when a request (and its database session) is at hand."""
    request = get_current_request()
    db = getattr(request, "dbsession", None) if request is not None else None
    if db is None:
        return None
    return set(db.execute(select(ActivityType.code)).scalars())


def _subject(et, record, config) -> str:
    text = string.Template(str(config.get("subject") or "")).safe_substitute(
        record_title=et.record_title(record)
    )
    return text[:300]


def create_for(request, et, record, config, run_id) -> dict:
    """Create the activity for ``record`` once per rule firing ``run_id``."""
    db = request.dbsession
    key = f"automation:{run_id}:{et.name}:{record.id}"[:255]
    found = db.execute(select(Activity.id).where(Activity.external_uid == key)).scalar()
    if found is not None:
        return {"activity": found, "created": False}
    code = config.get("activity_type")
    atype = db.execute(
        select(ActivityType).where(ActivityType.code == code)
    ).scalar_one_or_none() if code else None
    if atype is None:
        raise CreateActivityError(
            f"create_activity: no activity type {code!r}; choose one in the rule"
            if code else "create_activity: the rule names no activity type; choose one"
        )
    status = default_status(statuses_of(db, atype))
    who = config.get("assignee") or "owner"
    owner = getattr(record, who.partition(":")[2] if who != "owner" else "owner_id", None)
    due = utcnow() + dt.timedelta(days=int(config.get("due_in_days") or 0))
    person_id = record.id if et.name == "person" else getattr(record, "person_id", None)
    account_id = record.id if et.name == "account" else getattr(record, "account_id", None)
    # A follow-up is about what the record was about (a meeting's opportunity), else
    # about the record itself when activities may be about its type.
    about_type, about_id = getattr(record, "about_type", None), getattr(record, "about_id", None)
    if et.name != "activity" and et.about:
        about_type, about_id = et.name, record.id
    activity = Activity(
        type_id=atype.id,
        subject=_subject(et, record, config),
        description=config.get("description"),
        status=status.code if status else "",
        state=status.category if status else "open",
        priority=config.get("priority") or "normal",
        due_at=due,
        span_start=due,
        span_end=due,
        timezone=default_zone(request),
        private=atype.private_by_default,
        responsible_id=owner,
        owner_id=owner,
        person_id=person_id,
        account_id=account_id,
        about_type=about_type,
        about_id=about_id,
        reminders=[],
        exdates=[],
        external_uid=key,
    )
    rows = []
    if owner:
        rows.append(Participant(kind="user", user_id=owner, status=ACCEPTED))
    if person_id:
        rows.append(Participant(kind="person", person_id=person_id, status=NEEDS_ACTION))
    if account_id:
        rows.append(Participant(kind="account", account_id=account_id, status=ACCEPTED))
    activity.participant_rows = rows
    db.add(activity)
    db.flush()
    # Written here (participants, the idempotency key), recorded like any other:
    # history, search, reminders and the workflow's own hooks.
    record_created(request, request.registry.kyklos_entities["activity"], activity,
                   source="job")
    return {"activity": activity.id, "created": True}
