"""Activities on any record's page: the "Activities" panel (open and done, paged) and the
quick actions "Log a call", "Schedule a meeting" and "New task" of every entity type
declared with ``about=True``.

The quick forms are small pages of their own (no JavaScript needed); people, users and
resources are chosen with pickers, times are read in the user's time zone, and a room or
car already taken is reported next to the resource field - before saving by the
availability check (``activities.resource_check``, called by ``static/quick.js``) and
on saving by the database, which refuses a double booking whatever happens.
"""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render
from sqlalchemy import func, select

from kyklos_sdk import (
    Panel,
    RecordError,
    User,
    create_record,
    format_datetime,
    format_time,
    get_entity_type,
    record_titles,
    utcnow,
    visible_select,
)

from . import _, about, bookings, calendar
from .models import CANCELLED, DONE, OPEN, Activity, Booking, Resource

PAGE = 10
KINDS = ("call", "meeting", "task")
KIND_TITLES = {
    "call": _("Log a call"),
    "meeting": _("Schedule a meeting"),
    "task": _("New task"),
}
#: reminder units offered: minutes in one
UNITS = (
    ("minutes", 1, _("minutes before")),
    ("hours", 60, _("hours before")),
    ("days", 1440, _("days before")),
)


def type_title(request, atype) -> str:
    """The activity type's title in the user's language (an administrator's title for
    the language, else the catalog: seeded titles are msgids of this plugin)."""
    if atype is None:
        return ""
    return record_titles(request, "activitytype", [atype])[atype.id]


def status_title(request, statuses: dict, activity) -> str:
    return statuses.get((activity.type_id, activity.status)) or activity.status or ""


def status_titles(request) -> dict:
    """``{(type id, status code): title in the user's language}``."""
    from .models import ActivityType, Status

    rows = request.dbsession.execute(
        select(ActivityType.id, Status).join(
            Status, Status.status_set_id == ActivityType.status_set_id
        )
    ).all()
    titles = record_titles(request, "activitystatus", [st for _t, st in rows])
    return {(t, st.code): titles[st.id] for t, st in rows}


# --- the panel ----------------------------------------------------------------------------


def _page(request, name) -> int:
    raw = request.GET.get(name, "1")
    return max(1, int(raw)) if raw.isdigit() and len(raw) < 6 else 1


def visible_activities(request):
    et = get_entity_type(request, "activity")
    return visible_select(request, et)


def panel(request, entity_type, record) -> Panel | None:
    """The record's activities, open first (soonest due), then done (latest first)."""
    if not request.has_permission("activities.activity.read"):
        return None
    db = request.dbsession
    base = visible_activities(request).where(about.clause(entity_type.name, record.id))
    when = func.coalesce(Activity.due_at, Activity.starts_at)
    sections = []
    total = 0
    for state, title, order, pname in (
        (OPEN, _("Open"), (when.is_(None), when, Activity.id), "act_open"),
        (
            DONE,
            _("Done"),
            (
                func.coalesce(
                    Activity.completed_at, Activity.starts_at, Activity.created_at
                ).desc(),
                Activity.id.desc(),
            ),
            "act_done",
        ),
    ):
        stmt = base.where(Activity.state == state)
        count = db.execute(stmt.with_only_columns(func.count()).order_by(None)).scalar_one()
        page = min(_page(request, pname), max(1, -(-count // PAGE)))
        rows = list(
            db.execute(stmt.order_by(*order).offset((page - 1) * PAGE).limit(PAGE)).scalars()
        )
        total += count
        sections.append(
            {
                "state": state,
                "title": title,
                "count": count,
                "page": page,
                "pages": max(1, -(-count // PAGE)),
                "param": pname,
                "rows": rows_of(request, rows, detail=True),
            }
        )
    # The quick actions are the page's buttons (kyklos_record_actions), not repeated here.
    links: list = []
    html = render(
        "kyklos_activities:templates/about_panel.pt",
        {
            "sections": sections,
            "links": links,
            "page_url": _page_url(request),
            "came_from": request.path_qs,
        },
        request=request,
    )
    return Panel(title=_("Activities"), html=html, count=total, order=15)


def _page_url(request):
    def make(param, page):
        q = {k: v for k, v in request.GET.items() if k != param}
        q[param] = str(page)
        return request.path + "?" + "&".join(f"{k}={v}" for k, v in q.items()) + "#k-activities"

    return make


def rows_of(request, rows, with_about=False, detail=False) -> list[dict]:
    """What a list shows of each activity: type, subject, when, status, links."""
    db = request.dbsession
    types = calendar.types_by_id(db)
    statuses = status_titles(request)
    me = request.identity.user.id if request.identity else None
    abouts = about.titles(request, [(a.about_type, a.about_id) for a in rows]) if with_about else {}
    out = []
    now = utcnow()
    for a in rows:
        atype = types.get(a.type_id)
        w = a.due_at or a.starts_at
        out.append(
            {
                "id": a.id,
                "subject": a.subject,
                "type": type_title(request, atype),
                "icon": atype.icon if atype else "calendar-event",
                "when": when_text(request, a),
                "overdue": a.state == OPEN and w is not None and w < now,
                "status": status_title(request, statuses, a),
                # the record when the list shows only readable ones, else the invitation page
                "url": request.route_path("entity.detail", slug="activities", id=a.id)
                if detail
                else request.route_path("activities.invitation", id=a.id),
                "complete_url": request.route_path("activities.complete", id=a.id)
                if a.state == OPEN and a.responsible_id == me
                else None,
                "about": abouts.get((a.about_type, a.about_id)),
                "cancelled": a.state == CANCELLED,
            }
        )
    return out


def when_text(request, a) -> str:
    if a.starts_at is None:
        return format_datetime(request, a.due_at, "short") if a.due_at else ""
    if a.all_day:
        from kyklos_sdk import format_date

        # An all-day activity is a day in its own zone, never shifted by the viewer's.
        from . import recurrence

        return format_date(request, a.starts_at.astimezone(recurrence.zone(a.timezone)).date())
    if a.ends_at and a.ends_at > a.starts_at:
        start = format_datetime(request, a.starts_at, "short")
        return f"{start} – {format_time(request, a.ends_at)}"
    return format_datetime(request, a.starts_at, "short")


def quick_links(request, entity_type, record) -> list[tuple]:
    if not request.has_permission("activities.activity.create"):
        return []
    ref = f"{entity_type.name}:{record.id}"
    return [
        (
            KIND_TITLES[k],
            request.route_path("activities.quick", kind=k, _query={"about": ref}),
            icon,
        )
        for k, icon in (("call", "telephone"), ("meeting", "people"), ("task", "check2-square"))
    ]


# --- the quick forms ----------------------------------------------------------------------


def _about_of(request):
    raw = request.params.get("about", "")
    kind, _sep, ref = raw.partition(":")
    types = about.about_types(request.registry)
    et = types.get(kind)
    if et is None or not ref.isdigit() or len(ref) > 18:
        raise HTTPNotFound()
    target = request.dbsession.execute(
        visible_select(request, et).where(et.model.id == int(ref))
    ).scalar()
    if target is None or not request.has_permission(et.permission("read")):
        raise HTTPNotFound()
    return et, target


def _int_list(params, name) -> list[int]:
    out = []
    for v in params.getall(name):
        for part in str(v).split(","):
            part = part.strip()
            if part.isdigit() and len(part) < 18:
                out.append(int(part))
    return list(dict.fromkeys(out))


def _local(request, day: str, at: str, errors: dict, name: str) -> dt.datetime | None:
    """A date and a time typed by the user, in the user's time zone, as UTC."""
    if not day:
        return None
    try:
        d = dt.date.fromisoformat(day)
        t = dt.time.fromisoformat(at) if at else dt.time(9, 0)
    except ValueError:
        errors[name] = _("Not a date and time.")
        return None
    return dt.datetime.combine(d, t, tzinfo=request.timezone).astimezone(dt.UTC)


def _reminder(params, errors) -> list[int]:
    raw = (params.get("remind_n") or "").strip()
    if not raw:
        return []
    unit = dict((u, m) for u, m, _t in UNITS).get(params.get("remind_unit") or "minutes")
    if not raw.isdigit() or unit is None or int(raw) * unit > 28 * 1440:
        errors["reminders"] = _("Give a number of minutes, hours or days (up to 4 weeks).")
        return []
    return [int(raw) * unit]


def _options(request, et_name, ids) -> list[tuple[int, str]]:
    et = request.registry.kyklos_entities.get(et_name)
    if et is None or not ids:
        return []
    rows = request.dbsession.execute(
        visible_select(request, et).where(et.model.id.in_(ids))
    ).scalars()
    return [(r.id, getattr(r, "full_name", None) or et.record_title(r)) for r in rows]


def quick_view(request):
    kind = request.matchdict["kind"]
    if kind not in KINDS:
        raise HTTPNotFound()
    if not request.has_permission("activities.activity.create"):
        raise HTTPForbidden()
    about_et, target = _about_of(request)
    links = about.links_of(about_et, target)
    title = getattr(target, "full_name", None) or about_et.record_title(target)
    tz = request.timezone
    now_local = utcnow().astimezone(tz)
    p = request.POST if request.method == "POST" else request.GET
    errors: dict = {}
    me = request.identity.user.id
    subject_default = {
        "call": _("Call with ${name}", mapping={"name": title}),
        "meeting": _("Meeting with ${name}", mapping={"name": title}),
        "task": _("Follow up ${name}", mapping={"name": title}),
    }[kind]
    # The next whole hour, for a meeting planned from here.
    next_hour = (now_local + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    person_ids = (
        _int_list(p, "people")
        if request.method == "POST"
        else ([links["person_id"]] if kind == "meeting" and links.get("person_id") else [])
    )
    values = {
        "subject": (p.get("subject") or "").strip() or request.localizer.translate(subject_default),
        "description": p.get("description") or "",
        "date": p.get("date")
        or (
            next_hour.date().isoformat()
            if kind != "task"
            else (now_local.date() + dt.timedelta(days=1)).isoformat()
        ),
        "start": p.get("start") or next_hour.strftime("%H:%M"),
        "end": p.get("end") or (next_hour + dt.timedelta(hours=1)).strftime("%H:%M"),
        "due_time": p.get("due_time") or "09:00",
        "location": p.get("location") or "",
        "users": _int_list(p, "users") if request.method == "POST" else [me],
        "people": person_ids,
        "resources": _int_list(p, "resources"),
        "remind_n": p.get("remind_n")
        if request.method == "POST"
        else ("15" if kind == "meeting" else ("1" if kind == "task" else "")),
        "remind_unit": p.get("remind_unit") or ("hours" if kind == "task" else "minutes"),
    }
    if request.method == "POST":
        data = {
            "type_code": kind,
            "subject": values["subject"],
            "about_type": about_et.name,
            "about_id": target.id,
        }
        if values["description"].strip():
            data["description"] = values["description"]
        if kind == "call":
            data["starts_at"] = utcnow().replace(microsecond=0)
            data["status"] = "done"
        elif kind == "meeting":
            data["starts_at"] = _local(
                request, values["date"], values["start"], errors, "starts_at"
            )
            data["ends_at"] = _local(request, values["date"], values["end"], errors, "ends_at")
            if data["starts_at"] is None and "starts_at" not in errors:
                errors["starts_at"] = _("Required.")
            if values["location"].strip():
                data["location"] = values["location"].strip()
            data["participants"] = (
                [{"kind": "user", "id": i} for i in values["users"]]
                + [{"kind": "person", "id": i} for i in values["people"]]
                + [{"kind": "resource", "id": i} for i in values["resources"]]
            )
            data["reminders"] = _reminder(p, errors)
        else:
            data["due_at"] = _local(request, values["date"], values["due_time"], errors, "due_at")
            data["reminders"] = _reminder(p, errors)
        if not errors:
            et = get_entity_type(request, "activity")
            try:
                record = create_record(request, et, data, source="ui")
            except RecordError as exc:
                errors = dict(exc.errors)
            else:
                request.session.flash(
                    _(
                        "${type} saved.",
                        mapping={"type": request.localizer.translate(_(kind.capitalize()))},
                    ),
                    "success",
                )
                back = request.route_path("entity.detail", slug=about_et.slug, id=target.id)
                if kind == "meeting":
                    back = request.route_path("entity.detail", slug="activities", id=record.id)
                return HTTPSeeOther(back)
        request.response.status = 400
    users = calendar_users(request)
    return {
        "title": KIND_TITLES[kind],
        "kind": kind,
        "about_title": title,
        "about_type": request.localizer.translate(about_et.title),
        "about_url": request.route_path("entity.detail", slug=about_et.slug, id=target.id),
        "values": values,
        "errors": {k: request.localizer.translate(v) for k, v in errors.items()},
        "users": users,
        "people": _options(request, "person", values["people"]),
        "resources": resource_options(request),
        "people_lookup": _lookup_url(request, "person"),
        "resources_lookup": _lookup_url(request, "resource"),
        "users_lookup": request.route_path("activities.users_lookup"),
        "check_url": request.route_path("activities.resource_check"),
        "timezone": getattr(tz, "key", "UTC"),
        "units": UNITS,
        "action": request.route_path(
            "activities.quick", kind=kind, _query={"about": f"{about_et.name}:{target.id}"}
        ),
    }


def _lookup_url(request, name):
    et = request.registry.kyklos_entities.get(name)
    return request.route_path("entity.lookup", slug=et.slug) if et is not None else ""


def calendar_users(request):
    return list(
        request.dbsession.execute(
            select(User.id, User.name, User.email)
            .where(User.is_active.is_(True), User.is_portal.is_(False))
            .order_by(User.name, User.email)
        ).all()
    )


def resource_options(request):
    return list(
        request.dbsession.execute(
            select(Resource).where(Resource.active.is_(True)).order_by(Resource.kind, Resource.name)
        ).scalars()
    )


def users_lookup_view(request):
    """Active users whose name or e-mail contains ``q`` (the picker of attendees)."""
    q = request.params.get("q", "").strip()[:100]
    stmt = select(User).where(User.is_active.is_(True), User.is_portal.is_(False))
    ids = [int(i) for i in request.params.getall("id") if i.isdigit() and len(i) < 18]
    if ids:
        stmt = stmt.where(User.id.in_(ids))
    elif q:
        pat = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(User.name.ilike(pat, escape="\\") | User.email.ilike(pat, escape="\\"))
    rows = request.dbsession.execute(stmt.order_by(User.name, User.id).limit(20)).scalars()
    return [{"id": u.id, "title": u.title, "subtitle": u.email} for u in rows]


def resource_check_view(request):
    """Is any of ``resources`` booked between ``starts`` and ``ends``? For the inline
    warning of the meeting forms: ``{"free": bool, "conflicts": [{"resource", "name",
    "message"}]}``. Times are ``date`` + ``start`` / ``end`` in the user's zone, or ISO
    8601 ``starts_at`` / ``ends_at``; ``activity`` leaves out an activity's own bookings."""
    p = request.GET
    errors: dict = {}
    if p.get("starts_at"):
        try:
            starts = dt.datetime.fromisoformat(p["starts_at"].replace("Z", "+00:00"))
            ends = dt.datetime.fromisoformat((p.get("ends_at") or "").replace("Z", "+00:00"))
        except ValueError:
            raise HTTPBadRequest() from None
        if starts.tzinfo is None:
            starts = starts.replace(tzinfo=request.timezone)
        if ends.tzinfo is None:
            ends = ends.replace(tzinfo=request.timezone)
        starts, ends = starts.astimezone(dt.UTC), ends.astimezone(dt.UTC)
    else:
        starts = _local(request, p.get("date", ""), p.get("start", ""), errors, "starts_at")
        ends = _local(request, p.get("date", ""), p.get("end", ""), errors, "ends_at")
    resources = _int_list(p, "resources")
    if errors or starts is None or ends is None or ends <= starts or not resources:
        return {"free": True, "conflicts": []}
    own = p.get("activity", "")
    db = request.dbsession
    stmt = (
        select(Booking.resource_id, Booking.starts_at, Booking.ends_at, Resource.name)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(
            Booking.resource_id.in_(resources), Booking.starts_at < ends, Booking.ends_at > starts
        )
        .order_by(Booking.starts_at)
    )
    if own.isdigit() and len(own) < 18:
        stmt = stmt.where(Booking.activity_id != int(own))
    seen = set()
    conflicts = []
    for rid, s, e, name in db.execute(stmt):
        if rid in seen:
            continue
        seen.add(rid)
        msg = _(
            "${name} is already booked from ${start} to ${end}.",
            mapping={
                "name": name,
                "start": format_datetime(request, s, "short"),
                "end": bookings._end(request, s, e),
            },
        )
        conflicts.append(
            {"resource": rid, "name": name, "message": request.localizer.translate(msg)}
        )
    return {"free": not conflicts, "conflicts": conflicts}


def timeline(request, entity_type, record):
    """The record's activities as timeline entries (the visible ones)."""
    from kyklos_sdk import TimelineItem

    from .hooks import TIMELINE_LIMIT, when_of

    db = request.dbsession
    rows = (
        db.execute(
            visible_activities(request)
            .where(about.clause(entity_type.name, record.id))
            .order_by(
                func.coalesce(Activity.starts_at, Activity.due_at, Activity.created_at).desc(),
                Activity.id.desc(),
            )
            .limit(TIMELINE_LIMIT)
        )
        .scalars()
        .all()
    )
    if not rows:
        return None
    types = calendar.types_by_id(db)
    statuses = status_titles(request)
    out = []
    for a in rows:
        atype = types.get(a.type_id)
        out.append(
            TimelineItem(
                when=when_of(a),
                title=f"{type_title(request, atype)}: {a.subject}",
                detail=status_title(request, statuses, a),
                url=request.route_path("entity.detail", slug="activities", id=a.id),
                kind=f"activity.{atype.code if atype else 'other'}",
            )
        )
    return out


def includeme(config):
    config.add_route("activities.quick", r"/activities/quick/{kind:[a-z]+}")
    config.add_route("activities.resource_check", "/activities/resource-check")
    config.add_route("activities.users_lookup", "/activities/_users")
    config.add_view(
        quick_view,
        route_name="activities.quick",
        renderer="kyklos_activities:templates/quick.pt",
        permission="activities.activity.create",
        request_method=("GET", "POST"),
    )
    config.add_view(
        resource_check_view,
        route_name="activities.resource_check",
        renderer="json",
        permission="activities.calendar.view",
        request_method="GET",
    )
    config.add_view(
        users_lookup_view,
        route_name="activities.users_lookup",
        renderer="json",
        permission="activities.calendar.view",
        request_method="GET",
    )
