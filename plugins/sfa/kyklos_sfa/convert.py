"""Lead conversion (SFA-04): one step from a lead to an account, a person and
(optionally) an opportunity, with a duplicate check first.

Candidates are the visible accounts with the same VAT number or the same folded name
("Παπαδόπουλος Α.Ε." meets "Papadopoulos AE"), and the visible people with the same
e-mail or the same folded first and last name. The user decides per party: link to a
candidate or create a new record. Everything is written through the entity service
(so the contacts plugin validates and audits as usual) inside one savepoint: a
failure leaves nothing half-converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from kyklos_contacts.domain.translit import fold
from sqlalchemy import or_, select

from kyklos_sdk import (
    Money,
    RecordError,
    allow_duplicates,
    create_record,
    get_entity_type,
    get_record,
    utcnow,
    visible_select,
)

from . import _
from .models import Lead, Stage

MAX_CANDIDATES = 10


def _vat_digits(vat: str | None) -> str:
    text = re.sub(r"[^0-9A-Za-z]", "", vat or "").upper()
    return text[2:] if len(text) > 2 and text[:2].isalpha() else text


@dataclass
class Candidates:
    accounts: list = field(default_factory=list)
    persons: list = field(default_factory=list)


def candidates(request, lead: Lead) -> Candidates:
    """Existing accounts and people the lead may be (only those the user can see)."""
    out = Candidates()
    db = request.dbsession
    account_et = get_entity_type(request, "account")
    person_et = get_entity_type(request, "person")
    Account, Person = account_et.model, person_et.model  # noqa: N806 - model classes
    conds = []
    if lead.company and fold(lead.company):
        conds.append(Account.name_key == fold(lead.company)[:200])
    digits = _vat_digits(lead.vat_number)
    if len(digits) >= 6:
        conds.append(Account.vat_number.contains(digits, autoescape=True))
    if conds:
        rows = db.execute(
            visible_select(request, account_et).where(or_(*conds)).limit(MAX_CANDIDATES)
        ).scalars()
        for a in rows:
            reasons = []
            if digits and _vat_digits(a.vat_number) == digits:
                reasons.append("vat_number")
            if lead.company and a.name_key == fold(lead.company)[:200]:
                reasons.append("name")
            if reasons:
                out.accounts.append((a, reasons))
    conds = []
    if lead.email:
        conds.append(Person.email == lead.email.strip().lower())
        conds.append(Person.email == lead.email.strip())
    first, last = fold(lead.first_name)[:100], fold(lead.last_name)[:100]
    if last:
        conds.append((Person.last_name_key == last) & (Person.first_name_key == first))
    if conds:
        rows = db.execute(
            visible_select(request, person_et).where(or_(*conds)).limit(MAX_CANDIDATES)
        ).scalars()
        for p in rows:
            reasons = []
            if lead.email and (p.email or "").lower() == lead.email.strip().lower():
                reasons.append("email")
            if last and p.last_name_key == last and p.first_name_key == first:
                reasons.append("name")
            out.persons.append((p, reasons))
    return out


@dataclass
class Decision:
    """What to do with each party: ``account`` / ``person`` are ``"create"``, an
    existing id to link, or ``None`` (no account: a private customer)."""

    account: object = "create"
    person: object = "create"
    opportunity: bool = True
    opportunity_name: str | None = None
    amount: Money | None = None
    expected_close: object = None
    stage_id: int | None = None


class ConversionError(RecordError):
    pass


def parse_decision(request, lead: Lead, body: dict, found: Candidates) -> Decision:
    """A :class:`Decision` from a JSON body or form values; raises
    :class:`ConversionError` naming what is missing or wrong. Without an explicit
    choice, a party with duplicate candidates is an error (the user must choose)."""
    errors = {}
    allowed = {"account", "person", "opportunity", "opportunity_name", "amount",
               "expected_close", "stage_id"}
    for key in body:
        if key not in allowed:
            errors[str(key)[:50]] = _("Unknown field.")
    d = Decision()
    for party, cands in (("account", found.accounts), ("person", found.persons)):
        raw = body.get(party)
        if raw is None or raw == "":
            if party == "account" and not lead.company:
                setattr(d, party, None)
            elif cands:
                errors[party] = _("Possible duplicates exist: link one or choose to create.")
            continue
        if raw in ("create", "new"):
            setattr(d, party, "create")
        elif raw == "none" and party == "account":
            d.account = None
        elif isinstance(raw, int) and not isinstance(raw, bool) or (
            isinstance(raw, str) and raw.isdigit()
        ):
            setattr(d, party, int(raw))
        else:
            errors[party] = _("Give \"create\" or the id of an existing record.")
    opp = body.get("opportunity", True)
    d.opportunity = opp in (True, "1", "true", "on", 1)
    d.opportunity_name = (body.get("opportunity_name") or "").strip()[:200] or None
    amount = body.get("amount")
    if amount not in (None, ""):
        try:
            if isinstance(amount, dict):
                d.amount = Money(Decimal(str(amount["amount"])), str(amount["currency"]))
            else:
                raise InvalidOperation
        except (InvalidOperation, KeyError, TypeError, ValueError):
            errors["amount"] = _("Send {\"amount\": \"1000.00\", \"currency\": \"EUR\"}.")
    d.expected_close = body.get("expected_close") or None
    stage = body.get("stage_id")
    if stage not in (None, ""):
        try:
            d.stage_id = int(stage)
        except (TypeError, ValueError):
            errors["stage_id"] = _("Not an integer.")
    if errors:
        raise ConversionError(errors)
    return d


def first_stage(db) -> Stage | None:
    return db.execute(
        select(Stage)
        .where(Stage.active.is_(True), Stage.is_won.is_(False), Stage.is_lost.is_(False))
        .order_by(Stage.position, Stage.id)
        .limit(1)
    ).scalar_one_or_none()


def convert(request, lead: Lead, d: Decision, source: str = "api") -> dict:
    """Convert ``lead`` as decided; returns ``{"account_id", "person_id",
    "opportunity_id"}``. Raises :class:`ConversionError` (409 when already converted)
    or :class:`RecordError` from the records' validation; nothing is kept then."""
    if lead.converted_at is not None or lead.status == "converted":
        raise ConversionError({"": _("This lead is already converted.")}, status=409)
    db = request.dbsession
    account_et = get_entity_type(request, "account")
    person_et = get_entity_type(request, "person")
    opp_et = get_entity_type(request, "opportunity")
    if "create" in (d.account, d.person):
        # The user saw the look-alikes on the conversion form and chose a new record.
        allow_duplicates(request)
    with db.begin_nested():
        account_id = None
        if d.account == "create":
            data = {"name": lead.company or lead.full_name}
            for src, dst in (("country", "country"), ("industry", "industry")):
                if getattr(lead, src):
                    data[dst] = getattr(lead, src)
            if lead.vat_number:
                data["vat_number"] = lead.vat_number
            account_id = create_record(request, account_et, data, source=source).id
        elif d.account is not None:
            account_id = get_record(request, account_et, d.account).id
        if d.person == "create":
            data = {"first_name": lead.first_name or "", "last_name": lead.last_name}
            for name in ("email", "phone", "job_title", "country"):
                if getattr(lead, name):
                    data[name] = getattr(lead, name)
            if account_id is not None:
                data["account_id"] = account_id
            person_id = create_record(request, person_et, data, source=source).id
        else:
            person_id = get_record(request, person_et, d.person).id
        opportunity_id = None
        if d.opportunity:
            stage_id = d.stage_id or getattr(first_stage(db), "id", None)
            data = {
                "name": d.opportunity_name or lead.company or lead.full_name,
                "stage_id": stage_id,
                "account_id": account_id,
                "person_id": person_id,
            }
            if lead.source:
                data["source"] = lead.source
            if d.amount is not None:
                data["amount"] = {"amount": str(d.amount.amount), "currency": d.amount.currency}
            if d.expected_close:
                data["expected_close"] = str(d.expected_close)
            data = {k: v for k, v in data.items() if v is not None}
            opp = create_record(request, opp_et, data, source=source)
            opp.lead_id = lead.id
            opportunity_id = opp.id
        lead.status = "converted"
        lead.converted_at = utcnow()
        lead.converted_account_id = account_id
        lead.converted_person_id = person_id
        lead.converted_opportunity_id = opportunity_id
        ident = request.identity
        lead.updated_by_id = ident.user.id if ident else None
        db.flush()
    return {"account_id": account_id, "person_id": person_id,
            "opportunity_id": opportunity_id}
