"""Allowed values of the sales choice fields, with their display titles."""

from .. import _

LEAD_SOURCES = [
    ("advert", _("Advert")),
    ("partner", _("Partner")),
    ("web", _("Web")),
    ("trade_show", _("Trade show")),
    ("seminar", _("Seminar")),
    ("direct_mail", _("Direct mail")),
    ("referral", _("Referral")),
    ("other", _("Other")),
]
LEAD_STATUSES = [
    ("new", _("New")),
    ("contacted", _("Contacted")),
    ("qualified", _("Qualified")),
    ("unqualified", _("Unqualified")),
    ("converted", _("Converted")),
]
RATINGS = [("hot", _("Hot")), ("warm", _("Warm")), ("cold", _("Cold"))]
OPPORTUNITY_STATUSES = [("open", _("Open")), ("won", _("Won")), ("lost", _("Lost"))]
QUOTE_STATUSES = [
    ("draft", _("Draft")),
    ("sent", _("Sent")),
    ("accepted", _("Accepted")),
    ("rejected", _("Rejected")),
]
#: the operators a scoring rule may use: the list filters' language (field__op=value)
SCORING_OPS = [
    ("eq", _("is")),
    ("ne", _("is not")),
    ("in", _("is one of")),
    ("contains", _("contains")),
    ("startswith", _("starts with")),
    ("gt", _("greater than")),
    ("gte", _("at least")),
    ("lt", _("less than")),
    ("lte", _("at most")),
    ("isnull", _("is empty")),
]
#: lead fields a scoring rule may test
SCORING_FIELDS = [
    ("source", _("Source")),
    ("country", _("Country")),
    ("company", _("Company")),
    ("job_title", _("Job title")),
    ("email", _("E-mail")),
    ("phone", _("Phone")),
    ("campaign", _("Campaign or event")),
    ("status", _("Status")),
    ("rating", _("Rating")),
    ("industry", _("Industry")),
    ("employees", _("Employees")),
]


def values(choices) -> tuple[str, ...]:
    return tuple(v for v, _t in choices)
