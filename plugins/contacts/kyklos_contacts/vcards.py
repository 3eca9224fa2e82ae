"""vCard import and export of people, on top of :mod:`.domain.vcard`.

Import goes through the entity service (``create_record``), so a vCard person is
checked, normalised, audited and hooked exactly like one typed in a form. A card whose
person already exists - same e-mail, or, for a card without e-mail, the same name
(transliteration-folded) - is reported as a duplicate and not imported again, so
importing an export of the same people creates nobody; ``create anyway`` is an explicit
choice (``on_duplicate="create"``).

One bad value spoils only itself: an invalid second e-mail, a number no numbering plan
reads, a photo whose bytes are not the image it claims are left out with a warning and
the rest of the card is imported. Export reads the person through the core's
field-permission filter (``serialize``): a field the user may not read is not written.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

import filetype
from sqlalchemy import func, select

from kyklos_sdk import (
    RecordError,
    create_record,
    get_entity_type,
    serialize,
    site_setting,
    tags_for,
)

from . import _
from .countries import country_names, normalize_country
from .domain.translit import fold
from .domain.vcard import ParsedContact, parse_vcards, to_vcard
from .models import Account, Address, Person, PersonEmail, PersonPhoto
from .validation import check_phone, is_email

MAX_PHOTO_BYTES = 1024 * 1024
MAX_TAGS = 20
PHOTO_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_UID_RE = re.compile(r"^urn:kyklos:person:(\d{1,18})$")

# vCard TEL types (and Apple's labels) -> our phone kinds, the first match wins: a
# "cell,voice,video,text" number is a mobile that also does video and messages.
_PHONE_TYPES = (("fax", "fax"), ("pager", "pager"), ("assistant", "assistant"),
                ("cell", "mobile"), ("mobile", "mobile"), ("iphone", "mobile"),
                ("work", "work"), ("home", "home"), ("video", "video"),
                ("textphone", "text"), ("text", "text"), ("msg", "text"))
_PHONE_OUT = {"mobile": "cell", "work": "work", "home": "home", "fax": "fax",
              "pager": "pager", "assistant": "x-assistant", "text": "text", "video": "video",
              "other": None}
# Messenger properties of vCard 3.0 exports (Apple, Outlook, Evolution, KAddressBook);
# 4.0 and Apple also write IMPP:<scheme>:<handle>.
_IM_PROPS = {"X-AIM": "aim", "X-ICQ": "icq", "X-JABBER": "xmpp", "X-MSN": "msn",
             "X-YAHOO": "yahoo", "X-SKYPE": "skype", "X-SKYPE-USERNAME": "skype",
             "X-GOOGLE-TALK": "gtalk", "X-GTALK": "gtalk", "X-GADUGADU": "gadugadu",
             "X-QQ": "qq", "X-TWITTER": "twitter", "X-MS-IMADDRESS": "", "X-WEBEX": "webex"}
_GENDERS = {"m": "male", "f": "female", "o": "other", "male": "male", "female": "female"}
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
    tokens = {t.strip().removeprefix("x-") for t in (types or "").lower().split(",")}
    for token, kind in _PHONE_TYPES:
        if token in tokens:
            return kind
    return "other"


def phone_regions(request, *first: str | None) -> list[str]:
    """The countries a number written without ``+country`` is tried in, in order: the
    ones given (the card's address country), the user's, the deployment's default
    (site setting ``country.default``, else ``kyklos.contacts.default_country``)."""
    from .settings import default_country

    ident = getattr(request, "identity", None)
    user_country = getattr(getattr(ident, "user", None), "country", None)
    site = site_setting(request, "country.default") if request is not None else None
    plugin = default_country(request) if request is not None else None
    out: list[str] = []
    for cc in (*first, user_country, site, plugin):
        cc = (cc or "").strip().upper()
        if cc and cc not in out:
            out.append(cc)
    return out


def read_phone(value: str, regions: list[str]) -> str | None:
    """``value`` in E.164 read in the first of ``regions`` that reads it (or as an
    international number), ``None`` when none does - the contacts' one phone reader,
    :func:`.validation.check_phone`."""
    number, _msg = check_phone(value, regions)
    return number


def checked_photo(data: bytes, declared: str | None = None) -> tuple[bytes, str] | None:
    """``(data, type)`` when the bytes are a JPEG, PNG, GIF or WebP image of at most
    :data:`MAX_PHOTO_BYTES` and agree with the image type the card declares - sniffed
    by content with the library attachments use, never taken from the card's word."""
    if not data or len(data) > MAX_PHOTO_BYTES:
        return None
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in PHOTO_TYPES:
        return None
    claim = (declared or "").lower().strip()
    if claim:
        claim = claim if "/" in claim else f"image/{claim}"
        claim = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}.get(claim, claim)
        if claim.startswith("image/") and claim != kind.mime:
            return None
    lowered = data[:8192].lower()
    if b"<script" in lowered or b"<html" in lowered or b"<?php" in lowered:
        return None  # a polyglot: an image header in front of active content
    return data, kind.mime


_DATA_URI = re.compile(r"^data:([\w/+.-]*);base64,(.*)$", re.DOTALL | re.IGNORECASE)


def photo_from_data_uri(text: str) -> tuple[bytes, str] | None:
    match = _DATA_URI.match((text or "").strip())
    if not match:
        return None
    try:
        data = base64.b64decode(re.sub(r"\s+", "", match.group(2)), validate=True)
    except (binascii.Error, ValueError):
        return None
    return checked_photo(data, match.group(1) or None)


def photo_data_uri(photo: tuple[bytes, str]) -> str:
    return f"data:{photo[1]};base64,{base64.b64encode(photo[0]).decode('ascii')}"


def _messengers(c: ParsedContact) -> list[dict]:
    out: list[dict] = []
    for name, value in c.extra:
        value = (value or "").strip()
        if name == "IMPP" and value:
            scheme, sep, handle = value.partition(":")
            service, handle = (scheme.lower(), handle) if sep else ("", value)
            handle = handle.lstrip("/").strip()
        elif name in _IM_PROPS and value:
            service, handle = _IM_PROPS[name], value
        else:
            continue
        item = {"service": service[:40], "handle": handle[:200]}
        if handle and item not in out:
            out.append(item)
    return out[:20]


def _gender(c: ParsedContact) -> str | None:
    for name, value in c.extra:
        if name in ("GENDER", "X-GENDER"):
            sex = (value or "").split(";")[0].strip().lower()
            if sex in _GENDERS:
                return _GENDERS[sex]
    return None


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


def row_from_contact(index: int, c: ParsedContact, regions: list[str] | str | None) -> Row:
    """One card as a :class:`Row`. ``regions`` are the countries local phone numbers
    are read in after the card's own address country (see :func:`phone_regions`)."""
    if isinstance(regions, str) or regions is None:
        regions = [regions] if regions else []
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
        # PO box and extended address (suite, floor, c/o) lead the street line, as on
        # an envelope; the address record has one street line.
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
    own = next((a["country"] for a in addresses if a["country"]), None)
    tried = [own, *regions] if own else list(regions)
    warnings: list[dict] = []
    phones = []
    for value, types, preferred in c.phones:
        number = read_phone(value, tried)
        if number is None:
            # Kept as the card gives it (the import's validation is lenient) and flagged.
            warnings.append({"field": "phones", "value": value,
                             "message": _("Kept as given: no numbering plan reads this "
                                          "number.")})
            number = value.strip()[:40]
        if all(p["number"] != number for p in phones):
            phones.append({"type": _phone_kind(types), "number": number, "primary": preferred})
    emails = []
    for value, types, preferred in c.emails:
        value = (value or "").strip()
        if not value:
            continue
        if not is_email(value):
            warnings.append({"field": "emails", "value": value,
                             "message": _("Not a valid e-mail address.")})
            continue
        if all(e["email"].lower() != value.lower() for e in emails):
            emails.append({"type": _email_kind(types), "email": value, "primary": preferred})
    web = [u for u in c.urls if u.lower().startswith(("http://", "https://"))]
    website = next((u for u in web if len(u) <= 200), None)
    urls = [u for u in c.urls if u != website and len(u) <= 500]
    person = {
        "first_name": first or "",
        "middle_name": c.middle_name,
        "last_name": last or "?",
        "name_prefix": c.prefix,
        "name_suffix": c.suffix,
        "nickname": (c.nickname or "")[:100] or None,
        "job_title": c.title,
        "job_role": c.role,
        "department": c.department,
        "gender": _gender(c),
        # A date without a year keeps the occasions' NO_YEAR (see domain.occasions).
        "birth_date": c.birthday.isoformat() if c.birthday else None,
        "anniversary_date": c.anniversary.isoformat() if c.anniversary else None,
        "notes": c.note,
        "website": website,
        "urls": urls[:20],
        "messengers": _messengers(c),
        "phones": phones,
        "emails": emails,
    }
    if addresses and addresses[0]["country"]:
        person["country"] = addresses[0]["country"]
        person["city"] = addresses[0]["city"]
    person = {k: v for k, v in person.items() if v not in (None, [])}
    match = _UID_RE.match(c.uid or "")
    photo = None
    if c.photo:
        photo = checked_photo(c.photo[0], c.photo_declared)
        if photo is None:
            warnings.append({"field": "photo", "value": c.photo[1],
                             "message": _("The photo is not a JPEG, PNG, GIF or WebP image "
                                          "of at most 1 MB; it was left out.")})
    return Row(
        index=index,
        name=" ".join(p for p in (first, last) if p),
        person=person,
        organization=c.organization,
        addresses=addresses,
        photo=photo,
        tags=[t.strip() for t in c.categories if t.strip()][:MAX_TAGS],
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
    ("Nickname", "nickname"),
    ("Job title", "job_title"),
    ("Role (function)", "job_role"),
    ("Department", "department"),
    ("Gender", "gender"),
    ("Birth date", "birth_date"),
    ("Anniversary", "anniversary_date"),
    ("Website", "website"),
    ("Other web addresses", "urls"),
    ("Messengers", "messengers"),
    ("City", "city"),
    ("Country", "country"),
    ("Notes", "notes"),
    ("Organization", None),
    ("Tags to add", None),
    ("Photo (data URI)", None),
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


def import_table(data: bytes, default_region: str | list[str] | None = None
                 ) -> list[list[str]]:
    """A vCard file as the rows of the common importer (``kyklos_import_formats``): the
    header, then one row per card, read by the same code as the vCard endpoints.

    Every e-mail and phone travels in the JSON columns ``E-mails`` / ``Phones`` (the
    primary ones also in ``E-mail`` / ``Phone``, so ``--key email`` finds a person
    again), the postal addresses in ``Addresses`` (added as address records). The
    organisation goes in ``Organization``, which the mapping sends to ``account_id``: the
    importer finds the account by name, or creates it when the run creates missing
    linked records (``create_references``), as the vCard endpoints do. Categories
    travel in ``Tags to add`` and the photo (already checked by content) in
    ``Photo (data URI)``; the after-save hook tags the person and stores the photo.
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
            "Tags to add": row.tags,
            "Photo (data URI)": photo_data_uri(row.photo) if row.photo else "",
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


def import_rows(request, rows: list[Row], dry_run: bool = False,
                create_anyway: bool = False) -> list[Row]:
    """Create the people of ``rows``; each card in its own savepoint, so one refused
    card leaves the others imported. A card whose person exists (:func:`find_duplicate`)
    is skipped unless ``create_anyway`` - the user's explicit choice."""
    db = request.dbsession
    person_et = get_entity_type(request, "person")
    address_et = get_entity_type(request, "address")
    accounts: dict = {}
    seen: dict[str, int] = {}
    for row in rows:
        dup = None if create_anyway else find_duplicate(db, row)
        key = ",".join(sorted(e["email"].lower() for e in row.person.get("emails", []))) or (
            fold(row.name)
        )
        if dup is None and key in seen and not create_anyway:
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
            if row.tags:
                data["import_tags"] = row.tags
            if row.photo:
                data["import_photo"] = photo_data_uri(row.photo)
            person = create_record(request, person_et, data, source="import")
            for addr in row.addresses:
                values = {k: v for k, v in addr.items() if v not in (None, "")}
                create_record(request, address_et, {**values, "person_id": person.id},
                              source="import")
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
        out["warnings"] = [
            {"field": w["field"], "value": w["value"],
             "message": request.localizer.translate(w["message"])}
            for w in row.warnings
        ]
    return out


# --- export -----------------------------------------------------------------------------


_GENDER_OUT = {"male": "M", "female": "F", "other": "O"}


def person_contact(request, person: Person, version: str = "3.0",
                   with_photo: bool = True) -> ParsedContact:
    """The card of ``person`` as the user may read it: every value comes through the
    core's field-permission filter (``serialize``), so a field hidden from the user
    (notes, birth date...) is not on the card either."""
    db = request.dbsession
    et = get_entity_type(request, "person")
    p = serialize(request, et, person)
    account = db.get(Account, p["account_id"]) if p.get("account_id") else None
    address_et = get_entity_type(request, "address")
    addresses = []
    if request.has_permission(address_et.permission("read")):
        rows = db.execute(
            select(Address).where(Address.person_id == person.id).order_by(Address.id)
        ).scalars()
        addresses = [serialize(request, address_et, a) for a in rows]
    names = country_names("en")
    photo = None
    if with_photo:
        row = db.get(PersonPhoto, person.id)
        if row is not None:
            photo = (row.data, row.content_type)
    extra: list[tuple[str, str]] = []
    for m in p.get("messengers") or ():
        handle = m.get("handle") or ""
        extra.append(("IMPP", f"{m['service']}:{handle}" if m.get("service") else handle))
    gender = _GENDER_OUT.get(p.get("gender") or "")
    if gender:
        extra.append(("GENDER", gender) if version == "4.0" else ("X-GENDER", p["gender"]))
    return ParsedContact(
        uid=f"urn:kyklos:person:{person.id}",
        first_name=p.get("first_name") or None,
        middle_name=p.get("middle_name"),
        last_name=p.get("last_name") or None,
        prefix=p.get("name_prefix"),
        suffix=p.get("name_suffix"),
        nickname=p.get("nickname"),
        emails=[(e["email"], _EMAIL_OUT.get(e["type"]), e["primary"])
                for e in p.get("emails") or ()],
        phones=[(n["number"], _PHONE_OUT.get(n["type"]), n["primary"])
                for n in p.get("phones") or ()],
        addresses=[
            {
                "type": _ADDRESS_OUT.get(a.get("kind")),
                "street": a.get("street"),
                "city": a.get("city"),
                "region": a.get("region"),
                "postcode": a.get("postcode"),
                "country": names.get(a["country"], a["country"]) if a.get("country") else None,
                "preferred": bool(a.get("is_primary")),
            }
            for a in addresses
        ],
        organization=account.name if account else None,
        department=p.get("department"),
        title=p.get("job_title"),
        role=p.get("job_role"),
        birthday=_date(p.get("birth_date")),
        anniversary=_date(p.get("anniversary_date")),
        note=p.get("notes"),
        urls=[u for u in [p.get("website"), *(p.get("urls") or ())] if u],
        photo=photo,
        categories=tag_names(request, et, person),
        extra=extra,
    )


def _date(value):
    """A record's date as the API answers it: ISO, or ``--MM-DD`` for a birthday whose
    year is unknown (its NO_YEAR date, which the vCard writer turns into ``--MMDD``)."""
    import datetime as dt

    from .domain.vcard import NO_YEAR

    if not value:
        return None
    if value.startswith("--"):
        return dt.date(NO_YEAR, int(value[2:4]), int(value[5:7]))
    return dt.date.fromisoformat(value)


def tag_names(request, et, person) -> list[str]:
    return [t.name for t in tags_for(request.dbsession, et, [person.id]).get(person.id, [])]


def export_vcards(request, people, version: str = "3.0") -> str:
    return "".join(to_vcard(person_contact(request, p, version), version) for p in people)


def vcard_filename(person: Person) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", fold(person.full_name) or f"person-{person.id}")
    return f"{base.strip('_') or 'person'}.vcf"

