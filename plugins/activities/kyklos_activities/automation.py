"""The "create an activity" action of automation rules (WF-03): e.g. a follow-up task
for the owner three days after an opportunity was won.

Rule config: ``{"type": "task", "subject": "Call $record_title", "due_in_days": 3,
"description": "..."}``. The action runs in a job as no user, so it writes the row
itself (the checks of the write path need a user); the run id makes it idempotent.
"""

from __future__ import annotations

import datetime as dt
import string

from sqlalchemy import select

from kyklos_sdk import record_created, utcnow

from . import _
from .models import ACCEPTED, NEEDS_ACTION, Activity, ActivityType, Participant
from .validation import default_status, statuses_of

MAX_DAYS = 3650
KEYS = {"type", "subject", "due_in_days", "description", "priority"}


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
        if not isinstance(config.get("type"), str) or not config["type"]:
            out.append("create_activity: 'type' must be an activity type code, e.g. task")
        subject = config.get("subject")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 300:
            out.append("create_activity: 'subject' must be text of 1 to 300 characters")
        days = config.get("due_in_days", 0)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
            out.append(f"create_activity: 'due_in_days' must be 0 to {MAX_DAYS}")
        if config.get("priority", "normal") not in ("low", "normal", "high"):
            out.append("create_activity: 'priority' must be low, normal or high")
        return out

    def describe(self, request, entity_type, record, config) -> str:
        return f"create {config.get('type')} '{_subject(entity_type, record, config)}'"

    def run(self, request, entity_type, record, config, run) -> dict:
        return create_for(request, entity_type, record, config, getattr(run, "id", run))


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
    atype = db.execute(
        select(ActivityType).where(ActivityType.code == config["type"])
    ).scalar_one_or_none()
    if atype is None:
        raise ValueError(f"create_activity: no activity type {config['type']!r}")
    status = default_status(statuses_of(db, atype))
    owner = getattr(record, "owner_id", None)
    due = utcnow() + dt.timedelta(days=int(config.get("due_in_days") or 0))
    person_id = record.id if et.name == "person" else getattr(record, "person_id", None)
    account_id = record.id if et.name == "account" else getattr(record, "account_id", None)
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
        timezone=request.registry.settings.get("kyklos.activities.timezone") or "UTC",
        private=atype.private_by_default,
        responsible_id=owner,
        owner_id=owner,
        person_id=person_id,
        account_id=account_id,
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
