"""Recipients' numbers in E.164, and only mobile ones: a text to a landline is refused
before it is queued, with the reason, rather than paid for and lost at the gateway."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from . import _

#: types an SMS can reach (FIXED_LINE_OR_MOBILE: countries, such as the US, whose
#: numbering does not tell the two apart)
MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class BadNumber(ValueError):
    """``reason`` is a translation string for the person sending."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def _region(country: str | None) -> str | None:
    if not country:
        return None
    cc = country.strip().upper()
    return {"EL": "GR", "UK": "GB"}.get(cc, cc) if len(cc) == 2 else None


def normalise(raw: str, *countries: str | None) -> str:
    """``raw`` as E.164 (``+306912345678``), read in the first of ``countries`` given
    (the person's, then the site's default) when it has no country code; raises
    :class:`BadNumber` for a number that is invalid or not a mobile."""
    text = (raw or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text:
        raise BadNumber(_("Give a mobile number."))
    region = next((r for r in map(_region, countries) if r), None)
    if region is None and not text.startswith("+"):
        raise BadNumber(
            _(
                "${n} has no country code: write it as +30 69..., or set the person's country.",
                mapping={"n": text[:40]},
            )
        )
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        raise BadNumber(_("${n} is not a phone number.", mapping={"n": text[:40]})) from None
    if not phonenumbers.is_valid_number(number):
        raise BadNumber(_("${n} is not a valid phone number.", mapping={"n": text[:40]}))
    if phonenumbers.number_type(number) not in MOBILE:
        raise BadNumber(
            _("${n} is not a mobile number: it cannot receive SMS.", mapping={"n": text[:40]})
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
