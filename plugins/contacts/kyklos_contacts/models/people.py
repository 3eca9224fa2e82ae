"""People, their typed phones and e-mails, photo, affiliations, consents and greetings."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    type_coerce,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from kyklos_sdk import (
    Base,
    EntityMixin,
    IdMixin,
    JSONType,
    SoftDeleteMixin,
    UTCDateTime,
    new_children,
    owner_count_index,
    utcnow,
)

from ..domain.occasions import NO_YEAR
from ..domain.translit import fold
from ..namedays import known_name_keys

if TYPE_CHECKING:
    from .accounts import Address


def name_day_key(first_name: str | None) -> str:
    """The key the name-day calendars know a first name by: the whole folded name, or
    its first word when only that is known ("Anna Maria" -> "anna"), as the occasions
    engine looks names up. Occasion look-ups match it with an indexed ``IN``."""
    key = fold(first_name)[:100]
    words = key.split()
    if len(words) > 1 and key not in known_name_keys():
        return words[0]
    return key


def month_day(value: dt.date | None) -> int | None:
    """``month * 100 + day`` of a date, the key occasion look-ups use."""
    return value.month * 100 + value.day if value else None


class Person(EntityMixin, SoftDeleteMixin, Base):
    """A person: a contact at an account, or a private customer."""

    __tablename__ = "contacts_person"

    first_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    middle_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    #: transliteration-folded keys (duplicate checks, name-day look-ups, search)
    first_name_key: Mapped[str] = mapped_column(String(100), nullable=False, default="", index=True)
    last_name_key: Mapped[str] = mapped_column(String(100), nullable=False, default="", index=True)
    #: the key the name-day calendars know this first name by (see name_day_key())
    name_day_key: Mapped[str] = mapped_column(String(100), nullable=False, default="", index=True)
    name_prefix: Mapped[str | None] = mapped_column(String(40))  # Dr, Prof.
    name_suffix: Mapped[str | None] = mapped_column(String(40))
    #: the primary e-mail and phone; every one of them is in ``emails`` / ``phones``
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    salutation: Mapped[str | None] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(10))
    language: Mapped[str | None] = mapped_column(String(5))
    #: A birthday whose year is unknown (vCard ``BDAY:--0203``) is kept in this one DATE
    #: column with the leap year NO_YEAR (1604, Apple's convention, so 29 February fits)
    #: and ``birth_year_unknown`` set: a DATE column (not month/day columns) keeps the
    #: field's filters, sorting, exports and the indexed ``birth_md`` occasion look-ups
    #: working for every person; pages, exports and vCards read the flag and never show
    #: or write that year, nor an age.
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    birth_year_unknown: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    #: month * 100 + day of ``birth_date`` / ``anniversary_date``: occasion look-ups
    #: by day of year use an index instead of a date function per row
    birth_md: Mapped[int | None] = mapped_column(Integer, index=True)
    anniversary_date: Mapped[dt.date | None] = mapped_column(Date)
    anniversary_md: Mapped[int | None] = mapped_column(Integer, index=True)
    name_day_calendar: Mapped[str | None] = mapped_column(String(2))
    marital_status: Mapped[str | None] = mapped_column(String(20))
    #: PESEL (PL), CNP (RO), AMKA (GR)
    personal_id: Mapped[str | None] = mapped_column(String(32), index=True)
    #: NIP (PL), AFM (GR), CNP/CUI (RO)
    tax_id: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    job_title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(100))
    roles: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    source: Mapped[str | None] = mapped_column(String(20), index=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    website: Mapped[str | None] = mapped_column(String(200))
    #: what address books keep beside the name and job title (vCard NICKNAME, ROLE,
    #: further URLs and IMPP handles), so an imported card loses none of them
    nickname: Mapped[str | None] = mapped_column(String(100))
    job_role: Mapped[str | None] = mapped_column(String(200))
    #: web addresses beyond ``website``: ["https://...", ...]
    urls: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: messenger handles: [{"service": "skype", "handle": "..."}]
    messengers: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    notes: Mapped[str | None] = mapped_column(Text)

    phone_rows: Mapped[list[PersonPhone]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        order_by="PersonPhone.position",
        passive_deletes=True,
        lazy="selectin",  # lists show them: one query per page, not one per person
    )
    email_rows: Mapped[list[PersonEmail]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        order_by="PersonEmail.position",
        passive_deletes=True,
        lazy="selectin",
    )

    #: read-only view of the person's addresses (records of their own, type ``address``)
    address_rows: Mapped[list[Address]] = relationship(
        "Address",
        primaryjoin="Address.person_id == Person.id",
        foreign_keys="Address.person_id",
        viewonly=True,
        order_by="Address.id",
        lazy="selectin",
    )

    # ``phones`` and ``emails`` are the typed lists the API and forms read and write
    # (virtual fields of the entity type): [{"type": "mobile", "number": "+30...",
    # "primary": true}]. Values arrive checked and normalised by the validate hook.
    @property
    def phones(self) -> list[dict]:
        return [
            {"type": r.kind, "number": r.number, "primary": r.is_primary} for r in self.phone_rows
        ]

    @phones.setter
    def phones(self, items) -> None:
        # a new person of a batch (an import): plain rows, no attribute events
        if new_children(
            self,
            "phone_rows",
            [
                {
                    "number": item["number"],
                    "kind": item.get("type") or "mobile",
                    "is_primary": bool(item.get("primary")),
                    "position": pos,
                }
                for pos, item in enumerate(items or ())
            ],
        ):
            return
        existing = {r.number: r for r in self.phone_rows}
        rows = []
        for pos, item in enumerate(items or ()):
            row = existing.pop(item["number"], None) or PersonPhone(number=item["number"])
            row.kind = item.get("type") or "mobile"
            row.is_primary = bool(item.get("primary"))
            row.position = pos
            rows.append(row)
        self.phone_rows = rows

    @property
    def emails(self) -> list[dict]:
        return [
            {"type": r.kind, "email": r.email, "primary": r.is_primary} for r in self.email_rows
        ]

    @emails.setter
    def emails(self, items) -> None:
        if new_children(
            self,
            "email_rows",
            [
                {
                    "email": item["email"],
                    "kind": item.get("type") or "work",
                    "is_primary": bool(item.get("primary")),
                    "position": pos,
                }
                for pos, item in enumerate(items or ())
            ],
        ):
            return
        existing = {r.email.lower(): r for r in self.email_rows}
        rows = []
        for pos, item in enumerate(items or ()):
            row = existing.pop(item["email"].lower(), None) or PersonEmail(email=item["email"])
            row.email = item["email"]
            row.kind = item.get("type") or "work"
            row.is_primary = bool(item.get("primary"))
            row.position = pos
            rows.append(row)
        self.email_rows = rows

    # One number or address of a kind, for exports that keep each in a column of its own
    # (Outlook's Mobile Phone): read from the typed lists; written through them by the
    # validate hook, which moves these values into ``phones`` / ``emails``.
    mobile_phone = property(
        lambda self: self._first("phones", "number", "mobile"),
        lambda self, v: self._add("phones", "number", "mobile", v),
    )
    work_phone = property(
        lambda self: self._first("phones", "number", "work"),
        lambda self, v: self._add("phones", "number", "work", v),
    )
    home_phone = property(
        lambda self: self._first("phones", "number", "home"),
        lambda self, v: self._add("phones", "number", "home", v),
    )
    other_phone = property(
        lambda self: self._first("phones", "number", "other"),
        lambda self, v: self._add("phones", "number", "other", v),
    )
    fax = property(
        lambda self: self._first("phones", "number", "fax"),
        lambda self, v: self._add("phones", "number", "fax", v),
    )
    pager = property(
        lambda self: self._first("phones", "number", "pager"),
        lambda self, v: self._add("phones", "number", "pager", v),
    )
    other_email = property(
        lambda self: self._first("emails", "email", "other"),
        lambda self, v: self._add("emails", "email", "other", v),
    )

    def _first(self, lst: str, key: str, kind: str) -> str | None:
        # ``getattr(self, lst)`` read the same rows, but built the whole typed list for
        # each of these fields: a list page serialises seven of them per person
        rows = self.phone_rows if lst == "phones" else self.email_rows
        return next((getattr(r, key) for r in rows if r.kind == kind), None)

    def _add(self, lst: str, key: str, kind: str, value) -> None:
        # Normally the validate hook has moved the value into the list already.
        items = getattr(self, lst)
        if value and all(i[key] != value for i in items):
            setattr(self, lst, [*items, {"type": kind, key: value, "primary": not items}])

    # Import conveniences (the common importer's vCard format): tags to add and a photo
    # as a ``data:`` URI. Written values wait here for the after-save hook, which checks
    # the photo by content and tags the saved person; reading gives nothing pending.
    @property
    def import_tags(self) -> list:
        return list(self.__dict__.get("pending_tags") or ())

    @import_tags.setter
    def import_tags(self, items) -> None:
        self.pending_tags = list(items or ())

    @property
    def import_photo(self) -> str | None:
        return None

    @import_photo.setter
    def import_photo(self, value) -> None:
        self.pending_photo = value or None

    # ``addresses`` lists the person's address records; writing it *adds* the ones the
    # person does not have yet (the after-save hook creates them as ``address`` records,
    # with their own history), and never deletes one: addresses are edited as records.
    @property
    def addresses(self) -> list[dict]:
        return [address_json(a) for a in self.address_rows]

    @addresses.setter
    def addresses(self, items) -> None:
        self.pending_addresses = list(items or ())

    @hybrid_property
    def full_name(self) -> str:
        """ "First Last": the record title (and, in SQL, what reference look-ups search)."""
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @full_name.inplace.expression
    @classmethod
    def _full_name_expression(cls):
        return type_coerce(cls.first_name + " " + cls.last_name, String)

    # The derived columns follow their source on every write path that uses the ORM;
    # bulk loaders (demo data) compute them with the same functions.
    @validates("first_name", "last_name")
    def _set_name(self, key, value):
        setattr(self, f"{key}_key", fold(value)[:100])
        if key == "first_name":
            self.name_day_key = name_day_key(value)
        return value

    @validates("birth_date", "anniversary_date")
    def _set_date(self, key, value):
        setattr(self, key.replace("_date", "_md"), month_day(value))
        if key == "birth_date":
            # the NO_YEAR placeholder means "year unknown" on every write path (vCard and
            # address-book imports, bulk loads); the validate hook handles the checkbox
            self.birth_year_unknown = bool(value and value.year == NO_YEAR)
        return value


ADDRESS_FIELDS = ("kind", "street", "postcode", "city", "region", "country", "is_primary")


def address_json(a) -> dict:
    return {name: getattr(a, name) for name in ADDRESS_FIELDS}


def address_key(item) -> tuple:
    """What makes two addresses the same one (kind and primary flag aside)."""
    get = item.get if isinstance(item, dict) else lambda k: getattr(item, k)
    return tuple(
        (get(k) or "").strip().casefold()
        for k in ("street", "postcode", "city", "region", "country")
    )


#: the addresses an export keeps in columns of their own (Outlook's Business Street,
#: Home City ...): kind of address record -> field name prefix
ADDRESS_COLUMN_KINDS = ("office", "home", "other")
ADDRESS_COLUMN_PARTS = ("street", "city", "postcode", "region", "country")


def _address_part(kind: str, part: str) -> property:
    """``<kind>_<part>`` (``office_city``): a part of the person's first address of that
    kind. Written values are moved into ``addresses`` by the validate hook, which adds
    the address the parts make up; nothing is left to set here."""

    def get(self):
        row = next((a for a in self.address_rows if a.kind == kind), None)
        return getattr(row, part) if row is not None else None

    def set_(self, value):
        pass

    return property(get, set_)


for _kind in ADDRESS_COLUMN_KINDS:
    for _part in ADDRESS_COLUMN_PARTS:
        setattr(Person, f"{_kind}_{_part}", _address_part(_kind, _part))


class PersonPhone(IdMixin, Base):
    """One typed phone number of a person, stored in E.164 (CON-07)."""

    __tablename__ = "contacts_person_phone"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="mobile")
    number: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    person: Mapped[Person] = relationship(back_populates="phone_rows")


class PersonEmail(IdMixin, Base):
    """One typed e-mail address of a person (CON-07)."""

    __tablename__ = "contacts_person_email"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="work")
    email: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    person: Mapped[Person] = relationship(back_populates="email_rows")


class PersonPhoto(Base):
    """A person's photo (CON-08), apart from the person row so lists never load it."""

    __tablename__ = "contacts_person_photo"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Affiliation(EntityMixin, Base):
    """A person's link to an account with a role (CON-04); with its dates it is also
    the person's employment history (CON-16)."""

    __tablename__ = "contacts_affiliation"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    notes: Mapped[str | None] = mapped_column(Text)

    def is_current(self, today: dt.date | None = None) -> bool:
        today = today or dt.date.today()
        return self.end_date is None or self.end_date >= today


class Consent(EntityMixin, Base):
    """A person's current opt-in or opt-out for one channel, with where it came from.

    One row per person and channel; earlier states are kept by the record history.
    """

    __tablename__ = "contacts_consent"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    source: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("person_id", "channel"),)


class Greeting(IdMixin, Base):
    """A greeting sent for an occasion: shown on the timeline, and sent at most once."""

    __tablename__ = "contacts_greeting"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    occasion_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )

    __table_args__ = (UniqueConstraint("person_id", "kind", "occasion_date", "channel"),)


# Imports look records up by a business key compared case-insensitively
# (``lower(column) IN (...)``, kyklos.imports): an index on the expression serves that
# on both databases, where the plain column index cannot.
Index("ix_contacts_person_email_lower", func.lower(Person.email))

# a list's exact count under a record rule reads this index, not every row
owner_count_index(Person)
