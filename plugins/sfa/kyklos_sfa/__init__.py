"""Sales force automation: leads, opportunities and their pipeline, forecasts against
quotas, quotes, and the sales KPIs and charts of the dashboard."""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin

_ = TranslationStringFactory("kyklos_sfa")


def _demo(env, size):
    from .demo import demo_data

    demo_data(env, size)


plugin = Plugin(
    id="sfa",
    title=_("Sales"),
    description=_("Leads, opportunities, pipeline, forecast, quotes and sales KPIs"),
    requires_core=">=0.1,<1",
    requires_hooks=">=1.3,<2",  # 1.3: kyklos_record_form_panels (start from a template)
    depends=("contacts", "activities", "catalog"),
    demo_data=_demo,
    settings={
        # web-to-lead: accepted posts per client address and minute, and the least
        # number of seconds a person needs to fill the form in
        "webform.rate_limit": "10",
        "webform.min_seconds": "3",
        "webform.max_age": "86400",
    },
)


def includeme(config):
    config.include(".models")
    config.include(".hooks")
    config.include(".views")
    config.include(".portal")  # the customer portal's "My quotes"
    config.include(".analytics")  # RFM, win probability, conversion funnels
    config.include(".quote_literature")  # the catalog's documents offered on a quote
