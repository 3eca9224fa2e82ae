"""Web pages: calendars (day and week as an hour grid, month, agenda) of oneself, a
colleague, a department or a resource; my open items; invitations; the availability
finder; mass activities for a segment; feeds and import.

Pages work without JavaScript; ``static/activities.js`` adds drag-to-reschedule (to
another day, or in the grid to another hour).
"""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from kyklos_sdk import (
    Department,
    Problem,
    RecordError,
    StaleRecord,
    User,
    can_access,
    format_date,
    format_datetime,
    format_time,
    get_entity_type,
    get_record,
    record_titles,
    safe_redirect_target,
    utcnow,
    visible_segments,
)

from . import _, actions, availability, calendar, ical, org, quick, recurrence, timegrid
from .display import ANSWERS
from .form import describe_rrule
from .hooks import participant_rows
from .models import CANCELLED, DECLINED, FeedToken, Resource

VIEWS = ("day", "week", "month", "agenda")
VIEW_TITLES = {"day": _("Day"), "week": _("Week"), "month": _("Month"), "agenda": _("Agenda")}
AGENDA_DAYS = 30
PERM = "activities.calendar.view"


# --- helpers -------------------------------------------------------------------------------


def _int(value) -> int | None:
    if value is None or not str(value).isdigit() or len(str(value)) > 18:
        return None
    return int(value)


def _date(value, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)) if value else default
    except ValueError:
        return default


def local_today(request) -> dt.date:
    return utcnow().astimezone(request.timezone).date()


def midnight(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def view_range(view: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """First day and the day after the last of what ``view`` shows around ``day``."""
    if view == "day":
        return day, day + dt.timedelta(days=1)
    if view == "week":
        first = day - dt.timedelta(days=day.weekday())
        return first, first + dt.timedelta(days=7)
    if view == "month":
        first = day.replace(day=1)
        first -= dt.timedelta(days=first.weekday())
        return first, first + dt.timedelta(days=42)
    return day, day + dt.timedelta(days=AGENDA_DAYS)


def step(view: str, day: dt.date, sign: int) -> dt.date:
    if view == "day":
        return day + dt.timedelta(days=sign)
    if view == "week":
        return day + dt.timedelta(days=7 * sign)
    if view == "month":
        month = day.month - 1 + sign
        return dt.date(day.year + month // 12, month % 12 + 1, 1)
    return day + dt.timedelta(days=AGENDA_DAYS * sign)


def event_item(request, occ, types, can_update: bool) -> dict:
    """What a calendar cell shows of one occurrence."""
    a = occ.activity
    atype = types.get(a.type_id)
    if occ.visible:
        title = a.subject
        url = request.route_path("activities.invitation", id=a.id)
    else:
        title = request.localizer.translate(_("Busy"))
        url = None
    if a.all_day:
        time = request.localizer.translate(_("All day"))
    elif occ.point:
        time = format_time(request, occ.starts_at)
    else:
        time = f"{format_time(request, occ.starts_at)}–{format_time(request, occ.ends_at)}"
    return {
        "id": a.id,
        "title": title,
        "time": time,
        "url": url,
        "code": (atype.code if atype else "other") if occ.visible else "busy",
        "private": a.private,
        "cancelled": a.state == CANCELLED,
        "draggable": occ.visible and can_update,
        "version": a.version,
        "recurring": bool(a.rrule),
        "exception": a.series_id is not None,
        "start": occ.starts_at,
        "occurrence": occ.starts_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "location": a.location if occ.visible else None,
        # all day, or a task with only a due date: dropped on a day, never on an hour
        "allday": a.all_day or a.starts_at is None,
    }


def _subjects(request):
    """Whose calendar: ``(kind, ids, label)`` from the query; default the user."""
    db = request.dbsession
    params = request.GET
    rid = _int(params.get("resource"))
    if rid is not None:
        res = db.get(Resource, rid)
        if res is None:
            raise HTTPNotFound()
        return "resource", [rid], res.name
    did = _int(params.get("department"))
    if did is not None:
        dept = db.get(Department, did)
        if dept is None:
            raise HTTPNotFound()
        # Sub-departments too: a manager's calendar of "Sales" shows Sales North and South.
        members = org.department_members(db, did)
        return "users", [u.id for u in members], dept.name
    uid = _int(params.get("user"))
    if uid is not None:
        user = db.get(User, uid)
        if user is None:
            raise HTTPNotFound()
        return "users", [uid], user.title
    me = request.identity.user
    return "users", [me.id], me.title


def calendar_view(request):
    params = request.GET
    view = params.get("view") if params.get("view") in VIEWS else "week"
    tz = request.timezone
    today = local_today(request)
    day = _date(params.get("date"), today)
    first, after = view_range(view, day)
    start, end = midnight(first, tz), midnight(after, tz)
    kind, ids, label = _subjects(request)
    if kind == "resource":
        occs = calendar.for_resources(request, ids, start, end)
    else:
        occs = calendar.for_users(request, ids, start, end)
    db = request.dbsession
    types = calendar.types_by_id(db)
    et = get_entity_type(request, "activity")
    may_update = request.has_permission(et.permission("update"))
    days = {}
    d = first
    while d < after:
        days[d] = []
        d += dt.timedelta(days=1)
    entries = []
    for occ in occs:
        can = may_update and occ.visible and can_access(request, et, occ.activity, "update")
        item = event_item(request, occ, types, can)
        entries.append((item, occ.starts_at, occ.ends_at, item["allday"]))
        local_start = occ.starts_at.astimezone(tz).date()
        local_end = (occ.ends_at - dt.timedelta(microseconds=1)).astimezone(tz).date() \
            if occ.ends_at > occ.starts_at else local_start
        d = max(local_start, first)
        while d <= local_end and d < after:
            days[d].append(item)
            d += dt.timedelta(days=1)
    grid = [
        {
            "date": d,
            "iso": d.isoformat(),
            "label": format_date(request, d, "EEE d MMM"),
            "today": d == today,
            "outside": view == "month" and d.month != day.month,
            "events": items,
        }
        for d, items in days.items()
    ]
    # Shaded working hours: of the colleague whose calendar it is (their country's
    # holidays), else of the viewer.
    whose = request.dbsession.get(User, ids[0]) if kind == "users" and len(ids) == 1 \
        else request.identity.user
    hours = _hour_grid(request, grid, entries, tz, whose) if view in ("day", "week") else None
    base = {k: v for k, v in params.items() if k in ("user", "department", "resource")}

    def link(**kw):
        q = dict(base, view=view, date=day.isoformat())
        q.update({k: v for k, v in kw.items() if v is not None})
        return request.route_path("activities.calendar", _query=q)

    return {
        "title": _("Calendar"),
        "view": view,
        "views": [(v, VIEW_TITLES[v], link(view=v)) for v in VIEWS],
        "day": day,
        "heading": _heading(request, view, first, after, day),
        "grid": grid,
        "weeks": [grid[i : i + 7] for i in range(0, len(grid), 7)] if view == "month" else [],
        "hours": hours,
        "timezone": getattr(tz, "key", "UTC"),
        "agenda": [g for g in grid if g["events"]] if view == "agenda" else [],
        "prev_url": link(date=step(view, day, -1).isoformat()),
        "next_url": link(date=step(view, day, 1).isoformat()),
        "today_url": link(date=today.isoformat()),
        "label": label,
        "users": _users(db),
        "departments": org.departments(db),
        "resources": _resources(db),
        "selected": {k: _int(params.get(k)) for k in ("user", "department", "resource")},
        "move_url": request.route_path("activities.move", id="0"),
        "new_url": request.route_path("entity.new", slug="activities"),
    }


def _hour_grid(request, grid, entries, tz, whose=None) -> dict:
    """The day and week views as an hour grid (see :mod:`timegrid`)."""
    try:
        working = availability.working_time(request.registry.settings, tz,
                                            availability.country_of(request, whose))
    except availability.SettingError:
        working = None  # a bad setting: no shading rather than no calendar
    days = timegrid.build([g["date"] for g in grid], tz, entries)
    columns = []
    for g, d in zip(grid, days, strict=True):
        columns.append(dict(g, allday=d.allday, timed=[
            dict(p.item, place=p.classes) for p in d.timed
        ], slots=timegrid.slots(d.date, working)))
    # Open the grid at the working day's start, or earlier if something is planned.
    first = min((p.start for d in days for p in d.timed), default=None)
    start = working.start.hour * 60 if working is not None else 8 * 60
    # Half an hour earlier, so that the first hour's label is not cut off.
    scroll = max(0, (min(start, first) if first is not None else start) - 30) // 30 * 30
    return {
        "columns": columns,
        "labels": [{"text": format_time(request, dt.time(h)), "classes": f"k-r-{h * 4 + 1} k-s-4"}
                   for h in range(24)],
        "scroll": f"{scroll // 60:02d}:{scroll % 60:02d}",
        "has_allday": any(d.allday for d in days),
    }


def _heading(request, view, first, after, day):
    if view == "day":
        return format_date(request, day, "full")
    if view == "month":
        return format_date(request, day, "LLLL y")
    return f"{format_date(request, first)} – {format_date(request, after - dt.timedelta(days=1))}"


def _users(db):
    return list(
        db.execute(select(User).where(User.is_active.is_(True), User.is_portal.is_(False))
                   .order_by(User.name, User.id))
        .scalars()
    )


def _resources(db):
    return list(
        db.execute(select(Resource).where(Resource.active.is_(True)).order_by(Resource.name))
        .scalars()
    )


# --- moving, completing, invitations -------------------------------------------------------


def parse_move(params) -> dict:
    """The fields of a move (page and API): ``date`` (YYYY-MM-DD), optional ``time``
    (HH:MM) in ``timezone`` (IANA; default the activity's own zone), ``version`` (a
    stale one gets 409), and for a recurring activity ``scope``
    (``series`` or ``occurrence``) with the ``occurrence`` start (ISO 8601)."""
    errors = {}
    out = {"day": None, "at": None, "occurrence": params.get("occurrence") or None,
           "scope": params.get("scope") or "series", "zone": None}
    try:
        out["day"] = dt.date.fromisoformat(str(params.get("date") or ""))
    except ValueError:
        errors["date"] = _("Not a date (YYYY-MM-DD).")
    if params.get("time"):
        try:
            out["at"] = dt.time.fromisoformat(str(params["time"]))
        except ValueError:
            errors["time"] = _("Not a time (HH:MM).")
    zone = params.get("timezone")
    if zone:
        if not isinstance(zone, str) or not recurrence.valid_zone(zone):
            errors["timezone"] = _("Not a time zone (IANA, e.g. Europe/Athens).")
        elif not params.get("time"):
            errors["time"] = _("Give the time the time zone applies to.")
        out["zone"] = zone
    raw = params.get("version")
    out["version"] = raw if isinstance(raw, int) and not isinstance(raw, bool) else _int(raw)
    if out["scope"] not in actions.SCOPES:
        errors["scope"] = _("Use series or occurrence.")
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    return out


def do_move(request, activity_id, q: dict, source: str):
    try:
        return actions.move(request, activity_id, q["day"], q["at"], q["version"],
                            occurrence=q["occurrence"], scope=q["scope"], source=source,
                            zone=q["zone"])
    except StaleRecord as exc:
        raise Problem(409, _("The record was changed by someone else"),
                      _("Reload the page and try again."),
                      current_version=exc.current_version) from None
    except RecordError as exc:
        raise Problem(exc.status, exc.title, errors=exc.errors) from None


def move_view(request):
    """Drag-to-reschedule (JSON); see :func:`parse_move`."""
    record = do_move(request, request.matchdict["id"], parse_move(request.POST), "ui")
    return {
        "id": record.id,
        "version": record.version,
        "series_id": record.series_id,
        "starts_at": record.starts_at.isoformat() if record.starts_at else None,
        "ends_at": record.ends_at.isoformat() if record.ends_at else None,
        "due_at": record.due_at.isoformat() if record.due_at else None,
    }


def complete_view(request):
    try:
        actions.complete(request, request.matchdict["id"])
        request.session.flash(_("Marked as done."), "success")
    except RecordError as exc:
        request.session.flash("; ".join(request.localizer.translate(m)
                                        for m in exc.errors.values()), "danger")
    target = safe_redirect_target(
        request.POST.get("came_from"),
        request.route_path("entity.detail", slug="activities", id=request.matchdict["id"]),
    )
    return HTTPSeeOther(target)


def invitation_view(request):
    """An activity as a participant sees it, with accept / decline buttons; also the
    page calendars link to, since participants may not be able to open the record."""
    db = request.dbsession
    aid = _int(request.matchdict["id"])
    from .models import Activity

    activity = db.get(Activity, aid) if aid else None
    if activity is None:
        raise HTTPNotFound()
    vis = calendar.visibility(request, [activity])
    if not vis[activity.id]:
        raise HTTPNotFound()
    me = request.identity.user.id
    mine = next((p for p in activity.participant_rows if p.kind == "user" and p.user_id == me),
                None)
    if request.method == "POST":
        if mine is None:
            raise HTTPForbidden()
        try:
            actions.respond(request, aid, request.POST.get("response", ""))
        except RecordError as exc:
            raise Problem(400, exc.title, errors=exc.errors) from None
        request.session.flash(_("Your answer was saved."), "success")
        return HTTPSeeOther(request.route_path("activities.invitation", id=aid))
    et = get_entity_type(request, "activity")
    atype = calendar.types_by_id(db).get(activity.type_id)
    readable = aid in calendar.readable_ids(request, [aid])
    return {
        "title": activity.subject,
        "activity": activity,
        "atype": atype,
        "mine": mine,
        "type_title": quick.type_title(request, atype),
        "status_title": quick.status_title(request, quick.status_titles(request), activity),
        "repeats": describe_rrule(request, activity.rrule),
        "my_answer": request.localizer.translate(ANSWERS[mine.status])
        if mine is not None and mine.status in ANSWERS else "",
        "people": participant_rows(request, activity),
        "when": _when(request, activity),
        "extra": _extra_dates(request, activity),
        "record_url": request.route_path("entity.detail", slug=et.slug, id=aid)
        if readable else None,
        "declined": DECLINED,
        "can_edit": False,
        "answers": [
            ("accepted", _("Accept"), "success"),
            ("tentative", _("Maybe"), "secondary"),
            ("declined", _("Decline"), "danger"),
        ],
    }


def _when(request, a) -> str:
    if a.starts_at is None:
        return format_datetime(request, a.due_at) if a.due_at else ""
    if a.all_day:
        return format_date(request, a.starts_at.astimezone(request.timezone).date())
    if a.ends_at and a.ends_at > a.starts_at:
        return f"{format_datetime(request, a.starts_at)} – {format_time(request, a.ends_at)}"
    return format_datetime(request, a.starts_at)


def _extra_dates(request, a) -> list[str]:
    """The activity's extra occurrences (RDATE) as the user reads dates."""
    out = []
    for value in a.rdates or ():
        try:
            when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            continue
        if a.all_day:
            out.append(format_date(request, when.astimezone(recurrence.zone(a.timezone)).date()))
        else:
            out.append(format_datetime(request, when))
    return out


def participants_view(request):
    """Add or remove a participant from the activity page (no JavaScript needed)."""
    from kyklos_sdk import update_record

    et = get_entity_type(request, "activity")
    record = get_record(request, et, request.matchdict["id"], action="update")
    post = request.POST
    kind, ref = post.get("kind", ""), _int(post.get("ref"))
    items = [{"kind": p["kind"], "id": p["id"]} for p in record.participants]
    if post.get("remove"):
        items = [i for i in items if not (i["kind"] == kind and i["id"] == ref)]
    elif ref is not None:
        items.append({"kind": kind, "id": ref})
    # The pickers of the panel: any number of users, people, accounts and resources.
    have = {(i["kind"], i["id"]) for i in items}
    for k in ("user", "person", "account", "resource"):
        for v in post.getall(k):
            i = _int(v)
            if i is not None and (k, i) not in have:
                items.append({"kind": k, "id": i})
                have.add((k, i))
    try:
        update_record(request, et, record, {"participants": items}, source="ui")
        request.session.flash(_("Participants saved."), "success")
    except RecordError as exc:
        request.session.flash("; ".join(request.localizer.translate(m)
                                        for m in exc.errors.values()), "danger")
    return HTTPSeeOther(request.route_path("entity.detail", slug=et.slug, id=record.id))


# --- mass activities ------------------------------------------------------------------------


def mass_view(request):
    """The same activity for every person of a segment (all or nothing)."""
    db = request.dbsession
    post = request.POST if request.method == "POST" else request.GET
    values = {k: (post.get(k) or "").strip() for k in
              ("segment", "type_id", "subject", "due", "description")}
    errors: dict = {}
    if request.method == "POST":
        template = {"type_id": _int(values["type_id"]), "subject": values["subject"]}
        if values["description"]:
            template["description"] = values["description"]
        if values["due"]:
            try:
                due = dt.datetime.fromisoformat(values["due"])
                template["due_at"] = due.replace(tzinfo=request.timezone).astimezone(dt.UTC)
            except ValueError:
                errors["due_at"] = _("Not a date and time.")
        if not errors:
            try:
                ids = actions.persons_in_segment(request, values["segment"])
                result = actions.create_mass_activity(request, template, ids)
            except RecordError as exc:
                # A refusal names "<person id>.<field>": the form shows the field.
                errors = {k.rsplit(".", 1)[-1]: v for k, v in exc.errors.items()}
            else:
                request.session.flash(_("${n} activities created.",
                                        mapping={"n": len(result["created"])}), "success")
                return HTTPSeeOther(request.route_path(
                    "entity.list", slug="activities", _query={"mass_batch": result["batch"]}))
        request.response.status = 400
    types = [t for t in calendar.types_by_id(db).values() if t.active]
    types.sort(key=lambda t: (t.position, t.title))
    titles = record_titles(request, "activitytype", types)
    if not values["type_id"]:
        values["type_id"] = next((str(t.id) for t in types if t.code == "letter"), "")
    segments = visible_segments(request, "person")
    if not values["segment"] and len(segments) == 1:
        values["segment"] = str(segments[0].id)
    return {"title": _("Mass activity"), "values": values, "errors": errors,
            "types": [(str(t.id), titles[t.id]) for t in types],
            "segments": [(str(s.id), s.name) for s in segments]}


# --- my open items -------------------------------------------------------------------------


def mine_view(request):
    """ACT-09: the user's open items grouped by due date (overdue, today, tomorrow, this
    week, later, no date), each with the record it is about, a page at a time."""
    from .home import MINE_PAGE, grouped_open_items

    me = request.identity.user.id
    # SEC-03: during a delegation the deputy also does the absent person's open work
    standing_in = {
        d.from_user.id: d.from_user
        for d in request.identity.delegations
        if d.types is None or "activity" in d.types
    }
    standing_in.pop(me, None)
    items = actions.open_items(request, user_ids=[me, *standing_in])
    total = len(items)
    pages = max(1, -(-total // MINE_PAGE))
    raw = request.GET.get("page", "1")
    page = min(pages, max(1, int(raw))) if raw.isdigit() and len(raw) < 6 else 1
    shown = items[(page - 1) * MINE_PAGE : page * MINE_PAGE]
    groups = grouped_open_items(request, shown)
    on_behalf = {a.id: _for_whom(a, me, standing_in) for a in shown}
    for g in groups:
        for row in g["rows"]:
            user = on_behalf.get(row["id"])
            row["for_name"] = (user.name or user.email) if user is not None else None
            if user is not None and row["complete_url"] is None and _open_task_of(
                items, row["id"], user.id
            ):
                # the deputy marks the absent person's task done (checked by complete())
                row["complete_url"] = request.route_path("activities.complete", id=row["id"])

    def page_url(n):
        return request.route_path("activities.mine", _query={"page": n})

    return {"title": _("My open items"), "groups": groups,
            "total": total, "page": page, "pages": pages, "page_url": page_url,
            "came_from": request.path_qs,
            "standing_in": sorted((u.name or u.email for u in standing_in.values()),
                                  key=str.casefold)}


def _for_whom(activity, me, standing_in):
    """The absent user an open item is listed for, or None when it is the user's own."""
    if activity.responsible_id == me:
        return None
    if activity.responsible_id in standing_in:
        return standing_in[activity.responsible_id]
    invited = {p.user_id for p in activity.participant_rows if p.kind == "user"}
    if me in invited:
        return None
    return next((u for uid, u in standing_in.items() if uid in invited), None)


def _open_task_of(items, activity_id, user_id) -> bool:
    return any(a.id == activity_id and a.responsible_id == user_id for a in items)


# --- availability ----------------------------------------------------------------------------


def parse_availability(request, params) -> dict:
    """Check the finder's parameters (shared by the page and the API)."""
    errors = {}

    def ids(name):
        raw = params.getall(name) if hasattr(params, "getall") else [params.get(name, "")]
        out = []
        for chunk in raw:
            for part in str(chunk or "").split(","):
                part = part.strip()
                if not part:
                    continue
                if not part.isdigit() or len(part) > 18:
                    errors[name] = _("Give ids separated by commas.")
                    return []
                out.append(int(part))
        return list(dict.fromkeys(out))[:50]

    users, resources = ids("users"), ids("resources")
    duration = _int(params.get("duration") or "60")
    if duration is None or not 5 <= duration <= 24 * 60:
        errors["duration"] = _("Give minutes from 5 to 1440.")
    tz = request.timezone
    today = local_today(request)
    lo = _parse_when(params.get("from"), today, tz, errors, "from")
    hi = _parse_when(params.get("to"), today + dt.timedelta(days=14), tz, errors, "to")
    limit = _int(params.get("limit") or "5")
    if limit is None or not 1 <= limit <= 50:
        errors["limit"] = _("Give a number from 1 to 50.")
    if not errors and hi <= lo:
        errors["to"] = _("The end is before the start.")
    if not errors and hi - lo > availability.MAX_WINDOW:
        errors["to"] = _("Search at most one year at a time.")
    if not users and not resources and "users" not in errors:
        users = [request.identity.user.id]
    db = request.dbsession
    if users and "users" not in errors:
        found = set(db.execute(select(User.id).where(User.id.in_(users))).scalars())
        if set(users) - found:
            errors["users"] = _("No such user.")
    if resources and "resources" not in errors:
        found = set(db.execute(select(Resource.id).where(Resource.id.in_(resources))).scalars())
        if set(resources) - found:
            errors["resources"] = _("No such resource.")
    return {"users": users, "resources": resources, "duration": duration, "from": lo, "to": hi,
            "limit": limit, "errors": errors}


def _parse_when(raw, default_day, tz, errors, name):
    if not raw:
        if name == "to":
            return midnight(default_day, tz)
        return max(utcnow(), midnight(default_day, tz))
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            if name == "to":
                day += dt.timedelta(days=1)
            return midnight(day, tz)
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(dt.UTC)
    except ValueError:
        errors[name] = _("Not a date (YYYY-MM-DD) or ISO 8601 date-time.")
        return utcnow()


def find(request, q) -> list[tuple[dt.datetime, dt.datetime]]:
    """Free slots of everyone asked: working hours of the viewer (their country's
    holidays off), and each other user's own public holidays count as busy days."""
    me = request.identity.user
    wt = availability.working_time(request.registry.settings, request.timezone,
                                   availability.country_of(request, me))
    busy = list(calendar.busy_for_users(request, q["users"], q["from"], q["to"]).values())
    others = [u for u in q["users"] if u != me.id]
    if others:
        for user in request.dbsession.execute(select(User).where(User.id.in_(others))).scalars():
            country = availability.country_of(request, user)
            if country and country != wt.country:
                busy.append(availability.holiday_busy(
                    country, recurrence.zone(user.timezone), q["from"], q["to"]))
    busy += list(
        calendar.busy_for_resources(request.dbsession, q["resources"], q["from"], q["to"]).values()
    )
    return availability.find_slots(
        busy, dt.timedelta(minutes=q["duration"]), q["from"], q["to"], wt, limit=q["limit"]
    )


def availability_view(request):
    db = request.dbsession
    asked = "duration" in request.GET
    q = parse_availability(request, request.GET)
    slots = find(request, q) if asked and not q["errors"] else []
    return {
        "title": _("Availability"),
        "asked": asked,
        "q": q,
        "errors": q["errors"] if asked else {},
        "slots": [
            {
                "start": s,
                "end": e,
                "label": f"{format_datetime(request, s)} – {format_time(request, e)}",
                "starts_iso": s.isoformat(),
                "ends_iso": e.isoformat(),
            }
            for s, e in slots
        ],
        "users": _users(db),
        "resources": _resources(db),
        "from_value": q["from"].astimezone(request.timezone).date().isoformat(),
        "to_value": (q["to"].astimezone(request.timezone) - dt.timedelta(seconds=1))
        .date().isoformat(),
    }


def book_view(request):
    """Create a meeting in a slot the finder proposed."""
    post = request.POST
    slot = post.get("slot") or f"{post.get('starts_at', '')}|{post.get('ends_at', '')}"
    parts = slot.split("|")

    def when(i, name):
        try:
            v = dt.datetime.fromisoformat(parts[i]) if len(parts) == 2 else None
        except ValueError:
            v = None
        if v is None or v.tzinfo is None:
            raise Problem(400, _("Invalid data"), errors={name: _("Not a date and time.")})
        return v.astimezone(dt.UTC)

    users = [i for i in (_int(v) for v in post.getall("users")) if i is not None]
    resources = [i for i in (_int(v) for v in post.getall("resources")) if i is not None]
    subject = (post.get("subject") or "").strip() or request.localizer.translate(_("Meeting"))
    try:
        record = actions.book(request, subject, "meeting", when(0, "starts_at"),
                              when(1, "ends_at"),
                              users, resources)
    except RecordError as exc:
        request.session.flash("; ".join(request.localizer.translate(m)
                                        for m in exc.errors.values()), "danger")
        return HTTPSeeOther(request.route_path("activities.availability"))
    request.session.flash(_("Meeting booked."), "success")
    return HTTPSeeOther(request.route_path("entity.detail", slug="activities", id=record.id))


# --- feeds and import ------------------------------------------------------------------------


def feeds_view(request):
    db = request.dbsession
    me = request.identity.user.id
    new_url = None
    if request.method == "POST":
        post = request.POST
        if post.get("revoke"):
            row = db.get(FeedToken, _int(post.get("revoke")) or 0)
            if row is None or row.user_id != me:
                raise HTTPNotFound()
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            request.session.flash(_("The feed address no longer works."), "success")
            return HTTPSeeOther(request.route_path("activities.feeds"))
        rid = _int(post.get("resource"))
        if rid is not None and db.get(Resource, rid) is None:
            raise HTTPNotFound()
        token, _row = ical.create_token(db, me, rid)
        new_url = request.route_url("activities.feed", token=token)
        request.response.status = 201
    rows = db.execute(
        select(FeedToken).where(FeedToken.user_id == me).order_by(FeedToken.id.desc())
    ).scalars().all()
    names = {r.id: r.name for r in _resources(db)}
    return {
        "title": _("Calendar feeds"),
        "tokens": rows,
        "names": names,
        "resources": _resources(db),
        "new_url": new_url,
    }


def feed_view(request):
    """The iCalendar feed (no login: the secret address is the credential)."""
    token = request.matchdict["token"]
    row = ical.find_token(request.dbsession, token)
    if row is None:
        raise HTTPNotFound()
    owner = request.dbsession.get(User, row.user_id)
    if owner is None or not owner.is_active:
        raise HTTPNotFound()
    body = ical.feed(request, row)
    resp = Response(body=body, content_type="text/calendar", charset="utf-8")
    resp.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    resp.cache_control.private = True
    resp.cache_control.max_age = 300
    return resp


def import_view(request):
    result = None
    if request.method == "POST":
        if not request.has_permission("activities.activity.create"):
            raise HTTPForbidden()
        upload = request.POST.get("file")
        data = getattr(upload, "file", None)
        if data is None:
            request.response.status = 400
            result = {"errors": [{"uid": None, "summary": "",
                                  "errors": {"file": request.localizer.translate(
                                      _("Choose an .ics file."))}}]}
        else:
            try:
                created, updated, errors = ical.import_ics(
                    request, data.read(ical.MAX_IMPORT_BYTES + 1)
                )
                result = {"created": created, "updated": updated, "errors": errors}
            except RecordError as exc:
                request.response.status = exc.status
                result = {"errors": [{"uid": None, "summary": "", "errors": {
                    k: request.localizer.translate(v) for k, v in exc.errors.items()}}]}
    return {"title": _("Import iCalendar"), "result": result}


def includeme(config):
    config.add_static_view("activities/static", "kyklos_activities:static/", cache_max_age=3600)
    routes = [
        ("activities.calendar", "/activities/calendar"),
        ("activities.mine", "/activities/mine"),
        ("activities.availability", "/activities/availability"),
        ("activities.book", "/activities/book"),
        ("activities.feeds", "/activities/feeds"),
        ("activities.import", "/activities/import"),
        ("activities.mass", "/activities/mass"),
        ("activities.invitation", r"/activities/{id:\d+}/invitation"),
        ("activities.complete", r"/activities/{id:\d+}/complete"),
        ("activities.move", r"/activities/{id:\d+}/move"),
        ("activities.participants", r"/activities/{id:\d+}/participants"),
        ("activities.feed", r"/activities/ical/{token:[A-Za-z0-9_-]{1,100}}.ics"),
    ]
    for name, pattern in routes:
        config.add_route(name, pattern)
    tpl = "kyklos_activities:templates/"
    config.add_view(calendar_view, route_name="activities.calendar", renderer=tpl + "calendar.pt",
                    permission=PERM, request_method="GET")
    config.add_view(mine_view, route_name="activities.mine", renderer=tpl + "mine.pt",
                    permission=PERM, request_method="GET")
    config.add_view(availability_view, route_name="activities.availability",
                    renderer=tpl + "availability.pt", permission=PERM, request_method="GET")
    config.add_view(book_view, route_name="activities.book",
                    permission="activities.activity.create", request_method="POST")
    config.add_view(feeds_view, route_name="activities.feeds", renderer=tpl + "feeds.pt",
                    permission=PERM, request_method=("GET", "POST"))
    config.add_view(import_view, route_name="activities.import", renderer=tpl + "import.pt",
                    permission="activities.activity.create", request_method=("GET", "POST"))
    config.add_view(mass_view, route_name="activities.mass", renderer=tpl + "mass.pt",
                    permission="activities.activity.create", request_method=("GET", "POST"))
    config.add_view(invitation_view, route_name="activities.invitation",
                    renderer=tpl + "invitation.pt", permission="authenticated",
                    request_method=("GET", "POST"))
    config.add_view(complete_view, route_name="activities.complete",
                    permission="activities.activity.update", request_method="POST")
    config.add_view(move_view, route_name="activities.move", renderer="json",
                    permission="activities.activity.update", request_method="POST")
    config.add_view(participants_view, route_name="activities.participants",
                    permission="activities.activity.update", request_method="POST")
    config.add_view(feed_view, route_name="activities.feed", permission=NO_PERMISSION_REQUIRED,
                    request_method="GET")
