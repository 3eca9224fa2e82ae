"""JSON endpoints: KPIs, forecast, board totals, lead conversion, quote clones."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound

from kyklos_sdk import (
    Problem,
    RecordError,
    get_entity_type,
    get_record,
    read_json,
    serialize,
)

from .. import _, convert, forecast, kpi, pipeline
from ..periods import PeriodError
from ..reporting import money_json
from .common import check_params, json_response, parse_date
from .pages import board_filters, default_period, team_members
from .quotes import CLONE_MODES, do_clone


def kpi_view(request):
    name = request.matchdict["name"]
    if name not in kpi.KPIS:
        raise HTTPNotFound()
    check_params(request, ("from", "to"))
    errors: dict = {}
    rng = kpi.default_range()
    start = parse_date(request.GET.get("from"), "from", errors) or rng.start
    end = parse_date(request.GET.get("to"), "to", errors) or rng.end
    if not errors and start > end:
        errors["to"] = _("The end is before the start.")
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    return json_response(kpi.compute(request, name, kpi.Range(start, end)).to_json(request))


def forecast_view(request):
    check_params(request, ("period", "group"))
    period = request.GET.get("period") or default_period()
    group = request.GET.get("group") or "owner"
    if group not in ("owner", "team"):
        raise Problem(400, _("Invalid parameters"), errors={"group": _("Use owner or team.")})
    try:
        fc = forecast.compute(request, period, group)
    except PeriodError:
        raise Problem(400, _("Invalid parameters"),
                      errors={"period": _("Use 2027, 2027-H1, 2027-Q3 or 2027-05.")}) from None
    return json_response(fc.to_json())


def pipeline_view(request):
    check_params(request, ("owner", "team", "close_from", "close_to"))
    f, errors = board_filters(request)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    columns, conv = pipeline.board(request, f, team_members(request.dbsession, f))
    return json_response({
        "currency": conv.base,
        "missing_rates": sorted(conv.missing),
        "columns": [
            {
                "stage_id": c.stage.id,
                "title": c.title,
                "probability": c.stage.probability,
                "count": c.count,
                "total": money_json(c.total),
                "weighted": money_json(c.weighted),
                "cards": [o.id for o in c.cards],
            }
            for c in columns
        ],
    })


def _lead(request, action="read"):
    et = get_entity_type(request, "lead")
    return get_record(request, et, request.matchdict["id"], action=action)


def _candidates_json(request, found) -> dict:
    aet = get_entity_type(request, "account")
    pet = get_entity_type(request, "person")
    return {
        "accounts": [
            {**serialize(request, aet, a, ["name", "vat_number", "city", "country"]),
             "match": reasons}
            for a, reasons in found.accounts
        ],
        "persons": [
            {**serialize(request, pet, p, ["first_name", "last_name", "email", "account_id"]),
             "match": reasons}
            for p, reasons in found.persons
        ],
    }


def duplicates_view(request):
    lead = _lead(request)
    return json_response(_candidates_json(request, convert.candidates(request, lead)))


def convert_view(request):
    lead = _lead(request, "update")
    body = read_json(request)
    if lead.converted_at is not None:
        raise Problem(409, _("Already converted"), _("This lead is already converted."),
                      converted={"account_id": lead.converted_account_id,
                                 "person_id": lead.converted_person_id,
                                 "opportunity_id": lead.converted_opportunity_id})
    found = convert.candidates(request, lead)
    try:
        decision = convert.parse_decision(request, lead, body, found)
        ids = convert.convert(request, lead, decision, source="api")
    except RecordError as exc:
        extra = {}
        if exc.status == 400 and any(k in exc.errors for k in ("account", "person")):
            extra["candidates"] = _candidates_json(request, found)
        raise Problem(exc.status, exc.title, errors=exc.errors, **extra) from None
    return json_response({"lead_id": lead.id, **ids}, status=201)


def clone_view(request):
    body = read_json(request)
    mode = body.get("mode", "revision")
    unknown = [k for k in body if k not in ("mode", "variant", "currency")]
    if mode not in CLONE_MODES or unknown:
        errors = {k: _("Unknown field.") for k in unknown}
        if mode not in CLONE_MODES:
            errors["mode"] = _("Use revision, variant or copy.")
        raise Problem(400, _("Invalid data"), errors=errors)
    variant = body.get("variant")
    if variant is not None and (not isinstance(variant, str) or len(variant) > 10):
        raise Problem(400, _("Invalid data"), errors={"variant": _("At most 10 characters.")})
    currency = body.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise Problem(400, _("Invalid data"),
                      errors={"currency": _("Not an ISO 4217 currency code.")})
    q = do_clone(request, request.matchdict["id"], mode, variant, currency or None)
    et = get_entity_type(request, "quote")
    resp = json_response(serialize(request, et, q), status=201)
    resp.headers["Location"] = request.route_url("api.entity.item", slug=et.slug, id=q.id)
    return resp


def from_template_view(request):
    """``POST /api/v1/quotes/from-template`` ``{"template_id", "opportunity_id"?,
    "title"?}``: a new quote with the template's lines, priced from the catalog."""
    from ..offer_templates import quote_from_template

    q = quote_from_template(request, read_json(request))
    et = get_entity_type(request, "quote")
    resp = json_response(serialize(request, et, q), status=201)
    resp.headers["Location"] = request.route_url("api.entity.item", slug=et.slug, id=q.id)
    return resp


def save_template_view(request):
    """``POST /api/v1/quotes/{id}/save-as-template`` ``{"name"?}``: a new offer
    template from the quote."""
    from ..offer_templates import save_as_template

    t = save_as_template(request, request.matchdict["id"], read_json(request))
    et = get_entity_type(request, "quotetemplate")
    resp = json_response(serialize(request, et, t), status=201)
    resp.headers["Location"] = request.route_url("api.entity.item", slug=et.slug, id=t.id)
    return resp
