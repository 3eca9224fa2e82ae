"""The default status sets (ACT-12) and activity types (ACT-10). The initial migration
seeds a frozen copy; :func:`ensure_defaults` re-creates whatever is missing (after a
database was emptied, or for demo data)."""

from __future__ import annotations

from sqlalchemy import select

from .models import ActivityType, Status, StatusSet

#: status set name -> [(code, title, category, is_default)]
STATUS_SETS = {
    "Standard": [
        ("planned", "Planned", "open", True),
        ("in_progress", "In progress", "open", False),
        ("done", "Done", "done", False),
        ("cancelled", "Cancelled", "cancelled", False),
    ],
    "Approval": [
        ("requested", "Requested", "open", True),
        ("for_approval", "For approval", "open", False),
        ("approved", "Approved", "open", False),
        ("in_progress", "In progress", "open", False),
        ("done", "Done", "done", False),
        ("rejected", "Rejected", "cancelled", False),
        ("cancelled", "Cancelled", "cancelled", False),
    ],
    "Correspondence": [
        ("draft", "Draft", "open", True),
        ("to_send", "To send", "open", False),
        ("sent", "Sent", "done", False),
        ("received", "Received", "done", False),
        ("cancelled", "Cancelled", "cancelled", False),
    ],
}
#: (code, title, duration required, can be pending, private by default, default minutes,
#:  colour, icon, status set)
TYPES = [
    ("meeting", "Meeting", True, False, False, 60, "#0d6efd", "people", "Standard"),
    ("call", "Call", False, True, False, 15, "#198754", "telephone", "Standard"),
    ("task", "Task", False, True, False, 0, "#6f42c1", "check2-square", "Approval"),
    ("email", "E-mail", False, True, False, 0, "#0dcaf0", "envelope", "Correspondence"),
    ("sms", "SMS", False, True, False, 0, "#20c997", "chat-dots", "Correspondence"),
    ("letter", "Letter", False, True, False, 0, "#6c757d", "mailbox", "Correspondence"),
    ("fax", "Fax", False, True, False, 0, "#adb5bd", "printer", "Correspondence"),
    ("visit", "Visit", True, False, False, 90, "#fd7e14", "geo-alt", "Standard"),
]


def ensure_defaults(db) -> dict[str, ActivityType]:
    """Create the default status sets, statuses and types that are missing; returns the
    types by code."""
    sets = {s.name: s for s in db.execute(select(StatusSet)).scalars()}
    for name, rows in STATUS_SETS.items():
        if name in sets:
            continue
        s = StatusSet(name=name)
        db.add(s)
        db.flush()
        sets[name] = s
        for pos, (code, title, category, default) in enumerate(rows):
            db.add(Status(status_set_id=s.id, code=code, title=title, category=category,
                          position=pos, is_default=default))
    types = {t.code: t for t in db.execute(select(ActivityType)).scalars()}
    for pos, (code, title, duration, pending, private, minutes, color, icon, set_name) in \
            enumerate(TYPES):
        if code in types:
            continue
        t = ActivityType(
            code=code, title=title, duration_required=duration, can_be_pending=pending,
            private_by_default=private, default_duration=minutes, color=color, icon=icon,
            status_set_id=sets[set_name].id, active=True, position=pos,
        )
        db.add(t)
        types[code] = t
    db.flush()
    return types


# The seeded titles as message ids of this plugin's catalog: the core shows a lookup
# record's stored title translated by it (kyklos_sdk.record_title); marked here so the
# catalog keeps them.
from . import _  # noqa: E402

SEEDED_TITLES = (
    _("Standard"), _("Approval"), _("Correspondence"),
    _("Planned"), _("In progress"), _("Done"), _("Cancelled"), _("Requested"),
    _("For approval"), _("Approved"), _("Rejected"), _("Draft"), _("To send"), _("Sent"),
    _("Received"),
    _("Meeting"), _("Call"), _("Task"), _("E-mail"), _("SMS"), _("Letter"), _("Fax"),
    _("Visit"),
)
