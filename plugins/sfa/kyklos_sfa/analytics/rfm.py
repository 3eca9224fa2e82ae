"""RFM segmentation of accounts (RPT-04, LOY-02 "most valuable customers"): how
recently each account last won a deal with us, how often, and for how much.

One ``GROUP BY`` over the won opportunities the user may see, of the accounts the user
may see (amounts summed per currency in SQL, converted to the base currency after:
a row per account and currency). Each measure is scored 1-5 by quintile among the
accounts that have won deals (5: most recent, most often, most money); ties share a
score. The recency and frequency scores name the segment ("Champions", "At risk", ...)
as the usual RFM grid does.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func

from kyklos_sdk import get_entity_type, visible_select

from .. import _
from ..models import Opportunity
from ..reporting import ZERO, Converter, guard, may_read, visible, visible_ids

#: (segment key, its words, the (recency, frequency) scores it covers); the usual grid
SEGMENTS = (
    ("champions", _("Champions"), {(5, 4), (5, 5)}),
    ("loyal", _("Loyal customers"), {(r, f) for r in (3, 4) for f in (4, 5)}),
    ("potential", _("Potential loyalists"), {(r, f) for r in (4, 5) for f in (2, 3)}),
    ("new", _("New customers"), {(5, 1)}),
    ("promising", _("Promising"), {(4, 1)}),
    ("attention", _("Need attention"), {(3, 3)}),
    ("sleeping", _("About to sleep"), {(3, 1), (3, 2)}),
    ("at_risk", _("At risk"), {(r, f) for r in (1, 2) for f in (3, 4)}),
    ("cant_lose", _("Can't lose them"), {(1, 5), (2, 5)}),
    ("hibernating", _("Hibernating"), {(r, f) for r in (1, 2) for f in (1, 2)}),
)
SEGMENT_OF = {rf: key for key, _w, cells in SEGMENTS for rf in cells}
SEGMENT_WORDS = {key: words for key, words, _c in SEGMENTS}


def quintiles(values: dict, higher_is_better: bool = True) -> dict:
    """``{key: value}`` -> ``{key: 1..5}`` by the value's mid-rank percentile, so equal
    values share a score (every account alike scores 3)."""
    if not values:
        return {}
    sign = 1 if higher_is_better else -1
    ordered = sorted(sign * v for v in values.values())
    n = len(ordered)
    out = {}
    for key, v in values.items():
        v = sign * v
        below = bisect.bisect_left(ordered, v)
        equal = bisect.bisect_right(ordered, v) - below
        pct = (below + equal / 2) / n
        out[key] = min(5, 1 + int(pct * 5))
    return out


@dataclass
class Customer:
    account_id: int
    name: str
    last_won: dt.datetime
    recency_days: int
    frequency: int
    monetary: Decimal | None
    r: int = 0
    f: int = 0
    m: int | None = None
    segment: str = ""

    @property
    def score(self) -> str:
        return f"{self.r}{self.f}{self.m if self.m is not None else '–'}"


@dataclass
class Rfm:
    customers: list[Customer]
    currency: str
    #: the user may not read amounts: no monetary values or scores
    monetary_hidden: bool = False
    missing_rates: list = field(default_factory=list)

    def grid(self) -> dict:
        """``{(r, f): (accounts, money)}`` for the 5×5 grid."""
        out = {(r, f): [0, ZERO] for r in range(1, 6) for f in range(1, 6)}
        for c in self.customers:
            cell = out[(c.r, c.f)]
            cell[0] += 1
            cell[1] += c.monetary or ZERO
        return {k: (n, None if self.monetary_hidden else m) for k, (n, m) in out.items()}

    def by_segment(self) -> list[tuple[str, int, Decimal | None]]:
        counts = {key: [0, ZERO] for key, _w, _c in SEGMENTS}
        for c in self.customers:
            counts[c.segment][0] += 1
            counts[c.segment][1] += c.monetary or ZERO
        return [(k, n, None if self.monetary_hidden else m) for k, (n, m) in counts.items()]


def compute(request, today: dt.date | None = None) -> Rfm:
    """The RFM scores of every account the user may see that won at least one deal
    the user may see."""
    db = request.dbsession
    now = dt.datetime.combine(today or dt.date.today(), dt.time.max, dt.UTC)
    conv = Converter(request, today)
    rows = db.execute(
        visible(request, "opportunity")
        .with_only_columns(
            Opportunity.account_id,
            Opportunity.amount_currency,
            func.max(Opportunity.won_at),
            func.count(Opportunity.id),
            func.sum(guard(request, Opportunity.amount, "amount")),
        )
        .where(
            Opportunity.status == "won",
            Opportunity.won_at.is_not(None),
            Opportunity.account_id.in_(visible_ids(request, "account")),
        )
        .group_by(Opportunity.account_id, Opportunity.amount_currency)
    ).all()
    hidden = not may_read(request, "amount")
    acc: dict[int, list] = {}
    for account_id, cur, last, n, amount in rows:
        a = acc.setdefault(account_id, [last, 0, ZERO])
        a[0] = max(a[0], last)
        a[1] += n
        a[2] += conv(amount, cur)
    account_et = get_entity_type(request, "account")
    names = (
        dict(
            db.execute(
                visible_select(request, account_et)
                .with_only_columns(account_et.model.id, account_et.model.name)
                .where(account_et.model.id.in_(list(acc)))
            ).all()
        )
        if acc
        else {}
    )
    customers = []
    for aid, (last, n, money) in acc.items():
        if last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
        customers.append(
            Customer(
                aid,
                names.get(aid, ""),
                last,
                max((now - last).days, 0),
                n,
                None if hidden else money,
            )
        )
    r = quintiles({c.account_id: c.recency_days for c in customers}, higher_is_better=False)
    f = quintiles({c.account_id: c.frequency for c in customers})
    m = {} if hidden else quintiles({c.account_id: c.monetary for c in customers})
    for c in customers:
        c.r, c.f, c.m = r[c.account_id], f[c.account_id], m.get(c.account_id)
        c.segment = SEGMENT_OF[(c.r, c.f)]
    customers.sort(key=lambda c: (-(c.r + c.f + (c.m or 0)), -(c.monetary or 0), c.name.casefold()))
    return Rfm(customers, conv.base, hidden, sorted(conv.missing))
