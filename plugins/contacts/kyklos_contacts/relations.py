"""Relationships as each party sees them: "Maria is *spouse of* Giorgos", "Giorgos is
*son of* Nikos", read with the inverse label from the other end (D12)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from . import _
from .models import Account, Person, Relationship, RelationshipType

#: (code, name, inverse name, from kind, to kind); the migration seeds a frozen copy
DEFAULT_TYPES = [
    ("spouse", "spouse of", "spouse of", "person", "person"),
    ("parent", "parent of", "child of", "person", "person"),
    ("father", "father of", "child of", "person", "person"),
    ("mother", "mother of", "child of", "person", "person"),
    ("sibling", "sibling of", "sibling of", "person", "person"),
    ("associate", "associate of", "associate of", "any", "any"),
    ("partner", "partner of", "partner of", "any", "any"),
    ("accountant", "accountant of", "client of", "any", "any"),
    ("lawyer", "lawyer of", "client of", "any", "any"),
    ("referrer", "referred", "referred by", "any", "any"),
    ("competitor", "competitor of", "competitor of", "account", "account"),
]

#: code -> (name for a woman, for a man, inverse name for a woman, for a man): the
#: party's gender chooses the word ("daughter of", not "son of"); the migration seeds
#: a frozen copy
GENDERED = {
    "spouse": ("wife of", "husband of", "wife of", "husband of"),
    "parent": ("mother of", "father of", "daughter of", "son of"),
    "father": (None, None, "daughter of", "son of"),
    "mother": (None, None, "daughter of", "son of"),
    "sibling": ("sister of", "brother of", "sister of", "brother of"),
}

# The default labels as message ids, so they are translated (custom types show as typed).
_LABELS = {
    "spouse of": _("spouse of"),
    "parent of": _("parent of"),
    "child of": _("child of"),
    "father of": _("father of"),
    "son of": _("son of"),
    "mother of": _("mother of"),
    "daughter of": _("daughter of"),
    "sibling of": _("sibling of"),
    "associate of": _("associate of"),
    "partner of": _("partner of"),
    "accountant of": _("accountant of"),
    "client of": _("client of"),
    "lawyer of": _("lawyer of"),
    "referred": _("referred"),
    "referred by": _("referred by"),
    "competitor of": _("competitor of"),
    "wife of": _("wife of"),
    "husband of": _("husband of"),
    "sister of": _("sister of"),
    "brother of": _("brother of"),
}

MSG_KIND = _("This relationship type does not link these kinds of party.")
MSG_SELF = _("A party cannot be related to itself.")
MSG_ENDS = _("Give exactly one person or account at each end.")


def label(text: str):
    return _LABELS.get(text, text)


def ensure_default_types(db) -> dict[str, RelationshipType]:
    """The relationship types by code, creating the default ones that are missing
    (deployments get them from the migration; emptied test databases here)."""
    found = {t.code: t for t in db.execute(select(RelationshipType)).scalars()}
    for code, name, inverse, fk, tk in DEFAULT_TYPES:
        if code not in found:
            nf, nm, inf, inm = GENDERED.get(code, (None, None, None, None))
            t = RelationshipType(
                code=code, name=name, inverse_name=inverse, from_kind=fk, to_kind=tk,
                name_female=nf, name_male=nm, inverse_name_female=inf, inverse_name_male=inm,
            )
            db.add(t)
            found[code] = t
    db.flush()
    return found


@dataclass
class Link:
    """One relationship seen from ``party``: ``party`` is ``label`` of ``other``."""

    relationship: Relationship
    label: object
    other_kind: str  # "person" or "account"
    other_id: int
    other_title: str
    outgoing: bool


def party_columns(kind: str):
    if kind == "person":
        return Relationship.from_person_id, Relationship.to_person_id
    return Relationship.from_account_id, Relationship.to_account_id


def links_of(db, kind: str, party_id: int, visible=None) -> list[Link]:
    """Every relationship of a person or account, labelled from its side.

    ``visible(kind) -> bool`` hides the other ends the user may not read.
    """
    from_col, to_col = party_columns(kind)
    rels = (
        db.execute(
            select(Relationship)
            .where(or_(from_col == party_id, to_col == party_id))
            .order_by(Relationship.id)
        )
        .scalars()
        .all()
    )
    person_ids, account_ids = set(), set()
    for r in rels:
        for k, i in (r.from_party, r.to_party):
            (person_ids if k == "person" else account_ids).add(i)
    titles = party_titles(db, person_ids, account_ids)
    # the party's own gender chooses its word: "Maria is daughter of Nikos"
    gender = (db.execute(select(Person.gender).where(Person.id == party_id)).scalar()
              if kind == "person" and rels else None)
    out = []
    for r in rels:
        outgoing = r.from_party == (kind, party_id)
        other = r.to_party if outgoing else r.from_party
        if visible is not None and not visible(other[0]):
            continue
        text = r.type.label_for(outgoing, gender)
        out.append(
            Link(r, label(text), other[0], other[1], titles.get(other, f"#{other[1]}"), outgoing)
        )
    return out


def party_titles(db, person_ids, account_ids) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    if person_ids:
        for pid, first, last in db.execute(
            select(Person.id, Person.first_name, Person.last_name).where(
                Person.id.in_(person_ids)
            )
        ):
            out[("person", pid)] = " ".join(p for p in (first, last) if p)
    if account_ids:
        for aid, name in db.execute(
            select(Account.id, Account.name).where(Account.id.in_(account_ids))
        ):
            out[("account", aid)] = name
    return out


def check_relationship(db, values: dict) -> dict:
    """Errors of a relationship about to be written (ends, kinds, self-links)."""
    errors: dict = {}
    ends_from = [k for k in ("from_person_id", "from_account_id") if values.get(k) is not None]
    ends_to = [k for k in ("to_person_id", "to_account_id") if values.get(k) is not None]
    if len(ends_from) != 1:
        errors["from_person_id"] = MSG_ENDS
    if len(ends_to) != 1:
        errors["to_person_id"] = MSG_ENDS
    if errors:
        return errors
    fk, tk = ends_from[0], ends_to[0]
    if fk.split("_")[1] == tk.split("_")[1] and values[fk] == values[tk]:
        errors[tk] = MSG_SELF
    rtype = db.get(RelationshipType, values.get("type_id")) if values.get("type_id") else None
    if rtype is not None:
        if rtype.from_kind not in ("any", fk.split("_")[1]):
            errors[fk] = MSG_KIND
        if rtype.to_kind not in ("any", tk.split("_")[1]):
            errors[tk] = MSG_KIND
    return errors
