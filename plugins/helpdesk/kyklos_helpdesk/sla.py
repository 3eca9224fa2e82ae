"""SLA targets (HD-03/04): a case's first-response and resolution due times, counted in
its team's business hours (working spans per weekday in a time zone, public holidays of a country
off, as the activities plugin's availability finder knows them), paused while the case
waits on the customer.

The due times are plain date-time columns of the case, so escalation is an ordinary
automation rule with a time trigger ("0 minutes after Resolution due, if Status is one
of New, Assigned: set Priority to Urgent, notify the team lead"): the core engine's
durable scan fires it once per due time, across worker restarts and clock jumps.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select

from kyklos_sdk import utcnow

from . import _
from .hours import WeekClock, week_clock, week_intervals
from .models import BusinessHours, Case, SlaPolicy, Team

#: how far ahead business time is looked for: a week template with no working day at all
#: (or a year of holidays) gives no due time rather than a loop without end
HORIZON = dt.timedelta(days=400)
CHUNK = dt.timedelta(days=14)


def clock_of(hours: BusinessHours | None) -> WeekClock | None:
    """The working time of a business-hours record (its spans per weekday, see
    :mod:`.hours`); ``None``: round the clock."""
    if hours is None:
        return None
    return week_clock(hours)


def add_business_minutes(
    start: dt.datetime, minutes: float, clock: WeekClock | None
) -> dt.datetime | None:
    """The moment ``minutes`` of business time after ``start``; ``None`` when the
    calendar has no working time within the horizon."""
    if clock is None:
        return start + dt.timedelta(minutes=minutes)
    left = dt.timedelta(minutes=minutes)
    cursor, end = start, start + HORIZON
    while cursor < end:
        upto = min(cursor + CHUNK, end)
        for a, b in week_intervals(clock, cursor, upto):
            if b - a >= left:
                return _whole_second(a + left)
            left -= b - a
        cursor = upto
    return None


def business_minutes_between(a: dt.datetime, b: dt.datetime, clock: WeekClock | None) -> int:
    """Whole business minutes from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
    if b <= a:
        return 0
    if clock is None:
        return int((b - a).total_seconds() // 60)
    total = sum(((y - x) for x, y in week_intervals(clock, a, b)), dt.timedelta())
    return int(total.total_seconds() // 60)


def _whole_second(value: dt.datetime) -> dt.datetime:
    # dt.time.max ends a day at 23:59:59.999999: due times are shown to the minute
    return value.replace(microsecond=0) if value.microsecond else value


def policy_for(db, case: Case) -> SlaPolicy | None:
    """The policy of the case's contract when it names one; else the first active policy
    (by position) whose priority and type fit the case."""
    if case.contract_id:
        from .models import Contract

        contract = db.get(Contract, case.contract_id)
        if contract is not None and contract.sla_policy_id:
            policy = db.get(SlaPolicy, contract.sla_policy_id)
            if policy is not None and policy.active:
                return policy
    q = (
        select(SlaPolicy)
        .where(
            SlaPolicy.active.is_(True),
            or_(SlaPolicy.priority.is_(None), SlaPolicy.priority == case.priority),
            or_(SlaPolicy.type_id.is_(None), SlaPolicy.type_id == case.type_id),
        )
        .order_by(SlaPolicy.position, SlaPolicy.id)
        .limit(1)
    )
    return db.execute(q).scalar()


def case_clock(db, case: Case) -> WeekClock | None:
    if not case.team_id:
        return None
    team = db.get(Team, case.team_id)
    if team is None or not team.hours_id:
        return None
    return clock_of(db.get(BusinessHours, team.hours_id))


def _minutes(hours) -> float | None:
    return None if hours is None else float(hours) * 60


def set_targets(db, case: Case, now: dt.datetime | None = None) -> None:
    """(Re)compute the due times from when the case opened: on creation, and when its
    priority, type or team change (a case raised to urgent gets the urgent targets)."""
    opened = case.created_at or now or utcnow()
    if case.created_at is None:
        # a new case: its opening time is the SLA's start, the same moment exactly
        case.created_at = opened
    policy = policy_for(db, case)
    case.sla_policy_id = policy.id if policy is not None else None
    if policy is None:
        case.first_response_due = case.resolution_due = None
        case.sla_paused_minutes = None
        return
    clock = case_clock(db, case)
    first = _minutes(policy.first_response_hours)
    case.first_response_due = (
        add_business_minutes(opened, first, clock) if first is not None else None
    )
    resolution = _minutes(policy.resolution_hours)
    due = add_business_minutes(opened, resolution, clock) if resolution is not None else None
    if case.status == "waiting" and due is not None:
        # the clock is stopped: keep what would be left of the new target
        now = now or utcnow()
        case.sla_paused_minutes = business_minutes_between(now, due, clock)
        case.resolution_due = None
    else:
        case.resolution_due = due


def follow_status(db, case: Case, now: dt.datetime | None = None) -> None:
    """The SLA clock after a change of state: the first answer is given when the case
    leaves "new"; waiting on the customer stops the resolution clock (the business
    minutes left are kept), and answering starts it again with those minutes."""
    now = now or utcnow()
    if case.status != "new" and case.first_response_at is None:
        case.first_response_at = now
    if case.status == "waiting":
        if case.sla_paused_minutes is None and case.resolution_due is not None:
            clock = case_clock(db, case)
            case.sla_paused_minutes = business_minutes_between(now, case.resolution_due, clock)
            case.resolution_due = None
    elif case.sla_paused_minutes is not None:
        clock = case_clock(db, case)
        case.resolution_due = add_business_minutes(now, case.sla_paused_minutes, clock)
        case.sla_paused_minutes = None


# --- in words --------------------------------------------------------------------------


def duration_words(request, minutes: int) -> str:
    """ "3 h", "2 days 4 h", "25 min" in the user's language (largest two units)."""
    loc = request.localizer
    d, rest = divmod(max(0, int(minutes)), 1440)
    h, m = divmod(rest, 60)
    parts = []
    if d:
        parts.append(
            loc.pluralize("${n} day", "${n} days", d, domain="kyklos_helpdesk", mapping={"n": d})
        )
    if h and len(parts) < 2:
        parts.append(
            loc.pluralize("${n} h", "${n} h", h, domain="kyklos_helpdesk", mapping={"n": h})
        )
    if (m and len(parts) < 2 and not d) or not parts:
        parts.append(
            loc.pluralize("${n} min", "${n} min", m, domain="kyklos_helpdesk", mapping={"n": m})
        )
    return " ".join(parts)


def target_words(request, due, done_at, now=None) -> str:
    """One SLA target in words: "due in 3 h", "overdue by 2 h", "met", "missed by 1 h"."""
    now = now or utcnow()
    loc = request.localizer
    if done_at is not None:
        if due is None or done_at <= due:
            return loc.translate(_("met"))
        late = int((done_at - due).total_seconds() // 60)
        return loc.translate(
            _("missed by ${time}", mapping={"time": duration_words(request, late)})
        )
    if due is None:
        return ""
    delta = int((due - now).total_seconds() // 60)
    if delta >= 0:
        return loc.translate(_("due in ${time}", mapping={"time": duration_words(request, delta)}))
    return loc.translate(_("overdue by ${time}", mapping={"time": duration_words(request, -delta)}))


def sla_items(request, case: Case, now=None) -> list[tuple]:
    """The SLA panel's rows: (target, None, "due in 3 h · 7 Dec 2026, 14:00")."""
    from kyklos_sdk import format_datetime

    rows = []
    loc = request.localizer
    if case.first_response_due is not None:
        words = target_words(request, case.first_response_due, case.first_response_at, now)
        rows.append(
            (
                loc.translate(_("First response")),
                None,
                f"{words} · {format_datetime(request, case.first_response_due, 'short')}",
            )
        )
    if case.sla_paused_minutes is not None:
        left = duration_words(request, case.sla_paused_minutes)
        rows.append(
            (
                loc.translate(_("Resolution")),
                None,
                loc.translate(
                    _(
                        "paused while waiting on the customer, ${time} left",
                        mapping={"time": left},
                    )
                ),
            )
        )
    elif case.resolution_due is not None:
        done = case.resolved_at or case.closed_at
        words = target_words(request, case.resolution_due, done, now)
        rows.append(
            (
                loc.translate(_("Resolution")),
                None,
                f"{words} · {format_datetime(request, case.resolution_due, 'short')}",
            )
        )
    return rows
