"""Win probability per open opportunity (RPT-04), learnt from the history of closed deals.

Every stage a closed deal passed through is one example: the stage, how long the deal
stayed in it, its amount, its source and its owner's win rate, labelled with how the
deal ended. A logistic regression (numpy, Newton steps with a small ridge penalty)
turns those into a probability; an open deal is scored on the same five facts as they
stand today. Each fact's part in the score (its weights times how far the deal is
from the average example) is what the reasons say, in words.

The calibration table is honest: each example is scored by a model trained on the
other four fifths of the deals (five folds by deal), then grouped in tenths of
probability against the share actually won. The job ``sfa.win_model.train`` retrains
nightly; the latest model is used.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from sqlalchemy import select

from .. import _, pipeline
from ..models import Opportunity, Stage, StageChange, WinModel
from ..models.choices import LEAD_SOURCES
from ..reporting import Converter

#: fewer closed deals, or no win or no loss among them: nothing to learn from
MIN_DEALS = 10
FOLDS = 5
RIDGE = 1.0
AGE_BUCKETS = ((7, "age:0-7"), (30, "age:8-30"), (90, "age:31-90"), (None, "age:91+"))
AMOUNT_BUCKETS = (
    (Decimal(1000), "amount:<1k"),
    (Decimal(10000), "amount:1k-10k"),
    (Decimal(100000), "amount:10k-100k"),
    (None, "amount:100k+"),
)
AGE_WORDS = {
    "age:0-7": _("Up to a week in this stage"),
    "age:8-30": _("One week to a month in this stage"),
    "age:31-90": _("One to three months in this stage"),
    "age:91+": _("More than three months in this stage"),
}
AMOUNT_WORDS = {
    "amount:none": _("No amount given"),
    "amount:<1k": _("Amount under 1,000"),
    "amount:1k-10k": _("Amount from 1,000 to 10,000"),
    "amount:10k-100k": _("Amount from 10,000 to 100,000"),
    "amount:100k+": _("Amount of 100,000 or more"),
}
GROUPS = ("stage", "age", "amount", "source", "rep")


@dataclass
class Example:
    opportunity_id: int
    stage_id: int
    days: float
    amount: Decimal | None
    source: str | None
    owner_id: int | None
    won: bool | None = None


def _age_key(days: float) -> str:
    for limit, key in AGE_BUCKETS:
        if limit is None or days <= limit:
            return key
    return AGE_BUCKETS[-1][1]


def _amount_key(amount: Decimal | None) -> str:
    if amount is None:
        return "amount:none"
    for limit, key in AMOUNT_BUCKETS:
        if limit is None or amount < limit:
            return key
    return AMOUNT_BUCKETS[-1][1]


def _source_key(source: str | None) -> str:
    known = {k for k, _w in LEAD_SOURCES}
    return f"source:{source if source in known else 'unknown'}"


def feature_names(stage_ids: list[int]) -> list[str]:
    names = [f"stage:{s}" for s in stage_ids]
    names += [k for _l, k in AGE_BUCKETS]
    names += ["amount:none"] + [k for _l, k in AMOUNT_BUCKETS]
    names += [f"source:{k}" for k, _w in LEAD_SOURCES] + ["source:unknown"]
    names.append("rep")
    return names


def rep_rate(counts: tuple[int, int]) -> float:
    """A rep's win rate smoothed towards one half (a rep with one deal is not 100 %)."""
    won, lost = counts
    return (won + 1) / (won + lost + 2)


def vector(ex: Example, names: list[str], rate: float) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    x = np.zeros(len(names))
    for key in (
        f"stage:{ex.stage_id}",
        _age_key(ex.days),
        _amount_key(ex.amount),
        _source_key(ex.source),
    ):
        if key in index:
            x[index[key]] = 1.0
    x[index["rep"]] = rate
    return x


def fit(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE, steps: int = 30):
    """Logistic regression by Newton's method with an L2 penalty on the weights (not the
    intercept): ``(weights, bias)``."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, ridge)
    penalty[-1] = 0.0
    for _i in range(steps):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])


def predict(x: np.ndarray, weights, bias: float) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x @ np.asarray(weights) + bias, -30, 30)))


def _amounts(request, rows) -> dict[int, Decimal | None]:
    conv = Converter(request)
    out = {}
    for oid, amount, cur in rows:
        value = conv(amount, cur) if amount is not None else None
        out[oid] = None if cur and cur in conv.missing else value
    return out


def history(request) -> list[Example]:
    """One example per visit of an open stage by a deal that has since closed (the
    job's system request sees every deal)."""
    db = request.dbsession
    closing = {s.id for s in db.execute(select(Stage)).scalars() if s.is_won or s.is_lost}
    deals = db.execute(
        select(
            Opportunity.id,
            Opportunity.status,
            Opportunity.amount,
            Opportunity.amount_currency,
            Opportunity.source,
            Opportunity.owner_id,
        ).where(Opportunity.status.in_(("won", "lost")), Opportunity.deleted_at.is_(None))
    ).all()
    if not deals:
        return []
    info = {d.id: d for d in deals}
    amounts = _amounts(request, [(d.id, d.amount, d.amount_currency) for d in deals])
    changes = defaultdict(list)
    for oid, to_id, at in db.execute(
        select(StageChange.opportunity_id, StageChange.to_stage_id, StageChange.at)
        .where(StageChange.opportunity_id.in_(list(info)))
        .order_by(StageChange.opportunity_id, StageChange.at, StageChange.id)
    ).all():
        changes[oid].append((to_id, at))
    out = []
    for oid, moves in changes.items():
        d = info[oid]
        for (stage_id, t0), (_next, t1) in zip(moves, moves[1:], strict=False):
            if stage_id is None or stage_id in closing:
                continue
            days = max((t1 - t0).total_seconds() / 86400, 0.0)
            out.append(
                Example(
                    oid, stage_id, days, amounts.get(oid), d.source, d.owner_id, d.status == "won"
                )
            )
    return out


def _rep_counts(examples: list[Example]) -> dict:
    """``{owner: (won, lost)}`` over deals (not stage visits)."""
    per_deal = {e.opportunity_id: (e.owner_id, e.won) for e in examples}
    counts: dict = defaultdict(lambda: [0, 0])
    for owner, won in per_deal.values():
        counts[owner][0 if won else 1] += 1
    return {k: tuple(v) for k, v in counts.items()}


def _design(examples, names, counts, leave_out: bool):
    """The matrix of ``examples``; with ``leave_out`` a deal's own outcome is taken out
    of its owner's win rate (else the rate would tell the model the answer)."""
    rows = []
    for e in examples:
        won, lost = counts.get(e.owner_id, (0, 0))
        if leave_out:
            won, lost = (won - 1, lost) if e.won else (won, lost - 1)
        rows.append(vector(e, names, rep_rate((max(won, 0), max(lost, 0)))))
    return np.array(rows)


def calibration(examples, names) -> tuple[list[dict], float]:
    """Out-of-fold probabilities in tenths against the share won, and the Brier score."""
    folds = np.array([e.opportunity_id % FOLDS for e in examples])
    y = np.array([1.0 if e.won else 0.0 for e in examples])
    p = np.zeros(len(examples))
    for k in range(FOLDS):
        test = folds == k
        train = ~test
        if not test.any() or len(set(y[train])) < 2:
            p[test] = y[train].mean() if train.any() else 0.5
            continue
        tr = [e for e, keep in zip(examples, train, strict=True) if keep]
        te = [e for e, keep in zip(examples, test, strict=True) if keep]
        counts = _rep_counts(tr)
        w, b = fit(_design(tr, names, counts, True), y[train])
        p[test] = predict(_design(te, names, counts, False), w, b)
    bins = []
    for i in range(10):
        lo, hi = i / 10, (i + 1) / 10
        sel = (p >= lo) & ((p < hi) if i < 9 else (p <= hi))
        n = int(sel.sum())
        bins.append(
            {
                "from": lo,
                "to": hi,
                "examples": n,
                "predicted": float(p[sel].mean()) if n else None,
                "won": float(y[sel].mean()) if n else None,
            }
        )
    return bins, float(np.mean((p - y) ** 2))


def train(request, now: dt.datetime | None = None) -> WinModel | None:
    """Learn from every closed deal and store the model; ``None`` (nothing stored) with
    too little history."""
    examples = history(request)
    deals = {e.opportunity_id: e.won for e in examples}
    wins = sum(1 for w in deals.values() if w)
    if len(deals) < MIN_DEALS or wins == 0 or wins == len(deals):
        return None
    stage_ids = [s.id for s in pipeline.stages(request.dbsession) if not (s.is_won or s.is_lost)]
    names = feature_names(stage_ids)
    counts = _rep_counts(examples)
    x = _design(examples, names, counts, True)
    y = np.array([1.0 if e.won else 0.0 for e in examples])
    w, b = fit(x, y)
    bins, brier = calibration(examples, names)
    model = WinModel(
        trained_at=now or dt.datetime.now(dt.UTC),
        samples=len(examples),
        deals=len(deals),
        base_rate=wins / len(deals),
        params={
            "features": names,
            "weights": [float(v) for v in w],
            "bias": b,
            "means": [float(v) for v in x.mean(axis=0)],
            "rep_rates": {str(k): rep_rate(v) for k, v in counts.items() if k is not None},
            "calibration": bins,
            "brier": brier,
        },
    )
    request.dbsession.add(model)
    request.dbsession.flush()
    return model


def latest(db) -> WinModel | None:
    return db.execute(select(WinModel).order_by(WinModel.id.desc()).limit(1)).scalar_one_or_none()


@dataclass
class Estimate:
    probability: float
    #: [(group, words of the fact, its part in the log-odds)], largest first
    reasons: list
    model: WinModel


def estimate(
    request, opp, model: WinModel | None = None, now: dt.datetime | None = None
) -> Estimate | None:
    """The chance an open deal is won, with the facts behind it; ``None`` without a
    model or for a closed deal."""
    model = model or latest(request.dbsession)
    if model is None or opp.status != "open":
        return None
    prm = model.params
    names = prm["features"]
    now = now or dt.datetime.now(dt.UTC)
    entered = opp.stage_entered_at or opp.created_at or now
    if entered.tzinfo is None:
        entered = entered.replace(tzinfo=dt.UTC)
    amount = _amounts(request, [(opp.id, opp.amount, opp.amount_currency)])[opp.id]
    rate = prm["rep_rates"].get(str(opp.owner_id), rep_rate((0, 0)))
    ex = Example(
        opp.id,
        opp.stage_id,
        max((now - entered).total_seconds() / 86400, 0.0),
        amount,
        opp.source,
        opp.owner_id,
    )
    x = vector(ex, names, rate)
    w = np.asarray(prm["weights"])
    p = float(predict(x, w, prm["bias"]))
    parts = w * (x - np.asarray(prm["means"]))
    group_of = [n.split(":")[0] for n in names]
    contrib = {
        g: float(sum(c for c, gg in zip(parts, group_of, strict=True) if gg == g)) for g in GROUPS
    }
    facts = _facts(request, ex, rate)
    reasons = sorted(((g, facts[g], contrib[g]) for g in GROUPS), key=lambda r: -abs(r[2]))
    return Estimate(p, reasons, model)


def _facts(request, ex: Example, rate: float) -> dict:
    tr = request.localizer.translate
    stage = request.dbsession.get(Stage, ex.stage_id)
    sources = dict(LEAD_SOURCES)
    src = sources.get(ex.source)
    return {
        "stage": tr(
            _("In the stage “${stage}”", mapping={"stage": pipeline.stage_title(request, stage)})
        ),
        "age": tr(AGE_WORDS[_age_key(ex.days)]),
        "amount": tr(AMOUNT_WORDS[_amount_key(ex.amount)]),
        "source": tr(_("Source: ${source}", mapping={"source": tr(src)}))
        if src
        else tr(_("No known source")),
        "rep": tr(
            _(
                "The owner wins ${rate} of closed deals",
                mapping={"rate": f"{request.format_number(round(rate * 100))}\u00a0%"},
            )
        ),
    }


def effect_words(part: float):
    """How a fact moves the chance, in words (``part`` is in log-odds)."""
    if part >= 1:
        return _("raises the chance a lot")
    if part >= 0.2:
        return _("raises the chance")
    if part <= -1:
        return _("lowers the chance a lot")
    if part <= -0.2:
        return _("lowers the chance")
    return _("makes little difference")


def percent(request, p: float) -> str:
    return f"{request.format_number(int(math.floor(p * 100 + 0.5)))}\u00a0%"


def train_job(ctx, now: str | None = None):
    """The nightly job: retrain on every closed deal."""
    at = dt.datetime.fromisoformat(now) if now else None
    model = train(ctx.request, at)
    return {"trained": model is not None, "deals": model.deals if model else 0}
