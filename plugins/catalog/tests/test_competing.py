"""The competing products slot of a product (issue #20): a plugin (the competition
plugin, later) answers ``kyklos_catalog_competing_products``; the product's page shows
a *Competing products* panel and the API lists them. Without a plugin there is no panel
and an empty list; a failing plugin leaves the page working."""

from __future__ import annotations

import pytest

from kyklos_sdk import hookimpl


class Competition:
    @hookimpl
    def kyklos_catalog_competing_products(self, request, product):
        if product.sku != "RACK-200":
            return None
        return [
            {"title": "MetalShelf 2 m <b>", "competitor": "Rivals SA", "url": "/rivals/7"},
            {"title": "Budget rack", "detail": "20 % cheaper, no warranty"},
            {"competitor": "no title: skipped"},
        ]


class Broken:
    @hookimpl
    def kyklos_catalog_competing_products(self, request, product):
        raise RuntimeError("a broken plugin")


@pytest.fixture
def competition(registry):
    pm = registry.kyklos_pm
    hooks, broken = Competition(), Broken()
    pm.register(hooks)
    pm.register(broken)
    yield
    pm.unregister(broken)
    pm.unregister(hooks)


def _product(admin, sku):
    return admin.post_json(
        "/api/v1/products", {"sku": sku, "name": f"Product {sku}"}, status=201
    ).json


def test_a_plugin_fills_the_competing_products_of_a_product(admin, api, competition):
    rack = _product(admin, "RACK-200")
    other = _product(admin, "OIL-1")
    res = api("sales").get(f"/api/v1/products/{rack['id']}/competing").json
    assert res["items"] == [
        {
            "title": "MetalShelf 2 m <b>",
            "competitor": "Rivals SA",
            "url": "/rivals/7",
            "detail": None,
        },
        {
            "title": "Budget rack",
            "competitor": None,
            "url": None,
            "detail": "20 % cheaper, no warranty",
        },
    ]
    page = admin.get(f"/products/{rack['id']}")
    panel = page.html.select_one("#catalog-competing")
    assert panel is not None and "Competing products" in panel.text
    assert "Rivals SA: MetalShelf 2 m <b>" in panel.text  # escaped text, not markup
    assert panel.select_one("a[href='/rivals/7']") is not None
    assert "20 % cheaper" in panel.text
    # a product nobody competes with: no panel, an empty list
    assert admin.get(f"/products/{other['id']}").html.select_one("#catalog-competing") is None
    assert admin.get(f"/api/v1/products/{other['id']}/competing").json == {"items": []}
    admin.get("/api/v1/products/99999999/competing", status=404)
    api("user").get(f"/api/v1/products/{rack['id']}/competing", status=403)


def test_without_a_plugin_the_slot_is_empty(admin):
    rack = _product(admin, "RACK-200")
    assert admin.get(f"/api/v1/products/{rack['id']}/competing").json == {"items": []}
    assert admin.get(f"/products/{rack['id']}").html.select_one("#catalog-competing") is None
