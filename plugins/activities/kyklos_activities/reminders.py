"""Reminders and alerts (ACT-08): a job that runs every minute and notifies the people
of activities whose reminder time has come.

Each reminder is keyed by (activity, user, occurrence, offset): its row is inserted in
the same transaction as the notification, and the unique key refuses a second one, so
a reminder goes out exactly once even when runs overlap or a run is retried.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from kyklos_sdk import format_datetime, utcnow

from . import _, calendar
from .models import DECLINED, OPEN, Activity, Participant, Reminder
from .validation import MAX_REMINDER_MINUTES

#: reminders older than this are not sent late (the worker was down)
LATE = dt.timedelta(hours=6)


def recipients(db, activities) -> dict[int, set[int]]:
    """Activity id -> users to remind: the responsible user and every invited user who
    did not decline."""
    ids = [a.id for a in activities]
    out = {a.id: ({a.responsible_id} if a.responsible_id else set()) for a in activities}
    if not ids:
        return out
    rows = db.execute(
        select(Participant.activity_id, Participant.user_id).where(
            Participant.activity_id.in_(ids),
            Participant.kind == "user",
            Participant.status != DECLINED,
        )
    ).all()
    for aid, uid in rows:
        out[aid].add(uid)
    return out


def due(db, now: dt.datetime) -> list[tuple[Activity, dt.datetime, int]]:
    """``(activity, occurrence start, offset)`` of every reminder due in
    ``[now - LATE, now]``."""
    ahead = now + dt.timedelta(minutes=MAX_REMINDER_MINUTES)
    lo = now - LATE
    stmt = select(Activity).where(
        Activity.state == OPEN,
        Activity.reminders != [],
        calendar.range_clause(lo, ahead),
        or_(Activity.rrule.is_not(None), Activity.rdates != [], and_(Activity.span_start >= lo)),
    )
    out = []
    for a in db.execute(stmt).scalars():
        offsets = [m for m in (a.reminders or ()) if isinstance(m, int)]
        if not offsets:
            continue
        for start, _end in calendar.expand(a, lo, ahead):
            for minutes in offsets:
                at = start - dt.timedelta(minutes=minutes)
                if lo <= at <= now:
                    out.append((a, start, minutes))
    return out


def send_due(request, now: dt.datetime | None = None) -> int:
    """Send every due reminder not sent yet; returns how many notifications went out."""
    db = request.dbsession
    now = now or utcnow()
    items = due(db, now)
    if not items:
        return 0
    people = recipients(db, list({a.id: a for a, _s, _m in items}.values()))
    sent = 0
    notify = getattr(request, "notify", None)
    for activity, start, minutes in items:
        for uid in sorted(people.get(activity.id, ())):
            try:
                with db.begin_nested():
                    db.add(
                        Reminder(
                            activity_id=activity.id,
                            user_id=uid,
                            occurrence_at=start,
                            offset_minutes=minutes,
                            remind_at=start - dt.timedelta(minutes=minutes),
                            sent_at=now,
                        )
                    )
            except IntegrityError:
                continue  # already sent
            if notify is not None:
                notify(
                    [uid],
                    _("Reminder: ${subject}", mapping={"subject": activity.subject}),
                    body=when_for(request, uid, start, activity),
                    url=request.route_path("activities.invitation", id=activity.id),
                    kind="reminder",
                )
            sent += 1
    return sent


def when_for(request, user_id, value, activity=None) -> str:
    """``value`` as the user ``user_id`` reads it: in their own time zone and language
    (a reminder or an invitation is read by its recipient, not by whoever caused it);
    an all-day activity is its day, never shifted."""
    from zoneinfo import ZoneInfo

    from babel import Locale, UnknownLocaleError
    from babel import dates as babel_dates

    from kyklos_sdk import User

    from . import recurrence

    user = request.dbsession.get(User, user_id) if user_id else None
    if user is None:
        return format_datetime(request, value, "short")
    try:
        locale = Locale.parse(user.locale or request.locale_name or "en")
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    if activity is not None and activity.all_day:
        day = value.astimezone(recurrence.zone(activity.timezone)).date()
        return babel_dates.format_date(day, "medium", locale=locale)
    tz = ZoneInfo(user.timezone) if recurrence.valid_zone(user.timezone) else dt.UTC
    return babel_dates.format_datetime(value, "short", tzinfo=tz, locale=locale)


def reminder_job(ctx, now: str | None = None):
    """The periodic job: ``now`` (ISO 8601) only for tests and replays."""
    at = dt.datetime.fromisoformat(now) if now else None
    return {"sent": send_due(ctx.request, at)}
