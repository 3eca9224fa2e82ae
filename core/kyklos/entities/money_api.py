"""API of currencies and exchange rates (CORE-10).

GET  /api/v1/_currencies                 ISO 4217 codes with names and minor units
GET  /api/v1/_exchange-rates             rates (?currency=USD&from=DATE&to=DATE)
POST /api/v1/_exchange-rates             {"rates": [{"currency", "rate_date", "rate"}]}
GET  /api/v1/_exchange-rates/convert     ?amount=10&from=USD&to=EUR[&on=DATE]
"""

from __future__ import annotations

import datetime as dt

from babel.numbers import get_currency_name
from sqlalchemy import select

from kyklos import sitesettings
from kyklos.entities import money, values
from kyklos.entities.api import _json, read_json
from kyklos.i18n import _
from kyklos.problem import Problem

MANAGE = "kyklos.exchange_rates.manage"
MAX_RATES = 1000


def currencies_view(request):
    locale = request.localizer.locale_name
    items = []
    for code in sorted(money.currencies()):
        try:
            name = get_currency_name(code, locale=locale)
        except ValueError:
            name = code
        items.append({"code": code, "name": name, "precision": money.precision(code)})
    return _json(request, {"base": money.base_currency(request.registry.settings), "items": items})


def _date_param(request, key, errors):
    raw = request.GET.get(key)
    if raw is None:
        return None
    try:
        return values.parse_date(raw)
    except values.Invalid as exc:
        errors[key] = exc.msg
        return None


def _check_params(request, allowed) -> dict:
    errors = {}
    for key in request.GET:
        if key not in allowed and key != "_LOCALE_":
            errors[key[:100]] = _("Unknown parameter.")
        elif len(request.GET.getall(key)) > 1:
            errors[key] = _("Given more than once.")
    return errors


def rates_view(request):
    errors = _check_params(request, ("currency", "from", "to"))
    base = money.base_currency(request.registry.settings)
    stmt = select(money.ExchangeRate).where(money.ExchangeRate.base == base)
    currency = request.GET.get("currency")
    if currency is not None:
        if not money.is_currency(currency):
            errors["currency"] = _("Not an ISO 4217 currency code.")
        stmt = stmt.where(money.ExchangeRate.currency == currency)
    start, end = _date_param(request, "from", errors), _date_param(request, "to", errors)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    if start:
        stmt = stmt.where(money.ExchangeRate.rate_date >= start)
    if end:
        stmt = stmt.where(money.ExchangeRate.rate_date <= end)
    stmt = stmt.order_by(money.ExchangeRate.currency, money.ExchangeRate.rate_date.desc()).limit(
        MAX_RATES
    )
    rows = request.dbsession.execute(stmt).scalars()
    return _json(
        request,
        {
            "base": base,
            "items": [
                {
                    "currency": r.currency,
                    "rate_date": r.rate_date.isoformat(),
                    "rate": format(r.rate.normalize(), "f"),
                }
                for r in rows
            ],
        },
    )


def set_rates_view(request):
    body = read_json(request)
    errors = {k: _("Unknown key.") for k in body if k != "rates"}
    rates = body.get("rates")
    if not isinstance(rates, list) or not 1 <= len(rates) <= MAX_RATES:
        errors["rates"] = _("Send 1 to ${n} rates.", mapping={"n": MAX_RATES})
        rates = []
    parsed = []
    for i, item in enumerate(rates):
        if not isinstance(item, dict):
            errors[f"rates.{i}"] = _("Send an object.")
            continue
        for k in item:
            if k not in ("currency", "rate_date", "rate"):
                errors[f"rates.{i}.{str(k)[:50]}"] = _("Unknown key.")
        currency = item.get("currency")
        base = money.base_currency(request.registry.settings)
        if not money.is_currency(currency) or currency == base:
            errors[f"rates.{i}.currency"] = _("Not an ISO 4217 code other than the base currency.")
        try:
            day = values.parse_date(item.get("rate_date"))
        except values.Invalid as exc:
            errors[f"rates.{i}.rate_date"] = exc.msg
            day = None
        try:
            rate = money.parse_amount(item.get("rate"), 24, money.RATE_SCALE)
            if rate <= 0:
                raise money.MoneyError(_("A rate must be positive."))
        except money.MoneyError as exc:
            errors[f"rates.{i}.rate"] = exc.args[0]
            rate = None
        parsed.append((currency, day, rate))
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    for currency, day, rate in parsed:
        money.set_rate(request.dbsession, currency, day, rate)
    return _json(request, {"count": len(parsed)})


def convert_view(request):
    errors = _check_params(request, ("amount", "from", "to", "on"))
    for key in ("amount", "from", "to"):
        if key not in request.GET:
            errors[key] = _("Required.")
    for key in ("from", "to"):
        if key in request.GET and not money.is_currency(request.GET[key]):
            errors[key] = _("Not an ISO 4217 currency code.")
    amount = None
    if "amount" in request.GET:
        try:
            amount = money.parse_amount(request.GET["amount"], 30)
        except money.MoneyError as exc:
            errors["amount"] = exc.args[0]
    on = _date_param(request, "on", errors) or dt.date.today()
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    try:
        result = money.convert(
            request.dbsession, amount, request.GET["from"], request.GET["to"], on
        )
    except money.NoRate as exc:
        raise Problem(
            404,
            _("No exchange rate"),
            _(
                "No rate for ${c} on or before ${d}.",
                mapping={"c": exc.currency, "d": exc.on_date.isoformat()},
            ),
        ) from None
    body = {"amount": str(result), "currency": request.GET["to"], "on": on.isoformat()}
    stale = money.stale_rates(request, {request.GET["from"], request.GET["to"]}, on)
    body["stale"] = bool(stale)
    body["rates"] = [{"currency": c, "rate_date": d.isoformat()} for c, d in stale]
    if stale:
        body["warning"] = request.localizer.translate(
            _(
                "Converted with rates older than ${n} days: ${rates}.",
                mapping={
                    "n": sitesettings.get(request, "rates.max_age_days"),
                    "rates": ", ".join(f"{c} {d.isoformat()}" for c, d in stale),
                },
            )
        )
    return _json(request, body)


#: a positive decimal that fits the rate column (14 digits before the point, 10 after)
RATE = r"^([0-9]{0,6}[1-9][0-9]{0,7}(\.[0-9]{1,10})?|[0-9]{1,7}\.[0-9]{0,9}[1-9])$"


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    codes = sorted(money.currencies())
    base = money.base_currency(request.registry.settings)
    code = {"type": "string", "enum": codes}
    rate = o.obj(
        {"currency": {"type": "string"}, "rate_date": o.DATE, "rate": {"type": "string"}},
        ["currency", "rate_date", "rate"],
    )
    rates = o.obj({"base": {"type": "string"}, "items": o.array(rate)}, ["base", "items"])
    new_rate = o.obj(
        {
            "currency": {"type": "string", "enum": [c for c in codes if c != base]},
            "rate_date": o.DATE,
            "rate": {"type": "string", "pattern": RATE},
        },
        ["currency", "rate_date", "rate"],
    )
    tag = "Money"
    return {
        "/api/v1/_currencies": {
            "get": o.operation(
                tag,
                "list_currencies",
                {
                    "200": o.json_ok(
                        o.obj(
                            {
                                "base": {"type": "string"},
                                "items": o.array(
                                    o.obj(
                                        {
                                            "code": {"type": "string"},
                                            "name": {"type": "string"},
                                            "precision": {"type": "integer"},
                                        },
                                        ["code", "name", "precision"],
                                    )
                                ),
                            },
                            ["base", "items"],
                        ),
                        "ISO 4217 currencies and the base currency",
                    ),
                    **o.problems("401"),
                },
            ),
        },
        "/api/v1/_exchange-rates": {
            "get": o.operation(
                tag,
                "list_exchange_rates",
                {
                    "200": o.json_ok(rates, f"rates: units of a currency for one {base}"),
                    **o.problems("400", "401"),
                },
                parameters=[
                    o.param("currency", code),
                    o.param("from", o.DATE),
                    o.param("to", o.DATE),
                ],
            ),
            "post": o.operation(
                tag,
                "set_exchange_rates",
                {
                    "200": o.json_ok(o.obj({"count": {"type": "integer"}}, ["count"])),
                    **o.problems("400", "401", "403", "413", "415"),
                },
                summary=f"Insert or replace rates: units of a currency for one {base}",
                body=o.json_body(
                    o.obj({"rates": o.array(new_rate, minItems=1, maxItems=MAX_RATES)}, ["rates"])
                ),
            ),
        },
        "/api/v1/_exchange-rates/convert": {
            "get": o.operation(
                tag,
                "convert_money",
                {
                    "200": o.json_ok(
                        o.obj(
                            {
                                "amount": {"type": "string"},
                                "currency": {"type": "string"},
                                "on": o.DATE,
                                "stale": {
                                    "type": "boolean",
                                    "description": "a rate used is older than the "
                                    "rates.max_age_days setting",
                                },
                                "rates": o.array(
                                    o.obj(
                                        {"currency": {"type": "string"}, "rate_date": o.DATE},
                                        ["currency", "rate_date"],
                                    ),
                                    description="the stale rates used",
                                ),
                                "warning": {"type": "string"},
                            },
                            ["amount", "currency", "on", "stale", "rates"],
                        )
                    ),
                    **o.problems("400", "401", "404"),
                },
                parameters=[
                    o.param(
                        "amount",
                        {"type": "string", "pattern": r"^-?[0-9]{1,20}(\.[0-9]{1,6})?$"},
                        required=True,
                    ),
                    o.param("from", code, required=True),
                    o.param("to", code, required=True),
                    o.param("on", o.DATE),
                ],
            ),
        },
    }


def includeme(config):
    config.declare_permission(MANAGE, _("Manage exchange rates"))
    config.add_openapi_paths(openapi_paths)
    config.add_route("api.currencies", "/api/v1/_currencies", request_method="GET")
    config.add_view(currencies_view, route_name="api.currencies", permission="authenticated")
    config.add_route("api.exchange_rates", "/api/v1/_exchange-rates")
    config.add_view(
        rates_view,
        route_name="api.exchange_rates",
        request_method="GET",
        permission="authenticated",
    )
    config.add_view(
        set_rates_view, route_name="api.exchange_rates", request_method="POST", permission=MANAGE
    )
    config.add_route(
        "api.exchange_rates.convert", "/api/v1/_exchange-rates/convert", request_method="GET"
    )
    config.add_view(
        convert_view, route_name="api.exchange_rates.convert", permission="authenticated"
    )
