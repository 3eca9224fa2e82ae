"""The pipeline board, the forecast and the reports pages."""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from kyklos_sdk import (
    CHART_SCRIPTS,
    Department,
    RecordError,
    StaleRecord,
    User,
    department_subtree,
    get_entity_type,
    get_record,
    render_chart,
    update_record,
    visible_select,
)

from .. import _, forecast, kpi, pipeline
from ..periods import PeriodError, next_period, parse_period, period_of
from ..reporting import may_read
from .common import parse_date, parse_int


def _chart_scripts(request):
    return [request.static_url(s) for s in CHART_SCRIPTS]


def board_filters(request) -> tuple[pipeline.BoardFilters, dict]:
    errors: dict = {}
    p = request.GET
    f = pipeline.BoardFilters(
        owner_id=parse_int(p.get("owner"), "owner", errors),
        department_id=parse_int(p.get("team"), "team", errors),
        close_from=parse_date(p.get("close_from"), "close_from", errors),
        close_to=parse_date(p.get("close_to"), "close_to", errors),
    )
    return f, errors


def team_members(db, f: pipeline.BoardFilters):
    """The owners a team filter covers: the department and every one below it (a
    regional manager's team is all of the region's teams)."""
    if f.department_id is None:
        return None
    return select(User.id).where(User.department_id.in_(department_subtree(db, [f.department_id])))


def _people(db):
    users = db.execute(
        select(User.id, User.name, User.email).where(User.is_active.is_(True))
        .order_by(User.name)
    ).all()
    depts = db.execute(select(Department.id, Department.name).order_by(Department.name)).all()
    return users, depts


def pipeline_view(request):
    f, errors = board_filters(request)
    if errors:
        f = pipeline.BoardFilters()
    db = request.dbsession
    columns, conv = pipeline.board(request, f, team_members(request.dbsession, f))
    account_et = get_entity_type(request, "account")
    ids = {c.account_id for col in columns for c in col.cards if c.account_id}
    accounts = dict(db.execute(
        visible_select(request, account_et).with_only_columns(
            account_et.model.id, account_et.model.name).where(account_et.model.id.in_(ids))
    ).all()) if ids else {}
    owner_ids = {c.owner_id for col in columns for c in col.cards if c.owner_id}
    owners = dict(db.execute(select(User.id, User.name).where(User.id.in_(owner_ids))).all()
                  ) if owner_ids else {}
    from ..models import LossReason
    from ..models.registry import CLOSE
    from .closing import lost_dialog

    reason_ids = {c.loss_reason_id for col in columns for c in col.cards if c.loss_reason_id}
    reasons = {r.id: pipeline.loss_reason_title(request, r) for r in db.execute(
        select(LossReason).where(LossReason.id.in_(reason_ids))).scalars()
    } if reason_ids else {}
    opp_et = get_entity_type(request, "opportunity")
    can_close = request.has_permission(CLOSE) and request.has_permission(
        "sfa.opportunity.update")
    funnel_kpi = kpi.funnel(request)
    users, depts = _people(db)
    return {
        "title": _("Pipeline"),
        "columns": columns,
        "stages": [c.stage for c in columns],
        "accounts": accounts,
        "owners": owners,
        "currency": conv.base,
        "missing_rates": sorted(conv.missing),
        "filters": f,
        "errors": errors,
        "users": users,
        "departments": depts,
        "funnel": render_chart(request, funnel_kpi.chart(request), "sfa-funnel",
                               funnel_kpi.title),
        "chart_scripts": _chart_scripts(request),
        "can_update": request.has_permission("sfa.opportunity.update"),
        "can_close": can_close,
        # a field rule may hide amounts: then neither the cards nor the totals tell them
        "show_amount": may_read(request, "amount"),
        # the field titles problem+json errors are shown with, in the user's language
        "labels": {n: request.localizer.translate(opp_et.fields[n].title) for n in (
            "stage_id", "loss_reason_id", "loss_details", "amount", "probability")},
        "reasons": reasons,
        "came_from": request.path_qs,
        "lost_dialog": lost_dialog(request, "api", request.path_qs) if can_close else "",
        "network_error": request.localizer.translate(
            _("The server could not be reached; try again.")),
    }


def move_view(request):
    """The board without JavaScript: each card's "move to" form posts here."""
    et = get_entity_type(request, "opportunity")
    back = request.route_url("sfa.pipeline")
    record = get_record(request, et, request.POST.get("id"), action="update")
    errors: dict = {}
    stage_id = parse_int(request.POST.get("stage_id"), "stage_id", errors)
    version = parse_int(request.POST.get("version"), "version", errors)
    data = {"stage_id": stage_id}
    reason = parse_int(request.POST.get("loss_reason_id"), "loss_reason_id", errors)
    if reason is not None:
        data["loss_reason_id"] = reason
    if request.POST.get("loss_details"):
        data["loss_details"] = request.POST["loss_details"][:2000]
    if errors or stage_id is None:
        request.session.flash(_("Choose a stage."), "danger")
        return HTTPSeeOther(back)
    try:
        update_record(request, et, record, data, expected_version=version, source="ui")
    except StaleRecord:
        request.session.flash(
            _("Someone else changed this opportunity meanwhile; look again."), "warning")
        return HTTPSeeOther(back)
    except RecordError as exc:
        msg = "; ".join(str(request.localizer.translate(m)) for m in exc.errors.values())
        request.session.flash(msg or _("The move was refused."), "danger")
        return HTTPSeeOther(back)
    request.session.flash(
        _("Moved ${name}.", mapping={"name": record.name}), "success")
    return HTTPSeeOther(back)


def default_period(today: dt.date | None = None) -> str:
    """Next semester: the forecast's usual question."""
    return next_period(period_of(today or dt.date.today(), "half"))


def forecast_view(request):
    period = request.GET.get("period") or default_period()
    group = request.GET.get("group") if request.GET.get("group") in ("owner", "team") else "owner"
    error = None
    try:
        parse_period(period)
    except PeriodError:
        error = _("Use 2027, 2027-H1, 2027-Q3 or 2027-05.")
        period = default_period()
    fc = forecast.compute(request, period, group)
    chart = kpi.ChartData(
        kind="bar",
        labels=[r.title for r in fc.rows],
        series=[
            kpi.Series(_("Quota"), [r.quota if r.has_quota else None for r in fc.rows]),
            kpi.Series(_("Won"), [r.won for r in fc.rows]),
            kpi.Series(_("Weighted pipeline"), [r.weighted for r in fc.rows]),
        ],
        data_url=request.route_url("sfa.api.forecast", _query={"period": period,
                                                               "group": group}),
        value_format="money",
        currency=fc.currency,
        label_title=_("Team") if group == "team" else _("Owner"),
    )
    today = dt.date.today()
    suggestions = [period_of(today, "half"), default_period(today), period_of(today, "quarter"),
                   next_period(period_of(today, "quarter")), str(today.year)]
    return {
        "title": _("Forecast"),
        "fc": fc,
        "period": period,
        "group": group,
        "error": error,
        "suggestions": list(dict.fromkeys(suggestions)),
        "chart": render_chart(request, chart, "sfa-forecast-chart", _("Forecast")),
        "money": lambda v: "—" if v is None else request.format_money(v, fc.currency),
        "chart_scripts": _chart_scripts(request),
    }


def reports_view(request):
    errors: dict = {}
    rng = kpi.default_range()
    start = parse_date(request.GET.get("from"), "from", errors)
    end = parse_date(request.GET.get("to"), "to", errors)
    if not errors and start and end and start <= end:
        rng = kpi.Range(start, end)
    charts = []
    for name in kpi.NAMES:
        k = kpi.compute(request, name, rng)
        charts.append((k, render_chart(request, k.chart(request), f"sfa-kpi-{name}", k.title)))
    return {
        "title": _("Sales reports"),
        "charts": charts,
        "range": rng,
        "errors": errors,
        "chart_scripts": _chart_scripts(request),
    }
