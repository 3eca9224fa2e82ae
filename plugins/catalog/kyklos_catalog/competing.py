"""The *Competing products* slot of a product (issue #20): a panel on the product's page
and an API route that show what plugins answer through
:func:`~kyklos_catalog.hookspecs.CatalogSpecs.kyklos_catalog_competing_products`
(the competition plugin fills it). Without such a plugin the panel is absent and the
API answers an empty list."""

from __future__ import annotations

import logging

from kyklos_sdk import Panel, get_entity_type, get_record, hookimpl

from . import PERMISSIONS, _

log = logging.getLogger(__name__)
FIELDS = ("title", "competitor", "url", "detail")


def competing_products(request, product) -> list[dict]:
    """What every implementation answers for ``product``, in registration order; a
    failing one is logged and left out, a malformed item skipped."""
    pm = request.registry.kyklos_pm
    out = []
    for impl in pm.hook.kyklos_catalog_competing_products.get_hookimpls():
        try:
            items = impl.function(request=request, product=product)
        except Exception:  # noqa: BLE001 - one plugin's failure must not break the page
            log.exception("competing products of %s failed", impl.plugin_name)
            continue
        for item in items or ():
            if isinstance(item, dict) and isinstance(item.get("title"), str) and item["title"]:
                out.append({k: str(item[k]) if item.get(k) else None for k in FIELDS})
    return out


def api_competing(request):
    """``GET /api/v1/products/{id}/competing``: ``{"items": [...]}``."""
    product = get_record(request, get_entity_type(request, "product"), request.matchdict["id"])
    return {"items": competing_products(request, product)}


class Hooks:
    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "product":
            return None
        found = competing_products(request, record)
        if not found:
            return None
        items = [
            (
                f"{c['competitor']}: {c['title']}" if c["competitor"] else c["title"],
                c["url"],
                c["detail"] or "",
            )
            for c in found
        ]
        return [
            Panel(_("Competing products"), items=items, count=len(items), id="catalog-competing")
        ]


def openapi_paths(request) -> dict:
    from kyklos_sdk import openapi as o

    item = o.obj(
        {k: {"type": "string"} if k == "title" else {"type": ["string", "null"]} for k in FIELDS},
        strict=False,
    )
    return {
        "/api/v1/products/{id}/competing": {
            "get": o.operation(
                "Catalog",
                "catalog_product_competing",
                {
                    "200": o.json_ok(o.obj({"items": o.array(item)})),
                    **o.problems("401", "403", "404"),
                },
                "The competitors' products this product competes with (filled by plugins)",
                parameters=[o.path_id()],
            )
        }
    }


def includeme(config):
    from .hookspecs import CatalogSpecs

    config.registry.kyklos_pm.add_hookspecs(CatalogSpecs)
    config.add_openapi_paths(openapi_paths)
    config.add_route(
        "catalog.api.product.competing",
        r"/api/v1/products/{id:\d{1,18}}/competing",
        request_method="GET",
    )
    config.add_view(
        api_competing,
        route_name="catalog.api.product.competing",
        permission=PERMISSIONS["product"]["read"],
        renderer="json",
    )
    config.add_hooks(Hooks(), name="kyklos_catalog.competing")
