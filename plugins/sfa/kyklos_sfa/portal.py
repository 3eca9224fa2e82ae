"""The customer portal's side of sales: "My quotes" lists the quotes of the portal
user's customer (drafts stay internal) with their status in words, and serves each
quote's PDF through the same record rules as the staff PDF."""

from __future__ import annotations

from kyklos_sdk import (
    PortalPage,
    display_value,
    format_date,
    format_money,
    get_entity_type,
    hookimpl,
    visible_select,
)

from . import _
from .views import quotes

QUOTE_FIELDS = (
    "number",
    "revision",
    "variant",
    "title",
    "account_id",
    "person_id",
    "currency",
    "valid_until",
    "status",
    "net_total",
    "tax_total",
    "total",
    "created_at",
)
QUOTES_LIMIT = 200


def _is_portal(request) -> bool:
    ident = request.identity
    return ident is not None and getattr(ident, "portal", None) is not None


def quotes_view(request):
    et = get_entity_type(request, "quote")
    rows = request.dbsession.execute(
        visible_select(request, et)
        .order_by(et.model.created_at.desc(), et.model.id.desc())
        .limit(QUOTES_LIMIT)
    ).scalars()
    items = [
        {
            "id": q.id,
            # number, revision and variant (the title has a column of its own)
            "label": q.label.removesuffix(f" · {q.title}") if q.title else q.label,
            "title": q.title,
            "status": display_value(request, et, "status", q.status),
            "total": format_money(request, q.total, q.currency),
            "valid_until": format_date(request, q.valid_until) if q.valid_until else "",
            "pdf": request.route_url("sfa.portal.quote.pdf", id=q.id),
        }
        for q in rows
    ]
    return {"title": _("My quotes"), "items": items}


class PortalHooks:
    @hookimpl
    def kyklos_portal_pages(self, request):
        return [
            PortalPage(
                "sfa-quotes",
                _("My quotes"),
                request.route_url("sfa.portal.quotes"),
                _("Our offers to your company, with their PDF"),
                icon="file-earmark-text",
                order=20,
                permission="sfa.quote.read",
            )
        ]

    @hookimpl
    def kyklos_visibility_restrictions(self, request, entity_type, action):
        # A draft is still being written: customers see a quote once it is sent.
        if entity_type.name == "quote" and _is_portal(request):
            return [entity_type.model.status != "draft"]
        return None


def includeme(config):
    # a quote belongs to its account's customer, else to its contact person's
    config.add_portal_access("quote", ("account_id", "person.account_id"), fields=QUOTE_FIELDS)
    config.extend_role("portal", ["sfa.quote.read", "sfa.quote.export"])
    config.add_record_rule("quote", "portal", "read", "customer")
    config.add_route("sfa.portal.quotes", "/portal/sfa/quotes", request_method="GET")
    config.add_view(
        quotes_view,
        route_name="sfa.portal.quotes",
        renderer="kyklos_sfa:templates/portal_quotes.pt",
        permission="kyklos.portal.use",
    )
    config.add_route(
        "sfa.portal.quote.pdf", r"/portal/sfa/quotes/{id:\d+}/pdf", request_method="GET"
    )
    config.add_view(quotes.pdf_view, route_name="sfa.portal.quote.pdf", permission="sfa.quote.read")
    config.add_hooks(PortalHooks(), name="kyklos_sfa.portal")
