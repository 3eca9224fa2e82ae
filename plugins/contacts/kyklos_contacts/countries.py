"""ISO 3166-1 alpha-2 country codes and their names in the user's language (CLDR)."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

# CLDR territories that are not ISO 3166-1 countries (regions, reserved codes, pseudo
# locales); Kosovo's XK stays, it is what the EU and banks use.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)


@lru_cache(maxsize=8)
def country_names(locale: str = "en") -> dict[str, str]:
    """``{code: name}`` for every country, names in ``locale`` (English if unknown)."""
    try:
        territories = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        territories = Locale("en").territories
    return {
        code: name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def normalize_country(value: str | None) -> str | None:
    """The upper-case code of a valid country, ``None`` for an empty value; raises
    ``ValueError`` for anything else. "EL" and "UK" (VAT usage) map to GR and GB."""
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    code = {"EL": "GR", "UK": "GB"}.get(code, code)
    if code not in country_names("en"):
        raise ValueError(code)
    return code
