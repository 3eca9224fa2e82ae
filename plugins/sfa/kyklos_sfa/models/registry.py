"""Entity-type declarations, permissions, roles and record rules of the sales plugin."""

from __future__ import annotations

from kyklos_catalog.models import UNITS

from kyklos_sdk import LANGUAGES, MANAGE_WORKFLOWS, RelatedList

from .. import _
from . import choices as c
from .leads import Lead, ScoringRule, WebForm
from .opportunities import LossReason, Opportunity, OpportunityParticipant, Stage
from .quotes import Quota, Quote, QuoteLine, QuoteTemplate, QuoteTemplateLine

TITLES = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "company": _("Company"),
    "job_title": _("Job title"),
    "vat_number": _("VAT number"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "country": _("Country"),
    "industry": _("Industry"),
    "employees": _("Employees"),
    "source": _("Source"),
    "status": _("Status"),
    "rating": _("Rating"),
    "score": _("Score"),
    "score_explanation": _("Score explanation"),
    "campaign": _("Campaign or event"),
    "description": _("Description"),
    "web_form_id": _("Web form"),
    "converted_at": _("Converted"),
    "converted_account_id": _("Converted to account"),
    "converted_person_id": _("Converted to person"),
    "converted_opportunity_id": _("Converted to opportunity"),
    "label": _("Label"),
    "field": _("Field"),
    "op": _("Operator"),
    "value": _("Value"),
    "points": _("Points"),
    "active": _("Active"),
    "position": _("Position"),
    "name": _("Name"),
    "form_key": _("Form key"),
    "allowed_origin": _("Allowed origin (site)"),
    "redirect_url": _("Thank-you page URL"),
    "thank_you": _("Thank-you message"),
    "code": _("Code"),
    "probability": _("Probability (%)"),
    "expected_days": _("Expected days"),
    "is_won": _("Won stage"),
    "is_lost": _("Lost stage"),
    "account_id": _("Account"),
    "person_id": _("Contact person"),
    "stage_id": _("Stage"),
    "amount": _("Amount"),
    "expected_close": _("Expected close"),
    "probability_manual": _("Probability set by hand"),
    "loss_reason_id": _("Reason for loss"),
    "loss_details": _("Loss details"),
    "won_at": _("Won on"),
    "lost_at": _("Lost on"),
    "stage_entered_at": _("In this stage since"),
    "competitors": _("Competitors"),
    "partners": _("Partners"),
    "resources": _("Resources"),
    "estimated_hours": _("Estimated hours"),
    "lead_id": _("From lead"),
    "opportunity_id": _("Opportunity"),
    "user_id": _("User"),
    "role": _("Role"),
    "title": _("Title"),
    "number": _("Number"),
    "revision": _("Revision"),
    "variant": _("Variant"),
    "based_on_id": _("Based on"),
    "currency": _("Currency"),
    "valid_until": _("Valid until"),
    "notes": _("Notes"),
    "net_total": _("Net total"),
    "tax_total": _("Tax"),
    "total": _("Total"),
    "quote_id": _("Quote"),
    "quantity": _("Quantity"),
    "unit_price": _("Unit price"),
    "discount_percent": _("Discount (%)"),
    "tax_rate": _("Tax rate (%)"),
    "line_total": _("Line total"),
    "product_id": _("Product"),
    "unit": _("Unit"),
    "price_note": _("Price from"),
    "language": _("Language"),
    "rate_from": _("Converted from"),
    "exchange_rate": _("Exchange rate"),
    "rate_date": _("Rate of"),
    "period": _("Period"),
    "period_start": _("Period start"),
    "period_end": _("Period end"),
    "introduction": _("Introduction"),
    "terms": _("Terms"),
    "template_id": _("Offer template"),
    "owner_id": _("Owner"),
    "created_at": _("Created"),
    "updated_at": _("Updated"),
}

#: sums of money whose currency is another field: two decimals as the locale writes them
AMOUNT = {"display": "sfa_amount"}
QUOTE_AMOUNT = {"currency_field": "currency"}
#: a quote line's and a template line's text under the description
DETAILS = {
    "title": _("Details"),
    "description": _("Empty with a product: the product's description in the quote's language."),
}
COUNTRY = {"max_length": 2, "description": _("ISO 3166 country code, e.g. GR, RO, PL")}
#: the sales entity types reps work with, and the configuration types admins keep
WORK_TYPES = ("lead", "opportunity", "participant", "quote", "quoteline")
CONFIG_TYPES = ("stage", "lossreason", "scoringrule", "webform")
#: offer templates: managers keep them, every rep starts quotes from them
TEMPLATE_TYPES = ("quotetemplate", "quotetemplateline")
ALL_TYPES = WORK_TYPES + CONFIG_TYPES + TEMPLATE_TYPES + ("quota",)

#: extra permissions beyond the entity verbs
CLOSE = "sfa.opportunity.close"
CONVERT = "sfa.lead.convert"
REPORTS = "sfa.reports.view"


def fields_for(model, extra: dict | None = None) -> dict:
    cols = {col.key for col in model.__table__.columns}
    out = {name: {"title": title} for name, title in TITLES.items() if name in cols}
    for name, over in (extra or {}).items():
        out.setdefault(name, {}).update(over)
    return out


def choice(choices):
    return {"type": "choice", "choices": list(choices)}


def register_entity_types(config):
    from ..quoting import render_amount
    from ..scoring import render_explanation

    config.add_display_kind("sfa_score", render_explanation)
    config.add_display_kind("sfa_amount", render_amount)
    config.add_entity_type(
        Lead,
        "lead",
        primary_filters=("last_name", "company", "status", "source", "owner_id"),
        about=True,
        # SEC-04: territory rules place the record by this
        territory_field="country",
        title=_("Lead"),
        plural=_("Leads"),
        title_field="full_name",
        list_columns=("first_name", "last_name", "company", "source", "status", "rating",
                      "score", "owner_id"),
        filters=("first_name", "last_name", "company", "email", "country", "source", "status",
                 "rating", "score", "campaign", "web_form_id", "owner_id", "created_at",
                 "converted_at"),
        sort=("last_name", "company", "score", "status", "created_at", "updated_at"),
        search=("first_name", "last_name", "company", "email", "phone"),
        readonly=("score", "score_explanation", "converted_at", "converted_account_id",
                  "converted_person_id", "converted_opportunity_id", "web_form_id"),
        fields=fields_for(
            Lead,
            {
                "source": choice(c.LEAD_SOURCES),
                "status": {**choice(c.LEAD_STATUSES), "default": "new"},
                "rating": choice(c.RATINGS),
                "email": {"type": "email"},
                "phone": {"type": "phone"},
                "country": COUNTRY,
                # read in words, one line per matched rule, never as JSON
                "score_explanation": {"display": "sfa_score"},
            },
        ),
        icon="funnel",
        menu_order=30,
        description=_("Prospects to qualify and convert into customers"),
    )
    config.add_entity_type(
        Stage,
        "stage",
        primary_filters=("name", "active"),
        lookup=True,
        title=_("Pipeline stage"),
        plural=_("Pipeline stages"),
        slug="pipeline-stages",
        title_field="name",
        list_columns=("position", "name", "probability", "expected_days", "is_won", "is_lost",
                      "active"),
        filters=("name", "active", "is_won", "is_lost"),
        sort=("position", "name", "probability"),
        search=("name",),
        fields=fields_for(Stage),
        default_sort="position",
        menu_group=None,
        icon="bar-chart-steps",
    )
    config.add_entity_type(
        LossReason,
        "lossreason",
        primary_filters=("name", "active"),
        lookup=True,
        title=_("Reason for loss"),
        plural=_("Reasons for loss"),
        slug="loss-reasons",
        title_field="name",
        list_columns=("position", "name", "active"),
        filters=("name", "active"),
        sort=("position", "name"),
        search=("name",),
        fields=fields_for(LossReason),
        default_sort="position",
        menu_group=None,
        icon="x-octagon",
    )
    config.add_entity_type(
        Opportunity,
        "opportunity",
        primary_filters=("stage_id", "owner_id", "expected_close", "account_id", "status"),
        about=True,
        # SEC-04: territory rules place the record by its account's country, else its contact's
        territory_field=("account.country", "person.country"),
        subtitle_field="account_id",
        title=_("Opportunity"),
        plural=_("Opportunities"),
        slug="opportunities",
        title_field="name",
        list_columns=("name", "account_id", "stage_id", "amount", "probability",
                      "expected_close", "status", "owner_id"),
        filters=("name", "account_id", "person_id", "stage_id", "status", "amount",
                 "expected_close", "probability", "source", "loss_reason_id", "owner_id",
                 "created_at", "won_at", "lost_at", "lead_id"),
        sort=("name", "amount", "expected_close", "probability", "created_at", "updated_at"),
        search=("name", "competitors", "partners"),
        readonly=("status", "won_at", "lost_at", "stage_entered_at", "lead_id",
                  "probability_manual"),
        fields=fields_for(
            Opportunity,
            {
                "status": choice(c.OPPORTUNITY_STATUSES),
                "source": choice(c.LEAD_SOURCES),
                "probability": {"description": _("Percent; left empty, the stage's")},
            },
        ),
        related=(
            RelatedList("participant", "opportunity_id", _("Participants")),
            RelatedList("quote", "opportunity_id", _("Quotes")),
        ),
        icon="graph-up-arrow",
        menu_order=31,
        description=_("Deals in the pipeline, from first contact to won or lost"),
    )
    config.add_entity_type(
        OpportunityParticipant,
        "participant",
        primary_filters=("opportunity_id", "user_id"),
        title=_("Participant"),
        plural=_("Participants"),
        slug="opportunity-participants",
        title_field="role",
        list_columns=("user_id", "person_id", "role"),
        filters=("opportunity_id", "user_id", "person_id"),
        sort=("role",),
        fields=fields_for(OpportunityParticipant),
        menu_group=None,
        icon="people",
    )
    config.add_entity_type(
        Quote,
        "quote",
        primary_filters=("status", "account_id", "owner_id", "valid_until"),
        about=True,
        # SEC-04: territory rules place the record by its account's country, else its contact's
        territory_field=("account.country", "person.country"),
        subtitle_field="account_id",
        title=_("Quote"),
        plural=_("Quotes"),
        title_field="label",
        list_columns=("number", "revision", "variant", "title", "account_id", "total",
                      "currency", "status", "valid_until"),
        filters=("number", "opportunity_id", "account_id", "status", "currency", "based_on_id",
                 "owner_id", "created_at", "valid_until"),
        sort=("number", "created_at", "valid_until", "total"),
        search=("number", "title"),
        readonly=("number", "year", "seq", "revision", "based_on_id", "net_total", "tax_total",
                  "total", "rate_from", "exchange_rate", "rate_date"),
        fields=fields_for(
            Quote,
            {
                "status": {**choice(c.QUOTE_STATUSES), "default": "draft"},
                # chosen from the currencies in use, the site's default first
                "currency": {"max_length": 3, "display": "currency"},
                "variant": {"description": _("Several variants of one offer: A, B, ...")},
                # the lines panel says them in a sentence ("converted from EUR at ...")
                "rate_from": {"display": "currency", "form": False},
                "exchange_rate": {"form": False},
                "rate_date": {"form": False},
                "language": {
                    **choice(LANGUAGES.items()),
                    "description": _(
                        "Product lines take their names in it; empty: the contact "
                        "person's language."
                    ),
                },
                # the number says them ("Q-2026-0007"): internal parts, never "2,026"
                "year": {"grouping": False, "form": False},
                "seq": {"grouping": False, "form": False},
                # in the quote's currency: pages show "€17,255.00"
                "net_total": QUOTE_AMOUNT,
                "tax_total": QUOTE_AMOUNT,
                "total": QUOTE_AMOUNT,
            },
        ),
        # the lines are the quote page's own panel (a full table and the "add a line"
        # form), not a related list
        related=(RelatedList("quote", "based_on_id", _("Later versions and copies")),),
        icon="file-earmark-text",
        menu_order=32,
        description=_("Offers to customers, with versions and variants"),
    )
    config.add_entity_type(
        QuoteLine,
        "quoteline",
        primary_filters=("quote_id",),
        title=_("Quote line"),
        plural=_("Quote lines"),
        slug="quote-lines",
        title_field="description",
        list_columns=("position", "product_id", "description", "quantity", "unit",
                      "unit_price", "discount_percent", "tax_rate", "line_total"),
        filters=("quote_id", "product_id"),
        sort=("position",),
        readonly=("line_total", "price_note"),
        fields=fields_for(QuoteLine, {
            "unit_price": {
                **AMOUNT,
                "description": _("Empty with a product: the price its price lists give."),
            },
            "line_total": AMOUNT,
            "unit": choice(UNITS),
            # a product line takes the product's name when none is given
            "description": {"required": False},
            "details": DETAILS,
        }),
        default_sort="position",
        menu_group=None,
        icon="list-ol",
    )
    config.add_entity_type(
        QuoteTemplate,
        "quotetemplate",
        primary_filters=("name", "active"),
        title=_("Offer template"),
        plural=_("Offer templates"),
        slug="quote-templates",
        title_field="name",
        list_columns=("name", "currency", "language", "active"),
        filters=("name", "currency", "language", "active"),
        sort=("name",),
        search=("name",),
        fields=fields_for(
            QuoteTemplate,
            {
                "currency": {"max_length": 3, "display": "currency"},
                "language": choice(LANGUAGES.items()),
            },
        ),
        related=(RelatedList("quotetemplateline", "template_id", _("Lines")),),
        default_sort="name",
        menu_group=None,
        icon="file-earmark-ruled",
    )
    config.add_entity_type(
        QuoteTemplateLine,
        "quotetemplateline",
        primary_filters=("template_id",),
        title=_("Offer template line"),
        plural=_("Offer template lines"),
        slug="quote-template-lines",
        title_field="description",
        list_columns=("position", "product_id", "description", "quantity", "unit",
                      "unit_price", "discount_percent"),
        filters=("template_id", "product_id"),
        sort=("position",),
        fields=fields_for(QuoteTemplateLine, {
            "unit_price": {"description": _(
                "Only for lines without a product: a product takes the price its price "
                "lists give the quote's customer.")},
            "unit": choice(UNITS),
            "description": {"description": _("Empty with a product: the product's name.")},
            "details": DETAILS,
            "tax_rate": {"description": _("Empty with a product: the product's rate.")},
        }),
        default_sort="position",
        menu_group=None,
        icon="list-ol",
    )
    config.add_entity_type(
        Quota,
        "quota",
        primary_filters=("user_id", "period"),
        title=_("Sales quota"),
        plural=_("Sales quotas"),
        slug="sales-quotas",
        title_field="period",
        list_columns=("user_id", "period", "amount"),
        filters=("user_id", "period", "period_start"),
        sort=("period", "period_start"),
        readonly=("period_start", "period_end"),
        fields=fields_for(
            Quota,
            {"period": {"description": _("2027, 2027-H1, 2027-Q3 or 2027-05")}},
        ),
        default_sort="-period_start",
        menu_group=None,
        icon="bullseye",
    )
    config.add_entity_type(
        ScoringRule,
        "scoringrule",
        primary_filters=("field", "active"),
        title=_("Lead scoring rule"),
        plural=_("Lead scoring rules"),
        slug="lead-scoring-rules",
        title_field="label",
        list_columns=("position", "label", "field", "op", "value", "points", "active"),
        filters=("field", "active"),
        sort=("position", "points"),
        fields=fields_for(
            ScoringRule,
            {"field": choice(c.SCORING_FIELDS), "op": {**choice(c.SCORING_OPS), "default": "eq"}},
        ),
        default_sort="position",
        menu_group=None,
        icon="123",
    )
    config.add_entity_type(
        WebForm,
        "webform",
        primary_filters=("name", "active"),
        title=_("Web-to-lead form"),
        plural=_("Web-to-lead forms"),
        slug="web-forms",
        title_field="name",
        list_columns=("name", "active", "allowed_origin", "source", "campaign"),
        filters=("name", "active"),
        sort=("name",),
        readonly=("form_key",),
        fields=fields_for(WebForm, {"source": choice(c.LEAD_SOURCES)}),
        menu_group=None,
        icon="ui-checks",
    )
    register_roles(config)


def _perms(names, verbs):
    return [f"sfa.{n}.{v}" for n in names for v in verbs]


def register_roles(config):
    config.declare_permission(CLOSE, _("Close opportunities as won or lost"))
    config.declare_permission(CONVERT, _("Convert leads"))
    config.declare_permission(REPORTS, _("See sales reports, forecasts and KPIs"))
    rep = ("read", "create", "update", "export")
    config.extend_role(
        "sales",
        _perms(WORK_TYPES, rep)
        + _perms(CONFIG_TYPES + TEMPLATE_TYPES + ("quota",), ("read",))
        # the parts of their own deals and quotes, they may remove
        + _perms(("quoteline", "participant"), ("delete",))
        + ["sfa.lead.import", CONVERT, REPORTS],
    )
    full = ("read", "create", "update", "delete", "export", "import", "assign")
    config.extend_role(
        "manager",
        _perms(WORK_TYPES + TEMPLATE_TYPES + ("quota",), full)
        + _perms(CONFIG_TYPES, ("read",))
        + [CLOSE, CONVERT, REPORTS],
    )
    config.add_role(
        "salesdirector",
        _("Sales director"),
        _perms(WORK_TYPES + TEMPLATE_TYPES + ("quota",), full) + _perms(CONFIG_TYPES, full)
        # a director runs the sales process: its workflows and automation rules too
        + [CLOSE, CONVERT, REPORTS, MANAGE_WORKFLOWS],
    )
    # Reps see and change their own deals; configuration is visible to everyone selling;
    # managers and directors see every deal (the org chart narrows this where an
    # administrator replaces "all" by "subtree").
    for et in WORK_TYPES:
        config.add_record_rule(et, "sales", "read", "own")
        config.add_record_rule(et, "sales", "write", "own")
    for et in CONFIG_TYPES:
        config.add_record_rule(et, "manager", "read", "all")
    for et in CONFIG_TYPES + TEMPLATE_TYPES + ("quota",):
        config.add_record_rule(et, "sales", "read", "all")
    for role in ("manager", "salesdirector"):
        for et in WORK_TYPES + TEMPLATE_TYPES + ("quota",):
            config.add_record_rule(et, role, "read", "all")
            config.add_record_rule(et, role, "write", "all")
    for et in CONFIG_TYPES:
        config.add_record_rule(et, "salesdirector", "read", "all")
        config.add_record_rule(et, "salesdirector", "write", "all")
