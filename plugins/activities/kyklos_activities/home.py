"""The activities' part of the user's day (the home page sections of the
``kyklos_home_sections`` hook), "My open items" grouped by due date, and the defaults of
an activity started from another record (``kyklos_record_defaults``)."""

from __future__ import annotations

import datetime as dt

from pyramid.renderers import render
from sqlalchemy import select

from kyklos_sdk import format_datetime, format_time, hookimpl, utcnow

from . import _, about, calendar, quick
from .models import NEEDS_ACTION, OPEN, Activity, Participant

SECTION_ROWS = 8
UPCOMING_DAYS = 7
#: the groups of "My open items", in order
GROUPS = (
    ("overdue", _("Overdue")),
    ("today", _("Today")),
    ("tomorrow", _("Tomorrow")),
    ("week", _("This week")),
    ("later", _("Later")),
    ("none", _("No date")),
)
MINE_PAGE = 25


class DefaultsHooks:
    @hookimpl
    def kyklos_record_defaults(self, request, entity_type, parent_type, parent):
        """An activity started from a record is about it, with its account and person
        (a person's own account; an opportunity's, lead's or quote's account and
        contact)."""
        if entity_type.name != "activity" or parent_type is None or not parent_type.about:
            return None
        out = {"about_type": parent_type.name, "about_id": parent.id}
        out.update(about.links_of(parent_type, parent))
        return out


def local_day_bounds(request, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = request.timezone
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start, end.astimezone(dt.UTC)


def group_of(request, when: dt.datetime | None, now: dt.datetime) -> str:
    """Which group of "My open items" a due (or start) time falls in, by the user's
    local calendar: overdue, today, tomorrow, this week (to Sunday), later, no date."""
    if when is None:
        return "none"
    if when < now:
        return "overdue"
    tz = request.timezone
    today = now.astimezone(tz).date()
    day = when.astimezone(tz).date()
    if day == today:
        return "today"
    if day == today + dt.timedelta(days=1):
        return "tomorrow"
    if day <= today + dt.timedelta(days=6 - today.weekday()):
        return "week"
    return "later"


def grouped_open_items(request, items) -> list[dict]:
    now = utcnow()
    rows = quick.rows_of(request, items, with_about=True)
    groups = {key: [] for key, _t in GROUPS}
    for a, row in zip(items, rows, strict=True):
        groups[group_of(request, a.due_at or a.starts_at, now)].append(row)
    return [{"key": k, "title": t, "rows": groups[k]} for k, t in GROUPS if groups[k]]


def _rows_html(request, rows) -> str:
    return render("kyklos_activities:templates/home_rows.pt", {"rows": rows}, request=request)


class HomeHooks:
    @hookimpl
    def kyklos_home_sections(self, request):
        """Today's agenda, overdue and due tasks, upcoming meetings, unanswered
        invitations: each one or two indexed queries on the user's own activities."""
        from kyklos_sdk import HomeSection

        if request.identity is None or not request.has_permission("activities.calendar.view"):
            return None
        me = request.identity.user.id
        db = request.dbsession
        today = utcnow().astimezone(request.timezone).date()
        start, end = local_day_bounds(request, today)
        now = utcnow()
        cal = request.route_path("activities.calendar", _query={"view": "day"})
        out = []

        # Today's agenda: every occurrence of the day the user takes part in.
        occs = [o for o in calendar.for_users(request, [me], start, end) if o.visible]
        agenda = []
        for o in occs[:SECTION_ROWS]:
            row = quick.rows_of(request, [o.activity], with_about=True)[0]
            if not o.activity.all_day:
                row["when"] = format_time(request, o.starts_at)
            agenda.append(row)
        out.append(
            HomeSection(
                id="activities-today",
                title=_("Today's agenda"),
                order=10,
                size="half",
                html=_rows_html(request, agenda),
                count=len(agenda),
                url=cal,
                empty=_("Nothing planned today. Schedule a meeting from a person's page."),
            )
        )

        # Overdue and due tasks: open, the user's, due by the end of today - and, during
        # a delegation, those of the person the user stands in for (SEC-03).
        carried = [me] + [
            d.from_user.id for d in request.identity.delegations
            if d.types is None or "activity" in d.types
        ]
        due = list(
            db.execute(
                select(Activity)
                .where(
                    Activity.state == OPEN,
                    Activity.responsible_id.in_(carried),
                    Activity.due_at.is_not(None),
                    Activity.due_at < end,
                )
                .order_by(Activity.due_at, Activity.id)
                .limit(SECTION_ROWS)
            ).scalars()
        )
        out.append(
            HomeSection(
                id="activities-due",
                title=_("Overdue and due tasks"),
                order=20,
                size="half",
                html=_rows_html(request, quick.rows_of(request, due, with_about=True)),
                count=len(due),
                url=request.route_path("activities.mine"),
                empty=_("No task is due. Well done."),
            )
        )

        # Upcoming meetings: the next days' timed activities the user takes part in.
        later = calendar.for_users(
            request, [me], end, end + dt.timedelta(days=UPCOMING_DAYS), include_tasks=False
        )
        later = [o for o in later if o.visible and o.activity.starts_at is not None]
        meetings = []
        for o in later[:SECTION_ROWS]:
            row = quick.rows_of(request, [o.activity], with_about=True)[0]
            row["when"] = format_datetime(request, o.starts_at, "short")
            meetings.append(row)
        out.append(
            HomeSection(
                id="activities-upcoming",
                title=_("Upcoming meetings"),
                order=30,
                size="half",
                html=_rows_html(request, meetings),
                count=len(meetings),
                url=request.route_path("activities.calendar", _query={"view": "agenda"}),
                empty=_("No meeting in the next seven days."),
            )
        )

        # Unanswered invitations: the user's "needs action" answers of coming activities.
        invited = list(
            db.execute(
                select(Activity)
                .join(Participant, Participant.activity_id == Activity.id)
                .where(
                    Participant.kind == "user",
                    Participant.user_id == me,
                    Participant.status == NEEDS_ACTION,
                    Activity.state == OPEN,
                    Activity.span_end.is_(None) | (Activity.span_end >= now),
                )
                .order_by(Activity.span_start, Activity.id)
                .limit(SECTION_ROWS)
            ).scalars()
        )
        rows = quick.rows_of(request, invited, with_about=True)
        for r in rows:
            r["complete_url"] = None  # answered on the invitation page, not completed
        out.append(
            HomeSection(
                id="activities-invitations",
                title=_("Unanswered invitations"),
                order=40,
                size="half",
                html=_rows_html(request, rows),
                count=len(rows),
                empty=_("No invitation waits for your answer."),
            )
        )
        return out
