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


#: names people write that neither CLDR nor ISO 3166 lists
_ALIASES = {
    "usa": "US", "u s a": "US", "u s": "US", "america": "US",
    "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "ellas": "GR", "hellas": "GR", "ellada": "GR", "holland": "NL",
}
#: languages whose country names are recognised (CLDR); the ISO 3166 names, official
#: names and alpha-3 codes (pycountry) come on top
LANGUAGES = ("en", "el", "ro", "pl", "de", "fr", "it", "es", "pt", "nl", "bg", "ru", "uk",
             "cs", "sk", "hu", "sr", "hr", "sl", "mk", "sq", "tr", "sv", "da", "nb", "fi")


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    """``{folded name: code}``: every country by its ISO 3166 name, official and common
    name and alpha-3 code (pycountry: "United States of America", "Russian Federation",
    "Czech Republic"), its CLDR name and variants in :data:`LANGUAGES` ("Ελλάδα",
    "Niemcy", "Tschechien"), and :data:`_ALIASES`."""
    import pycountry

    valid = country_names("en")
    out = {fold(alias): code for alias, code in _ALIASES.items()}
    for country in pycountry.countries:
        code = country.alpha_2
        if code not in valid:
            continue
        out.setdefault(fold(country.alpha_3), code)
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if name:
                out.setdefault(fold(name), code)
    for lang in LANGUAGES:
        for code, name in country_names(lang).items():
            out.setdefault(fold(name), code)
        try:
            variants = Locale.parse(lang)._data["territories_alt_variant"] or {}
        except (KeyError, UnknownLocaleError, ValueError):
            variants = {}
        for code, name in getattr(variants, "items", dict().items)():
            if code in valid:
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
    name = fold(value)
    index = _name_index()
    found = index.get(name)
    if found is None and name.startswith("the "):
        found = index.get(name[4:])  # "The Netherlands", "the Czech Republic"
    if found is None and "," in value:  # ISO's "Korea, Republic of"
        found = index.get(fold(" ".join(reversed(value.split(",", 1)))))
    if found is None:
        raise ValueError(code)
    return found
