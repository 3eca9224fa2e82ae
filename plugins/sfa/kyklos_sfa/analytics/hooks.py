"""The analytics pages in the menu (beside the sales reports) and the win probability
on an open opportunity's page."""

from __future__ import annotations

from pyramid.renderers import render

from kyklos_sdk import MenuItem, Panel, hookimpl

from .. import _
from ..models.registry import REPORTS


class AnalyticsHooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        return [
            MenuItem(
                _("Customer value (RFM)"),
                request.route_url("sfa.rfm"),
                permission=REPORTS,
                icon="grid-3x3",
                order=36,
            ),
            MenuItem(
                _("Win probability"),
                request.route_url("sfa.winprob"),
                permission=REPORTS,
                icon="percent",
                order=37,
            ),
            MenuItem(
                _("Lead conversion"),
                request.route_url("sfa.conversion"),
                permission=REPORTS,
                icon="funnel",
                order=38,
            ),
        ]

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "opportunity" or getattr(record, "status", None) != "open":
            return None
        from . import winprob
        from .views import shown_reasons

        est = winprob.estimate(request, record)
        if est is None:
            return None
        tr = request.localizer.translate
        html = render(
            "kyklos_sfa:templates/panel_win.pt",
            {
                "pct": winprob.percent(request, est.probability),
                "reasons": [
                    (text, tr(winprob.effect_words(part)))
                    for _g, text, part in shown_reasons(request, est)
                ],
                "deals": request.format_number(est.model.deals),
                "when": request.format_date(est.model.trained_at.astimezone(request.timezone)),
                "url": request.route_url("sfa.winprob"),
            },
            request=request,
        )
        return [Panel(_("Win probability"), html=html, order=11)]
