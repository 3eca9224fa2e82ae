"""Hook implementations: validation and normalisation of every write, affiliations kept
in step with a person's account, panels and actions of the 360° pages, menu entries."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from kyklos_sdk import RecordError, create_record, get_entity_type, hookimpl, insert_new

from . import _, validation
from .models import Affiliation, Consent, Relationship
from .models.people import address_json, address_key
from .relations import check_relationship
from .salutation import default_salutation, language_for_country
from .settings import default_country

MSG_ONE_PARTY = _("Give either an account or a person.")
MSG_DATES = _("The end date is before the start date.")
MSG_CONSENT_EXISTS = _("This person has a consent record for this channel: change that one.")
MSG_NO_ADDRESSES = _("You may not add addresses.")
MSG_TYPE_IN_USE = _("This relationship type is in use; deactivate it instead.")


def _apply(data: dict, changes: dict, errors: dict) -> None:
    """Write normalised values back into ``data`` (the service writes what it holds)."""
    for name, value in changes.items():
        if name not in errors:
            data[name] = value


def validate_account(request, record, data, errors, source=None):
    changes, errs = validation.check_account(
        request.dbsession, record, data, default_country(request), source == "import"
    )
    errors.update(errs)
    _apply(data, changes, errs)


def validate_person(request, record, data, errors, source=None):
    db = request.dbsession
    # an import keeps a number no country reads, as the file gives it (flagged unchecked)
    lenient = source == "import"
    origins = _address_columns(record, data)
    # an import's batch is one request: each account its rows name is looked up once
    memo = request.__dict__.setdefault("_contacts_account_countries", {}) if lenient else None
    country = default_country(request)  # a setting: read once, not three times a row
    changes, errs = validation.check_person(db, record, data, country, lenient, memo)
    errors.update(errs)
    _apply(data, changes, errs)
    values = validation.merged(
        record,
        data,
        ("country", "account_id", "first_name", "last_name", "gender", "language", "email",
         "phone", "salutation", "name_day_calendar"),
    )
    region = validation.person_region(db, values, country, memo)
    regions = validation.phone_regions(db, values, country, memo=memo)
    _typed_columns(record, data, errors, regions, lenient)
    _sync_phones(record, data, errors, regions, lenient)
    _sync_emails(record, data, errors)
    if "addresses" in data:
        _check_addresses(request, record, data, errors)
    _check_card_fields(request, data, errors)
    _name_origins(errors, origins)
    if record is None:
        cc = values["country"] or region
        if not values["language"]:
            data["language"] = language_for_country(cc)
        if not values["name_day_calendar"]:
            cal = validation.default_calendar(cc)
            if cal:
                data["name_day_calendar"] = cal
        if not values["salutation"]:
            data["salutation"] = default_salutation(
                values["first_name"],
                values["last_name"],
                values["gender"],
                data.get("language") or values["language"],
                cc,
            )


#: one-number / one-address fields (Person.mobile_phone, ...) -> (list, key, type)
#: (in this order: with no primary number yet, the work number becomes the primary one)
TYPED_FIELDS = {
    "work_phone": ("phones", "number", "work"),
    "mobile_phone": ("phones", "number", "mobile"),
    "home_phone": ("phones", "number", "home"),
    "other_phone": ("phones", "number", "other"),
    "fax": ("phones", "number", "fax"),
    "pager": ("phones", "number", "pager"),
    "other_email": ("emails", "email", "other"),
}


#: how exports put several e-mails in one cell: Google's " ::: ", a list with ";" or ","
_EMAIL_SEPARATORS = re.compile(r"\s*(?::::|;|,)\s*")
#: several numbers in one cell: Google's " ::: " (a comma or ";" may be part of a number
#: as people type them, so only Google's separator splits)
_PHONE_SEPARATORS = re.compile(r"\s*:::\s*")


def _split_multiple(record, data):
    """An import cell with several e-mails or numbers: the first stays where it was
    mapped, the others join the typed lists (nothing is lost)."""
    for name, (lst, key, kind) in {"email": ("emails", "email", "other"),
                                   "phone": ("phones", "number", "other"),
                                   **TYPED_FIELDS}.items():
        value = data.get(name)
        if not isinstance(value, str):
            continue
        sep = _EMAIL_SEPARATORS if key == "email" else _PHONE_SEPARATORS
        parts = [p for p in sep.split(value.strip()) if p]
        if len(parts) < 2:
            continue
        data[name] = parts[0]
        if not isinstance(data.get(lst), list):
            # an update keeps what the person has
            data[lst] = [dict(i) for i in getattr(record, lst)] if record is not None else []
        have = {str(i.get(key, "")).strip().casefold() for i in data[lst]
                if isinstance(i, dict)}
        for p in parts[1:]:
            if p.casefold() not in have:
                have.add(p.casefold())
                data[lst].append({"type": kind, key: p, "primary": False})


def _name_from_email(record, data):
    """A row with an e-mail and no name: the name is the address's local part, as the
    vCard import does for a card with no name."""
    if record is not None or data.get("first_name") or data.get("last_name"):
        return
    email = data.get("email")
    if isinstance(email, str) and "@" in email:
        data["last_name"] = email.split("@", 1)[0].strip()[:100] or None


def _address_columns(record, data) -> dict:
    """Outlook's (and Google's, as the reader folds them) address columns: the parts of
    one kind make up one address, added to ``addresses`` unless the person has it; the
    first one also gives a new person their city and country when the row has none.

    Returns ``{derived error key: submitted field}``: a value refused in the address
    (or in the city or country taken from it) is reported under the field it was
    submitted as, which an import names by the file's column."""
    from .models.people import ADDRESS_COLUMN_KINDS, ADDRESS_COLUMN_PARTS

    made, origins = [], {}
    for kind in ADDRESS_COLUMN_KINDS:
        given = {p: f"{kind}_{p}" for p in ADDRESS_COLUMN_PARTS if f"{kind}_{p}" in data}
        parts = {p: data.pop(f"{kind}_{p}", None) for p in ADDRESS_COLUMN_PARTS}
        parts = {p: v.strip() if isinstance(v, str) else v for p, v in parts.items()}
        if any(parts.values()):
            made.append((kind, given, {"kind": kind, **parts}))
    if not made:
        return origins
    if not isinstance(data.get("addresses"), list):
        data["addresses"] = []
    offset = len(data["addresses"])
    data["addresses"] = [*data["addresses"], *(a for _k, _g, a in made)]
    for i, (_kind, given, _a) in enumerate(made, start=offset):
        first = next(iter(given.values()), None)
        if first is not None:
            origins[f"addresses.{i}"] = first
        for part, name in given.items():
            origins[f"addresses.{i}.{part}"] = name
    if record is None:
        _kind, given, first = made[0]
        for name in ("city", "country"):
            if not data.get(name) and first.get(name):
                data[name] = first[name]
                origins[name] = given.get(name, name)
    return origins


def _name_origins(errors: dict, origins: dict) -> None:
    """Re-key the ``errors`` of derived values by the submitted field each came from
    (see :func:`_address_columns`); one message per field."""
    for key in [k for k in errors if k in origins]:
        message = errors.pop(key)
        errors.setdefault(origins[key], message)


def _typed_columns(record, data, errors, region, lenient=False):
    """Exports keep each number and address in a column of its own (Outlook's Mobile
    Phone, Home Phone, E-mail 2 Address): those fields join the typed lists here, which
    the syncs below keep in step with the primary ones. Each value is checked here, so
    that a bad one is named by its own field (its column in an import)."""
    for name, (lst, key, kind) in TYPED_FIELDS.items():
        if name not in data:
            continue
        value = data.pop(name)
        if not isinstance(value, str) or not value.strip():
            continue
        if key == "number":
            value, msg = validation.check_phone(value, region, lenient)
        else:
            value = value.strip()
            msg = None if validation.is_email(value) else _("Not a valid e-mail address.")
        if msg:
            errors[name] = msg
            continue
        if lst not in data:
            current = getattr(record, lst) if record is not None else []
            data[lst] = [dict(item) for item in current]
        items = data[lst] if isinstance(data[lst], list) else []
        if all(not isinstance(i, dict) or str(i.get(key, "")).strip() != value.strip()
               for i in items):
            items.append({"type": kind, key: value.strip(), "primary": not items})
        data[lst] = items


def _sync_phones(record, data, errors, region, lenient=False):
    """Keep ``phone`` (the primary number) and the ``phones`` list in step."""
    if "phones" in data:
        rows, errs = validation.check_phones(data["phones"] or [], region, lenient)
        errors.update(errs)
        if errs:
            return
        primary = next((r["number"] for r in rows if r["is_primary"]), None)
        if "phone" in data and data["phone"] and data["phone"] != primary:
            rows = _with_primary(rows, "number", data["phone"], "mobile")
            primary = data["phone"]
        data["phones"] = [_phone_out(r) for r in rows]
        data["phone"] = primary
    elif "phone" in data and "phone" not in errors:
        current = record.phones if record is not None else []
        rows = [{"kind": p["type"], "number": p["number"], "is_primary": p["primary"]}
                for p in current]
        old = record.phone if record is not None else None
        rows = [r for r in rows if r["number"] != old]
        if data["phone"]:
            rows = _with_primary(rows, "number", data["phone"], "mobile")
        elif rows:
            rows[0]["is_primary"] = True
            data["phone"] = rows[0]["number"]
        data["phones"] = [_phone_out(r) for r in rows]


def _sync_emails(record, data, errors):
    if "emails" in data:
        rows, errs = validation.check_emails(data["emails"] or [])
        errors.update(errs)
        if errs:
            return
        primary = next((r["email"] for r in rows if r["is_primary"]), None)
        if "email" in data and data["email"] and data["email"] != primary:
            rows = _with_primary(rows, "email", data["email"], "work")
            primary = data["email"]
        data["emails"] = [_email_out(r) for r in rows]
        data["email"] = primary
    elif "email" in data and "email" not in errors:
        current = record.emails if record is not None else []
        rows = [{"kind": e["type"], "email": e["email"], "is_primary": e["primary"]}
                for e in current]
        old = (record.email or "").lower() if record is not None else ""
        rows = [r for r in rows if r["email"].lower() != old]
        if data["email"]:
            rows = _with_primary(rows, "email", data["email"], "work")
        elif rows:
            rows[0]["is_primary"] = True
            data["email"] = rows[0]["email"]
        data["emails"] = [_email_out(r) for r in rows]


def _check_card_fields(request, data, errors):
    """The lists an address book brings (further URLs, messenger handles), tags and a
    photo to add on import: shape checked here, the photo by its content."""
    from .vcards import MAX_TAGS, photo_from_data_uri

    urls = data.get("urls")
    if urls is not None:
        if not isinstance(urls, list) or not all(
                isinstance(u, str) and 0 < len(u.strip()) <= 500 for u in urls):
            errors["urls"] = _("Give a list of web addresses.")
        else:
            data["urls"] = [u.strip() for u in urls][:20]
    handles = data.get("messengers")
    if handles is not None:
        if not isinstance(handles, list) or not all(
                isinstance(h, dict) and isinstance(h.get("handle"), str) and h["handle"].strip()
                and isinstance(h.get("service") or "", str) for h in handles):
            errors["messengers"] = _('Give a list of {"service", "handle"} objects.')
        else:
            data["messengers"] = [{"service": (h.get("service") or "").strip()[:40],
                                   "handle": h["handle"].strip()[:200]} for h in handles][:20]
    tags = data.get("import_tags")
    if tags is not None and (not isinstance(tags, list) or len(tags) > MAX_TAGS
                             or not all(isinstance(t, str) for t in tags)):
        errors["import_tags"] = _("Give a list of at most ${n} tag names.",
                                  mapping={"n": MAX_TAGS})
    photo = data.get("import_photo")
    if photo:
        if not isinstance(photo, str) or photo_from_data_uri(photo) is None:
            errors["import_photo"] = _("Not a JPEG, PNG, GIF or WebP image of at most 1 MB.")


def apply_pending_card_extras(request, entity_type, person) -> None:
    """Tags and the photo written to ``import_tags`` / ``import_photo``."""
    from kyklos_sdk import add_tag

    from .vcards import photo_from_data_uri
    from .views.person import set_photo

    tags = person.__dict__.pop("pending_tags", None)
    photo = person.__dict__.pop("pending_photo", None)
    for name in tags or ():
        if name.strip():
            add_tag(request, entity_type, person, name.strip()[:60])
    checked = photo_from_data_uri(photo) if photo else None
    if checked is not None:
        set_photo(request.dbsession, person.id, *checked)


def _check_addresses(request, record, data, errors):
    rows, errs = validation.check_addresses(data["addresses"] or [])
    errors.update(errs)
    if errs:
        return
    have = {address_key(a) for a in (record.address_rows if record is not None else ())}
    new = [r for r in rows if address_key(r) not in have]
    if new and not request.has_permission("contacts.address.create"):
        errors["addresses"] = MSG_NO_ADDRESSES
    # Stored as the person now reads (theirs plus the new ones), so history shows it.
    data["addresses"] = [*(address_json(a) for a in (record.address_rows if record else ())),
                         *new]


def create_pending_addresses(request, person, source) -> None:
    """The addresses written to ``person.addresses`` that it lacks become records."""
    pending = person.__dict__.pop("pending_addresses", None)
    if not pending:
        return
    et = get_entity_type(request, "address")
    have = {address_key(a) for a in person.address_rows}
    for item in pending:
        if address_key(item) in have:
            continue
        have.add(address_key(item))
        values = {k: v for k, v in item.items() if v not in (None, "")}
        create_record(request, et, {**values, "person_id": person.id}, source=source)
    request.dbsession.expire(person, ["address_rows"])


def _with_primary(rows, key, value, kind):
    """``rows`` with ``value`` as the one primary entry (added first if missing)."""
    found = next((r for r in rows if r[key].lower() == value.lower()), None)
    if found is None:
        found = {"kind": kind, key: value, "is_primary": True}
        rows = [found, *rows]
    for r in rows:
        r["is_primary"] = r is found
    return rows


def _phone_out(r):
    return {"type": r["kind"], "number": r["number"], "primary": r["is_primary"]}


def _email_out(r):
    return {"type": r["kind"], "email": r["email"], "primary": r["is_primary"]}


def _one_party(record, data, errors, field="account_id"):
    v = validation.merged(record, data, ("account_id", "person_id"))
    if (v["account_id"] is None) == (v["person_id"] is None):
        errors[field if v["account_id"] is None else "person_id"] = MSG_ONE_PARTY


def _dates(record, data, errors, start="start_date", end="end_date"):
    v = validation.merged(record, data, (start, end))
    if v[start] and v[end] and v[end] < v[start]:
        errors[end] = MSG_DATES


def validate_address(request, record, data, errors):
    _one_party(record, data, errors)
    v = validation.merged(record, data, ("country",))
    changes: dict = {}
    validation.check_country(v, changes, errors)
    _apply(data, changes, errors)


def validate_consent(request, record, data, errors):
    v = validation.merged(record, data, ("person_id", "channel"))
    if v["person_id"] is None or v["channel"] is None:
        return
    if record is not None and (record.person_id, record.channel) == (v["person_id"],
                                                                     v["channel"]):
        return
    taken = request.dbsession.execute(
        select(Consent.id).where(Consent.person_id == v["person_id"],
                                 Consent.channel == v["channel"])
    ).first()
    if taken:
        errors["channel"] = MSG_CONSENT_EXISTS


VALIDATORS = {
    "account": validate_account,
    "person": validate_person,
    "address": validate_address,
}


class Hooks:
    """Registered as ``kyklos_contacts.hooks``."""

    @hookimpl
    def kyklos_record_prepare(self, entity_type, record, data, source):
        # A file's cells, before their types are checked: several values in one cell,
        # a row with nothing but an e-mail.
        if source == "import" and entity_type.name == "person" \
                and entity_type.plugin == "contacts":
            _split_multiple(record, data)
            _name_from_email(record, data)

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors, source):
        if entity_type.plugin != "contacts":
            return
        name = entity_type.name
        if name in ("account", "person"):
            VALIDATORS[name](request, record, data, errors, source)
        elif name in VALIDATORS:
            VALIDATORS[name](request, record, data, errors)
        elif name == "installedproduct":
            _one_party(record, data, errors)
        elif name == "affiliation":
            _dates(record, data, errors)
        elif name == "consent":
            validate_consent(request, record, data, errors)
        elif name == "relationship":
            _dates(record, data, errors)
            values = validation.merged(
                record,
                data,
                ("type_id", "from_person_id", "from_account_id", "to_person_id",
                 "to_account_id"),
            )
            errors.update(check_relationship(request.dbsession, values))

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created,
                                 source):
        if entity_type.plugin == "contacts" and entity_type.name == "person":
            if "account_id" in changes or "job_title" in changes:
                follow_account(request.dbsession, record, changes)
            create_pending_addresses(request, record, source)
            apply_pending_card_extras(request, entity_type, record)

    @hookimpl
    def kyklos_records_saved(self, request, entity_type, records, changes, source):
        # The batch form of the hook above (an import): this plugin is then not called
        # per record, so it does all of it - the affiliations with one query for the
        # batch, the addresses and card extras a row carried.
        if entity_type.plugin == "contacts" and entity_type.name == "person":
            follow_accounts(request.dbsession, [
                (record, ch) for record, ch in zip(records, changes, strict=True)
                if "account_id" in ch or "job_title" in ch])
            for record in records:
                create_pending_addresses(request, record, source)
                apply_pending_card_extras(request, entity_type, record)

    @hookimpl
    def kyklos_record_before_delete(self, request, entity_type, record):
        if entity_type.plugin == "contacts" and entity_type.name == "relationshiptype":
            used = request.dbsession.execute(
                select(Relationship.id).where(Relationship.type_id == record.id).limit(1)
            ).first()
            if used:
                raise RecordError({"": MSG_TYPE_IN_USE}, status=409)

    @hookimpl
    def kyklos_record_merge(self, request, entity_type, winner, loser):
        if entity_type.plugin != "contacts":
            return
        from .duplicates import merge_accounts, merge_people

        if entity_type.name == "person":
            merge_people(request.dbsession, winner)
        elif entity_type.name == "account":
            merge_accounts(request.dbsession, winner)

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.plugin != "contacts" or entity_type.name != "person":
            return None
        from .panels import greeting_timeline

        return greeting_timeline(request, record)

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.plugin != "contacts":
            return None
        from .panels import panels_for

        return panels_for(request, entity_type, record)

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.plugin != "contacts":
            return None
        from .panels import actions_for

        return actions_for(request, entity_type, record)

    @hookimpl
    def kyklos_menu_items(self, request):
        from .panels import menu_items

        return menu_items(request)


class ImportFormats:
    """The common importer reads vCards (``kyklos import INI person cards.vcf``, the
    web wizard, ``POST /api/v1/persons/_import``); registered as
    ``kyklos_contacts.import_formats``."""

    def __init__(self, settings):
        # Local numbers on the cards are read in the deployment's country, as the vCard
        # endpoints read them.
        self.region = (settings.get("kyklos.contacts.default_country") or "").strip().upper()

    @hookimpl
    def kyklos_import_formats(self):
        from .vcards import import_table

        def parse(data: bytes):
            return import_table(data, self.region or None)

        return [("vcf", parse), ("vcard", parse)]


def follow_account(db, person, changes) -> None:
    """A person's primary account is their current job: record it as a primary
    affiliation, and end the previous one (the employment history, CON-16)."""
    rows = db.execute(
        select(Affiliation).where(Affiliation.person_id == person.id)
    ).scalars().all()
    made = _follow(person, changes, rows, dt.date.today())
    if made is _UNLINKED:
        return
    if made is not None:
        db.add(made)
    db.flush()


def follow_accounts(db, items: list) -> None:
    """:func:`follow_account` for the ``[(person, changes)]`` of a batch (an import):
    one query for their affiliations, the new ones inserted with one executemany,
    instead of a query and a flush per person."""
    if not items:
        return
    rows: dict = {}
    for a in db.execute(
        select(Affiliation).where(Affiliation.person_id.in_({p.id for p, _ch in items}))
    ).scalars():
        rows.setdefault(a.person_id, []).append(a)
    today = dt.date.today()
    made = []
    for person, changes in items:
        new = _follow(person, changes, rows.setdefault(person.id, []), today)
        if new is not None and new is not _UNLINKED:
            made.append(new)
            rows[person.id].append(new)  # a person twice in a batch finds it
    insert_new(db, made)
    db.flush()  # the changed ones


#: :func:`_follow`'s answer for a person with no account: nothing to write
_UNLINKED = object()


def _follow(person, changes, rows, today):
    """Apply :func:`follow_account` to ``rows`` (the person's affiliations); returns the
    new affiliation to add, ``None`` or :data:`_UNLINKED`."""
    old_account = changes.get("account_id", (person.account_id, person.account_id))[0]
    if "account_id" in changes and old_account and old_account != person.account_id:
        for a in rows:
            if a.account_id == old_account and a.is_primary and a.end_date is None:
                a.is_primary = False
                a.end_date = today
    if person.account_id is None:
        return _UNLINKED
    current = next(
        (a for a in rows if a.account_id == person.account_id and a.is_current(today)), None
    )
    made = None
    if current is None:
        current = made = Affiliation(
            person_id=person.id,
            account_id=person.account_id,
            start_date=today,
            owner_id=person.owner_id,
        )
    current.is_primary = True
    if person.job_title:
        current.role = person.job_title
    return made

