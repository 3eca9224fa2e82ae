"""The price look-up over HTTP. The list, detail and edit pages and the REST API of
products, categories, price lists and rules come from the core."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from pyramid.httpexceptions import HTTPNotFound

from kyklos_sdk import (
    Problem,
    get_entity_type,
    get_record,
    is_currency,
    read_json,
    site_setting,
)

from . import PERMISSIONS, _
from .pricing import prices_for

ID = r"{id:\d{1,18}}"
#: lines one batch call may price (a quote has tens)
MAX_LINES = 500


def _quantity(raw, errors, key):
    try:
        q = Decimal(str(raw if raw not in (None, "") else "1"))
    except (InvalidOperation, ValueError):
        errors[key] = _("Give a number, e.g. 10 or 2.5.")
        return None
    if not q.is_finite() or q <= 0 or q > Decimal("1e11"):
        errors[key] = _("Give a quantity above zero.")
        return None
    return q


def _common(request, params: dict, errors: dict):
    """``(account id or None, day, currency)`` from query or body parameters."""
    account_id = params.get("account_id")
    if account_id in (None, ""):
        account_id = None
    else:
        try:
            account_id = int(account_id)
            # the account must be one the user may see: a price list for a customer is
            # not shown to whoever guesses its id
            get_record(request, get_entity_type(request, "account"), account_id)
        except (TypeError, ValueError):
            errors["account_id"] = _("Give an account.")
            account_id = None
        except HTTPNotFound:  # an account the user cannot see is one that does not exist
            errors["account_id"] = _("No such account.")
            account_id = None
    day = params.get("date")
    if day in (None, ""):
        day = dt.date.today()
    else:
        try:
            day = dt.date.fromisoformat(str(day))
        except ValueError:
            errors["date"] = _("Give a date as YYYY-MM-DD.")
            day = None
    currency = params.get("currency") or site_setting(request, "currency.default") or "EUR"
    if not is_currency(currency):
        errors["currency"] = _("Not an ISO 4217 currency code.")
    return account_id, day, currency


def price_view(request):
    """``GET /api/v1/products/{id}/price?account_id=&quantity=&date=&currency=``: the unit
    price with the rule that gave it."""
    product = get_record(request, get_entity_type(request, "product"), request.matchdict["id"])
    errors: dict = {}
    params = request.GET
    qty = _quantity(params.get("quantity"), errors, "quantity")
    account_id, day, currency = _common(request, params, errors)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    price = prices_for(
        request, [(product.id, qty)], account_id=account_id, on=day, currency=currency
    )[0]
    return price.to_json()


def prices_view(request):
    """``POST /api/v1/catalog/prices`` with ``{"account_id", "date", "currency",
    "lines": [{"product_id", "quantity"}]}``: every line priced at once (a quote's lines
    cost one query per price list, not per line)."""
    body = read_json(request)
    errors: dict = {}
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        errors["lines"] = _("Give the lines to price.")
        lines = []
    elif len(lines) > MAX_LINES:
        errors["lines"] = _("At most ${n} lines at once.", mapping={"n": MAX_LINES})
        lines = []
    wanted = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            errors[f"lines.{i}"] = _("Each line is an object with product_id and quantity.")
            continue
        pid = line.get("product_id")
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            errors[f"lines.{i}.product_id"] = _("Give a product.")
            continue
        qty = _quantity(line.get("quantity"), errors, f"lines.{i}.quantity")
        if qty is not None:
            wanted.append((pid, qty))
    params = {k: body.get(k) for k in ("account_id", "date", "currency")}
    for k, v in params.items():
        if v is not None and not isinstance(v, (str, int)) or isinstance(v, bool):
            errors[k] = _("Give a single value.")
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    account_id, day, currency = _common(request, params, errors)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    # only products the user may read are priced; others answer "no such product"
    from kyklos_sdk import visible_select

    from .models import Product

    et = get_entity_type(request, "product")
    ids = {pid for pid, _q in wanted}
    visible = set(
        request.dbsession.execute(
            visible_select(request, et).with_only_columns(Product.id).where(Product.id.in_(ids))
        ).scalars()
    )
    prices = prices_for(
        request,
        [(p if p in visible else 0, q) for p, q in wanted],
        account_id=account_id,
        on=day,
        currency=currency,
    )
    for price, (pid, _q) in zip(prices, wanted, strict=True):
        price.product_id = pid
    return {"currency": currency, "date": day.isoformat(), "lines": [p.to_json() for p in prices]}


def openapi_paths(request) -> dict:
    """The price look-up in ``/api/openapi.json``."""
    from kyklos_sdk import openapi as o

    price = {
        "type": "object",
        "properties": {
            "product_id": {"type": "integer"},
            "quantity": {"type": "string"},
            "unit_price": {"type": ["string", "null"]},
            "currency": {"type": "string"},
            "reason": {"type": "string"},
            "pricelist_id": {"type": ["integer", "null"]},
            "rule_id": {"type": ["integer", "null"]},
            "rate": {"type": ["object", "null"]},
        },
    }
    common = {
        "account_id": {"type": ["integer", "string", "null"]},
        "date": {"type": ["string", "null"], "format": "date"},
        "currency": {"type": ["string", "null"]},
    }
    body = {
        "type": "object",
        "properties": {
            **common,
            "lines": {
                "type": "array",
                "maxItems": MAX_LINES,
                "items": {
                    "type": "object",
                    "properties": {
                        "product_id": {"type": "integer", "minimum": 1},
                        "quantity": {"type": ["string", "number"]},
                    },
                    "required": ["product_id"],
                },
            },
        },
        "required": ["lines"],
    }
    return {
        "/api/v1/products/{id}/price": {
            "get": o.operation(
                "Catalog",
                "catalog_product_price",
                {"200": o.json_ok(price), **o.problems("400", "401", "403", "404")},
                "The price of a product for an account, quantity, day and currency",
                parameters=[
                    o.path_id(),
                    o.param("quantity", {"type": "string"}),
                    o.param("account_id", {"type": "integer", "minimum": 1}),
                    o.param("date", {"type": "string", "format": "date"}),
                    o.param("currency", {"type": "string"}),
                ],
            )
        },
        "/api/v1/catalog/prices": {
            "post": o.operation(
                "Catalog",
                "catalog_prices",
                {
                    "200": o.json_ok(
                        {
                            "type": "object",
                            "properties": {
                                "currency": {"type": "string"},
                                "date": {"type": "string", "format": "date"},
                                "lines": {"type": "array", "items": price},
                            },
                        }
                    ),
                    **o.problems("400", "401", "403", "413", "415"),
                },
                "The prices of many lines at once (a quote's), with their rules",
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": body}},
                },
            )
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_route("catalog.api.price", f"/api/v1/products/{ID}/price", request_method="GET")
    config.add_view(
        price_view,
        route_name="catalog.api.price",
        permission=PERMISSIONS["product"]["read"],
        renderer="json",
    )
    config.add_route("catalog.api.prices", "/api/v1/catalog/prices", request_method="POST")
    config.add_view(
        prices_view,
        route_name="catalog.api.prices",
        permission=PERMISSIONS["product"]["read"],
        renderer="json",
    )
