"""Routes and views of the sales plugin: pages under ``/sfa/``, JSON endpoints under
``/api/v1/sfa/`` and beside the generic entity API (``/api/v1/leads/{id}/convert``)."""

from pyramid.security import NO_PERMISSION_REQUIRED

from ..models.registry import CONVERT, REPORTS

ID = r"{id:\d{1,18}}"


def includeme(config):
    from .openapi import openapi_paths

    config.add_openapi_paths(openapi_paths)
    config.add_static_view("sfa/static", "kyklos_sfa:static/", cache_max_age=3600)
    tpl = "kyklos_sfa:templates/"
    pages = [
        ("sfa.pipeline", "/sfa/pipeline", "pages.pipeline_view", "pipeline.pt",
         "sfa.opportunity.read", "GET"),
        ("sfa.pipeline.move", "/sfa/pipeline/move", "pages.move_view", None,
         "sfa.opportunity.update", "POST"),
        ("sfa.opportunity.won", f"/sfa/opportunities/{ID}/won", "closing.won_view", None,
         "sfa.opportunity.update", "POST"),
        ("sfa.opportunity.lost", f"/sfa/opportunities/{ID}/lost", "closing.lost_view",
         "lost.pt", "sfa.opportunity.update", ("GET", "POST")),
        ("sfa.quote.addline", f"/sfa/quotes/{ID}/lines", "quotes.add_line_view", None,
         "sfa.quoteline.create", "POST"),
        ("sfa.quote.reprice", f"/sfa/quotes/{ID}/reprice", "quotes.reprice_view", None,
         "sfa.quote.update", "POST"),
        ("sfa.forecast", "/sfa/forecast", "pages.forecast_view", "forecast.pt", REPORTS,
         "GET"),
        ("sfa.reports", "/sfa/reports", "pages.reports_view", "reports.pt", REPORTS, "GET"),
        ("sfa.lead.convert", f"/sfa/leads/{ID}/convert", "leads.convert_view", "convert.pt",
         CONVERT, ("GET", "POST")),
        ("sfa.quote.pdf", f"/sfa/quotes/{ID}/pdf", "quotes.pdf_view", None, "sfa.quote.read",
         "GET"),
        ("sfa.quote.clone", f"/sfa/quotes/{ID}/clone", "quotes.clone_view", None,
         "sfa.quote.create", "POST"),
        ("sfa.quote.fromtemplate", f"/sfa/opportunities/{ID}/quote-from-template",
         "offers.from_template_view", "from_template.pt", "sfa.quote.create",
         ("GET", "POST")),
        ("sfa.quote.newfromtemplate", "/sfa/quotes/new-from-template",
         "offers.new_from_template_view", "new_from_template.pt", "sfa.quote.create", "POST"),
        ("sfa.quote.savetemplate", f"/sfa/quotes/{ID}/save-as-template",
         "offers.save_template_view", "save_template.pt", "sfa.quotetemplate.create",
         ("GET", "POST")),
        ("sfa.webform.snippet", f"/sfa/web-forms/{ID}/snippet", "webforms.snippet_view",
         "snippet.pt", "sfa.webform.read", "GET"),
        ("sfa.webform.rekey", f"/sfa/web-forms/{ID}/new-key", "webforms.rekey_view", None,
         "sfa.webform.update", "POST"),
    ]
    for name, pattern, view, renderer, perm, method in pages:
        config.add_route(name, pattern, request_method=method)
        config.add_view(f".{view}", route_name=name, permission=perm,
                        renderer=tpl + renderer if renderer else None)

    # Public web-to-lead endpoints: no login, CSRF-exempt by design (see webtolead.py).
    config.add_route("sfa.webtolead", "/sfa/web-to-lead/{key}")
    config.add_view(".webforms.hosted_form_view", route_name="sfa.webtolead",
                    request_method="GET", permission=NO_PERMISSION_REQUIRED,
                    renderer=tpl + "webtolead_form.pt")
    config.add_view(".webforms.post_view", route_name="sfa.webtolead", request_method="POST",
                    permission=NO_PERMISSION_REQUIRED, require_csrf=False,
                    renderer=tpl + "webtolead_done.pt")
    config.add_route("sfa.webtolead.token", "/sfa/web-to-lead/{key}/token",
                     request_method="GET")
    config.add_view(".webforms.token_view", route_name="sfa.webtolead.token",
                    permission=NO_PERMISSION_REQUIRED)

    api = [
        ("sfa.api.kpi", "/api/v1/sfa/kpi/{name}", "api.kpi_view", REPORTS, "GET"),
        ("sfa.api.forecast", "/api/v1/sfa/forecast", "api.forecast_view", REPORTS, "GET"),
        ("sfa.api.pipeline", "/api/v1/sfa/pipeline", "api.pipeline_view",
         "sfa.opportunity.read", "GET"),
        ("sfa.api.lead.duplicates", f"/api/v1/leads/{ID}/duplicates", "api.duplicates_view",
         CONVERT, "GET"),
        ("sfa.api.lead.convert", f"/api/v1/leads/{ID}/convert", "api.convert_view", CONVERT,
         "POST"),
        ("sfa.api.quote.clone", f"/api/v1/quotes/{ID}/clone", "api.clone_view",
         "sfa.quote.create", "POST"),
        ("sfa.api.quote.fromtemplate", "/api/v1/quotes/from-template",
         "api.from_template_view", "sfa.quote.create", "POST"),
        ("sfa.api.quote.savetemplate", f"/api/v1/quotes/{ID}/save-as-template",
         "api.save_template_view", "sfa.quotetemplate.create", "POST"),
        ("sfa.api.quote.lineprice", f"/api/v1/quotes/{ID}/line-price", "quotes.line_price_view",
         "sfa.quote.read", "GET"),
        ("sfa.api.quote.reprice", f"/api/v1/quotes/{ID}/reprice", "quotes.reprice_api_view",
         "sfa.quote.update", "POST"),
        ("sfa.api.quote.margin", f"/api/v1/quotes/{ID}/margin", "quotes.margin_view",
         "sfa.quote.read", "GET"),
        ("sfa.api.quote.pdf", f"/api/v1/quotes/{ID}/pdf", "quotes.pdf_view", "sfa.quote.read",
         "GET"),
    ]
    for name, pattern, view, perm, method in api:
        config.add_route(name, pattern, request_method=method)
        config.add_view(f".{view}", route_name=name, permission=perm)
