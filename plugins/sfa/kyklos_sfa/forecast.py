"""The sales forecast (SFA-07): per owner or team and period, the quota against what
is won and what the open pipeline promises ("next semester's sales from open
opportunities and their probabilities").

Columns (base currency, today's rates):

- ``quota``: the owner's quotas for periods inside the forecast period (so a semester
  counts its two quarters' quotas, or its own half-year quota);
- ``won``: opportunities won in the period (``won_at``);
- ``pipeline``: open opportunities expected to close in the period (``expected_close``);
- ``weighted``: the pipeline, each amount times its probability;
- ``best_case``: won plus the whole pipeline;
- ``gap``: quota less won less weighted: what is still missing if the forecast holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select

from kyklos_sdk import Department, User

from .models import Opportunity, Quota
from .periods import parse_period
from .reporting import ZERO, Converter, day_start, guard, may_read, visible

COLUMNS = ("quota", "won", "pipeline", "weighted", "best_case", "gap")


@dataclass
class Row:
    """One owner's or team's figures; an amount a field rule hides from the user is
    ``None`` (see :meth:`hide`), never a zero."""

    key: int | None
    title: str
    quota: Decimal = ZERO
    won: Decimal | None = ZERO
    pipeline: Decimal | None = ZERO
    weighted: Decimal | None = ZERO
    has_quota: bool = False
    members: list = field(default_factory=list)

    @property
    def best_case(self) -> Decimal | None:
        if self.won is None or self.pipeline is None:
            return None
        return self.won + self.pipeline

    @property
    def gap(self) -> Decimal | None:
        if not self.has_quota or self.won is None or self.weighted is None:
            return None
        return self.quota - self.won - self.weighted

    def hide(self, names) -> None:
        for name in names:
            setattr(self, name, None)
        for member in self.members:
            member.hide(names)

    def add(self, other: Row) -> None:
        self.quota += other.quota
        self.won += other.won
        self.pipeline += other.pipeline
        self.weighted += other.weighted
        self.has_quota = self.has_quota or other.has_quota

    def to_json(self) -> dict:
        def m(v):
            return None if v is None else str(Decimal(v).quantize(Decimal("0.01")))

        return {"key": self.key, "title": self.title, "quota": m(self.quota if self.has_quota
                                                                  else None),
                "won": m(self.won), "pipeline": m(self.pipeline), "weighted": m(self.weighted),
                "best_case": m(self.best_case), "gap": m(self.gap)}


@dataclass
class Forecast:
    period: str
    start: dt.date
    end: dt.date
    group: str
    currency: str
    rows: list[Row]
    total: Row
    missing_rates: list

    def to_json(self) -> dict:
        return {
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "group": self.group,
            "currency": self.currency,
            "rows": [r.to_json() for r in self.rows],
            "total": self.total.to_json(),
            "missing_rates": self.missing_rates,
        }


def compute(request, period: str, group: str = "owner", owner_id=None) -> Forecast:
    """The forecast of ``period`` by ``owner`` or ``team`` (department), over the
    opportunities and quotas the user may see. Two grouped queries."""
    start, end = parse_period(period)
    since, until = day_start(start), day_start(end + dt.timedelta(days=1))
    db = request.dbsession
    conv = Converter(request)
    won = and_(Opportunity.status == "won", Opportunity.won_at >= since,
               Opportunity.won_at < until)
    open_ = and_(Opportunity.status == "open", Opportunity.expected_close >= start,
                 Opportunity.expected_close <= end)
    amount = guard(request, Opportunity.amount, "amount")
    weighted = guard(request, Opportunity.amount * Opportunity.probability, "amount",
                     "probability")
    stmt = (
        visible(request, "opportunity")
        .with_only_columns(
            Opportunity.owner_id,
            Opportunity.amount_currency,
            func.sum(case((won, amount), else_=None)),
            func.sum(case((open_, amount), else_=None)),
            func.sum(case((open_, weighted), else_=None)),
        )
        .where(or_(won, open_))
        .group_by(Opportunity.owner_id, Opportunity.amount_currency)
    )
    if owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == owner_id)
    rows: dict = {}

    def row(uid) -> Row:
        if uid not in rows:
            rows[uid] = Row(uid, "")
        return rows[uid]

    for uid, cur, w, p, wp in db.execute(stmt).all():
        r = row(uid)
        r.won += conv(w, cur)
        r.pipeline += conv(p, cur)
        r.weighted += conv(Decimal(wp or 0) / 100, cur)
    qstmt = (
        visible(request, "quota")
        .with_only_columns(Quota.user_id, Quota.amount_currency, func.sum(Quota.amount))
        .where(Quota.period_start >= start, Quota.period_end <= end)
        .group_by(Quota.user_id, Quota.amount_currency)
    )
    if owner_id is not None:
        qstmt = qstmt.where(Quota.user_id == owner_id)
    for uid, cur, amount in db.execute(qstmt).all():
        r = row(uid)
        r.quota += conv(amount, cur)
        r.has_quota = True
    ids = [u for u in rows if u is not None]
    users = {
        u.id: u for u in db.execute(select(User).where(User.id.in_(ids))).scalars()
    } if ids else {}
    for uid, r in rows.items():
        u = users.get(uid)
        r.title = (u.name or u.email) if u is not None else "—"
    out = sorted(rows.values(), key=lambda r: r.title.casefold())
    if group == "team":
        out = by_team(db, out, users)
    total = Row(None, "")
    for r in out:
        total.add(r)
    hidden = () if may_read(request, "amount") else ("won", "pipeline", "weighted")
    if not hidden and not may_read(request, "probability"):
        hidden = ("weighted",)
    for r in [*out, total]:
        r.hide(hidden)
    return Forecast(period, start, end, group, conv.base, out, total, sorted(conv.missing))


def by_team(db, rows: list[Row], users: dict) -> list[Row]:
    """Owner rows summed per department (the org chart); owners without one form a
    row of their own."""
    dept_ids = {u.department_id for u in users.values() if u.department_id is not None}
    names = dict(
        db.execute(select(Department.id, Department.name).where(Department.id.in_(dept_ids)))
        .all()
    ) if dept_ids else {}
    teams: dict = {}
    for r in rows:
        u = users.get(r.key)
        dept = u.department_id if u is not None else None
        t = teams.get(dept)
        if t is None:
            t = teams[dept] = Row(dept, names.get(dept, "—"))
        t.add(r)
        t.members.append(r)
    return sorted(teams.values(), key=lambda r: (r.key is None, r.title.casefold()))
