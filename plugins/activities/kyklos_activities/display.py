"""How people read an activity's participants and reminders (display kinds
``participants`` and ``reminders``): names with their translated answers, and
"15 minutes before" - never the JSON the API exchanges."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape
from sqlalchemy import select

from kyklos_sdk import User, display_list, format_datetime, visible_select

from . import _
from .models import Resource

ANSWERS = {
    "needs-action": _("no answer yet"),
    "accepted": _("accepted"),
    "declined": _("declined"),
    "tentative": _("maybe"),
}
KIND_ICONS = {
    "user": "person-badge",
    "person": "person",
    "account": "building",
    "resource": "door-open",
}


def names_of(request, items) -> dict:
    """``{(kind, id): (title, url)}`` of participants the user may see."""
    by_kind: dict[str, set[int]] = {}
    for p in items:
        if isinstance(p, dict) and isinstance(p.get("id"), int):
            by_kind.setdefault(p.get("kind"), set()).add(p["id"])
    db = request.dbsession
    out = {}
    if by_kind.get("user"):
        for u in db.execute(select(User).where(User.id.in_(by_kind["user"]))).scalars():
            out[("user", u.id)] = (u.title, None)
    if by_kind.get("resource"):
        for r in db.execute(select(Resource).where(Resource.id.in_(by_kind["resource"]))).scalars():
            out[("resource", r.id)] = (r.name, None)
    for kind in ("person", "account"):
        et = request.registry.kyklos_entities.get(kind)
        if not by_kind.get(kind) or et is None:
            continue
        rows = db.execute(visible_select(request, et).where(et.model.id.in_(by_kind[kind])))
        for r in rows.scalars():
            out[(kind, r.id)] = (
                getattr(r, "full_name", None) or et.record_title(r),
                request.route_path("entity.detail", slug=et.slug, id=r.id),
            )
    return out


def render_participants(request, field, value) -> Markup:
    items = [p for p in value or () if isinstance(p, dict)]
    names = names_of(request, items)
    tr = request.localizer.translate
    lines = []
    for p in items:
        title, url = names.get((p.get("kind"), p.get("id")), (tr(_("Restricted")), None))
        name = Markup('<a href="{}">{}</a>').format(url, title) if url else escape(title)
        answer = ""
        if p.get("kind") in ("user", "person") and p.get("status") in ANSWERS:
            answer = Markup(' <span class="text-muted small">({})</span>').format(
                tr(ANSWERS[p["status"]])
            )
        lines.append(
            Markup('<i class="bi bi-{}" aria-hidden="true"></i> {}{}').format(
                KIND_ICONS.get(p.get("kind"), "dot"), name, answer
            )
        )
    return display_list(lines)


def render_occurrence_list(request, field, value) -> Markup:
    """Extra (RDATE) or skipped (EXDATE) occurrence starts, in the user's zone."""
    lines = []
    for v in value or ():
        try:
            when = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is not None:
            lines.append(escape(format_datetime(request, when, "short")))
    return display_list(lines)


def render_external_attendees(request, field, value) -> Markup:
    """Attendees of an imported event that are no user, person or resource here: their
    name and e-mail, with their answer."""
    tr = request.localizer.translate
    lines = []
    for p in value or ():
        if not isinstance(p, dict):
            continue
        name, email = p.get("name") or "", p.get("email") or ""
        who = (
            Markup("{} &lt;{}&gt;").format(name, email) if name and email else escape(name or email)
        )
        answer = ""
        if p.get("status") in ANSWERS:
            answer = Markup(' <span class="text-muted small">({})</span>').format(
                tr(ANSWERS[p["status"]])
            )
        lines.append(
            Markup('<i class="bi bi-envelope" aria-hidden="true"></i> {}{}').format(who, answer)
        )
    return display_list(lines)


def reminder_text(request, minutes: int) -> str:
    """ "15 minutes before", "1 day before" in the user's language."""
    loc = request.localizer
    if minutes == 0:
        return loc.translate(_("At the time"))
    d = "kyklos_activities"
    # literal messages in each call: the extractor only sees pluralize()'s own arguments
    if minutes % 1440 == 0:
        n = minutes // 1440
        return loc.pluralize("${n} day before", "${n} days before", n, domain=d, mapping={"n": n})
    if minutes % 60 == 0:
        n = minutes // 60
        return loc.pluralize("${n} hour before", "${n} hours before", n, domain=d, mapping={"n": n})
    return loc.pluralize(
        "${n} minute before", "${n} minutes before", minutes, domain=d, mapping={"n": minutes}
    )


def render_reminders(request, field, value) -> Markup:
    items = [v for v in value or () if isinstance(v, int) and not isinstance(v, bool)]
    return display_list([escape(reminder_text(request, v)) for v in sorted(items)])


def status_titles_by_code(request) -> dict:
    """``{code: title in the user's language}`` of every status (one query a request;
    a code means the same in every set, e.g. "done")."""
    cache = request.__dict__.setdefault("_kyklos_activities_status_titles", {})
    if not cache:
        from kyklos_sdk import record_titles

        from .models import Status

        rows = (
            request.dbsession.execute(select(Status).order_by(Status.position, Status.id))
            .scalars()
            .all()
        )
        titles = record_titles(request, "activitystatus", rows)
        for r in rows:
            cache.setdefault(r.code, titles[r.id])
    return cache


def render_status(request, field, value) -> Markup:
    return escape(status_titles_by_code(request).get(value, value))


def render_rrule(request, field, value) -> Markup:
    from .form import describe_rrule

    return escape(describe_rrule(request, value))


def render_about_type(request, field, value) -> Markup:
    et = request.registry.kyklos_entities.get(value)
    return escape(request.localizer.translate(et.title) if et is not None else value)


def render_about_id(request, field, value) -> Markup:
    """The record an activity is about, by title. The value alone does not say its type:
    on the activity's own page (its history) the type is the activity's."""
    from . import about
    from .models import Activity

    kind = None
    md = getattr(request, "matchdict", None) or {}
    if md.get("slug") == "activities" and str(md.get("id", "")).isdigit():
        activity = request.dbsession.get(Activity, int(md["id"]))
        if activity is not None:
            kind = activity.about_type
    found = about.title_of(request, kind, value) if kind else None
    if found is None:
        return escape(request.localizer.translate(_("Restricted")))
    return Markup('<a href="{}">{}</a>').format(found[1], found[0])


def includeme(config):
    add = getattr(config, "add_display_kind", None)
    if add is None:  # a core without display kinds: the generic rendering stays
        return
    add("participants", render_participants)
    add("reminders", render_reminders)
    add("occurrence_list", render_occurrence_list)
    add("external_attendees", render_external_attendees)
    add("activity_status", render_status)
    add("rrule", render_rrule)
    add("about_type", render_about_type)
    add("about_id", render_about_id)
