"""Column mapping: suggest a field for each header (field names, titles in every
language, synonyms and the shipped profiles of common CRM and address-book exports),
and turn cell text into the JSON values the record service validates."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

PROFILE_DIR = Path(__file__).parent / "profiles"
#: header spellings seen in exports -> a field name, whatever the entity type
SYNONYMS = {
    "email": ("e-mail", "email address", "e-mail address", "mail", "primary email",
              "email 1", "e-mail 1 - value", "ηλεκτρονικό ταχυδρομείο"),
    "phone": ("telephone", "tel", "phone number", "business phone", "office phone", "τηλέφωνο"),
    "first_name": ("given name", "firstname", "first", "forename", "όνομα", "imię"),
    "last_name": ("family name", "surname", "lastname", "last", "επώνυμο", "nazwisko"),
    "name": ("company", "company name", "account name", "organization", "organisation",
             "επωνυμία"),
    # a person's company, by name (kyklos.imports.references); an account's own
    # "Company" column is its name, found first above
    "account_id": ("company", "company name", "account", "account name", "organization",
                   "organisation", "organization name", "organization 1 - name",
                   "εταιρεία", "firma", "companie"),
    "vat_number": ("vat", "vat id", "vat no", "tax id", "αφμ", "nip"),
    "city": ("town", "πόλη", "miasto"),
    "country": ("country code", "χώρα", "kraj"),
    "website": ("web", "url", "web page", "homepage"),
    "notes": ("note", "comments", "description", "σημειώσεις"),
    "job_title": ("title", "position", "job", "θέση"),
}
TRUE = frozenset({"1", "true", "yes", "y", "on", "x", "ναι", "tak", "da", "wahr"})
FALSE = frozenset({"0", "false", "no", "n", "off", "όχι", "οχι", "nie", "nu"})


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-zα-ω]+", "", text)


@lru_cache(maxsize=1)
def shipped_profiles() -> dict[str, dict]:
    """The profiles shipped with Kyklos: ``{name: {"title", "entity", "columns"}}``."""
    out = {}
    for path in sorted(PROFILE_DIR.glob("*.json")):
        out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return out


def suggest(request, et, headers: list[str], writable: set[str]) -> dict[str, str]:
    """``{header: field}`` for the headers a field could be found for."""
    names: dict[str, str] = {}
    translate = request.localizer.translate
    for name, f in et.fields.items():
        if name not in writable:
            continue
        names.setdefault(normalise(name), name)
        names.setdefault(normalise(translate(f.title) or ""), name)
        names.setdefault(normalise(str(f.title)), name)
    for field, spellings in SYNONYMS.items():
        if field in writable:
            for s in spellings:
                names.setdefault(normalise(s), field)
    for prof in shipped_profiles().values():
        if prof.get("entity") != et.name:
            continue
        for header, field in prof["columns"].items():
            if field in writable:
                names.setdefault(normalise(header), field)
    out, used = {}, set()
    for h in headers:
        field = names.get(normalise(h))
        if field and field not in used:
            out[h] = field
            used.add(field)
    return out


def profile_mapping(name: str, headers: list[str], et, writable: set[str]) -> dict | None:
    prof = shipped_profiles().get(name)
    if prof is None:
        return None
    cols = {normalise(k): v for k, v in prof["columns"].items()}
    out, used = {}, set()
    for h in headers:
        field = cols.get(normalise(h))
        if field and field in writable and field not in used:
            out[h] = field
            used.add(field)
    return out


#: "no date" as exports write it: Outlook's CSV puts 0/0/00 in every empty date column
_NO_DATE = re.compile(r"0{1,2}[./-]0{1,2}[./-]0{2,4}")


def _date(text: str) -> str | None:
    """ISO dates as they are; ``31/12/2024`` and ``31.12.2024`` (day first, as in
    Greece, Poland and Romania) become ISO, and so does ``12/31/2024`` where only the
    month-first reading is a date (Outlook in US English); ``0/0/00`` is no date
    (``None``: the cell is left out, like an empty one)."""
    text = text.strip()
    if _NO_DATE.fullmatch(text):
        return None
    if re.fullmatch(r"'?--\d\d-?\d\d", text):
        # a day and month whose year is unknown (``--02-03``, vCard's ``--0203``), as
        # Kyklos's own exports write it: behind the apostrophe that keeps a spreadsheet
        # from reading a leading "-" as a formula
        digits = re.sub(r"\D", "", text)
        return f"--{digits[:2]}-{digits[2:]}"
    m = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", text)
    if m:
        d, mo, y = (int(x) for x in m.groups())
        for day, month in ((d, mo), (mo, d)):
            try:
                return dt.date(y, month, day).isoformat()
            except ValueError:
                continue
        return text
    return text[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]00:00(:00)?", text) else text


def cell_value(field, text: str):
    """The JSON value for a cell, as an API client would send it; unparseable text is
    passed on unchanged so that validation names the problem."""
    return converter(field)(text)


def as_text(text: str) -> str:
    return text


#: what exports write in a choice column that has no value (Outlook: Gender "Unspecified")
NO_CHOICE = frozenset({"unspecified", "unknown", "not specified", "n/a", "none", "-"})


def choice_converter(field, titles):
    """A converter for a choice column: a cell that is a code in another case, or a
    choice's title in any language (``titles(title)`` gives its translations: "Male",
    "Άνδρας"), becomes the code; :data:`NO_CHOICE` words are no value; anything else
    is passed on for validation to name."""
    index: dict[str, str] = {}
    for code, title in field.choices or ():
        for name in (str(code), *titles(title)):
            index.setdefault(normalise(name), code)

    seen: dict = {}  # a column repeats a handful of values

    def convert(text: str):
        if text not in seen:
            if len(seen) > 10_000:
                seen.clear()
            key = normalise(text)
            if key in index:
                seen[text] = index[key]
            elif text.strip().casefold() in NO_CHOICE:
                seen[text] = None
            else:
                seen[text] = text
        return seen[text]

    return convert


def converter(field, titles=None):
    """:func:`cell_value` for one field, chosen once for a whole column: text fields
    (most of any file) take the cell as it is; the conversions that give immutable
    values are memoised, since a column repeats its flags, codes and numbers.
    ``titles(title)`` lists a choice title's translations (choice columns only)."""
    if field.type == "choice" and field.choices and titles is not None:
        return choice_converter(field, titles)
    if field.type in ("money", "multichoice", "json"):  # dicts and lists: a new one each
        return lambda text: _convert(field, text)
    if field.type == "url":
        return web_address
    if field.type in ("integer", "reference", "decimal", "boolean", "date"):
        seen: dict = {}

        def convert(text: str):
            if text not in seen:
                if len(seen) > 10_000:
                    seen.clear()
                seen[text] = _convert(field, text)
            return seen[text]

        return convert
    return as_text


#: a host name as address books write a website: ``www.example.com/about``
_BARE_HOST = re.compile(r"(?i)(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d{1,5})?(?:[/?#]\S*)?")


def web_address(text: str) -> str:
    """A website as exports write it, without a scheme (``www.example.gr``), is an
    ``https://`` address; anything else is passed on for validation to judge."""
    text = text.strip()
    return f"https://{text}" if _BARE_HOST.fullmatch(text) else text


def _convert(field, text: str):
    t = field.type
    if t in ("integer", "reference"):
        return int(text) if re.fullmatch(r"-?\d{1,19}", text) else text
    if t in ("decimal",):
        return text.replace(",", ".") if re.fullmatch(r"-?\d+,\d+", text) else text
    if t == "money":
        amount, _sep, currency = text.strip().partition(" ")
        return {"amount": amount.replace(",", "."), "currency": currency.strip().upper()}
    if t == "boolean":
        low = text.strip().casefold()
        return True if low in TRUE else False if low in FALSE else text
    if t == "date":
        return _date(text)
    if t == "multichoice":
        return [p.strip() for p in re.split(r"[,;]", text) if p.strip()]
    if t == "json":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
