"""The hooks the catalog calls: the slots other plugins fill on a product without the
catalog knowing them (issue #20: "the competing products slot that the competition
plugin will fill")."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("kyklos")


class CatalogSpecs:
    @hookspec
    def kyklos_catalog_competing_products(self, request, product):
        """The products of competitors that ``product`` competes with, for its page's
        *Competing products* panel and ``GET /api/v1/products/{id}/competing``.

        Return a list of dicts ``{"title", "competitor"?, "url"?, "detail"?}`` (plain
        text, in the user's language; ``url`` a page of the implementing plugin) or
        ``None``. Filter by the user's permissions yourself: the catalog shows what
        you return. An implementation that raises is logged and left out."""
