"""Who a target list reaches on a channel (MKT-01, MKT-06).

The people come from a saved segment of people, or of accounts (their people), always
through the user's record rules (``segment_select`` and ``visible_select``). Each
person is then checked in order, and the first reason to leave them out is counted:

1. no address on the channel (no e-mail, no phone);
2. no consent for the channel (opted out, or never asked: the contacts plugin's opt-in
   rule);
3. the address is on the suppression list;
4. the address was already taken by an earlier person (de-duplication by address).
"""

from __future__ import annotations

import dataclasses

from kyklos_contacts.models import Consent, Person
from sqlalchemy import func, select

from kyklos_sdk import RecordError, get_entity_type, segment_select, visible_select

from . import _
from .models import Suppression, TargetList, TargetMember

#: the contacts plugin's consent channel for each message channel
CONSENT_CHANNEL = {"email": "email", "sms": "sms", "letter": "post"}
#: how many ids go into one IN (...) at most: SQLite's variable limit is far above
CHUNK = 900


@dataclasses.dataclass
class Resolution:
    #: ``(person_id, address, name, language)`` in the order people were taken
    members: list = dataclasses.field(default_factory=list)
    no_address: int = 0
    no_consent: int = 0
    suppressed: int = 0
    duplicate: int = 0

    def counts(self) -> dict:
        return {
            "members": len(self.members),
            "excluded_consent": self.no_consent,
            "excluded_duplicate": self.duplicate,
            "excluded_suppressed": self.suppressed,
            "excluded_no_address": self.no_address,
        }


def normalise(address: str | None, channel: str) -> str:
    """The address as compared for duplicates and suppression."""
    text = (address or "").strip()
    if channel == "sms":
        return "".join(c for c in text if c.isdigit() or c == "+")
    return text.lower()


def postal_address(person: Person):
    """The person's address for a letter: the primary one, else the first with a street
    or a city; ``None`` when they have none."""
    rows = [a for a in person.address_rows if (a.street or "").strip() or (a.city or "").strip()]
    rows.sort(key=lambda a: (not a.is_primary, a.id or 0))
    return rows[0] if rows else None


def address_of(person: Person, channel: str) -> str:
    if channel == "letter":
        row = postal_address(person)
        return row.label[:254] if row is not None else ""
    if channel == "sms":
        return (person.phone or "").strip()
    return (person.email or "").strip()


def segment_people(request, segment_id):
    """``select(Person.id)`` of the visible people of a segment of people or of
    accounts; a RecordError naming ``segment_id`` otherwise."""
    from kyklos_sdk import visible_segments

    seg = next((s for s in visible_segments(request) if s.id == segment_id), None)
    if seg is None:
        raise RecordError({"segment_id": _("Choose a segment you may see.")})
    ids = segment_select(request, segment_id)
    people = visible_select(request, get_entity_type(request, "person")).with_only_columns(
        Person.id
    )
    if seg.entity == "person":
        return people.where(Person.id.in_(ids))
    if seg.entity == "account":
        return people.where(Person.account_id.in_(ids))
    raise RecordError({"segment_id": _("Choose a segment of people or of accounts.")})


def _chunks(ids):
    ids = list(ids)
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def suppressed_addresses(db, channel: str) -> set[str]:
    rows = db.execute(select(Suppression.address)).scalars()
    return {normalise(a, channel) for a in rows}


def _consenting(db, person_ids, channel) -> set[int]:
    """Of ``person_ids``, those opted in for ``channel`` (no record: no consent)."""
    out: set[int] = set()
    for chunk in _chunks(person_ids):
        out.update(
            db.execute(
                select(Consent.person_id).where(
                    Consent.person_id.in_(chunk),
                    Consent.channel == CONSENT_CHANNEL.get(channel, channel),
                    Consent.status == "opt_in",
                )
            ).scalars()
        )
    return out


def check(db, people, channel: str, addresses: dict | None = None) -> Resolution:
    """Apply address, consent, suppression and de-duplication to ``people`` (Person
    rows, in order). ``addresses``: person id -> the address to use (a frozen list's)."""
    res = Resolution()
    consenting = _consenting(db, [p.id for p in people], channel)
    suppressed = suppressed_addresses(db, channel)
    seen: set[str] = set()
    for p in people:
        address = (addresses or {}).get(p.id) or address_of(p, channel)
        key = normalise(address, channel)
        if not key:
            res.no_address += 1
        elif p.id not in consenting:
            res.no_consent += 1
        elif key in suppressed:
            res.suppressed += 1
        elif key in seen:
            res.duplicate += 1
        else:
            seen.add(key)
            res.members.append((p.id, address, p.full_name, p.language or ""))
    return res


def _people(db, ids_select) -> list[Person]:
    return list(
        db.execute(select(Person).where(Person.id.in_(ids_select)).order_by(Person.id)).scalars()
    )


def resolve(request, tl: TargetList, channel: str | None = None) -> Resolution:
    """Who ``tl`` reaches now on ``channel`` (default the list's). A static list is its
    frozen members (their consent and the suppression list checked again: both may
    have changed since); a dynamic list evaluates its segment now."""
    db = request.dbsession
    channel = channel or tl.channel
    if tl.kind == "static":
        members = db.execute(
            select(TargetMember.person_id, TargetMember.address).where(
                TargetMember.list_id == tl.id
            )
        ).all()
        addresses = dict(members)
        visible = visible_select(request, get_entity_type(request, "person")).with_only_columns(
            Person.id
        )
        people = [p for p in _people(db, visible.where(Person.id.in_(list(addresses)))) if p]
        return check(db, people, channel, addresses if channel == tl.channel else None)
    if tl.segment_id is None:
        raise RecordError({"segment_id": _("Choose a segment you may see.")})
    return check(db, _people(db, segment_people(request, tl.segment_id)), channel)


def build(request, tl: TargetList) -> Resolution:
    """Evaluate the list's segment now and keep the counts; a static list also freezes
    its members (replacing the earlier snapshot)."""
    from sqlalchemy import delete

    from kyklos_sdk import bulk_insert, utcnow

    if tl.segment_id is None:
        raise RecordError({"segment_id": _("Choose a segment you may see.")})
    db = request.dbsession
    res = check(db, _people(db, segment_people(request, tl.segment_id)), tl.channel)
    if tl.kind == "static":
        db.execute(delete(TargetMember).where(TargetMember.list_id == tl.id))
        now = utcnow()
        if res.members:
            # bulk_insert, not a bare Core insert: the core then indexes the members for
            # the list's search before the transaction commits
            bulk_insert(
                db,
                TargetMember.__table__,
                [
                    {
                        "list_id": tl.id,
                        "person_id": pid,
                        "address": address,
                        "name": name,
                        "version": 1,
                        "custom": {},
                        "owner_id": tl.owner_id,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for pid, address, name, _lang in res.members
                ],
            )
    tl.built_at = utcnow()
    tl.member_count = len(res.members)
    tl.excluded_consent = res.no_consent
    tl.excluded_duplicate = res.duplicate
    tl.excluded_suppressed = res.suppressed
    tl.excluded_no_address = res.no_address
    db.flush()
    return res


def member_count(db, list_id: int) -> int:
    return db.execute(
        select(func.count()).select_from(TargetMember).where(TargetMember.list_id == list_id)
    ).scalar_one()
