"""Text keys for matching, exported as ``kyklos_sdk.fold`` / ``kyklos_sdk.similarity``
and used by duplicate detection of every entity type.

Matching keys for fuzzy duplicate detection across scripts and romanisations.

:func:`fold` turns a name into a lowercase ASCII *key*.  Two spellings of the same name
should produce the same key whether they were typed in Greek, in an ELOT 743 romanisation
(the Greek standard used on passports), in an informal "phonetic" romanisation, with or
without Polish / Romanian diacritics, in Cyrillic, decomposed (NFD) or composed (NFC), in
full-width forms or with invisible zero-width characters pasted from a web page.

The key is *not* meant to be shown to people, only compared.  It is built in stages:

1. Remove format characters (zero-width space/joiners, soft hyphen, BOM, bidi marks),
   NFKC-normalise (full-width and compatibility forms), ``casefold``.
2. Decompose (NFD) and drop combining marks - accents, Romanian comma-below/cedilla,
   Polish ogonek... - but remember a Greek diaeresis (``ϊ``, ``ϋ``) because it means the
   vowel does *not* form a digraph (``Αϊδίνης`` is A-i, not "ai").
3. Greek digraph rules, applied before the letters are transliterated (ELOT 743 based):

   ========  ==========================================================================
   ``ου``    ``ou`` (the phonetic rules below then make it ``u``)
   ``αυ ευ ηυ``  ``av ev iv`` before a vowel or voiced consonant, ``af ef if`` before a
             voiceless one (θ κ ξ π σ τ φ χ ψ) or at the end: Ευάγγελος -> evangelos,
             Ευθύμιος -> efthymios, Σταύρος -> stavros
   ``ει οι`` ``i`` - modern pronunciation; ELOT's "ei"/"oi" is folded the same way by
             the phonetic stage, so Ειρήνη, Eirini and Irini all meet
   ``αι``    ``ai`` (kept: Aikaterini; the phonetic "e" spelling is left to similarity())
   ``μπ``    ``b`` at the start of a word, ``mp`` inside (Μπάμπης -> bampis)
   ``ντ``    ``d`` at the start of a word, ``nt`` inside (Ντίνος -> dinos)
   ``γκ``    ``g`` at the start of a word, ``gk`` inside
   ``γγ γξ γχ``  ``ng nx nch``
   ========  ==========================================================================

   Single letters follow ELOT 743 (η -> i, υ -> y, ω -> o, χ -> ch, β -> v, ...).
4. Everything else goes through ``anyascii`` (Cyrillic, Polish ł, ...).
5. A *phonetic collapse* applied to all text, so that the ELOT and the informal
   romanisations of a Greek name - and the few Latin-script spelling variants that matter
   for Polish and Romanian names - produce the same key.  Because both sides of a
   comparison go through the same rules, the only cost is that some genuinely different
   spellings may meet (which a duplicate *suggestion* tolerates):

   ``ph -> f``, ``ch -> h`` (Christos/Hristos, Charalampos/Haralambos), ``ks -> x``
   (Aleksandra/Alexandra), ``y -> i`` (Spyros/Spiros), ``ei oi -> i``, ``ou -> u``,
   ``g + i + vowel -> i + vowel`` (Giannis/Yannis, Panagiotis/Panayotis), ``mb -> mp``,
   ``nd -> nt``, ``gk -> g``, ``gg -> ng``, ``c`` not before e/i -> ``k``
   (Constantinos/Konstantinos, Nicolaos), doubled letters collapse (Ioannis/Ioanis).

So ``fold("Παπαδόπουλος") == fold("Papadopoulos")``, ``fold("Γιώργος") ==
fold("Giorgos") == fold("Yorgos")``, ``fold("Wójcik") == fold("Wojcik")`` and
``fold("Ștefănescu") == fold("Ştefănescu") == fold("Stefanescu")``.  Different *names*
(Giorgos vs Georgios) are not forced together; :func:`similarity` scores them instead.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from anyascii import anyascii

try:  # rapidfuzz is optional: faster, same 0..1 "indel" ratio as difflib's
    from rapidfuzz.fuzz import ratio as _rf_ratio
except ImportError:  # pragma: no cover - depends on the environment
    _rf_ratio = None

__all__ = ["fold", "similarity", "lower_forms"]

# Placeholders for Greek iota / upsilon that carried a diaeresis: private-use characters
# the digraph rules do not match, turned back into plain letters afterwards.
_IOTA_DIAERESIS = "\ue000"
_UPSILON_DIAERESIS = "\ue001"

# ELOT 743 single-letter transliteration (lowercase, accents already removed).
_GREEK_LETTERS = {
    "α": "a",
    "β": "v",
    "γ": "g",
    "δ": "d",
    "ε": "e",
    "ζ": "z",
    "η": "i",
    "θ": "th",
    "ι": "i",
    "κ": "k",
    "λ": "l",
    "μ": "m",
    "ν": "n",
    "ξ": "x",
    "ο": "o",
    "π": "p",
    "ρ": "r",
    "σ": "s",
    "ς": "s",
    "τ": "t",
    "υ": "y",
    "φ": "f",
    "χ": "ch",
    "ψ": "ps",
    "ω": "o",
    "ϐ": "v",
    "ϑ": "th",
    "ϕ": "f",
    "ϲ": "s",
    _IOTA_DIAERESIS: "i",
    _UPSILON_DIAERESIS: "y",
}
_GREEK_LETTER_RE = re.compile("[" + "".join(_GREEK_LETTERS) + "]")

_GREEK_LOWER = "α-ωϊϋ" + _IOTA_DIAERESIS + _UPSILON_DIAERESIS
_VOICELESS = "θκξπσςτφχψ"
# Word start = not preceded by a Greek letter (names are short; Latin neighbours do
# not occur inside a Greek word).
_WS = rf"(?<![{_GREEK_LOWER}])"

_GREEK_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("ου"), "ou"),
    # αυ / ευ / ηυ: f before a voiceless consonant or at the end of the word, v otherwise
    (re.compile(rf"([αεη])υ(?=[{_VOICELESS}]|(?![{_GREEK_LOWER}]))"), r"\1f"),
    (re.compile("([αεη])υ"), r"\1v"),
    (re.compile("ει|οι"), "i"),
    (re.compile(_WS + "μπ"), "b"),
    (re.compile("μπ"), "mp"),
    (re.compile(_WS + "ντ"), "d"),
    (re.compile("ντ"), "nt"),
    (re.compile(_WS + "γκ"), "g"),
    (re.compile("γκ"), "gk"),
    (re.compile("γγ"), "ng"),
    (re.compile("γξ"), "nx"),
    (re.compile("γχ"), "nch"),
)

# Phonetic collapse on the ASCII text (order matters: see module docstring).
_LATIN_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("ph"), "f"),
    (re.compile("ch"), "h"),
    (re.compile("ks"), "x"),
    (re.compile("y"), "i"),
    (re.compile("ei|oi"), "i"),
    (re.compile("ou"), "u"),
    (re.compile("gi(?=[aeou])"), "i"),
    (re.compile("mb"), "mp"),
    (re.compile("nd"), "nt"),
    (re.compile("gk"), "g"),
    (re.compile("gg"), "ng"),
    (re.compile("c(?![ei])"), "k"),
    (re.compile(r"([a-z])\1+"), r"\1"),
)

_APOSTROPHES_RE = re.compile("['’ʼ`´‘]")
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")


def _strip_marks(text: str) -> str:
    """NFD, keep Greek diaeresis as placeholders, drop every other combining mark."""
    decomposed = unicodedata.normalize("NFD", text)
    decomposed = decomposed.replace("ι\u0308", _IOTA_DIAERESIS).replace(
        "υ\u0308", _UPSILON_DIAERESIS
    )
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _greek_to_latin(text: str) -> str:
    for pattern, replacement in _GREEK_RULES:
        text = pattern.sub(replacement, text)
    return _GREEK_LETTER_RE.sub(lambda m: _GREEK_LETTERS[m.group(0)], text)


def fold(name: str | None) -> str:
    """Return the matching key of *name* (see the module docstring); ``""`` for empty."""
    if not name:
        return ""
    return _fold(name)


# A pure function of the name, called for every name written, matched and imported:
# names repeat (first names above all), so the folded keys are kept.
@lru_cache(maxsize=1 << 16)
def _fold(name: str) -> str:
    # Format characters (category Cf): ZWSP/ZWJ/ZWNJ, word joiner, BOM, soft hyphen,
    # bidi marks.  NFKC would keep them, so they go first.
    text = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _strip_marks(text)
    text = _greek_to_latin(text)
    text = anyascii(text).lower()
    text = _APOSTROPHES_RE.sub("", text)
    text = _NON_ALNUM_RE.sub(" ", text)
    for pattern, replacement in _LATIN_RULES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _ratio(a: str, b: str) -> float:
    if _rf_ratio is not None:
        return _rf_ratio(a, b) / 100.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def similarity(a: str | None, b: str | None) -> float:
    """Similarity of two names in ``0.0 .. 1.0``, computed on their :func:`fold` keys.

    Identical keys give ``1.0``; an empty name gives ``0.0`` (two blanks are not a
    duplicate).  Word order is ignored ("Papadopoulos Giorgos" vs "Giorgos Papadopoulos")
    by also comparing the keys with their words sorted and keeping the better score.
    Uses rapidfuzz when it is installed, difflib otherwise.
    """
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    if fa == fb:
        return 1.0
    direct = _ratio(fa, fb)
    sorted_a, sorted_b = " ".join(sorted(fa.split())), " ".join(sorted(fb.split()))
    if sorted_a == sorted_b:
        return max(direct, 0.99)  # same words, different order: almost certainly a dup
    return max(direct, _ratio(sorted_a, sorted_b))


_SIGMA_END = re.compile(r"σ(?!\w)")


def lower_forms(folded: str) -> set[str]:
    """What SQL ``lower(column)`` may hold for a value whose ``str.casefold()`` is
    ``folded``, for ``lower(column) IN (...)`` look-ups that are then compared folded in
    Python: case-folding writes every Greek sigma as "σ", while PostgreSQL's ``lower``
    keeps a final "ς" typed in lower case ("Νίκος" -> "νίκος") and gives "σ" for one typed
    in capitals ("ΝΊΚΟΣ" -> "νίκοσ"); on SQLite, kyklos.db registers Python's
    ``str.lower``, which applies the final-sigma rule ("ΝΊΚΟΣ" -> "νίκος")."""
    return {folded, _SIGMA_END.sub("ς", folded)}
