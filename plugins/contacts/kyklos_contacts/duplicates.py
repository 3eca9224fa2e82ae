"""Duplicate rules of people and accounts (issue #5, D5) and what a merge of two of them
must tidy that the core cannot know about.

A person's e-mail and phone rules name both the primary field and the typed list
(``email`` + ``emails``, ``phone`` + ``phones``): the core gives an e-mail or phone rule
one key per value, so a person is found by any of their addresses and numbers - a new
contact with someone's private address meets the person filed under the work one.

Names are compared folded across scripts (``kyklos_sdk.fold``: "Παπαδόπουλος" meets
"Papadopoulos", "Wójcik" meets "Wojcik"); VAT numbers are compared as the validate hook
stores them (the VIES form with its country prefix), so "094259216" typed for a Greek
account meets "EL094259216". The contacts validate hook runs before the core's duplicate
check (pluggy calls later registrations first), so the check sees normalised values.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update

from . import _
from .models import Affiliation, Person, PersonEmail, PersonPhone, Relationship

RULES = (
    ("person", "email", ("email", "emails"), "email", _("Same e-mail")),
    ("person", "phone", ("phone", "phones"), "phone", _("Same phone")),
    ("person", "name", ("first_name", "last_name"), "fold", _("Same name")),
    ("account", "vat_number", ("vat_number",), "exact", _("Same VAT number")),
    ("account", "email", ("email",), "email", _("Same e-mail")),
    ("account", "name", ("name",), "fold", _("Same name")),
)


def register_duplicate_rules(config) -> None:
    for entity, name, fields, kind, title in RULES:
        config.add_duplicate_rule(entity, name, fields, kind=kind, title=title)


# --- merge -------------------------------------------------------------------------------


def _dedupe_children(db, model, key: str, winner: Person, primary: str) -> None:
    """After the core moved the loser's e-mails (or phones) to the winner: one row per
    address, the winner's own rows first, and one primary - the winner's primary value
    when it has one."""
    rows = db.execute(
        select(model.id, getattr(model, key), model.is_primary, model.person_id)
        .where(model.person_id == winner.id)
        .order_by(model.position, model.id)
    ).all()
    # The winner's own rows (still in its loaded collection) come first.
    own = {r.id for r in getattr(winner, "email_rows" if model is PersonEmail else "phone_rows")}
    rows.sort(key=lambda r: r[0] not in own)
    primary_value = (getattr(winner, primary) or "").lower()
    if not primary_value:
        primary_value = next((v.lower() for _i, v, p, _pid in rows if p), "")
    seen: set[str] = set()
    keep, drop = [], []
    for rid, value, _p, _pid in rows:
        low = value.lower()
        (drop if low in seen else keep).append(rid)
        seen.add(low)
    if drop:
        db.execute(delete(model).where(model.id.in_(drop)))
    values = dict((rid, v.lower()) for rid, v, _p, _pid in rows)
    primary_id = next((rid for rid in keep if values[rid] == primary_value),
                      keep[0] if keep else None)
    for pos, rid in enumerate(keep):
        db.execute(update(model).where(model.id == rid).values(
            position=pos, is_primary=rid == primary_id))


def _tidy_relationships(db, party: str, winner_id: int) -> None:
    """Links between the two merged parties now loop on the winner: drop them; links
    both parties had to the same party with the same type: keep one."""
    f, t = getattr(Relationship, f"from_{party}_id"), getattr(Relationship, f"to_{party}_id")
    db.execute(delete(Relationship).where(f == winner_id, t == winner_id))
    rows = db.execute(
        select(Relationship.id, Relationship.type_id, Relationship.from_person_id,
               Relationship.from_account_id, Relationship.to_person_id,
               Relationship.to_account_id)
        .where(or_(f == winner_id, t == winner_id))
        .order_by(Relationship.id)
    ).all()
    seen, drop = set(), []
    for row in rows:
        key = tuple(row[1:])
        if key in seen:
            drop.append(row[0])
        seen.add(key)
    if drop:
        db.execute(delete(Relationship).where(Relationship.id.in_(drop)))


def _tidy_affiliations(db, winner: Person) -> None:
    """Identical affiliations once; only the winner's current account stays primary."""
    rows = db.execute(
        select(Affiliation.id, Affiliation.account_id, Affiliation.role,
               Affiliation.start_date, Affiliation.end_date)
        .where(Affiliation.person_id == winner.id)
        .order_by(Affiliation.id)
    ).all()
    seen, drop = set(), []
    for row in rows:
        if tuple(row[1:]) in seen:
            drop.append(row[0])
        seen.add(tuple(row[1:]))
    if drop:
        db.execute(delete(Affiliation).where(Affiliation.id.in_(drop)))
    if winner.account_id is not None:
        db.execute(update(Affiliation).where(
            Affiliation.person_id == winner.id, Affiliation.account_id != winner.account_id,
            Affiliation.is_primary.is_(True)).values(is_primary=False))


def merge_people(db, winner: Person) -> None:
    _dedupe_children(db, PersonEmail, "email", winner, "email")
    _dedupe_children(db, PersonPhone, "number", winner, "phone")
    _tidy_relationships(db, "person", winner.id)
    _tidy_affiliations(db, winner)


def merge_accounts(db, winner) -> None:
    from .models import Account

    _tidy_relationships(db, "account", winner.id)
    # The loser handled the winner (or was handled by it): an account is not its own
    # partner.
    db.execute(update(Account).where(Account.id == winner.id,
                                     Account.partner_id == winner.id).values(partner_id=None))
