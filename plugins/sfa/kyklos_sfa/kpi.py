"""Sales KPIs and charts (RPT-01, RPT-02, SFA-13).

Each KPI is one ``GROUP BY`` over the records the user may see (``visible`` applies the
record rules), with amounts summed per currency in SQL and converted to the base
currency afterwards (a handful of rows, not one per record). The same :class:`Kpi`
feeds the JSON API (``/api/v1/sfa/kpi/<name>``), the charts and their tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import String, and_, case, cast, func, literal, select, union_all

from kyklos_sdk import (
    ChartData,
    Series,
    User,
    UTCDateTime,
    Widget,
    format_month,
    get_entity_type,
)

from . import _, pipeline
from .models import Lead, Opportunity, StageChange
from .models.choices import LEAD_SOURCES
from .models.registry import REPORTS
from .periods import months_between
from .reporting import (
    ZERO,
    Converter,
    day_start,
    guard,
    may_read,
    money_json,
    month_of,
    shown,
    visible,
    visible_ids,
)

NAMES = ("by_stage", "stage_over_time", "per_month", "by_lead_source", "open_won_lost",
         "rep_activity", "win_rate", "cycle_time")
MAX_MONTHS = 36


@dataclass
class Kpi:
    name: str
    title: object
    kind: str
    labels: list
    series: list[Series]
    value_format: str = "number"
    currency: str | None = None
    label_title: object = None
    stacked: bool = False
    horizontal: bool = False
    #: currencies without an exchange rate (their amounts are not in the sums)
    missing_rates: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    #: value axis titles by series format (the chart's defaults otherwise)
    axis_titles: dict = field(default_factory=dict)
    #: the labels' machine keys where the labels are words (months: ``2026-01``), for the API
    keys: list | None = None

    def chart(self, request) -> ChartData:
        return ChartData(
            kind=self.kind,
            labels=self.labels,
            series=self.series,
            data_url=request.route_url("sfa.api.kpi", name=self.name, _query=self.params),
            horizontal=self.horizontal,
            stacked=self.stacked,
            value_format=self.value_format,
            currency=self.currency,
            label_title=self.label_title,
            axis_titles=self.axis_titles,
        )

    def to_json(self, request) -> dict:
        tr = request.localizer.translate

        def text(x):
            return tr(x) if hasattr(x, "interpolate") else str(x)

        def num(v):
            return money_json(v) if isinstance(v, Decimal) else v

        return {
            "name": self.name,
            "title": text(self.title),
            "kind": self.kind,
            "format": self.value_format,
            "currency": self.currency,
            "horizontal": self.horizontal,
            "stacked": self.stacked,
            "labels": [text(x) for x in self.labels],
            **({"keys": list(self.keys)} if self.keys is not None else {}),
            "series": [{"label": text(s.label), "values": [num(v) for v in s.values],
                        "format": s.format or self.value_format}
                       for s in self.series],
            "missing_rates": sorted(self.missing_rates),
            "params": self.params,
        }


@dataclass
class Range:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def since(self) -> dt.datetime:
        return day_start(self.start)

    @property
    def until(self) -> dt.datetime:
        return day_start(self.end + dt.timedelta(days=1))

    def params(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def default_range(today: dt.date | None = None) -> Range:
    """The last twelve months, this one included."""
    today = today or dt.date.today()
    y, m = today.year, today.month - 11
    if m <= 0:
        y, m = y - 1, m + 12
    return Range(dt.date(y, m, 1), today)


def _stage_labels(request, stage_list):
    return [pipeline.stage_title(request, s) for s in stage_list]


# --- the KPIs ------------------------------------------------------------------------


def by_stage(request, rng: Range | None = None) -> Kpi:
    """Every visible opportunity by its current stage: count, amount, weighted amount."""
    db = request.dbsession
    stage_list = pipeline.stages(db)
    conv = Converter(request)
    rows = db.execute(
        visible(request, "opportunity")
        .with_only_columns(
            Opportunity.stage_id,
            Opportunity.amount_currency,
            func.count(Opportunity.id),
            func.sum(guard(request, Opportunity.amount, "amount")),
            func.sum(guard(request, Opportunity.amount * Opportunity.probability,
                           "amount", "probability")),
        )
        .group_by(Opportunity.stage_id, Opportunity.amount_currency)
    ).all()
    count = dict.fromkeys((s.id for s in stage_list), 0)
    amount = dict.fromkeys(count, ZERO)
    weighted = dict.fromkeys(count, ZERO)
    for stage_id, cur, n, total, wsum in rows:
        count[stage_id] = count.get(stage_id, 0) + n
        amount[stage_id] = amount.get(stage_id, ZERO) + conv(total, cur)
        weighted[stage_id] = weighted.get(stage_id, ZERO) + conv(Decimal(wsum or 0) / 100, cur)
    ids = [s.id for s in stage_list]
    return Kpi(
        "by_stage", _("Opportunities by stage"), "bar", _stage_labels(request, stage_list),
        [Series(_("Number"), [count[i] for i in ids], format="count"),
         Series(_("Amount"), shown([amount[i] for i in ids], may_read(request, "amount")),
                format="money"),
         Series(_("Weighted amount"), shown([weighted[i] for i in ids],
                                            may_read(request, "amount", "probability")),
                format="money")],
        value_format="number", currency=conv.base, label_title=_("Stage"),
        missing_rates=sorted(conv.missing), axis_titles={"count": _("Opportunities")},
    )


def funnel(request) -> Kpi:
    """Open opportunities by stage (the pipeline funnel): the open stages only."""
    k = by_stage(request)
    stage_list = pipeline.stages(request.dbsession)
    keep = [i for i, s in enumerate(stage_list) if not (s.is_won or s.is_lost) and s.active]
    # amounts hidden by a field rule: the funnel counts deals instead
    index, fmt = (1, "money") if may_read(request, "amount") else (0, "count")
    return Kpi(
        "by_stage", _("Pipeline funnel"), "funnel", [k.labels[i] for i in keep],
        [Series(k.series[index].label, [k.series[index].values[i] for i in keep], format=fmt)],
        value_format=fmt, currency=k.currency, label_title=_("Stage"),
        missing_rates=k.missing_rates,
    )


def _months(rng: Range) -> list[str]:
    return months_between(rng.start, rng.end)[-MAX_MONTHS:]


def _month_words(request, months: list[str]) -> list[str]:
    """``2026-01`` -> ``Jan 2026`` in the user's language: what the chart's axis shows."""
    return [format_month(request, m) for m in months]


def _month_ends(months: list[str]) -> list[dt.datetime]:
    out = []
    for m in months:
        y, mo = int(m[:4]), int(m[5:])
        y2, mo2 = (y + 1, 1) if mo == 12 else (y, mo + 1)
        out.append(dt.datetime(y2, mo2, 1, tzinfo=dt.UTC))
    return out


def stage_over_time(request, rng: Range) -> Kpi:
    """How many visible opportunities stood in each stage at the end of each month,
    from the stage history: one windowed query (each change's span runs until the
    opportunity's next change) joined to the month ends."""
    db = request.dbsession
    months = _months(rng)
    ends = _month_ends(months)
    stage_list = pipeline.stages(db)
    if not months:
        return Kpi("stage_over_time", _("Stages over time"), "bar", [], [])
    spans = (
        select(
            StageChange.to_stage_id.label("stage_id"),
            StageChange.at.label("t0"),
            func.lead(StageChange.at)
            .over(partition_by=StageChange.opportunity_id,
                  order_by=(StageChange.at, StageChange.id))
            .label("t1"),
        )
        .where(StageChange.opportunity_id.in_(visible_ids(request, "opportunity")))
        .subquery()
    )
    month_rows = union_all(
        *[
            select(literal(i).label("idx"), literal(end, UTCDateTime()).label("month_end"))
            for i, end in enumerate(ends)
        ]
    ).subquery()
    rows = db.execute(
        select(month_rows.c.idx, spans.c.stage_id, func.count())
        .select_from(spans)
        .join(
            month_rows,
            and_(spans.c.t0 < month_rows.c.month_end,
                 (spans.c.t1.is_(None)) | (spans.c.t1 >= month_rows.c.month_end)),
        )
        .group_by(month_rows.c.idx, spans.c.stage_id)
    ).all()
    grid = {s.id: [0] * len(months) for s in stage_list}
    for idx, stage_id, n in rows:
        if stage_id in grid:
            grid[stage_id][idx] += n
    return Kpi(
        "stage_over_time", _("Stages over time"), "bar", _month_words(request, months),
        [Series(pipeline.stage_title(request, s), grid[s.id], format="count")
         for s in stage_list],
        stacked=True, label_title=_("Month"), params=rng.params(),
        axis_titles={"count": _("Opportunities")}, keys=months,
    )


def per_month(request, rng: Range) -> Kpi:
    """Opportunities created and won per month, with their amounts (base currency)."""
    db = request.dbsession
    months = _months(rng)
    base = visible(request, "opportunity")
    created_m = month_of(request, Opportunity.created_at)
    won_m = month_of(request, Opportunity.won_at)
    created = base.with_only_columns(
        literal("created").label("kind"), cast(created_m, String).label("month"),
        Opportunity.amount_currency.label("cur"), func.count(Opportunity.id).label("n"),
        func.sum(guard(request, Opportunity.amount, "amount")).label("amount"),
    ).where(Opportunity.created_at >= rng.since, Opportunity.created_at < rng.until
            ).group_by(created_m, Opportunity.amount_currency)
    won = base.with_only_columns(
        literal("won").label("kind"), cast(won_m, String).label("month"),
        Opportunity.amount_currency.label("cur"), func.count(Opportunity.id).label("n"),
        func.sum(guard(request, Opportunity.amount, "amount")).label("amount"),
    ).where(Opportunity.status == "won", Opportunity.won_at >= rng.since,
            Opportunity.won_at < rng.until).group_by(won_m, Opportunity.amount_currency)
    conv = Converter(request)
    idx = {m: i for i, m in enumerate(months)}
    data = {k: ([0] * len(months), [ZERO] * len(months)) for k in ("created", "won")}
    for kind, month, cur, n, amount in db.execute(union_all(created, won)).all():
        i = idx.get(month)
        if i is None:
            continue
        data[kind][0][i] += n
        data[kind][1][i] += conv(amount, cur)
    return Kpi(
        "per_month", _("Opportunities per month"), "line", _month_words(request, months),
        [Series(_("Created"), data["created"][0], format="count"),
         Series(_("Won"), data["won"][0], format="count"),
         Series(_("Created amount"), shown(data["created"][1], may_read(request, "amount")),
                format="money"),
         Series(_("Won amount"), shown(data["won"][1], may_read(request, "amount")),
                format="money")],
        currency=conv.base, label_title=_("Month"), params=rng.params(),
        missing_rates=sorted(conv.missing), axis_titles={"count": _("Opportunities")},
        keys=months,
    )


def by_lead_source(request, rng: Range) -> Kpi:
    """Leads per source in the period and how many of them were converted."""
    db = request.dbsession
    converted = func.sum(case((Lead.status == "converted", 1), else_=0))
    rows = db.execute(
        visible(request, "lead")
        .with_only_columns(Lead.source, func.count(Lead.id), converted)
        .where(Lead.created_at >= rng.since, Lead.created_at < rng.until)
        .group_by(Lead.source)
    ).all()
    titles = dict(LEAD_SOURCES)
    found = {src: (n, int(conv or 0)) for src, n, conv in rows}
    keys = [k for k, _t in LEAD_SOURCES if k in found] + (
        [None] if None in found else []) + sorted(
        k for k in found if k is not None and k not in titles)
    labels = [titles.get(k, k) if k is not None else _("Unknown") for k in keys]
    leads = [found[k][0] for k in keys]
    conv_n = [found[k][1] for k in keys]
    rate = [round(c * 100 / n, 1) if n else 0 for n, c in zip(leads, conv_n, strict=True)]
    return Kpi(
        "by_lead_source", _("Leads by source"), "bar", labels,
        [Series(_("Leads"), leads, format="count"),
         Series(_("Converted"), conv_n, format="count"),
         Series(_("Conversion rate (%)"), rate, format="percent", kind="line")],
        label_title=_("Source"), params=rng.params(), axis_titles={"count": _("Leads")},
    )


def open_won_lost(request, rng: Range) -> Kpi:
    """Deals open now, and won and lost in the period: counts and amounts."""
    db = request.dbsession
    in_won = and_(Opportunity.status == "won", Opportunity.won_at >= rng.since,
                  Opportunity.won_at < rng.until)
    in_lost = and_(Opportunity.status == "lost", Opportunity.lost_at >= rng.since,
                   Opportunity.lost_at < rng.until)
    is_open = Opportunity.status == "open"

    def n(cond):
        return func.sum(case((cond, 1), else_=0))

    def amt(cond):
        return func.sum(case((cond, guard(request, Opportunity.amount, "amount")),
                             else_=None))

    rows = db.execute(
        visible(request, "opportunity")
        .with_only_columns(
            Opportunity.amount_currency, n(is_open), n(in_won), n(in_lost),
            amt(is_open), amt(in_won), amt(in_lost),
        )
        .where(is_open | in_won | in_lost)
        .group_by(Opportunity.amount_currency)
    ).all()
    conv = Converter(request)
    counts = [0, 0, 0]
    amounts = [ZERO, ZERO, ZERO]
    for cur, *vals in rows:
        for i in range(3):
            counts[i] += int(vals[i] or 0)
            amounts[i] += conv(vals[3 + i], cur)
    return Kpi(
        "open_won_lost", _("Open, won and lost"), "bar",
        [_("Open"), _("Won"), _("Lost")],
        [Series(_("Number"), counts, format="count"),
         Series(_("Amount"), shown(amounts, may_read(request, "amount")), format="money")],
        currency=conv.base, label_title=_("Status"), params=rng.params(),
        missing_rates=sorted(conv.missing), axis_titles={"count": _("Opportunities")},
    )


def rep_activity(request, rng: Range) -> Kpi:
    """Per sales rep: activities by type that happened in the period (completed, else
    started or due; from the activities plugin) and the opportunities they moved
    between stages."""
    from kyklos_activities.models import Activity, ActivityType

    db = request.dbsession
    act_et = get_entity_type(request, "activity")
    rows = []
    if request.has_permission(act_et.permission("read")):
        # SFA-13: an activity counts when it happened - completed, else its start or
        # due time - not when its record was typed in (a month of calls entered on the
        # first of the next month belongs to the month they were made).
        happened = func.coalesce(
            Activity.completed_at, Activity.starts_at, Activity.due_at, Activity.created_at
        )
        rows = db.execute(
            visible(request, "activity")
            .with_only_columns(Activity.owner_id, Activity.type_id, func.count(Activity.id))
            .where(happened >= rng.since, happened < rng.until)
            .group_by(Activity.owner_id, Activity.type_id)
        ).all()
    moves = db.execute(
        select(StageChange.user_id, func.count(func.distinct(StageChange.opportunity_id)))
        .where(
            StageChange.opportunity_id.in_(visible_ids(request, "opportunity")),
            StageChange.from_stage_id.is_not(None),
            StageChange.at >= rng.since,
            StageChange.at < rng.until,
        )
        .group_by(StageChange.user_id)
    ).all()
    type_ids = sorted({t for _o, t, _n in rows})
    types = {t.id: t.title for t in db.execute(
        select(ActivityType).where(ActivityType.id.in_(type_ids))).scalars()} if type_ids else {}
    users = sorted({o for o, _t, _n in rows if o is not None} | {u for u, _n in moves
                                                                  if u is not None})
    # a user without a name is shown by e-mail address, never by id
    names = {uid: name or email for uid, name, email in db.execute(
        select(User.id, User.name, User.email).where(User.id.in_(users))).all()
             } if users else {}
    uidx = {u: i for i, u in enumerate(users)}
    per_type = {t: [0] * len(users) for t in type_ids}
    for owner, type_id, n in rows:
        if owner in uidx:
            per_type[type_id][uidx[owner]] += n
    moved = [0] * len(users)
    for uid, n in moves:
        if uid in uidx:
            moved[uidx[uid]] += n
    series = [Series(types.get(t, str(t)), per_type[t], format="count") for t in type_ids]
    series.append(Series(_("Opportunities moved"), moved, format="count"))
    return Kpi(
        "rep_activity", _("Sales-rep activity"), "bar",
        [names.get(u) or f"#{u}" for u in users], series, stacked=False,
        label_title=_("Sales rep"), params=rng.params(),
        axis_titles={"count": _("Activities and deals moved")},
    )


def _closed_per_rep(request, rng: Range):
    """Per owner, one GROUP BY over the visible deals closed in the period: won, lost,
    and the days from creation to winning summed over the won ones."""
    closed_at = func.coalesce(Opportunity.won_at, Opportunity.lost_at)
    won = Opportunity.status == "won"
    if request.dbsession.get_bind().dialect.name == "postgresql":
        days = func.extract("epoch", Opportunity.won_at - Opportunity.created_at) / 86400
    else:
        days = func.julianday(Opportunity.won_at) - func.julianday(Opportunity.created_at)
    rows = request.dbsession.execute(
        visible(request, "opportunity")
        .with_only_columns(
            Opportunity.owner_id,
            func.count(case((won, 1))),
            func.count(case((Opportunity.status == "lost", 1))),
            func.sum(case((won, days))),
        )
        .where(
            Opportunity.status.in_(("won", "lost")),
            closed_at >= rng.since,
            closed_at < rng.until,
        )
        .group_by(Opportunity.owner_id)
    ).all()
    users = sorted({o for o, *_r in rows if o is not None})
    names = {uid: name or email for uid, name, email in request.dbsession.execute(
        select(User.id, User.name, User.email).where(User.id.in_(users))).all()
             } if users else {}
    rows = sorted(rows, key=lambda r: str(names.get(r[0], "")).casefold())
    labels = [names.get(o) or _("(no owner)") for o, *_r in rows]
    return rows, labels


def win_rate(request, rng: Range) -> Kpi:
    """RPT-04: per sales rep, the deals won and lost in the period and the win rate
    (won of those closed)."""
    rows, labels = _closed_per_rep(request, rng)
    rate = [round(100 * w / (w + lo), 1) if w + lo else None for _o, w, lo, _d in rows]
    return Kpi(
        "win_rate", _("Win rate per sales rep"), "bar", labels,
        [Series(_("Won"), [w for _o, w, _l, _d in rows], format="count"),
         Series(_("Lost"), [lo for _o, _w, lo, _d in rows], format="count"),
         Series(_("Win rate (%)"), rate, format="percent", kind="line")],
        label_title=_("Sales rep"), params=rng.params(),
        axis_titles={"count": _("Opportunities")},
    )


def cycle_time(request, rng: Range) -> Kpi:
    """RPT-04: per sales rep, the average days from a deal's creation to its winning,
    over the deals won in the period."""
    rows, labels = _closed_per_rep(request, rng)
    avg = [round(float(d) / w, 1) if w and d is not None else None for _o, w, _l, d in rows]
    return Kpi(
        "cycle_time", _("Days to win per sales rep"), "bar", labels,
        [Series(_("Average days to win"), avg, format="number")],
        label_title=_("Sales rep"), params=rng.params(),
        axis_titles={"number": _("Days")},
    )


KPIS = {
    "by_stage": by_stage,
    "stage_over_time": stage_over_time,
    "per_month": per_month,
    "by_lead_source": by_lead_source,
    "open_won_lost": open_won_lost,
    "rep_activity": rep_activity,
    "win_rate": win_rate,
    "cycle_time": cycle_time,
}


def compute(request, name: str, rng: Range) -> Kpi:
    return KPIS[name](request, rng)


def stage_counts(request) -> dict:
    """``{stage id: count}`` of visible opportunities (used by the board's funnel)."""
    k = by_stage(request)
    return dict(zip([s.id for s in pipeline.stages(request.dbsession)], k.series[0].values,
                    strict=True))


# --- dashboard -----------------------------------------------------------------------


def dashboard_widgets(request) -> list[Widget]:
    if not request.has_permission(REPORTS) or not request.has_permission(
        "sfa.opportunity.read"
    ):
        return []
    rng = default_range()
    this_month = Range(dt.date.today().replace(day=1), dt.date.today())
    owl = open_won_lost(request, this_month)
    fun = funnel(request)
    pm = per_month(request, rng)
    pm_counts = Kpi(pm.name, pm.title, "line", pm.labels, pm.series[:2],
                    label_title=pm.label_title, params=pm.params, keys=pm.keys,
                    axis_titles={"count": _("Opportunities")})
    return [
        Widget("sfa-open-won-lost", _("This month: open, won and lost"),
               chart=_single(owl, 1, "money").chart(request), size="sm", order=10,
               permission=REPORTS, url=request.route_url("sfa.reports")),
        Widget("sfa-funnel", _("Pipeline funnel"), chart=fun.chart(request), size="sm",
               order=11, permission=REPORTS, url=request.route_url("sfa.pipeline")),
        Widget("sfa-per-month", _("Opportunities per month"), chart=pm_counts.chart(request),
               size="sm", order=12, permission=REPORTS, url=request.route_url("sfa.reports")),
    ]


def _single(k: Kpi, index: int, fmt: str) -> Kpi:
    return Kpi(k.name, k.title, k.kind, k.labels, [k.series[index]], value_format=fmt,
               currency=k.currency, label_title=k.label_title, params=k.params,
               axis_titles=k.axis_titles, keys=k.keys)
