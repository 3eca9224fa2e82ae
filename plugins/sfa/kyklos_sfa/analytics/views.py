"""Pages (``/sfa/rfm``, ``/sfa/win-probability``, ``/sfa/conversion``) and their JSON
twins under ``/api/v1/sfa/`` for the sales analytics."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther

from kyklos_sdk import (
    CHART_SCRIPTS,
    ChartData,
    Problem,
    Series,
    get_entity_type,
    get_record,
    render_chart,
    segment_select,
    visible_segments,
    visible_select,
)

from .. import _, kpi
from ..models import Opportunity
from ..reporting import may_read, money_json
from ..views.common import check_params, json_response, parse_date
from . import conversion, rfm, winprob


def _chart_scripts(request):
    return [request.static_url(s) for s in CHART_SCRIPTS]


def _score(request, name: str, errors: dict) -> int | None:
    text = request.GET.get(name) or ""
    if not text:
        return None
    if text not in ("1", "2", "3", "4", "5"):
        errors[name] = _("Give a score from 1 to 5.")
        return None
    return int(text)


def rfm_filters(request) -> tuple[dict, dict]:
    errors: dict = {}
    seg = request.GET.get("segment") or None
    if seg is not None and seg not in rfm.SEGMENT_WORDS:
        errors["segment"] = _("Unknown segment.")
        seg = None
    return {
        "r": _score(request, "r", errors),
        "f": _score(request, "f", errors),
        "m": _score(request, "m", errors),
        "segment": seg,
    }, errors


def _matches(c: rfm.Customer, flt: dict) -> bool:
    return all(flt[k] is None or getattr(c, k) == flt[k] for k in ("r", "f", "m", "segment"))


def rfm_api(request):
    """``GET /api/v1/sfa/rfm?r=&f=&m=&segment=``: the scored accounts (filtered)."""
    check_params(request, ("r", "f", "m", "segment"))
    flt, errors = rfm_filters(request)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    res = rfm.compute(request)
    tr = request.localizer.translate
    return json_response(
        {
            "currency": res.currency,
            "monetary_hidden": res.monetary_hidden,
            "missing_rates": res.missing_rates,
            "segments": [
                {
                    "segment": k,
                    "title": tr(rfm.SEGMENT_WORDS[k]),
                    "accounts": n,
                    "monetary": money_json(m),
                }
                for k, n, m in res.by_segment()
            ],
            "items": [
                {
                    "account_id": c.account_id,
                    "account": c.name,
                    "last_won": c.last_won.isoformat(),
                    "recency_days": c.recency_days,
                    "frequency": c.frequency,
                    "monetary": money_json(c.monetary),
                    "r": c.r,
                    "f": c.f,
                    "m": c.m,
                    "score": c.score,
                    "segment": c.segment,
                    "segment_title": tr(rfm.SEGMENT_WORDS[c.segment]),
                }
                for c in res.customers
                if _matches(c, flt)
            ],
        }
    )


def rfm_page(request):
    flt, errors = rfm_filters(request)
    res = rfm.compute(request)
    grid = res.grid()
    top = max((n for n, _m in grid.values()), default=0) or 1
    segs = res.by_segment()
    chart = ChartData(
        kind="bar",
        labels=[rfm.SEGMENT_WORDS[k] for k, _n, _m in segs],
        series=[Series(_("Accounts"), [n for _k, n, _m in segs], format="count")]
        + (
            []
            if res.monetary_hidden
            else [Series(_("Revenue won"), [m for _k, _n, m in segs], format="money")]
        ),
        value_format="count",
        currency=res.currency,
        label_title=_("Segment"),
        data_url=request.route_url("sfa.api.rfm"),
        axis_titles={"count": _("Accounts")},
    )
    filtered = any(v is not None for v in flt.values())
    rows = [c for c in res.customers if _matches(c, flt)]
    return {
        "title": _("Customer value (RFM)"),
        "res": res,
        "grid": grid,
        "top": top,
        "flt": flt,
        "errors": errors,
        "filtered": filtered,
        "rows": rows,
        "segment_words": rfm.SEGMENT_WORDS,
        "score_names": [("r", _("Recency")), ("f", _("Frequency")), ("m", _("Monetary"))],
        "segment_of": rfm.SEGMENT_OF,
        "chart_html": render_chart(request, chart, "sfa-rfm-segments", _("Accounts per segment"))
        if res.customers
        else None,
        "chart_scripts": _chart_scripts(request),
        "money": lambda v: request.format_money(v, res.currency) if v is not None else "—",
    }


# --- win probability ---------------------------------------------------------------------


def reasons_json(request, est) -> list[dict]:
    tr = request.localizer.translate
    return [
        {
            "factor": g,
            "text": text,
            "effect": tr(winprob.effect_words(part)),
            "weight": round(part, 3),
        }
        for g, text, part in shown_reasons(request, est)
    ]


def shown_reasons(request, est) -> list:
    """The reasons, without those that would reveal a field the user may not read."""
    hidden = {
        g for g, f in (("amount", "amount"), ("source", "source")) if not may_read(request, f)
    }
    return [r for r in est.reasons if r[0] not in hidden]


def model_json(request, model) -> dict | None:
    if model is None:
        return None
    return {
        "trained_at": model.trained_at.isoformat(),
        "samples": model.samples,
        "deals": model.deals,
        "base_rate": round(model.base_rate, 4),
        "brier": round(model.params.get("brier", 0.0), 4),
        "calibration": model.params.get("calibration", []),
    }


def opportunity_estimate_api(request):
    """``GET /api/v1/sfa/opportunities/{id}/win-probability``."""
    check_params(request, ())
    opp = get_record(request, get_entity_type(request, "opportunity"), request.matchdict["id"])
    est = winprob.estimate(request, opp)
    if est is None:
        return json_response(
            {
                "probability": None,
                "reasons": [],
                "model": model_json(request, winprob.latest(request.dbsession)),
            }
        )
    return json_response(
        {
            "probability": round(est.probability, 4),
            "reasons": reasons_json(request, est),
            "model": model_json(request, est.model),
        }
    )


def model_api(request):
    """``GET /api/v1/sfa/win-model``: the model in use, its basis and calibration."""
    check_params(request, ())
    return json_response({"model": model_json(request, winprob.latest(request.dbsession))})


def train_api(request):
    """``POST /api/v1/sfa/win-model``: retrain now (administrators)."""
    # The model learns from every closed deal, as the nightly job does; only
    # aggregates (weights, calibration) leave it.
    model = winprob.train(request)
    return json_response(
        {"model": model_json(request, model), "trained": model is not None},
        status=201 if model else 200,
    )


def calibration_chart(request, model):
    bins = [b for b in model.params.get("calibration", []) if b["examples"]]
    labels = [f"{round(b['from'] * 100)}–{round(b['to'] * 100)}\u00a0%" for b in bins]
    return ChartData(
        kind="line",
        labels=labels,
        series=[
            Series(
                _("Estimated"), [round(b["predicted"] * 100, 1) for b in bins], format="percent"
            ),
            Series(_("Actually won"), [round(b["won"] * 100, 1) for b in bins], format="percent"),
        ],
        value_format="percent",
        label_title=_("Estimated chance"),
        data_url=request.route_url("sfa.api.winmodel"),
    )


def winprob_page(request):
    if request.method == "POST":
        if not request.has_permission("kyklos.admin"):
            raise HTTPForbidden()
        model = winprob.train(request)
        request.session.flash(
            _("The estimate was retrained.")
            if model
            else _(
                "Not enough closed deals to learn from yet (at least ${n}, won and lost).",
                mapping={"n": winprob.MIN_DEALS},
            )
        )
        return HTTPSeeOther(request.route_url("sfa.winprob"))
    model = winprob.latest(request.dbsession)
    rows = []
    if model is not None:
        et = get_entity_type(request, "opportunity")
        opps = (
            request.dbsession.execute(
                visible_select(request, et)
                .where(Opportunity.status == "open")
                .order_by(Opportunity.expected_close, Opportunity.id)
                .limit(OPEN_LIMIT)
            )
            .scalars()
            .all()
        )
        for o in opps:
            est = winprob.estimate(request, o, model)
            if est is not None:
                rows.append((o, est, shown_reasons(request, est)[:1]))
        rows.sort(key=lambda r: -r[1].probability)
    return {
        "title": _("Win probability"),
        "model": model,
        "bins": model.params.get("calibration", []) if model else [],
        "rows": rows,
        "min_deals": winprob.MIN_DEALS,
        "pct": lambda p: winprob.percent(request, p) if p is not None else "—",
        "effect": winprob.effect_words,
        "chart_html": render_chart(
            request,
            calibration_chart(request, model),
            "sfa-win-chart",
            _("Estimated and actual"),
        )
        if model
        else None,
        "chart_scripts": _chart_scripts(request),
        "is_admin": request.has_permission("kyklos.admin"),
        "open_limit": OPEN_LIMIT,
    }


OPEN_LIMIT = 200


# --- lead conversion ---------------------------------------------------------------------


def conversion_params(request) -> tuple[kpi.Range, object, dict]:
    errors: dict = {}
    rng = kpi.default_range()
    start = parse_date(request.GET.get("from"), "from", errors) or rng.start
    end = parse_date(request.GET.get("to"), "to", errors) or rng.end
    # the period's bounds are days in SQL: far years would overflow the day after
    for name, day in (("from", start), ("to", end)):
        if name not in errors and not 1900 <= day.year <= 2999:
            errors[name] = _("Give a date as YYYY-MM-DD.")
    if not errors and start > end:
        errors["to"] = _("The end is before the start.")
    seg = None
    sid = request.GET.get("segment") or ""
    if sid:
        segs = {str(s.id): s for s in visible_segments(request, "lead")}
        seg = segs.get(sid)
        if seg is None:
            errors["segment"] = _("Unknown segment.")
    return kpi.Range(start, end), seg, errors


def _funnel_json(request, f: conversion.Funnel) -> dict:
    tr = request.localizer.translate
    return {
        "source": f.key,
        "title": tr(f.title) if hasattr(f.title, "interpolate") else str(f.title),
        "leads": f.leads,
        "converted": f.converted,
        "opportunities": f.opportunities,
        "won": f.won,
        "won_per_lead": round(f.win_share, 4) if f.win_share is not None else None,
    }


def _conversion(request, rng, seg):
    rows = conversion.by_source(request, rng)
    everyone = conversion.total(request, rng)
    in_seg = (
        conversion.total(request, rng, segment_select(request, seg.id), seg.name)
        if seg is not None
        else None
    )
    return rows, everyone, in_seg


def conversion_api(request):
    """``GET /api/v1/sfa/conversion?from=&to=&segment=``."""
    check_params(request, ("from", "to", "segment"))
    rng, seg, errors = conversion_params(request)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    rows, everyone, in_seg = _conversion(request, rng, seg)
    return json_response(
        {
            "from": rng.start.isoformat(),
            "to": rng.end.isoformat(),
            "by_source": [_funnel_json(request, f) for f in rows],
            "total": _funnel_json(request, everyone),
            "segment": _funnel_json(request, in_seg) if in_seg else None,
        }
    )


def conversion_page(request):
    rng, seg, errors = conversion_params(request)
    if errors:
        rng, seg = kpi.default_range(), None
    rows, everyone, in_seg = _conversion(request, rng, seg)
    params = {**rng.params(), **({"segment": seg.id} if seg else {})}
    steps = [w for _k, w in conversion.STEPS]
    by_source = ChartData(
        kind="bar",
        labels=[f.title for f in rows],
        series=[
            Series(w, [f.steps()[i] for f in rows], format="count") for i, w in enumerate(steps)
        ]
        + [
            Series(
                _("Won per lead (%)"),
                [round(f.win_share * 100, 1) if f.win_share is not None else None for f in rows],
                format="percent",
                kind="line",
            )
        ],
        label_title=_("Source"),
        data_url=request.route_url("sfa.api.conversion", _query=params),
        axis_titles={"count": _("Leads and deals")},
    )
    shown = in_seg or everyone
    funnel = ChartData(
        kind="funnel",
        labels=steps,
        series=[Series(shown.title, shown.steps(), format="count")],
        value_format="count",
        label_title=_("Step"),
        data_url=request.route_url("sfa.api.conversion", _query=params),
    )
    return {
        "title": _("Lead conversion"),
        "range": rng,
        "errors": errors,
        "segments": [(s.id, s.name) for s in visible_segments(request, "lead")],
        "seg": seg,
        "rows": rows,
        "everyone": everyone,
        "in_seg": in_seg,
        "pct": lambda p: winprob.percent(request, p) if p is not None else "—",
        "source_chart": render_chart(
            request, by_source, "sfa-conv-sources", _("Conversion per source")
        )
        if rows
        else None,
        "funnel_chart": render_chart(request, funnel, "sfa-conv-funnel", _("Conversion funnel"))
        if shown.leads
        else None,
        "chart_scripts": _chart_scripts(request),
    }
