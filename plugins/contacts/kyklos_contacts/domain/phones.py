"""Phone number normalisation with Google's libphonenumber (``phonenumbers``).

Numbers are stored in E.164 (``+302101234567``) and formatted for display on the way
out.  A number typed without a country code is read in the contact's (or the tenant's)
region, so "210 1234567" in GR, "0721 123 456" in RO and "601 234 567" in PL all work.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

__all__ = ["InvalidPhone", "format_phone", "normalize_phone", "parse_valid", "phone_type_guess"]

MESSAGES = {
    "invalid_phone": "Invalid phone number",
    "phone_needs_country": "Phone number needs a country code (+...)",
}


class InvalidPhone(ValueError):
    """A phone number could not be parsed or is not a valid number.

    ``msgid`` is "invalid_phone" or "phone_needs_country" (no ``+`` prefix and no default
    region to read the number in).
    """

    def __init__(self, msgid: str = "invalid_phone", raw: str | None = None) -> None:
        self.msgid = msgid
        self.raw = raw
        super().__init__(MESSAGES.get(msgid, msgid))


def _region(region: str | None) -> str | None:
    if not region:
        return None
    cc = region.strip().upper()
    return {"EL": "GR", "UK": "GB"}.get(cc, cc)


def _parse(raw: str, region: str | None) -> phonenumbers.PhoneNumber:
    return _read(raw, region)[0]


def _read(raw: str, region: str | None) -> tuple[phonenumbers.PhoneNumber, str]:
    """The parsed number and the text handed to ``phonenumbers.parse`` (``region`` is
    already read by :func:`_region`)."""
    text = (raw or "").strip()
    if text.lower().startswith("tel:"):  # vCard 4.0 / links: tel:+30-210-1234567;ext=1
        text = text[4:].split(";", 1)[0]
    if not text:
        raise InvalidPhone("invalid_phone", raw)
    if region is None and text.startswith("00"):
        text = "+" + text[2:]  # the international prefix of almost every country we serve
    if region is None and not text.startswith("+"):
        raise InvalidPhone("phone_needs_country", raw)
    try:
        return phonenumbers.parse(text, region), text
    except NumberParseException as exc:
        raise InvalidPhone("invalid_phone", raw) from exc


def parse_valid(raw: str, default_region: str | None = None):
    """``(e164, number, text, region)``: :func:`normalize_phone`'s answer with the parsed
    ``number``, the ``text`` and ``region`` it was parsed from - a caller that needs more
    of the number (its extension) reads it there instead of parsing it again. Raises
    :class:`InvalidPhone`."""
    region = _region(default_region)
    number, text = _read(raw, region)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("invalid_phone", raw)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), number, text, region


# A pure function of its arguments: forms, the API and imports normalise the same
# numbers over and over.
@lru_cache(maxsize=1 << 14)
def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """Return *raw* in E.164, or raise :class:`InvalidPhone`.

    *default_region* (ISO 3166 alpha-2, "EL"/"UK" accepted) is used when the number has
    no ``+``/``00`` country code.  The number must be valid for its country - not merely
    of a plausible length - so typos in the area code are caught.  Extensions cannot be
    expressed in E.164 and are dropped.
    """
    return parse_valid(raw, default_region)[0]


_STYLES = {
    "international": PhoneNumberFormat.INTERNATIONAL,
    "national": PhoneNumberFormat.NATIONAL,
    "e164": PhoneNumberFormat.E164,
}


def format_phone(e164: str, style: str = "international") -> str:
    """Format a stored E.164 number: "international" (``+30 21 0123 4567``),
    "national" (``21 0123 4567``) or "e164"."""
    try:
        fmt = _STYLES[style]
    except KeyError:
        raise ValueError(f"unknown phone style {style!r}") from None
    return phonenumbers.format_number(_parse(e164, None), fmt)


def phone_type_guess(e164: str) -> str:
    """Guess "mobile", "landline" or "other" from the numbering plan.

    "other" covers VoIP, toll-free, premium and the plans (US, CA) where fixed and mobile
    numbers cannot be told apart.
    """
    kind = phonenumbers.number_type(_parse(e164, None))
    if kind == PhoneNumberType.MOBILE:
        return "mobile"
    if kind == PhoneNumberType.FIXED_LINE:
        return "landline"
    return "other"
