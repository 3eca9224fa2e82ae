"""Entity types, roles and record rules: from these the core derives the API and pages."""

from __future__ import annotations

from kyklos_sdk import RelatedList

from . import _
from .form import activity_schema
from .models import (
    PRIORITIES,
    RESOURCE_KINDS,
    STATES,
    Activity,
    ActivityType,
    Resource,
    Status,
    StatusSet,
)

TITLES = {
    "type_id": _("Type"),
    "subject": _("Subject"),
    "description": _("Description"),
    "status": _("Status"),
    "state": _("State"),
    "priority": _("Priority"),
    "starts_at": _("Starts"),
    "ends_at": _("Ends"),
    "due_at": _("Due"),
    "all_day": _("All day"),
    "timezone": _("Time zone"),
    "location": _("Location"),
    "private": _("Private"),
    "responsible_id": _("Responsible"),
    "completed_at": _("Completed"),
    "rrule": _("Repeats"),
    "exdates": _("Skipped occurrences"),
    "rdates": _("Extra occurrences"),
    "external_attendees": _("External attendees"),
    "attendees": _("Attendees (iCalendar)"),
    "span_start": _("First start"),
    "span_end": _("Last end"),
    "reminders": _("Reminders"),
    "parent_id": _("Parent activity"),
    "account_id": _("Account"),
    "person_id": _("Person"),
    "about_type": _("About (type)"),
    "about_id": _("About"),
    "external_uid": _("iCalendar UID"),
    "series_id": _("Exception of series"),
    "recurrence_id": _("Replaced occurrence"),
    "type_code": _("Type code"),
    "mass_batch": _("Mass action"),
    "participants": _("Participants"),
    "owner_id": _("Owner"),
    "created_at": _("Created"),
    "updated_at": _("Updated"),
    "code": _("Code"),
    "title": _("Title"),
    "duration_required": _("Duration required"),
    "can_be_pending": _("Can be pending"),
    "private_by_default": _("Private by default"),
    "default_duration": _("Default duration (minutes)"),
    "color": _("Colour"),
    "icon": _("Icon"),
    "status_set_id": _("Status set"),
    "active": _("Active"),
    "position": _("Position"),
    "category": _("Category"),
    "is_default": _("Default"),
    "name": _("Name"),
    "kind": _("Kind"),
    "capacity": _("Capacity"),
}

DERIVED = ("state", "completed_at", "span_start", "span_end", "mass_batch")
ACTIVITY_FIELDS = (
    "subject", "type_id", "status", "state", "priority", "starts_at", "ends_at", "due_at",
)

ENTITIES = ("activity", "activitytype", "statusset", "activitystatus", "resource")
HELPERS = ("activitytype", "statusset", "activitystatus", "resource")


def fields_for(model, extra: dict | None = None) -> dict:
    cols = {col.key for col in model.__table__.columns}
    out = {name: {"title": title} for name, title in TITLES.items() if name in cols}
    for name, over in (extra or {}).items():
        out.setdefault(name, {}).update(over)
    return out


def choice(values) -> dict:
    return {"type": "choice", "choices": list(values)}


PRIORITY_CHOICES = [("low", _("Low")), ("normal", _("Normal")), ("high", _("High"))]
STATE_CHOICES = [("open", _("Open")), ("done", _("Done")), ("cancelled", _("Cancelled"))]
RESOURCE_CHOICES = [
    ("room", _("Room")),
    ("car", _("Car")),
    ("laptop", _("Laptop")),
    ("projector", _("Projector")),
    ("other", _("Other")),
]
assert [c for c, _t in PRIORITY_CHOICES] == list(PRIORITIES)
assert [c for c, _t in STATE_CHOICES] == list(STATES)
assert [c for c, _t in RESOURCE_CHOICES] == list(RESOURCE_KINDS)


def register_entity_types(config):
    config.add_entity_type(
        Resource,
        "resource",
        primary_filters=("name", "kind", "active"),
        lookup=True,
        title=_("Resource"),
        plural=_("Resources"),
        slug="resources",
        title_field="name",
        list_columns=("name", "kind", "capacity", "location", "active"),
        filters=("name", "kind", "active", "location"),
        sort=("name", "kind", "capacity"),
        search=("name", "location"),
        fields=fields_for(Resource, {"kind": choice(RESOURCE_CHOICES)}),
        icon="door-open",
        menu_order=34,
        description=_("Rooms, cars, laptops and other bookable things"),
    )
    config.add_entity_type(
        ActivityType,
        "activitytype",
        primary_filters=("active", "status_set_id"),
        lookup=True,
        title=_("Activity type"),
        plural=_("Activity types"),
        slug="activity-types",
        title_field="title",
        list_columns=("title", "code", "duration_required", "can_be_pending",
                      "private_by_default", "status_set_id", "active"),
        filters=("code", "active", "status_set_id"),
        sort=("title", "code", "position"),
        search=("title", "code"),
        fields=fields_for(ActivityType),
        default_sort="position",
        menu_group=None,
        icon="tags",
    )
    config.add_entity_type(
        StatusSet,
        "statusset",
        primary_filters=("name",),
        lookup=True,
        title=_("Status set"),
        plural=_("Status sets"),
        slug="status-sets",
        title_field="name",
        list_columns=("name",),
        filters=("name",),
        sort=("name",),
        search=("name",),
        fields=fields_for(StatusSet),
        related=(
            RelatedList("activitystatus", "status_set_id", _("Statuses")),
            RelatedList("activitytype", "status_set_id", _("Activity types")),
        ),
        menu_group=None,
        icon="list-check",
    )
    config.add_entity_type(
        Status,
        "activitystatus",
        primary_filters=("status_set_id", "category"),
        lookup=True,
        title=_("Activity status"),
        plural=_("Activity statuses"),
        slug="activity-statuses",
        title_field="title",
        list_columns=("title", "code", "category", "status_set_id", "position", "is_default"),
        filters=("status_set_id", "code", "category"),
        sort=("position", "title", "code"),
        fields=fields_for(Status, {"category": choice(STATE_CHOICES)}),
        default_sort="position",
        menu_group=None,
        icon="check2-circle",
    )
    # Last: its references to types, statuses and resources become reference fields
    # (pickers, titles) only when those types are registered before it.
    config.add_entity_type(
        Activity,
        "activity",
        primary_filters=("type_id", "state", "responsible_id", "due_at", "account_id"),
        about=True,
        # SEC-04: territory rules place the record by its account's country, else its person's
        territory_field=("account.country", "person.country"),
        title=_("Activity"),
        plural=_("Activities"),
        slug="activities",
        title_field="subject",
        list_columns=(
            "subject", "type_id", "starts_at", "due_at", "status", "responsible_id",
            "account_id", "person_id",
        ),
        filters=(
            *ACTIVITY_FIELDS, "responsible_id", "owner_id", "account_id", "person_id",
            "private", "parent_id", "mass_batch", "about_type", "about_id", "external_uid",
            "series_id", "recurrence_id",
            "span_start", "span_end",
            "completed_at", "created_at",
        ),
        sort=("subject", "starts_at", "due_at", "priority", "span_start", "created_at",
              "updated_at"),
        search=("subject", "location"),
        readonly=DERIVED,
        fields=fields_for(
            Activity,
            {
                "priority": choice(PRIORITY_CHOICES),
                "state": choice(STATE_CHOICES),
                "reminders": {"type": "json", "display": "reminders"},
                # Set from the record's page ("new from here", quick actions) or by the
                # API; the form carries them hidden and shows the record's title.
                "about_type": {
                    "form": False, "max_length": 60, "display": "about_type",
                    "description": _(
                        "The entity type of the record the activity is about, e.g. opportunity"
                    ),
                },
                "about_id": {"form": False, "display": "about_id", "description": _(
                    "The id of the record the activity is about")},
                "exdates": {"type": "json", "form": False, "display": "occurrence_list"},
                "rdates": {"type": "json", "form": False, "display": "occurrence_list",
                           "description": _(
                    "Extra occurrence starts besides the repeat rule (ISO 8601, RDATE)")},
                "external_attendees": {"type": "json", "form": False,
                                       "display": "external_attendees"},
                # An import convenience (the .ics ORGANIZER and ATTENDEEs): matched to
                # participants by e-mail, the others kept as external attendees.
                "attendees": {
                    "type": "json", "form": False, "title": TITLES["attendees"],
                    "description": _('A list like [{"email": "ann@example.com", "name": '
                                     '"Ann", "status": "accepted"}]'),
                },
                # Technical: kept by imports, series, mass actions and the validation
                # hook; the API and filters have them, forms and detail pages do not.
                "external_uid": {"form": False},
                "series_id": {"form": False},
                "parent_id": {"form": False},
                "mass_batch": {"form": False},
                "span_start": {"form": False},
                "span_end": {"form": False},
                "timezone": {"form": False, "description": _("IANA zone, e.g. Europe/Athens")},
                "rrule": {"display": "rrule",
                          "description": _("e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10")},
                "status": {"display": "activity_status"},
                "recurrence_id": {"form": False, "description": _(
                    "With the series: the original start of the occurrence this activity "
                    "replaces")},
                "type_code": {
                    "type": "string",
                    # An import and API convenience: forms have the Type select.
                    "form": False,
                    "title": TITLES["type_code"],
                    "max_length": 20,
                    "description": _("The type by its code (meeting, call, task...), "
                                     "instead of Type"),
                },
                "participants": {
                    "type": "json",
                    "display": "participants",
                    "title": TITLES["participants"],
                    "description": _(
                        'A list like [{"kind": "user", "id": 3}, {"kind": "resource", "id": 1}]'
                    ),
                },
            },
        ),
        related=(RelatedList("activity", "parent_id", _("Sub-activities")),),
        schema=activity_schema,
        icon="calendar-event",
        menu_order=30,
        description=_("Tasks, calls, meetings, e-mails, letters and visits"),
    )
    register_roles(config)


def register_roles(config):
    """Sales reps plan and do their own activities; managers see and assign their
    department subtree's and keep types, statuses and resources."""
    config.declare_permission("activities.calendar.view", _("See calendars and availability"))
    sales = ["activities.calendar.view"]
    # Import too: a rep brings their own Outlook or Google calendar (.ics).
    sales += [
        f"activities.activity.{v}"
        for v in ("read", "create", "update", "delete", "export", "import")
    ]
    sales += [f"activities.{e}.read" for e in HELPERS]
    manager = ["activities.calendar.view"]
    manager += [
        f"activities.{e}.{v}"
        for e in ENTITIES
        for v in ("read", "create", "update", "delete", "export", "import", "assign")
    ]
    config.extend_role("sales", sales)
    config.extend_role("manager", manager)
    # Ownership follows the responsible user (see hooks), so "own" covers what a rep
    # must complete and "subtree" what a manager assigned below them.
    for action in ("read", "write"):
        config.add_record_rule("activity", "sales", action, "own")
        config.add_record_rule("activity", "manager", action, "own")
        config.add_record_rule("activity", "manager", action, "subtree")
    for entity in HELPERS:
        config.add_record_rule(entity, "sales", "read", "all")
        config.add_record_rule(entity, "manager", "read", "all")
        config.add_record_rule(entity, "manager", "write", "all")
