"""Hook implementations: validation and derived values of every activity write,
bookings and invitations after it, timelines and panels of people and accounts, menu
entries and record actions."""

from __future__ import annotations

from pyramid.renderers import render
from sqlalchemy import func, or_, select

from kyklos_sdk import (
    Action,
    MenuItem,
    Panel,
    can_access,
    format_datetime,
    hookimpl,
)

from . import _, about, bookings, calendar, exceptions, ical, quick, validation
from .models import NEEDS_ACTION, OPEN, Activity, Participant

TIMELINE_LIMIT = 50
PANEL_LIMIT = 10
#: open activities counted for the summary (more are shown as this many)
SUMMARY_SCAN = 200
BOOKING_FIELDS = ("participants", "starts_at", "ends_at", "rrule", "exdates", "rdates",
                  "timezone", "state")


def _is_activity(entity_type) -> bool:
    return entity_type.name == "activity" and entity_type.plugin == "activities"


def party_clause(kind: str, ref_id: int):
    """Activities in which the person or account ``ref_id`` takes part."""
    return Activity.id.in_(
        select(Participant.activity_id).where(
            Participant.kind == kind, getattr(Participant, f"{kind}_id") == ref_id
        )
    )


def when_of(activity):
    return activity.starts_at or activity.due_at or activity.created_at


def invite(request, activity, user_ids) -> None:
    """Tell invited users (ACT-04); they accept or decline on the invitation page. Each
    reads the time in their own time zone."""
    from .reminders import when_for

    notify = getattr(request, "notify", None)
    me = calendar.viewer_id(request)
    targets = [u for u in user_ids if u != me]
    if notify is None or not targets:
        return
    for uid in targets:
        when = when_for(request, uid, activity.starts_at, activity) if activity.starts_at \
            else ""
        notify(
            [uid],
            _("Invitation: ${subject}", mapping={"subject": activity.subject}),
            body=when,
            url=request.route_path("activities.invitation", id=activity.id),
            kind="invitation",
        )


def _assigned(request, activity) -> None:
    notify = getattr(request, "notify", None)
    rid = activity.responsible_id
    if notify is None or not rid or rid == calendar.viewer_id(request):
        return
    notify(
        [rid],
        _("Assigned to you: ${subject}", mapping={"subject": activity.subject}),
        url=request.route_path("entity.detail", slug="activities", id=activity.id),
        kind="assignment",
    )


class Hooks:
    def __init__(self, settings=None, registry=None):
        #: floating times in imported .ics files are taken in the organisation's zone:
        # an .ini zone for activities wins, else the Settings page's (read when a file is
        # parsed, so a change on that page applies at once), else the .ini's site zone.
        settings = settings or {}
        self.settings, self.registry = settings, registry

    @property
    def zone(self) -> str:
        explicit = self.settings.get("kyklos.activities.timezone")
        if explicit:
            return explicit
        if self.registry is not None and "dbsession_factory" in self.registry:
            from kyklos_sdk import request_as, site_setting

            # a read of its own: the parser is called with bytes only, no request
            with request_as(self.registry) as request:
                zone = site_setting(request, "timezone.default")
            if zone:
                return zone
        return self.settings.get("kyklos.timezone") or "UTC"

    def _ics_rows(self, data: bytes) -> list[list[str]]:
        return ical.ics_rows(data, zone_name=self.zone)

    @hookimpl
    def kyklos_import_formats(self):
        return [("ics", self._ics_rows)]

    @hookimpl
    def kyklos_visibility_restrictions(self, request, entity_type, action):
        # A private activity exists only for its owner, its responsible person and the
        # users taking part, whatever the record rules would otherwise show (ACT-10).
        if entity_type.name != "activity":
            return None
        ident = request.identity
        if ident is None:
            return None
        uid = ident.user.id
        taking_part = select(Participant.activity_id).where(
            Participant.kind == "user", Participant.user_id == uid)
        return [or_(Activity.private.is_(False), Activity.owner_id == uid,
                    Activity.responsible_id == uid, Activity.id.in_(taking_part))]

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors, source):
        if _is_activity(entity_type):
            validation.check_activity(request, record, data, errors, source)
        elif entity_type.name in validation.UNIQUE and entity_type.plugin == "activities":
            validation.check_unique(request, entity_type, record, data, errors)

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created, source):
        if not _is_activity(entity_type):
            return
        # The series gives up the occurrence before this exception books its resources.
        if record.recurrence_id is not None and (
            created or "recurrence_id" in changes or "series_id" in changes
        ):
            exceptions.link(request, record, source)
        if record.rrule and (created or "rrule" in changes or "external_uid" in changes):
            exceptions.adopt(request, record, source)
        if created or any(k in changes for k in BOOKING_FIELDS):
            bookings.sync(request, record)
        if "participants" in changes:
            old, new = changes["participants"]
            before = {p["id"] for p in old or () if p["kind"] == "user"}
            invited = [
                p["id"]
                for p in new or ()
                if p["kind"] == "user" and p["id"] not in before and p["status"] == NEEDS_ACTION
            ]
            if source != "import":
                invite(request, record, invited)
        if "responsible_id" in changes and not created and source != "import":
            _assigned(request, record)

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        """The activities about the record (and, for people and accounts, those they
        take part in), on the page of every entity type declared ``about=True``."""
        if not entity_type.about or not request.has_permission("activities.activity.read"):
            return None
        return quick.timeline(request, entity_type, record)

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        """The "Activities" panel of every ``about`` type; the participants of an
        activity, with invitation answers and resources."""
        out = []
        if _is_activity(entity_type):
            out.append(participants_panel(request, entity_type, record))
        if entity_type.about:
            p = quick.panel(request, entity_type, record)
            if p is not None:
                out.append(p)
        return out or None

    @hookimpl
    def kyklos_record_summary(self, request, entity_type, record):
        """CON-14: the open activities of a person or account."""
        if entity_type.name not in ("person", "account") or entity_type.plugin != "contacts":
            return None
        if not request.has_permission("activities.activity.read"):
            return None
        db = request.dbsession
        clause = about.clause(entity_type.name, record.id)
        rows = db.execute(
            select(Activity)
            .where(clause, Activity.state == OPEN)
            .order_by(func.coalesce(Activity.due_at, Activity.starts_at).is_(None),
                      func.coalesce(Activity.due_at, Activity.starts_at), Activity.id)
            .limit(SUMMARY_SCAN)
        ).scalars().all()
        vis = calendar.visibility(request, rows)
        shown = [a for a in rows if vis[a.id]]  # what the user may not see is not counted
        if not shown:
            return None
        total = len(shown)
        items = [
            (
                a.subject,
                request.route_path("activities.invitation", id=a.id),
                format_datetime(request, a.due_at or a.starts_at, "short")
                if (a.due_at or a.starts_at) else "",
            )
            for a in shown[:PANEL_LIMIT]
        ]
        return [Panel(title=_("Open activities"), items=items, count=total, order=20)]

    @hookimpl
    def kyklos_automation_actions(self):
        from .automation import CreateActivity

        return [CreateActivity()]

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        out = []
        if entity_type.about and request.has_permission("activities.activity.create"):
            # Quick actions on every record activities can be about (lead, opportunity,
            # quote, account, person, and the types of plugins still to come).
            for title, url, _icon in quick.quick_links(request, entity_type, record):
                out.append(Action(title, url, permission="activities.activity.create"))
            if not _is_activity(entity_type):
                query = {"from": f"{entity_type.name}:{record.id}"}
                if entity_type.name in ("person", "account"):
                    query[f"{entity_type.name}_id"] = record.id  # the form's own prefill
                url = request.route_path("entity.new", slug="activities", _query=query)
                out.append(Action(_("New activity"), url,
                                  permission="activities.activity.create"))
        if _is_activity(entity_type) and record.state == OPEN:
            out += [
                Action(
                    _("Mark done"),
                    request.route_path("activities.complete", id=record.id),
                    method="post",
                    style="success",
                    permission="activities.activity.update",
                )
            ]
        return out or None

    @hookimpl
    def kyklos_workflow_constraints(self, request, entity_type, workflow):
        # A workflow on activities must keep what this plugin derives from the status
        # (state, completion) and its "Mark done" action working.
        if _is_activity(entity_type):
            return validation.workflow_problems(request, workflow)
        return None

    @hookimpl
    def kyklos_admin_items(self, request):
        # Types, their status sets (ACT-10/12) and resources are set up once by an
        # administrator or manager, so they live on the administration page.
        group = _("Activities")
        return [
            MenuItem(title, request.route_url("entity.list", slug=slug),
                     permission=f"activities.{name}.update", group=group)
            for title, slug, name in (
                (_("Activity types"), "activity-types", "activitytype"),
                (_("Status sets"), "status-sets", "statusset"),
                (_("Resources"), "resources", "resource"),
            )
        ]

    @hookimpl
    def kyklos_menu_items(self, request):
        perm = "activities.calendar.view"
        return [
            MenuItem(_("Calendar"), request.route_path("activities.calendar"), perm,
                     "calendar3", order=29),
            MenuItem(_("My open items"), request.route_path("activities.mine"), perm,
                     "list-task", order=31),
            MenuItem(_("Availability"), request.route_path("activities.availability"), perm,
                     "clock", order=32),
            MenuItem(_("Mass activity"), request.route_path("activities.mass"),
                     "activities.activity.create", "people", order=33),
        ]


def add_pickers(request, activity) -> list[tuple]:
    """``(kind, label, lookup url, options)`` of the "add participants" pickers: users
    and rooms listed in full (few), people and accounts searched as one types."""
    from kyklos_sdk import User

    from .models import Resource

    db = request.dbsession
    taken = {(p.kind, p.ref_id) for p in activity.participant_rows}
    users = [(str(u.id), u.title) for u in db.execute(
        select(User).where(User.is_active.is_(True), User.is_portal.is_(False))
        .order_by(User.name, User.id).limit(300)
    ).scalars() if ("user", u.id) not in taken]
    rooms = [(str(r.id), r.name) for r in db.execute(
        select(Resource).where(Resource.active.is_(True)).order_by(Resource.kind, Resource.name)
    ).scalars() if ("resource", r.id) not in taken]
    out = [("user", _("Users"), request.route_path("activities.users_lookup"), users)]
    for kind, label in (("person", _("People")), ("account", _("Accounts"))):
        et = request.registry.kyklos_entities.get(kind)
        if et is not None and request.has_permission(et.permission("read")):
            out.append((kind, label, request.route_path("entity.lookup", slug=et.slug), []))
    res = request.registry.kyklos_entities.get("resource")
    out.append(("resource", _("Rooms and equipment"),
                request.route_path("entity.lookup", slug=res.slug) if res else "", rooms))
    return out


def participants_panel(request, entity_type, activity) -> Panel:
    can_edit = request.has_permission("activities.activity.update") and can_access(
        request, entity_type, activity, "update")
    html = render(
        "kyklos_activities:templates/participants_panel.pt",
        {
            "activity": activity,
            "people": participant_rows(request, activity),
            "can_edit": can_edit,
            "about": about.title_of(request, activity.about_type, activity.about_id),
            "about_kind": request.localizer.translate(
                request.registry.kyklos_entities[activity.about_type].title)
            if activity.about_type in request.registry.kyklos_entities else "",
            "pickers": add_pickers(request, activity) if can_edit else [],
        },
        request=request,
    )
    count = len(activity.participant_rows) + len(activity.external_attendees or ())
    return Panel(title=_("Participants"), html=html, count=count, order=10)


def participant_rows(request, activity) -> list[dict]:
    """Participants with display names, for pages and panels."""
    from kyklos_sdk import User

    from .models import Resource

    db = request.dbsession
    by_kind: dict[str, list[int]] = {}
    for p in activity.participant_rows:
        by_kind.setdefault(p.kind, []).append(p.ref_id)
    names: dict[tuple[str, int], str] = {}
    if by_kind.get("user"):
        for u in db.execute(select(User).where(User.id.in_(by_kind["user"]))).scalars():
            names[("user", u.id)] = u.title
    if by_kind.get("resource"):
        for r in db.execute(select(Resource).where(Resource.id.in_(by_kind["resource"]))) \
                .scalars():
            names[("resource", r.id)] = r.name
    for kind in ("person", "account"):
        if not by_kind.get(kind):
            continue
        et = request.registry.kyklos_entities.get(kind)
        if et is None:
            continue
        for r in db.execute(select(et.model).where(et.model.id.in_(by_kind[kind]))).scalars():
            names[(kind, r.id)] = et.record_title(r) if kind == "account" else (
                getattr(r, "full_name", None) or et.record_title(r)
            )
    from .display import ANSWERS

    tr = request.localizer.translate
    return [
        {
            "kind": p.kind,
            "id": p.ref_id,
            "status": p.status,
            # what a person answered; rooms and accounts do not answer
            "answer": tr(ANSWERS[p.status]) if p.kind in ("user", "person")
            and p.status in ANSWERS else "",
            "name": names.get((p.kind, p.ref_id)) or tr(_("Restricted")),
        }
        for p in activity.participant_rows
    ] + [
        # Attendees of an imported event who are nobody here: shown, never removable
        # one by one (the next import of the event sets them again).
        {
            "kind": "external",
            "id": x.get("email", ""),
            "status": x.get("status", ""),
            "answer": tr(ANSWERS[x["status"]]) if x.get("status") in ANSWERS else "",
            "name": f"{x['name']} <{x['email']}>" if x.get("name") else x.get("email", ""),
        }
        for x in activity.external_attendees or ()
        if isinstance(x, dict) and x.get("email")
    ]

