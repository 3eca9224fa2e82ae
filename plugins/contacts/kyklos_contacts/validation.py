"""Checks and normalisation of accounts and people, shared by every write path (API,
forms, import, vCards, demo data) through the record hooks.

Each ``check_*`` function takes the merged view of a record (its stored values
overridden by what is being written), returns ``(changes, errors)``: the normalised
values to store and ``{field: message}`` for what is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sqlalchemy import select

from . import _
from .countries import normalize_country
from .domain.occasions import NO_YEAR, calendar_for_country
from .domain.phones import InvalidPhone, parse_valid
from .domain.taxids import (
    InvalidTaxNumber,
    personal_id_birth_date,
    validate_company_id,
    validate_personal_id,
    validate_tax_number,
    validate_vat,
)
from .models import Account
from .models import choices as c

TAX_MESSAGES = {
    "invalid_tax_number": _("Invalid tax identification number for this country."),
    "invalid_vat": _("Invalid VAT number for this country."),
    "invalid_company_id": _("Invalid company registration number for this country."),
    "invalid_personal_id": _("Invalid personal identification number for this country."),
}
PHONE_MESSAGES = {
    "invalid_phone": _("Not a valid phone number."),
    "phone_needs_country": _("Give the number with its country code (+30..., +40..., +48...)."),
}
MSG_COUNTRY = _("Not a country: give its ISO 3166 code (GR, RO, PL) or its name.")
MSG_VAT_COUNTRY = _("Give the country, or the VAT number with its country prefix (EL, RO...).")
MSG_CYCLE = _("An account cannot be its own parent, directly or through its subsidiaries.")
MSG_SELF_PARTNER = _("An account cannot be its own partner.")
MSG_RANGE = _("Must be between ${min} and ${max}.")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def merged(record, data: Mapping, names) -> dict:
    """The values of ``names`` after this write: ``data`` wins over ``record``."""
    out = {}
    for name in names:
        if name in data:
            out[name] = data[name]
        else:
            out[name] = getattr(record, name, None) if record is not None else None
    return out


def tax_message(exc: InvalidTaxNumber):
    return TAX_MESSAGES.get(exc.msgid, TAX_MESSAGES["invalid_tax_number"])


#: the longest number a phone row keeps (``contacts_person_phone.number``)
MAX_PHONE = 40


def check_phone(value: str, region, lenient: bool = False):
    """``(number, None)`` or ``(None, message)``: the one place every write path (forms,
    API, CSV import, vCards) reads a phone number.

    ``region`` is a country or a list of countries tried in order (the address's or
    account's, the user's, the deployment's default): the first that reads the number
    as a valid one gives its E.164 form, with its extension kept (``+302101234567
    ext. 12``). With ``lenient`` (imports: the file's number is the user's data) a
    number no country reads is kept as given - :func:`is_checked` tells it apart -
    instead of being refused."""
    regions = [r for r in ([region] if isinstance(region, str | None) else region) if r]
    msg = None
    for r in regions or [None]:
        number, msgid = _read_phone(value, r)
        if number is None:
            msg = msg or PHONE_MESSAGES.get(msgid, PHONE_MESSAGES["invalid_phone"])
            continue
        return number, None
    text = (value or "").strip()
    if lenient and text and len(text) <= MAX_PHONE and "\x00" not in text:
        return text, None
    return None, msg


# A pure function of the number and the country: an import's rows repeat the numbers of
# a company's switchboard, a re-import every number; parsing is the costliest step of
# checking a person.
@lru_cache(maxsize=1 << 14)
def _read_phone(value: str, region: str | None) -> tuple[str | None, str | None]:
    """``(E.164 number with its extension, None)`` or ``(None, msgid)``: the number read
    once, its extension taken from the same parse when the number was parsed as given
    (a ``tel:`` link, a ``00`` prefix or an alias of the country parse differently)."""
    try:
        e164, parsed, text, parsed_region = parse_valid(value, region)
    except InvalidPhone as exc:
        return None, exc.msgid
    if text == value.strip() and parsed_region == region:
        ext = parsed.extension
        return e164 + (f" ext. {ext}" if ext else ""), None
    return e164 + _extension(value, region), None


def _extension(value: str, region: str | None) -> str:
    import phonenumbers

    try:
        ext = phonenumbers.parse(value.strip(), region).extension
    except phonenumbers.NumberParseException:
        return ""
    return f" ext. {ext}" if ext else ""


def is_checked(number: str | None) -> bool:
    """Whether a stored number was read as a valid number (E.164, maybe with an
    extension) rather than kept as an import gave it."""
    head = (number or "").split(" ext. ", 1)[0]
    return head.startswith("+") and head[1:].isdigit()


def _range(value, low, high, field, errors):
    if value is not None and not (low <= value <= high):
        errors[field] = _(MSG_RANGE, mapping={"min": low, "max": high})


def check_country(values: dict, changes: dict, errors: dict, field="country"):
    try:
        cc = normalize_country(values.get(field))
    except ValueError:
        errors[field] = MSG_COUNTRY
        return None
    if cc != values.get(field):
        changes[field] = cc
    values[field] = cc
    return cc


def check_account(db, record, data: Mapping, default_country: str | None = None,
                  lenient: bool = False):
    names = (
        "country",
        "vat_number",
        "company_id",
        "phone",
        "email",
        "parent_id",
        "partner_id",
        "satisfaction_level",
        "discount_level",
        "payment_terms",
        "name",
    )
    v = merged(record, data, names)
    changes: dict = {}
    errors: dict = {}
    cc = check_country(v, changes, errors)
    if "country" in errors:
        return changes, errors
    if not _blank(v["vat_number"]) and ("vat_number" in data or "country" in data):
        raw = v["vat_number"]
        prefixed = raw.strip()[:2].isalpha()
        if cc is None and not prefixed:
            errors["vat_number"] = MSG_VAT_COUNTRY
        else:
            try:
                vat = validate_vat(cc, raw)
            except InvalidTaxNumber as exc:
                errors["vat_number"] = tax_message(exc)
            else:
                changes["vat_number"] = vat
                if cc is None and vat[:2].isalpha():
                    changes["country"] = normalize_country(vat[:2])
    if not _blank(v["company_id"]) and ("company_id" in data or "country" in data):
        try:
            changes["company_id"] = validate_company_id(cc, v["company_id"])
        except InvalidTaxNumber as exc:
            errors["company_id"] = tax_message(exc)
    if not _blank(v["phone"]) and ("phone" in data or "country" in data):
        number, msg = check_phone(v["phone"], [cc, default_country], lenient)
        if msg:
            errors["phone"] = msg
        else:
            changes["phone"] = number
    if not _blank(v["email"]) and "email" in data:
        changes["email"] = v["email"].strip()
    if "parent_id" in data and v["parent_id"] is not None:
        if record is not None and would_cycle(db, record.id, v["parent_id"]):
            errors["parent_id"] = MSG_CYCLE
    if "partner_id" in data and record is not None and v["partner_id"] == record.id:
        errors["partner_id"] = MSG_SELF_PARTNER
    _range(v["satisfaction_level"], 1, 5, "satisfaction_level", errors)
    _range(v["discount_level"], 0, 100, "discount_level", errors)
    _range(v["payment_terms"], 0, 3650, "payment_terms", errors)
    if "name" in data and v["name"] is not None and v["name"].strip() != v["name"]:
        changes["name"] = v["name"].strip()
    return changes, errors


def would_cycle(db, account_id: int, new_parent_id: int) -> bool:
    """Whether making ``new_parent_id`` the parent of ``account_id`` closes a loop."""
    seen: set[int] = set()
    current: int | None = new_parent_id
    while current is not None:
        if current == account_id or current in seen:
            return True
        seen.add(current)
        current = db.execute(
            select(Account.parent_id).where(Account.id == current)
        ).scalar_one_or_none()
    return False


def account_country(db, account_id: int, memo: dict | None = None) -> str | None:
    """The country of account ``account_id``. ``memo`` keeps the answers for the rows
    of one batch (an import: its rows name a few accounts, each looked up once instead
    of twice per row)."""
    if memo is not None and account_id in memo:
        return memo[account_id]
    cc = db.execute(
        select(Account.country).where(Account.id == account_id)
    ).scalar_one_or_none()
    if memo is not None:
        memo[account_id] = cc
    return cc


def phone_regions(db, values: Mapping, default_country: str | None,
                  user_country: str | None = None, memo: dict | None = None) -> list[str]:
    """The countries a person's local numbers are tried in, in order: theirs, their
    account's, the user's, the deployment's default."""
    out = [values.get("country")]
    if values.get("account_id"):
        out.append(account_country(db, values["account_id"], memo))
    out += [user_country, default_country]
    return list(dict.fromkeys(c for c in out if c))


def person_region(db, values: Mapping, default_country: str | None,
                  memo: dict | None = None) -> str | None:
    """The country a person's local numbers are read in: theirs, their account's, the
    deployment's default."""
    if values.get("country"):
        return values["country"]
    if values.get("account_id"):
        cc = account_country(db, values["account_id"], memo)
        if cc:
            return cc
    return default_country or None


def check_person(db, record, data: Mapping, default_country: str | None = None,
                 lenient: bool = False, memo: dict | None = None):
    names = (
        "country",
        "account_id",
        "personal_id",
        "tax_id",
        "phone",
        "email",
        "birth_date",
        "birth_year_unknown",
        "first_name",
        "last_name",
    )
    v = merged(record, data, names)
    changes: dict = {}
    errors: dict = {}
    check_country(v, changes, errors)
    if "country" in errors:
        return changes, errors
    region = person_region(db, v, default_country, memo)
    touched = set(data)
    if not _blank(v["personal_id"]) and touched & {"personal_id", "country", "account_id"}:
        try:
            pid = validate_personal_id(region, v["personal_id"])
        except InvalidTaxNumber as exc:
            errors["personal_id"] = tax_message(exc)
        else:
            changes["personal_id"] = pid
            if v["birth_date"] is None:
                try:
                    born = personal_id_birth_date(region, pid)
                except InvalidTaxNumber:
                    born = None
                if born is not None:
                    changes["birth_date"] = born
    if touched & {"birth_date", "birth_year_unknown"}:
        check_birth_year(v, data, changes, errors)
    if not _blank(v["tax_id"]) and touched & {"tax_id", "country", "account_id"}:
        try:
            changes["tax_id"] = validate_tax_number(region, v["tax_id"])
        except InvalidTaxNumber as exc:
            errors["tax_id"] = tax_message(exc)
    if not _blank(v["phone"]) and touched & {"phone", "country", "account_id"}:
        number, msg = check_phone(v["phone"], phone_regions(db, v, default_country, memo=memo),
                                  lenient)
        if msg:
            errors["phone"] = msg
        else:
            changes["phone"] = number
    if not _blank(v["email"]) and "email" in data:
        changes["email"] = v["email"].strip()
    for name in ("first_name", "last_name"):
        if name in data and isinstance(v[name], str) and v[name].strip() != v[name]:
            changes[name] = v[name].strip()
    return changes, errors


def check_birth_year(v: Mapping, data: Mapping, changes: dict, errors: dict) -> None:
    """"Year unknown" ticked beside a birth date keeps only its day and month (the
    NO_YEAR placeholder, see Person.birth_date); unticked, the date needs its year."""
    born = v["birth_date"]
    if isinstance(born, str):
        try:
            born = dt.date.fromisoformat(born)
        except ValueError:
            return  # the core reports the malformed date
    if not isinstance(born, dt.date):
        if v["birth_year_unknown"] and "birth_year_unknown" in data:
            changes["birth_year_unknown"] = False  # nothing whose year could be unknown
        return
    # a full date written alone replaces a year-unknown one (Person._set_date clears it)
    if data.get("birth_year_unknown") is True and born.year != NO_YEAR:
        changes["birth_date"] = born.replace(year=NO_YEAR)  # a leap year: 29 Feb fits
    elif born.year == NO_YEAR and "birth_year_unknown" in data and not v["birth_year_unknown"]:
        errors["birth_date"] = _('Enter the year of birth, or tick "Year unknown".')


def check_phones(items, region, lenient: bool = False):
    """Normalise a list of ``{"type", "number", "primary"}``; ``(rows, errors)`` with
    errors keyed ``phones.<i>.<field>``."""
    rows, errors = [], {}
    if not isinstance(items, list):
        return [], {"phones": _("Not a list of phone numbers.")}
    kinds = c.values(c.PHONE_KINDS)
    for i, item in enumerate(items[:50]):
        if isinstance(item, str):
            item = {"number": item}
        if not isinstance(item, Mapping):
            errors[f"phones.{i}"] = _("Not a phone number object.")
            continue
        kind = item.get("type") or "mobile"
        if kind not in kinds:
            errors[f"phones.{i}.type"] = _("Not one of the allowed values.")
        raw = item.get("number")
        if not isinstance(raw, str) or not raw.strip():
            errors[f"phones.{i}.number"] = _("Required.")
            continue
        number, msg = check_phone(raw, region, lenient)
        if msg:
            errors[f"phones.{i}.number"] = msg
            continue
        rows.append({"kind": kind, "number": number, "is_primary": bool(item.get("primary"))})
    return _one_primary(rows), errors


def check_emails(items):
    rows, errors = [], {}
    if not isinstance(items, list):
        return [], {"emails": _("Not a list of e-mail addresses.")}
    kinds = c.values(c.EMAIL_KINDS)
    for i, item in enumerate(items[:50]):
        if isinstance(item, str):
            item = {"email": item}
        if not isinstance(item, Mapping):
            errors[f"emails.{i}"] = _("Not an e-mail address object.")
            continue
        kind = item.get("type") or "work"
        if kind not in kinds:
            errors[f"emails.{i}.type"] = _("Not one of the allowed values.")
        raw = item.get("email")
        if not isinstance(raw, str) or not is_email(raw.strip()):
            errors[f"emails.{i}.email"] = _("Not a valid e-mail address.")
            continue
        rows.append(
            {"kind": kind, "email": raw.strip(), "is_primary": bool(item.get("primary"))}
        )
    return _one_primary(rows), errors


ADDRESS_LIMITS = {"street": 200, "postcode": 20, "city": 100, "region": 100}


def check_addresses(items):
    """Normalise a list of ``{"kind", "street", "postcode", "city", "region", "country",
    "is_primary"}`` (``primary`` accepted too); ``(rows, errors)`` with errors keyed
    ``addresses.<i>.<field>``."""
    rows, errors = [], {}
    if not isinstance(items, list):
        return [], {"addresses": _("Not a list of addresses.")}
    if len(items) > 20:
        return [], {"addresses": _("At most ${n} addresses.", mapping={"n": 20})}
    kinds = c.values(c.ADDRESS_KINDS)
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            errors[f"addresses.{i}"] = _("Not an address object.")
            continue
        unknown = set(item) - {"kind", "primary", "is_primary", "country", *ADDRESS_LIMITS}
        for name in sorted(unknown):
            errors[f"addresses.{i}.{str(name)[:40]}"] = _("Unknown field.")
        row = {"kind": item.get("kind") or "other"}
        if row["kind"] not in kinds:
            errors[f"addresses.{i}.kind"] = _("Not one of the allowed values.")
        for name, limit in ADDRESS_LIMITS.items():
            value = item.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > limit
                                      or "\x00" in value):
                errors[f"addresses.{i}.{name}"] = _("At most ${n} characters.",
                                                    mapping={"n": limit})
                continue
            row[name] = value.strip() or None if isinstance(value, str) else None
        values, errs = {"country": item.get("country")}, {}
        if isinstance(values["country"], str | None):
            row["country"] = check_country(values, {}, errs)
        else:
            errs["country"] = MSG_COUNTRY
        if errs:
            errors[f"addresses.{i}.country"] = errs["country"]
        row["is_primary"] = bool(item.get("is_primary", item.get("primary")))
        if not errs and not any(row[k] for k in ("street", "postcode", "city", "region",
                                                  "country")):
            # (a refused country is not an empty address: its own error says why)
            errors[f"addresses.{i}"] = _("An empty address.")
        rows.append(row)
    return rows, errors


def _one_primary(rows: list[dict]) -> list[dict]:
    """Exactly one primary (the first marked one, else the first), no duplicates."""
    seen, out = set(), []
    for r in rows:
        key = (r.get("number") or r.get("email") or "").lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(r)
    primary = next((i for i, r in enumerate(out) if r["is_primary"]), 0 if out else None)
    for i, r in enumerate(out):
        r["is_primary"] = i == primary
    return out


def is_email(value: str) -> bool:
    if len(value) > 254 or any(ch.isspace() for ch in value) or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return bool(local) and "." in domain.strip(".") and not domain.startswith(".")


def default_calendar(country: str | None) -> str | None:
    return calendar_for_country(country)
