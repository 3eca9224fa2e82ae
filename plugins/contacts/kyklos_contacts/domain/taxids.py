"""Validation and normalisation of tax, company and personal identification numbers.

All checksum logic comes from python-stdnum; this module only decides *which* stdnum
validator applies to a country and turns stdnum's exceptions into one exception type
the UI can translate.

==========  ==================  ====================  ======================
country     tax number          company id            personal id
==========  ==================  ====================  ======================
GR / EL     AFM (gr.vat)        AFM (gr.vat)          AMKA (gr.amka)
RO          CUI (ro.cui), or    CUI (ro.cui)          CNP (ro.cnp)
            CNP for persons
PL          NIP (pl.nip)        REGON (pl.regon)      PESEL (pl.pesel)
other EU    national VAT part   -                     -
==========  ==================  ====================  ======================

Anything without a validator is returned with surrounding whitespace stripped and
otherwise unchanged: we would rather store an unverified foreign number than reject it.
"""

from __future__ import annotations

import datetime
import importlib
from types import ModuleType

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.util import get_cc_module

__all__ = [
    "InvalidTaxNumber",
    "personal_id_birth_date",
    "validate_company_id",
    "validate_personal_id",
    "validate_tax_number",
    "validate_vat",
]

# Stable message ids (the plugin maps them to translation strings) and English defaults.
MESSAGES = {
    "invalid_tax_number": "Invalid tax identification number",
    "invalid_vat": "Invalid VAT number",
    "invalid_company_id": "Invalid company registration number",
    "invalid_personal_id": "Invalid personal identification number",
}

_REASONS = (
    (InvalidChecksum, "checksum"),
    (InvalidLength, "length"),
    (InvalidFormat, "format"),
    (InvalidComponent, "component"),
)


class InvalidTaxNumber(ValueError):
    """A number failed validation.

    ``msgid`` is a stable id from :data:`MESSAGES` ("invalid_vat", ...), ``field`` the
    form field it belongs to ("vat", "tax_number", "company_id", "personal_id") and
    ``reason`` what was wrong: "empty", "checksum", "length", "format" or "component".
    """

    def __init__(self, msgid: str, field: str, reason: str | None = None) -> None:
        self.msgid = msgid
        self.field = field
        self.reason = reason
        message = MESSAGES.get(msgid, msgid)
        if reason:
            message = f"{message} ({reason})"
        super().__init__(message)


def _country(country: str | None) -> str:
    cc = (country or "").strip().upper()
    return {"EL": "GR", "UK": "GB"}.get(cc, cc)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"stdnum.{name}")


def _run(module: ModuleType, number: str, msgid: str, field: str) -> str:
    """Validate with a stdnum module, translating its exceptions."""
    if not number or not number.strip():
        raise InvalidTaxNumber(msgid, field, "empty")
    try:
        return module.validate(number)
    except ValidationError as exc:
        reason = next((name for cls, name in _REASONS if isinstance(exc, cls)), "format")
        raise InvalidTaxNumber(msgid, field, reason) from exc


def _is_eu(cc: str) -> bool:
    return cc.lower() in eu_vat.MEMBER_STATES or cc == "GR"


def _vat_prefix(cc: str) -> str:
    """The prefix VIES uses for a country: EL for Greece, the ISO code otherwise."""
    return "EL" if cc == "GR" else cc


def _explicit_prefix(number: str) -> str | None:
    """The country code a VAT number starts with ("EL", "RO", ...), if it has one."""
    head = number.strip()[:2].upper()
    if len(head) == 2 and head.isalpha() and (head.lower() in eu_vat.MEMBER_STATES
                                              or head in ("EL", "GR")):
        return head
    return None


def validate_vat(country: str | None, number: str) -> str:
    """Validate a VAT number; return it compact *with* its country prefix.

    The number may carry its prefix ("EL094259216", "RO 18547290") or not, in which
    case *country* supplies it ("094259216" with ``"GR"``).  An explicit prefix wins over
    *country* - it is what VIES checks.  Greece is always returned as ``EL...``.
    Countries outside the EU are validated with stdnum's ``<cc>.vat`` module when there
    is one (GB, CH, NO, ...), otherwise the stripped number is returned unchanged.
    """
    cc = _country(country)
    if not number or not number.strip():
        raise InvalidTaxNumber("invalid_vat", "vat", "empty")
    prefix = _explicit_prefix(number)
    if prefix is None and not _is_eu(cc):
        module = get_cc_module(cc.lower(), "vat") if cc else None
        if module is None:
            return number.strip()
        compact = _run(module, number, "invalid_vat", "vat")
        # Some stdnum modules (gb.vat) drop the prefix; keep the documented form.
        return compact if compact[:2].upper() == cc else cc + compact
    if prefix is None:
        number = _vat_prefix(cc) + number.strip()
    compact = _run(eu_vat, number, "invalid_vat", "vat")
    if compact[:2] == "GR":  # stdnum keeps whichever Greek prefix it was given
        compact = "EL" + compact[2:]
    return compact


def validate_tax_number(country: str | None, number: str) -> str:
    """Validate the main tax id of *country*; return its compact national form.

    GR: AFM, RO: CUI - or CNP when the number has 13 digits (persons file taxes under
    their CNP), PL: NIP, other EU countries: the national part of the VAT number.  A
    country prefix such as "EL", "RO" or "PL" is accepted and removed.
    """
    cc = _country(country)
    if cc == "GR":
        return _run(_module("gr.vat"), number, "invalid_tax_number", "tax_number")
    if cc == "RO":
        digits = "".join(ch for ch in number or "" if ch.isdigit())
        module = _module("ro.cnp") if len(digits) == 13 else _module("ro.cui")
        return _run(module, number, "invalid_tax_number", "tax_number")
    if cc == "PL":
        return _run(_module("pl.nip"), number, "invalid_tax_number", "tax_number")
    if _is_eu(cc):
        try:
            return validate_vat(cc, number)[2:]
        except InvalidTaxNumber as exc:
            raise InvalidTaxNumber("invalid_tax_number", "tax_number", exc.reason) from exc
    return (number or "").strip()


def validate_company_id(country: str | None, number: str) -> str:
    """Validate a company registration id: REGON (PL), CUI (RO), AFM (GR).

    Other countries: the stripped number is returned unchanged.
    """
    cc = _country(country)
    module_name = {"PL": "pl.regon", "RO": "ro.cui", "GR": "gr.vat"}.get(cc)
    if module_name is None:
        return (number or "").strip()
    return _run(_module(module_name), number, "invalid_company_id", "company_id")


_PERSONAL_ID_MODULES = {"PL": "pl.pesel", "RO": "ro.cnp", "GR": "gr.amka"}


def _personal_module(cc: str) -> ModuleType | None:
    name = _PERSONAL_ID_MODULES.get(cc)
    if name is None:
        return None
    try:
        return _module(name)
    except ImportError:  # gr.amka arrived in stdnum 1.15; older installs lack it
        return None


def validate_personal_id(country: str | None, number: str) -> str:
    """Validate a national personal id: PESEL (PL), CNP (RO), AMKA (GR).

    Other countries: the stripped number is returned unchanged.
    """
    module = _personal_module(_country(country))
    if module is None:
        return (number or "").strip()
    return _run(module, number, "invalid_personal_id", "personal_id")


def personal_id_birth_date(country: str | None, number: str) -> datetime.date | None:
    """The birth date a personal id encodes (PESEL, CNP, AMKA), or ``None``.

    ``None`` means the country's id carries no date (or we have no decoder for it).
    An invalid number raises :class:`InvalidTaxNumber` - a date read from a number that
    fails its checksum is not worth pre-filling a form with.
    """
    module = _personal_module(_country(country))
    if module is None or not hasattr(module, "get_birth_date"):
        return None
    compact = _run(module, number, "invalid_personal_id", "personal_id")
    try:
        return module.get_birth_date(compact)
    except ValidationError as exc:  # e.g. CNP county/century codes stdnum cannot date
        raise InvalidTaxNumber("invalid_personal_id", "personal_id", "component") from exc
