"""The customer portal's side of the catalog: "Our prices" lists the active products
with the price the portal user's company pays, found by the one price look-up
(:func:`kyklos_catalog.pricing.prices_for`, as ``GET /api/v1/products/{id}/price`` and
quotes ask it) for their account, quantity 1, today, in their price list's currency,
with the rule that gave it in words. The names and descriptions are in the reader's
language; what a product costs the company never reaches the portal.

The portal framework is the core's; the catalog depends on contacts (whose people are
the portal users), so the page lives here and nothing below it knows of products."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyramid.httpexceptions import HTTPSeeOther

from kyklos_sdk import (
    PortalPage,
    Problem,
    format_money,
    get_entity_type,
    hookimpl,
    parse_list_params,
    run_list,
)

from . import PERMISSIONS, _
from .models import UNITS, product_description, product_name
from .pricing import customer_currency, prices_for

#: what a portal user may read of a product (the API's generic endpoints obey it too):
#: never ``cost`` nor ``cost_currency``; the list price is left out as well, a customer
#: reads the price the page works out for them
PORTAL_FIELDS = (
    "sku",
    "name",
    "name_translations",
    "description",
    "description_translations",
    "kind",
    "unit",
    "barcode",
    "active",
)
PAGE_SIZE = 25


def _is_portal(request) -> bool:
    ident = request.identity
    return ident is not None and getattr(ident, "portal", None) is not None


def prices_view(request):
    """``/portal/catalog/prices?q=&cursor=``: one page of the active products (the search
    over code, name and description), each with its price for the reader's company."""
    et = get_entity_type(request, "product")
    q = request.GET.get("q", "").strip()[:200]
    params = {"sort": "name", "limit": str(PAGE_SIZE)}
    if q:
        params["q"] = q
    cursor = request.GET.get("cursor", "")
    if cursor:
        params["cursor"] = cursor
    try:
        found = run_list(request, et, parse_list_params(request, et, params))
    except Problem:
        # a cursor tampered with or gone stale: back to the first page of the search
        return HTTPSeeOther(request.route_url("catalog.portal.prices", _query={"q": q}))
    account_id = request.identity.portal.customer_id
    today = dt.date.today()
    currency = customer_currency(request, account_id, today)
    prices = prices_for(
        request,
        [(p.id, Decimal(1)) for p in found.items],
        account_id=account_id,
        on=today,
        currency=currency,
        for_customer=True,
    )
    lang = request.locale_name
    units = dict(UNITS)
    tr = request.localizer.translate
    items = [
        {
            "sku": p.sku,
            "name": product_name(p, lang),
            "description": product_description(p, lang) or "",
            "unit": tr(units[p.unit]) if p.unit in units else p.unit,
            "price": "" if price.amount is None else format_money(request, price.amount, currency),
            "reason": price.reason,
        }
        for p, price in zip(found.items, prices, strict=True)
    ]
    nxt = None
    if found.next_cursor:
        query = {"cursor": found.next_cursor, **({"q": q} if q else {})}
        nxt = request.route_url("catalog.portal.prices", _query=query)
    first = request.route_url("catalog.portal.prices", _query={"q": q} if q else {})
    return {
        "title": _("Our prices"),
        "items": items,
        "q": q,
        "currency": currency,
        "count": found.count,
        "capped": found.count_capped,
        "next_url": nxt,
        "first_url": first if cursor else None,
    }


class PortalHooks:
    @hookimpl
    def kyklos_portal_pages(self, request):
        return [
            PortalPage(
                "catalog-prices",
                _("Our prices"),
                request.route_url("catalog.portal.prices"),
                _("Our products and services at your company's prices"),
                icon="tags",
                order=30,
                permission=PERMISSIONS["product"]["read"],
            )
        ]

    @hookimpl
    def kyklos_visibility_restrictions(self, request, entity_type, action):
        # a customer reads what is on sale: a product switched off stays internal, on
        # every path (this page, the API, search, export)
        if entity_type.name == "product" and _is_portal(request):
            return [entity_type.model.active.is_(True)]
        return None


def includeme(config):
    # products belong to no customer: every portal user reads the same (active) ones,
    # and only the fields above
    config.add_portal_access("product", ("id",), fields=PORTAL_FIELDS)
    config.extend_role("portal", [PERMISSIONS["product"]["read"]])
    config.add_record_rule("product", "portal", "read", "all")
    config.add_route("catalog.portal.prices", "/portal/catalog/prices", request_method="GET")
    config.add_view(
        prices_view,
        route_name="catalog.portal.prices",
        renderer="kyklos_catalog:templates/portal_prices.pt",
        permission="kyklos.portal.use",
    )
    config.add_hooks(PortalHooks(), name="kyklos_catalog.portal")
