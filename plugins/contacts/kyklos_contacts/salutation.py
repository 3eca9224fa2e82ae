"""Default letter salutations per language and gender (CON-11).

The stored salutation is free text the user may change; this computes the value a new
person starts with. Greek addresses a man in the vocative case (Παπαδόπουλος ->
Παπαδόπουλε), Polish letters address "Szanowny Panie" without the surname.
"""

from __future__ import annotations

import unicodedata

from .domain.occasions import calendar_for_country

_LANG_BY_COUNTRY = {"GR": "el", "CY": "el", "RO": "ro", "MD": "ro", "PL": "pl"}

_FORMS = {
    # language: (male, female, unknown)
    "en": ("Dear Mr {last}", "Dear Ms {last}", "Dear {first} {last}"),
    "el": ("Αγαπητέ κύριε {last_voc}", "Αγαπητή κυρία {last}", "Αγαπητέ/ή {first} {last}"),
    "ro": ("Stimate domnule {last}", "Stimată doamnă {last}", "Stimate/Stimată {first} {last}"),
    "pl": ("Szanowny Panie", "Szanowna Pani", "Szanowni Państwo"),
}


def language_for_country(country: str | None) -> str:
    return _LANG_BY_COUNTRY.get((country or "").upper(), "en")


def _is_greek(text: str) -> bool:
    return any("GREEK" in unicodedata.name(ch, "") for ch in text)


_VOWELS = set("αεηιουωάέήίόύώϊϋΐΰ")
_ACCENTED = set("άέήίόύώΐΰ")


def greek_vocative(surname: str) -> str:
    """The vocative of a Greek masculine surname.

    -ος: -ο when the stress is on the syllable before the ending (Βλάχος -> Βλάχο,
    Στέλιος -> Στέλιο), -έ when on the ending (Καλός -> Καλέ), -ε otherwise
    (Παπαδόπουλος -> Παπαδόπουλε); -ης -> -η, -ας -> -α; other endings unchanged
    (Νικολάου).
    """
    word = surname.strip()
    if len(word) < 3:
        return word
    lower = word.lower()
    upper = word[-2:].isupper()
    if lower.endswith(("ης", "ής", "ας", "άς")):
        return word[:-1]
    if not lower.endswith(("ος", "ός")):
        return word
    if lower.endswith("ός"):
        ending = "έ"
    else:
        stem = lower[:-2]
        if stem.endswith("ι") and len(stem) > 1 and stem[-2] not in _VOWELS:
            stem = stem[:-1]  # -ιος is one syllable (Στέλιος, Μανώλιος)
        group = ""
        for ch in reversed(stem):
            if ch in _VOWELS:
                group = ch + group
            elif group:
                break
        ending = "ο" if any(ch in _ACCENTED for ch in group) else "ε"
    return word[:-2] + (ending.upper() if upper else ending)


def default_salutation(
    first_name: str | None,
    last_name: str | None,
    gender: str | None,
    language: str | None = None,
    country: str | None = None,
) -> str:
    lang = language or language_for_country(country)
    if lang not in _FORMS:
        lang = "en"
    if lang == "el" and last_name and not _is_greek(last_name):
        # A Latin-script name in a Greek letter keeps its form: no Greek case endings.
        voc = last_name
    else:
        voc = greek_vocative(last_name or "")
    male, female, other = _FORMS[lang]
    form = {"male": male, "female": female}.get(gender or "", other)
    text = form.format(first=first_name or "", last=last_name or "", last_voc=voc)
    return " ".join(text.split())


def default_calendar(country: str | None) -> str | None:
    return calendar_for_country(country)
