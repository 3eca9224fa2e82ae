"""Accounts (companies, organisations), their addresses and their installed base."""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from kyklos_sdk import Base, EntityMixin, JSONType, SoftDeleteMixin, owner_count_index

from ..domain.translit import fold


class Account(EntityMixin, SoftDeleteMixin, Base):
    """A company or organisation: one party that can play several roles (CON-01)."""

    __tablename__ = "contacts_account"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: matching key of ``name`` (transliteration-folded) for duplicate checks and search
    name_key: Mapped[str] = mapped_column(String(200), nullable=False, default="", index=True)
    legal_form: Mapped[str | None] = mapped_column(String(40))
    roles: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    city: Mapped[str | None] = mapped_column(String(100), index=True)
    vat_number: Mapped[str | None] = mapped_column(String(32), index=True)
    #: company registration id: REGON (PL), CUI (RO), G.E.MI. or AFM (GR)
    company_id: Mapped[str | None] = mapped_column(String(32), index=True)
    tax_office: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    website: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    #: the holding this account belongs to, or the head office of a branch (CON-02/03)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    is_branch: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    payment_terms: Mapped[int | None] = mapped_column(Integer)  # days
    discount_level: Mapped[decimal.Decimal | None] = mapped_column(Numeric(5, 2))  # percent
    satisfaction_level: Mapped[int | None] = mapped_column(Integer)  # 1..5
    source: Mapped[str | None] = mapped_column(String(20), index=True)
    #: the partner/associate who handles this customer (CON-06)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    invoice_partner: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "satisfaction_level IS NULL OR satisfaction_level BETWEEN 1 AND 5",
            name="satisfaction_range",
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    @validates("name")
    def _set_name(self, key, value):
        self.name_key = fold(value)[:200]
        return value


class Address(EntityMixin, Base):
    """A typed postal address of an account or a person (CON-02)."""

    __tablename__ = "contacts_address"

    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="office")
    street: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (
        CheckConstraint(
            "(account_id IS NULL) <> (person_id IS NULL)", name="one_party"
        ),
    )

    @property
    def label(self) -> str:
        parts = [self.street, " ".join(p for p in (self.postcode, self.city) if p), self.country]
        return ", ".join(p for p in parts if p)


class InstalledProduct(EntityMixin, Base):
    """Something a customer owns (CON-13): what, how many, since when, still in use."""

    __tablename__ = "contacts_installed_product"

    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[str] = mapped_column(String(200), nullable=False)
    serial_number: Mapped[str | None] = mapped_column(String(100), index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    purchased_on: Mapped[dt.date | None] = mapped_column(Date)
    warranty_until: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("(account_id IS NULL) <> (person_id IS NULL)", name="one_party"),
        CheckConstraint("quantity >= 0", name="quantity_positive"),
    )


# Imports look records up by a business key compared case-insensitively
# (``lower(column) IN (...)``, kyklos.imports): an index on the expression serves that
# on both databases, where the plain column index cannot.
Index("ix_contacts_account_email_lower", func.lower(Account.email))
Index("ix_contacts_account_vat_number_lower", func.lower(Account.vat_number))

# a list's exact count under a record rule reads this index, not every row
owner_count_index(Account)
