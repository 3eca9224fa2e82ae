"""vCard import and export of people, on top of :mod:`.domain.vcard`.

Import goes through the entity service (``create_record``), so a vCard person is
checked, normalised, audited and hooked exactly like one typed in a form. A card whose
person already exists - same e-mail, or, for a card without e-mail, the same name
(transliteration-folded) - is reported as a duplicate and not imported again, so
importing an export of the same people creates nobody.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from kyklos_sdk import RecordError, add_tag, create_record, get_entity_type

from .countries import country_names, normalize_country
from .domain.phones import InvalidPhone, normalize_phone
from .domain.translit import fold
from .domain.vcard import ParsedContact, parse_vcards, to_vcard
from .models import Account, Address, Person, PersonEmail, PersonPhoto

MAX_PHOTO_BYTES = 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_UID_RE = re.compile(r"^urn:kyklos:person:(\d{1,18})$")

_PHONE_TYPES = (("fax", "fax"), ("cell", "mobile"), ("work", "work"), ("home", "home"))
_PHONE_OUT = {"mobile": "cell", "work": "work", "home": "home", "fax": "fax", "other": None}
_EMAIL_OUT = {"work": "work", "home": "home", "other": None}
_ADDRESS_IN = {"home": "home", "work": "office"}
_ADDRESS_OUT = {"home": "home", "office": "work", "billing": "work", "shipping": "work",
                "branch": "work"}


def country_code(text: str | None) -> str | None:
    """An ISO code for a country as address books write it ("USA", "Ελλάδα", "PL");
    ``None`` when it names none (the card keeps its other values)."""
    try:
        return normalize_country(text)
    except ValueError:
        return None


def _phone_kind(types: str | None) -> str:
    tokens = set((types or "").lower().split(","))
    for token, kind in _PHONE_TYPES:
        if token in tokens:
            return kind
    return "other"


def _email_kind(types: str | None) -> str:
    tokens = set((types or "").lower().split(","))
    return "work" if "work" in tokens else "home" if "home" in tokens else "other"


@dataclass
class Row:
    """One card, ready to import."""

    index: int
    name: str
    person: dict
    organization: str | None = None
    addresses: list[dict] = field(default_factory=list)
    photo: tuple[bytes, str] | None = None
    tags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    uid_person: int | None = None
    duplicate_of: int | None = None
    status: str = "new"  # new / duplicate / created / error
    errors: dict = field(default_factory=dict)
    created_id: int | None = None


def row_from_contact(index: int, c: ParsedContact, default_region: str | None) -> Row:
    first = c.first_name
    last = c.last_name
    if not first and not last:
        words = (c.full_name or c.organization or "").split()
        if len(words) > 1:
            first, last = " ".join(words[:-1]), words[-1]
        elif words:
            last = words[0]
        elif c.emails:
            last = c.emails[0][0].split("@")[0]
    addresses = []
    for a in c.addresses:
        street = ", ".join(p for p in (a.get("po_box"), a.get("extended"), a.get("street")) if p)
        addresses.append(
            {
                "kind": _ADDRESS_IN.get((a.get("type") or "").split(",")[0], "other"),
                "street": street or None,
                "city": a.get("city"),
                "postcode": a.get("postcode"),
                "region": a.get("region"),
                "country": country_code(a.get("country")),
                "is_primary": bool(a.get("preferred")),
            }
        )
    region = next((a["country"] for a in addresses if a["country"]), None) or default_region
    warnings: list[str] = []
    phones = []
    for value, types, preferred in c.phones:
        try:
            number = normalize_phone(value, region)
        except InvalidPhone:
            warnings.append(f"{_phone_kind(types)}: {value}")
            continue
        phones.append({"type": _phone_kind(types), "number": number, "primary": preferred})
    emails = [
        {"type": _email_kind(types), "email": value.strip(), "primary": preferred}
        for value, types, preferred in c.emails
        if value and value.strip()
    ]
    notes = c.note
    if warnings:
        kept = "\n".join(f"☎ {w}" for w in warnings)
        notes = f"{notes}\n{kept}" if notes else kept
    person = {
        "first_name": first or "",
        "middle_name": c.middle_name,
        "last_name": last or "?",
        "name_prefix": c.prefix,
        "name_suffix": c.suffix,
        "job_title": c.title or c.role,
        "department": c.department,
        "birth_date": c.birthday.isoformat() if c.birthday else None,
        "anniversary_date": c.anniversary.isoformat() if c.anniversary else None,
        "notes": notes,
        "website": next((u for u in c.urls if u.startswith(("http://", "https://"))), None),
        "phones": phones,
        "emails": emails,
    }
    if addresses and addresses[0]["country"]:
        person["country"] = addresses[0]["country"]
        person["city"] = addresses[0]["city"]
    person = {k: v for k, v in person.items() if v not in (None, [])}
    match = _UID_RE.match(c.uid or "")
    photo = c.photo if c.photo and c.photo[1] in PHOTO_TYPES else None
    if photo and len(photo[0]) > MAX_PHOTO_BYTES:
        photo = None
    return Row(
        index=index,
        name=" ".join(p for p in (first, last) if p),
        person=person,
        organization=c.organization,
        addresses=addresses,
        photo=photo,
        tags=[t for t in c.categories if t.strip()][:20],
        warnings=warnings,
        uid_person=int(match.group(1)) if match else None,
    )


def read_rows(data: bytes | str, default_region: str | None) -> list[Row]:
    """Every card of ``data`` as a :class:`Row`; raises ``ValueError`` if it is not a
    vCard file."""
    return [row_from_contact(i, c, default_region) for i, c in enumerate(parse_vcards(data))]


# --- the common importer's "vcf" format --------------------------------------------------

#: (header, key of Row.person) of the table a vCard file becomes for the common importer;
#: the headers are the fields' English titles, so the mapping step suggests every column
IMPORT_COLUMNS = (
    ("First name", "first_name"),
    ("Middle name", "middle_name"),
    ("Last name", "last_name"),
    ("Prefix", "name_prefix"),
    ("Suffix", "name_suffix"),
    ("E-mail", None),
    ("Phone", None),
    ("E-mails", "emails"),
    ("Phones", "phones"),
    ("Addresses", None),
    ("Job title", "job_title"),
    ("Department", "department"),
    ("Birth date", "birth_date"),
    ("Anniversary", "anniversary_date"),
    ("Website", "website"),
    ("City", "city"),
    ("Country", "country"),
    ("Notes", "notes"),
    ("Organization", None),
)


def _primary(items: list[dict], key: str) -> str:
    chosen = next((i for i in items if i.get("primary")), items[0] if items else None)
    return chosen[key] if chosen else ""


def _cell(value) -> str:
    if value in (None, "", []):
        return ""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def import_table(data: bytes, default_region: str | None = None) -> list[list[str]]:
    """A vCard file as the rows of the common importer (``kyklos_import_formats``): the
    header, then one row per card, read by the same code as the vCard endpoints.

    Every e-mail and phone travels in the JSON columns ``E-mails`` / ``Phones`` (the
    primary ones also in ``E-mail`` / ``Phone``, so ``--key email`` finds a person
    again), the postal addresses in ``Addresses`` (added as address records). The
    organisation goes in ``Organization``, which the mapping sends to ``account_id``: the
    importer finds the account by name, or creates it when the run creates missing
    linked records (``create_references``), as the vCard endpoints do.
    """
    out = [[h for h, _k in IMPORT_COLUMNS]]
    for row in read_rows(data, default_region):
        person = row.person
        special = {
            "E-mail": _primary(person.get("emails", []), "email"),
            "Phone": _primary(person.get("phones", []), "number"),
            "Addresses": [{k: v for k, v in a.items() if v not in (None, "")}
                          for a in row.addresses],
            "Organization": row.organization,
        }
        out.append([_cell(special[h] if key is None else person.get(key))
                    for h, key in IMPORT_COLUMNS])
    return out


def find_duplicate(db, row: Row) -> int | None:
    """The id of a live person this card describes, or ``None``."""
    if row.uid_person is not None:
        found = db.execute(
            select(Person.id).where(Person.id == row.uid_person, Person.deleted_at.is_(None))
        ).scalar_one_or_none()
        if found:
            return found
    emails = [e["email"].lower() for e in row.person.get("emails", [])]
    if emails:
        return db.execute(
            select(PersonEmail.person_id)
            .join(Person, Person.id == PersonEmail.person_id)
            .where(func.lower(PersonEmail.email).in_(emails), Person.deleted_at.is_(None))
            .limit(1)
        ).scalar_one_or_none() or db.execute(
            select(Person.id)
            .where(func.lower(Person.email).in_(emails), Person.deleted_at.is_(None))
            .limit(1)
        ).scalar_one_or_none()
    first, last = fold(row.person.get("first_name")), fold(row.person.get("last_name"))
    return db.execute(
        select(Person.id)
        .where(
            Person.first_name_key == first,
            Person.last_name_key == last,
            Person.deleted_at.is_(None),
        )
        .limit(1)
    ).scalar_one_or_none()


def _account_for(request, name: str, cache: dict) -> int | None:
    key = fold(name)[:200]
    if not key:
        return None
    if key in cache:
        return cache[key]
    db = request.dbsession
    found = db.execute(
        select(Account.id).where(Account.name_key == key, Account.deleted_at.is_(None)).limit(1)
    ).scalar_one_or_none()
    if found is None and request.has_permission("contacts.account.create"):
        account = create_record(
            request, get_entity_type(request, "account"), {"name": name.strip()[:200]},
            source="import",
        )
        found = account.id
    cache[key] = found
    return found


def import_rows(request, rows: list[Row], dry_run: bool = False) -> list[Row]:
    """Create the people of ``rows`` (duplicates skipped); each card in its own
    savepoint, so one refused card leaves the others imported."""
    db = request.dbsession
    person_et = get_entity_type(request, "person")
    address_et = get_entity_type(request, "address")
    accounts: dict = {}
    seen: dict[str, int] = {}
    for row in rows:
        dup = find_duplicate(db, row)
        key = ",".join(sorted(e["email"].lower() for e in row.person.get("emails", []))) or (
            fold(row.name)
        )
        if dup is None and key in seen:
            dup = seen[key]
        if dup is not None:
            row.status, row.duplicate_of = "duplicate", dup
            continue
        if dry_run:
            seen[key] = -1 - row.index
            continue
        savepoint = db.begin_nested()
        try:
            data = dict(row.person)
            if row.organization:
                account_id = _account_for(request, row.organization, accounts)
                if account_id:
                    data["account_id"] = account_id
            person = create_record(request, person_et, data, source="import")
            for addr in row.addresses:
                values = {k: v for k, v in addr.items() if v not in (None, "")}
                create_record(request, address_et, {**values, "person_id": person.id},
                              source="import")
            if row.photo:
                db.add(PersonPhoto(person_id=person.id, data=row.photo[0],
                                   content_type=row.photo[1]))
            for tag in row.tags:
                add_tag(request, person_et, person, tag)
            db.flush()
        except RecordError as exc:
            savepoint.rollback()
            # The account cache may name an account created inside this savepoint.
            accounts.clear()
            row.status, row.errors = "error", dict(exc.errors)
            continue
        savepoint.commit()
        row.status, row.created_id = "created", person.id
        seen[key] = person.id
    return rows


def row_json(request, row: Row) -> dict:
    out = {"index": row.index, "name": row.name, "status": row.status}
    if row.created_id:
        out["id"] = row.created_id
    if row.duplicate_of and row.duplicate_of > 0:
        out["duplicate_of"] = row.duplicate_of
    if row.errors:
        out["errors"] = {k: request.localizer.translate(v) for k, v in row.errors.items()}
    if row.warnings:
        out["unrecognised_phones"] = row.warnings
    return out


# --- export -----------------------------------------------------------------------------


def person_contact(db, person: Person, with_photo: bool = True) -> ParsedContact:
    account = db.get(Account, person.account_id) if person.account_id else None
    addresses = db.execute(
        select(Address).where(Address.person_id == person.id).order_by(Address.id)
    ).scalars()
    names = country_names("en")
    photo = None
    if with_photo:
        row = db.get(PersonPhoto, person.id)
        if row is not None:
            photo = (row.data, row.content_type)
    return ParsedContact(
        uid=f"urn:kyklos:person:{person.id}",
        first_name=person.first_name or None,
        middle_name=person.middle_name,
        last_name=person.last_name or None,
        prefix=person.name_prefix,
        suffix=person.name_suffix,
        emails=[(e["email"], _EMAIL_OUT.get(e["type"]), e["primary"]) for e in person.emails],
        phones=[(p["number"], _PHONE_OUT.get(p["type"]), p["primary"]) for p in person.phones],
        addresses=[
            {
                "type": _ADDRESS_OUT.get(a.kind),
                "street": a.street,
                "city": a.city,
                "region": a.region,
                "postcode": a.postcode,
                "country": names.get(a.country, a.country) if a.country else None,
                "preferred": a.is_primary,
            }
            for a in addresses
        ],
        organization=account.name if account else None,
        department=person.department,
        title=person.job_title,
        birthday=person.birth_date,
        anniversary=person.anniversary_date,
        note=person.notes,
        urls=[person.website] if person.website else [],
        photo=photo,
    )


def export_vcards(db, people, version: str = "3.0") -> str:
    return "".join(to_vcard(person_contact(db, p), version) for p in people)


def vcard_filename(person: Person) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", fold(person.full_name) or f"person-{person.id}")
    return f"{base.strip('_') or 'person'}.vcf"

