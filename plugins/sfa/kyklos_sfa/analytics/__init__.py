"""Sales analytics (RPT-04): customer value by RFM, a win probability per open deal
learnt from the deals' history, and the lead conversion funnel per source and segment.

Wiring only: routes, views, the retraining job and the hooks that add the pages to the
menu and the probability to the opportunity's page.
"""

from .. import _
from ..models.registry import REPORTS

ID = r"{id:\d{1,18}}"
PAGES = (
    ("sfa.rfm", "/sfa/rfm", "views.rfm_page", "rfm.pt", REPORTS, "GET"),
    (
        "sfa.winprob",
        "/sfa/win-probability",
        "views.winprob_page",
        "winprob.pt",
        REPORTS,
        ("GET", "POST"),
    ),
    ("sfa.conversion", "/sfa/conversion", "views.conversion_page", "conversion.pt", REPORTS, "GET"),
)
API = (
    ("sfa.api.rfm", "/api/v1/sfa/rfm", "views.rfm_api", REPORTS, "GET"),
    (
        "sfa.api.winprob",
        f"/api/v1/sfa/opportunities/{ID}/win-probability",
        "views.opportunity_estimate_api",
        "sfa.opportunity.read",
        "GET",
    ),
    ("sfa.api.winmodel", "/api/v1/sfa/win-model", "views.model_api", REPORTS, "GET"),
    ("sfa.api.winmodel.train", "/api/v1/sfa/win-model", "views.train_api", "kyklos.admin", "POST"),
    ("sfa.api.conversion", "/api/v1/sfa/conversion", "views.conversion_api", REPORTS, "GET"),
)


def includeme(config):
    from .hooks import AnalyticsHooks
    from .openapi import analytics_paths
    from .winprob import train_job

    config.add_openapi_paths(analytics_paths)
    tpl = "kyklos_sfa:templates/"
    for name, pattern, view, renderer, perm, method in PAGES:
        config.add_route(name, pattern, request_method=method)
        config.add_view(f".{view}", route_name=name, permission=perm, renderer=tpl + renderer)
    for name, pattern, view, perm, method in API:
        config.add_route(
            f"{name}.{method.lower()}" if method != "GET" else name, pattern, request_method=method
        )
        config.add_view(
            f".{view}",
            route_name=f"{name}.{method.lower()}" if method != "GET" else name,
            permission=perm,
        )
    config.add_hooks(AnalyticsHooks(), name="kyklos_sfa.analytics")
    config.add_job(
        "sfa.win_model.train",
        train_job,
        retries=1,
        periodic={"hour": "3", "minute": "20"},
        title=_("Retrain the win probability"),
    )
