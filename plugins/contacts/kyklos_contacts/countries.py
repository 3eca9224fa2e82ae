"""ISO 3166-1 alpha-2 country codes and their names in the user's language (CLDR)."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

from kyklos_sdk import fold

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


#: names address books and exports write that CLDR does not list, ISO alpha-3 codes of
#: the countries customers are most often in (folded: ``kyklos_sdk.fold``)
_ALIASES = {
    "usa": "US", "u s a": "US", "us": "US", "united states of america": "US",
    "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "ellas": "GR", "hellas": "GR", "grc": "GR", "rou": "RO", "pol": "PL", "deu": "DE",
    "gbr": "GB", "cyp": "CY", "bgr": "BG", "ita": "IT", "fra": "FR", "esp": "ES",
    "aut": "AT", "nld": "NL", "holland": "NL", "bel": "BE", "che": "CH", "tur": "TR",
    "mda": "MD", "ukr": "UA", "cze": "CZ", "czech republic": "CZ", "svk": "SK",
    "hun": "HU", "srb": "RS", "mkd": "MK", "alb": "AL",
}


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    """``{folded name: code}``: every country's name in the languages customers write
    them in (Outlook, Gmail and other exports hold "Greece", "Ελλάδα", "Polska")."""
    out = dict(_ALIASES)
    for lang in ("en", "el", "ro", "pl", "de", "fr", "it", "es", "bg"):
        for code, name in country_names(lang).items():
            out.setdefault(fold(name), code)
    return out


def normalize_country(value: str | None) -> str | None:
    """The upper-case code of a valid country, ``None`` for an empty value; raises
    ``ValueError`` for anything else. "EL" and "UK" (VAT usage) map to GR and GB; a
    country's name in a common language ("Greece", "Ελλάδα", "România", "USA") maps to
    its code."""
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    code = {"EL": "GR", "UK": "GB"}.get(code, code)
    if code in country_names("en"):
        return code
    found = _name_index().get(fold(value))
    if found is None:
        raise ValueError(code)
    return found
