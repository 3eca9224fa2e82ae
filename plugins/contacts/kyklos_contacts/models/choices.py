"""Allowed values of the contacts' choice fields, with their display titles."""

from .. import _

PARTY_ROLES = [
    ("customer", _("Customer")),
    ("supplier", _("Supplier")),
    ("partner", _("Partner")),
    ("employee", _("Employee")),
    ("prospect", _("Prospect")),
]
SOURCES = [
    ("advert", _("Advert")),
    ("partner", _("Partner")),
    ("web", _("Web")),
    ("trade_show", _("Trade show")),
    ("referral", _("Referral")),
    ("cold_call", _("Cold call")),
    ("other", _("Other")),
]
ADDRESS_KINDS = [
    ("billing", _("Billing")),
    ("shipping", _("Shipping")),
    ("office", _("Office")),
    ("branch", _("Branch")),
    ("home", _("Home")),
    ("other", _("Other")),
]
PHONE_KINDS = [
    ("mobile", _("Mobile")),
    ("work", _("Work")),
    ("home", _("Home")),
    ("fax", _("Fax")),
    ("pager", _("Pager")),
    ("assistant", _("Assistant")),
    ("text", _("Text messages")),
    ("video", _("Video")),
    ("other", _("Other")),
]
EMAIL_KINDS = [("work", _("Work")), ("home", _("Home")), ("other", _("Other"))]
GENDERS = [("male", _("Male")), ("female", _("Female")), ("other", _("Other"))]
MARITAL_STATUSES = [
    ("single", _("Single")),
    ("married", _("Married")),
    ("partnership", _("Civil partnership")),
    ("divorced", _("Divorced")),
    ("widowed", _("Widowed")),
]
CALENDARS = [("el", _("Greek Orthodox")), ("ro", _("Romanian Orthodox")), ("pl", _("Polish"))]
LANGUAGES = [("en", "English"), ("el", "Ελληνικά"), ("ro", "Română"), ("pl", "Polski")]
CHANNELS = [("email", _("E-mail")), ("sms", _("SMS")), ("phone", _("Phone")), ("post", _("Post"))]
CONSENT_STATUSES = [("opt_in", _("Opted in")), ("opt_out", _("Opted out"))]


def values(choices) -> tuple[str, ...]:
    return tuple(v for v, _t in choices)
