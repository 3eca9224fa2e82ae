"""The activity form as a person reads it: type and status as drop-downs of translated
titles, the repeat rule as a picker (none / daily / weekly on days / monthly; until a
date or a number of times) that writes the RRULE, reminders as "N minutes / hours /
days before" rows, participants chosen with pickers (users, people, accounts, rooms and
equipment), and none of the technical fields (iCalendar UID, series, replaced
occurrence, parent activity, mass batch, time zone).

The core chooses the inputs of the plain nodes (pickers for references, the user's
time zone for date-times); this module gives the nodes of the activity's own values.
"""

from __future__ import annotations

import datetime as dt

import colander
import deform.widget
from sqlalchemy import select

from kyklos_sdk import (
    PickerWidget,
    RowColumn,
    Rows,
    RowsWidget,
    User,
    get_entity_type,
    record_titles,
    visible_select,
)

from . import _
from .models import Resource, Status

FREQS = (
    ("", _("Does not repeat")),
    ("DAILY", _("Daily")),
    ("WEEKLY", _("Weekly")),
    ("MONTHLY", _("Monthly")),
    ("YEARLY", _("Yearly")),
)
DAYS = (
    ("MO", _("Mon")),
    ("TU", _("Tue")),
    ("WE", _("Wed")),
    ("TH", _("Thu")),
    ("FR", _("Fri")),
    ("SA", _("Sat")),
    ("SU", _("Sun")),
)
ENDS = (("never", _("Never")), ("until", _("On a date")), ("count", _("After a number of times")))
UNITS = (("minutes", _("minutes before")), ("hours", _("hours before")), ("days", _("days before")))
MINUTES = {"minutes": 1, "hours": 60, "days": 1440}
#: the order of the form (fields not named here follow, in declaration order)
ORDER = (
    "type_id",
    "subject",
    "status",
    "priority",
    "starts_at",
    "ends_at",
    "all_day",
    "due_at",
    "rrule",
    "reminders",
    "location",
    "responsible_id",
    "participants",
    "account_id",
    "person_id",
    "private",
    "description",
    "owner_id",
)
#: never on the form: set by imports, series and mass actions, or derived
TECHNICAL = {
    "external_uid",
    "series_id",
    "recurrence_id",
    "parent_id",
    "mass_batch",
    "exdates",
    "timezone",
    "type_code",
    "span_start",
    "span_end",
    "state",
    "completed_at",
    "about_type",
    "about_id",
}


# --- repeat ---------------------------------------------------------------------------------


def parse_rrule(text: str | None) -> dict:
    """The picker's values of an RRULE (what the picker cannot show stays as it is)."""
    out = {
        "freq": "",
        "interval": 1,
        "days": set(),
        "ends": "never",
        "until": colander.null,
        "count": colander.null,
    }
    if not text:
        return out
    parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
    out["freq"] = parts.get("FREQ", "")
    if parts.get("INTERVAL", "").isdigit():
        out["interval"] = int(parts["INTERVAL"])
    if parts.get("BYDAY"):
        out["days"] = {d[-2:] for d in parts["BYDAY"].split(",")}
    if parts.get("COUNT", "").isdigit():
        out["ends"], out["count"] = "count", int(parts["COUNT"])
    elif parts.get("UNTIL"):
        raw = parts["UNTIL"]
        try:
            out["ends"] = "until"
            out["until"] = dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8])).isoformat()
        except ValueError:
            out["ends"] = "never"
    return out


def build_rrule(value: dict) -> str | None:
    freq = value.get("freq") or ""
    if not freq:
        return None
    parts = [f"FREQ={freq}"]
    interval = value.get("interval")
    if isinstance(interval, int) and interval > 1:
        parts.append(f"INTERVAL={interval}")
    days = [d for d, _t in DAYS if d in (value.get("days") or ())]
    if freq == "WEEKLY" and days:
        parts.append("BYDAY=" + ",".join(days))
    if value.get("ends") == "count" and isinstance(value.get("count"), int):
        parts.append(f"COUNT={value['count']}")
    elif value.get("ends") == "until" and value.get("until") not in (None, colander.null):
        day = value["until"]
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        # The whole last day counts: until its end (UTC, as RFC 5545 wants with a zone).
        parts.append(f"UNTIL={day:%Y%m%d}T235959Z")
    return ";".join(parts)


class RepeatType(colander.Mapping):
    """The repeat picker's mapping <-> an RRULE string (``None``: does not repeat)."""

    def serialize(self, node, appstruct):
        if appstruct is colander.null or isinstance(appstruct, str) or appstruct is None:
            appstruct = parse_rrule(appstruct or None)
        return super().serialize(node, appstruct)

    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if value is colander.null:
            return None
        if value.get("ends") == "until" and value.get("until") in (None, colander.null):
            raise colander.Invalid(node, _("Give the date of the last time."))
        if value.get("ends") == "count" and not isinstance(value.get("count"), int):
            raise colander.Invalid(node, _("Give how many times."))
        return build_rrule(value)


def repeat_node(title):
    node = colander.SchemaNode(
        RepeatType(unknown="ignore"),
        name="rrule",
        title=title,
        missing=None,
        widget=deform.widget.MappingWidget(css_class="k-repeat"),
    )
    node.add(
        colander.SchemaNode(
            colander.String(),
            name="freq",
            title=_("Frequency"),
            missing="",
            widget=deform.widget.SelectWidget(values=list(FREQS)),
        )
    )
    node.add(
        colander.SchemaNode(
            colander.Integer(),
            name="interval",
            title=_("Every"),
            missing=1,
            validator=colander.Range(1, 99),
            widget=deform.widget.TextInputWidget(
                attributes={"type": "number", "min": "1", "max": "99"}
            ),
        )
    )
    node.add(
        colander.SchemaNode(
            colander.Set(),
            name="days",
            title=_("On (weekly)"),
            missing=set(),
            widget=deform.widget.CheckboxChoiceWidget(values=list(DAYS), inline=True),
        )
    )
    node.add(
        colander.SchemaNode(
            colander.String(),
            name="ends",
            title=_("Ends"),
            missing="never",
            widget=deform.widget.SelectWidget(values=list(ENDS)),
        )
    )
    node.add(
        colander.SchemaNode(
            colander.Date(), name="until", title=_("Last date"), missing=colander.null
        )
    )
    node.add(
        colander.SchemaNode(
            colander.Integer(),
            name="count",
            title=_("Number of times"),
            missing=colander.null,
            validator=colander.Range(1, 999),
            widget=deform.widget.TextInputWidget(attributes={"type": "number", "min": "1"}),
        )
    )
    return node


# --- reminders ------------------------------------------------------------------------------


class ReminderRows(Rows):
    """Rows of "N unit before" <-> the list of minutes the API takes."""

    def serialize(self, node, appstruct):
        if appstruct in (colander.null, None):
            return []
        rows = []
        for minutes in appstruct:
            if not isinstance(minutes, int):
                continue
            unit = next(
                (u for u in ("days", "hours") if minutes and minutes % MINUTES[u] == 0), "minutes"
            )
            rows.append({"n": str(minutes // MINUTES[unit]), "unit": unit})
        return rows

    def deserialize(self, node, cstruct):
        rows = super().deserialize(node, cstruct)
        if rows is colander.null:
            return []
        out = []
        for row in rows:
            n = (row.get("n") or "").strip()
            if not n.isdigit():
                raise colander.Invalid(node, _("Give a whole number before each unit."))
            out.append(int(n) * MINUTES.get(row.get("unit") or "minutes", 1))
        return sorted(set(out))


def reminders_node(title):
    columns = [
        RowColumn("n", _("How long"), "text", required=True),
        RowColumn("unit", _("Unit"), "select", UNITS),
    ]
    return colander.SchemaNode(
        ReminderRows(columns),
        name="reminders",
        title=title,
        missing=[],
        widget=RowsWidget(columns=columns, blank_rows=1),
    )


# --- participants ---------------------------------------------------------------------------

PARTY_KINDS = ("user", "person", "account", "resource")


class ParticipantsType(colander.Mapping):
    """Pickers by kind <-> ``[{"kind": ..., "id": ...}]`` (answers are kept by the
    validation hook for those already taking part)."""

    def serialize(self, node, appstruct):
        if isinstance(appstruct, list):
            by_kind = {k: [] for k in PARTY_KINDS}
            for p in appstruct:
                by_kind.setdefault(p["kind"], []).append(str(p["id"]))
            appstruct = by_kind
        if appstruct in (colander.null, None):
            appstruct = {k: [] for k in PARTY_KINDS}
        return super().serialize(node, appstruct)

    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if value is colander.null:
            return []
        out = []
        for kind in PARTY_KINDS:
            for ref in value.get(kind) or ():
                if str(ref).isdigit() and len(str(ref)) < 18:
                    out.append({"kind": kind, "id": int(ref)})
        return out


class IdList(colander.SchemaType):
    def serialize(self, node, appstruct):
        if appstruct in (colander.null, None):
            return []
        return [str(v) for v in appstruct]

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None, ""):
            return []
        if isinstance(cstruct, str):
            cstruct = [cstruct]
        return [str(v) for v in cstruct if str(v).strip()]


def _chosen(request, record, kind) -> set[int]:
    ids = set(record.ids_of(kind)) if record is not None else set()
    if request.method == "POST":
        ids |= {int(v) for v in request.POST.getall(kind) if v.isdigit() and len(v) < 18}
    return ids


def participants_node(request, record, title):
    node = colander.SchemaNode(
        ParticipantsType(unknown="ignore"),
        name="participants",
        title=title,
        missing=[],
        widget=deform.widget.MappingWidget(css_class="k-participants"),
    )
    db = request.dbsession
    users = db.execute(
        select(User.id, User.name, User.email)
        .where(
            User.is_active.is_(True) | User.id.in_(sorted(_chosen(request, record, "user")) or [0]),
            # customers' portal logins are never participants staff choose
            User.is_portal.is_(False),
        )
        .order_by(User.name, User.email)
        .limit(500)
    ).all()
    resources = (
        db.execute(
            select(Resource)
            .where(
                Resource.active.is_(True)
                | Resource.id.in_(sorted(_chosen(request, record, "resource")) or [0])
            )
            .order_by(Resource.kind, Resource.name)
        )
        .scalars()
        .all()
    )
    options = {
        "user": (
            [(str(i), n or e, e if n else "") for i, n, e in users],
            request.route_path("activities.users_lookup"),
            _("Users"),
        ),
        "resource": (
            [(str(r.id), r.name, "") for r in resources],
            _lookup(request, "resource"),
            _("Rooms and equipment"),
        ),
    }
    for kind, label in (("person", _("People")), ("account", _("Accounts"))):
        et = request.registry.kyklos_entities.get(kind)
        chosen = _chosen(request, record, kind)
        rows = []
        if et is not None and chosen:
            rows = (
                db.execute(visible_select(request, et).where(et.model.id.in_(chosen)))
                .scalars()
                .all()
            )
        options[kind] = (
            [(str(r.id), getattr(r, "full_name", None) or et.record_title(r), "") for r in rows],
            _lookup(request, kind),
            label,
        )
    for kind in PARTY_KINDS:
        values, url, label = options[kind]
        node.add(
            colander.SchemaNode(
                IdList(),
                name=kind,
                title=label,
                missing=[],
                widget=PickerWidget(
                    values=values, lookup_url=url, multiple=True, css_class=f"k-party-{kind}"
                ),
            )
        )
    return node


def _lookup(request, name):
    et = request.registry.kyklos_entities.get(name)
    return request.route_path("entity.lookup", slug=et.slug) if et is not None else ""


# --- the schema -----------------------------------------------------------------------------


def status_widget(request):
    """Every status of every set by its translated title (codes repeat across sets: one
    option each); the validation hook refuses one the activity's type does not have."""
    rows = (
        request.dbsession.execute(select(Status).order_by(Status.position, Status.id))
        .scalars()
        .all()
    )
    et = get_entity_type(request, "activitystatus")
    titles = record_titles(request, et, rows)
    seen, values = set(), [("", _("Default of the type"))]
    for r in rows:
        if r.code in seen:
            continue
        seen.add(r.code)
        values.append((r.code, titles[r.id]))
    return deform.widget.SelectWidget(values=values)


def activity_schema(request, et, record=None):
    """The activity form (also the API's extra validators: none here, the validation
    hook judges every write path alike)."""
    from kyklos_sdk import FieldInfo  # noqa: F401 - the fields' declarations

    # No legend over the whole form: the page's heading says what it is.
    schema = colander.SchemaNode(colander.Mapping(unknown="ignore"), name=et.name, title="")
    fields = et.fields
    names = [n for n in ORDER if n in fields]
    names += [n for n, f in fields.items() if n not in names]
    for name in names:
        f = fields[name]
        if name in TECHNICAL or f.readonly or not f.form or f.custom:
            continue
        if name == "owner_id" and not request.has_permission(et.permission("assign")):
            continue
        kw = {
            "name": name,
            "title": f.title,
            "description": f.description or "",
            "missing": colander.required if f.required else None,
        }
        if name == "rrule":
            schema.add(repeat_node(_("Repeats")))
        elif name == "reminders":
            schema.add(reminders_node(_("Reminders")))
        elif name == "participants":
            schema.add(participants_node(request, record, f.title))
        elif name == "status":
            kw["missing"] = ""
            schema.add(colander.SchemaNode(colander.String(), widget=status_widget(request), **kw))
        elif f.type in ("reference", "integer"):
            schema.add(colander.SchemaNode(colander.Integer(), **kw))
        elif f.type == "datetime":
            schema.add(colander.SchemaNode(colander.DateTime(default_tzinfo=dt.UTC), **kw))
        elif f.type == "boolean":
            kw["missing"] = False
            schema.add(
                colander.SchemaNode(colander.Boolean(), widget=deform.widget.CheckboxWidget(), **kw)
            )
        elif f.type == "choice":
            values = [(str(v), t) for v, t in f.choices or ()]
            schema.add(
                colander.SchemaNode(
                    colander.String(), widget=deform.widget.SelectWidget(values=values), **kw
                )
            )
        elif f.type == "text":
            kw["missing"] = None
            schema.add(
                colander.SchemaNode(
                    colander.String(), widget=deform.widget.TextAreaWidget(rows=4), **kw
                )
            )
        elif f.type in ("string", "email", "phone", "url"):
            schema.add(colander.SchemaNode(colander.String(), **kw))
    # What the activity is about travels with the form ("new from here"), unseen.
    for name, typ in (("about_type", colander.String()), ("about_id", colander.Integer())):
        schema.add(
            colander.SchemaNode(typ, name=name, missing=None, widget=deform.widget.HiddenWidget())
        )
    return schema


def describe_rrule(request, text: str | None) -> str:
    """ "Weekly on Mon, Wed; 4 times" in the user's language (the rule itself when the
    picker cannot say it)."""
    if not text:
        return ""
    tr = request.localizer.translate
    v = parse_rrule(text)
    freq = dict(FREQS).get(v["freq"])
    if freq is None:
        return text
    out = tr(freq)
    if v["interval"] > 1:
        out += " " + tr(_("every ${n}", mapping={"n": v["interval"]}))
    days = [tr(t) for d, t in DAYS if d in v["days"]]
    if days:
        out += " " + tr(_("on ${days}", mapping={"days": ", ".join(days)}))
    if v["ends"] == "count":
        out += "; " + tr(_("${n} times", mapping={"n": v["count"]}))
    elif v["ends"] == "until":
        from kyklos_sdk import format_date

        out += "; " + tr(
            _(
                "until ${date}",
                mapping={"date": format_date(request, dt.date.fromisoformat(v["until"]))},
            )
        )
    return out
