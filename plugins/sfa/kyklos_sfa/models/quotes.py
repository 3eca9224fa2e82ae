"""Quotes with their lines, versions and variants; sales quotas per user and period."""

from __future__ import annotations

import datetime as dt
import decimal

# A quote line refers to catalog_product: its table must be in the metadata wherever
# sfa's models are loaded (sfa depends on catalog), or sorting the tables fails.
import kyklos_catalog.models  # noqa: E402, F401, I001
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin


class QuoteSequence(Base):
    """The last quote number handed out per year. Incremented with one UPDATE, so
    concurrent transactions queue on the row instead of reading the same number."""

    __tablename__ = "sfa_quote_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Quote(EntityMixin, Base):
    """An offer to a customer (SFA-10, SFA-11). ``number`` is per year; a new
    ``revision`` of the same offer keeps the number, a ``variant`` ("A", "B") is an
    alternative offered side by side, ``based_on_id`` the quote it was cloned from."""

    __tablename__ = "sfa_quote"
    __table_args__ = (
        UniqueConstraint("year", "seq", "revision", "variant", name="number_revision_variant"),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_opportunity.id", ondelete="SET NULL"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[str] = mapped_column(String(20), nullable=False, default="", index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    variant: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_quote.id", ondelete="SET NULL"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft", index=True)
    #: the language the offer is written in: product lines take their names in it (empty:
    #: the contact person's language, else the site's)
    language: Mapped[str | None] = mapped_column(String(5))
    #: a variant in another currency (SFA-11): the currency its prices were converted
    #: from, the rate used (units of ``currency`` for one of ``rate_from``) and its day
    rate_from: Mapped[str | None] = mapped_column(String(3))
    exchange_rate: Mapped[decimal.Decimal | None] = mapped_column(Numeric(20, 10))
    rate_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    #: the opening and closing texts of the offer (taken from an offer template)
    introduction: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    #: totals of the lines, recomputed whenever a line changes
    net_total: Mapped[decimal.Decimal] = mapped_column(Numeric(18, 2), nullable=False, default=0)
    tax_total: Mapped[decimal.Decimal] = mapped_column(Numeric(18, 2), nullable=False, default=0)
    total: Mapped[decimal.Decimal] = mapped_column(Numeric(18, 2), nullable=False, default=0)

    @property
    def label(self) -> str:
        base = self.number or f"#{self.id}"
        out = f"{base} v{self.revision}" if self.revision and self.revision > 1 else base
        return f"{out} {self.variant}".strip() + (f" · {self.title}" if self.title else "")


class QuoteLine(EntityMixin, Base):
    """One line of a quote: a product of the catalog, priced by its price lists, or free
    text. Either way every value stays editable; ``price_note`` says where the price came
    from ("Price list Wholesale 2027: fixed price.") until someone changes it."""

    __tablename__ = "sfa_quote_line"
    __table_args__ = (
        CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
        CheckConstraint("tax_rate BETWEEN 0 AND 100", name="tax_range"),
    )

    quote_id: Mapped[int] = mapped_column(
        ForeignKey("sfa_quote.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    #: the longer text under the description: a product's description in the quote's
    #: language when the line picks it (editable like the rest)
    details: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(10))
    quantity: Mapped[decimal.Decimal] = mapped_column(Numeric(14, 3), nullable=False, default=1)
    unit_price: Mapped[decimal.Decimal] = mapped_column(Numeric(18, 2), nullable=False, default=0)
    discount_percent: Mapped[decimal.Decimal] = mapped_column(
        Numeric(5, 2), nullable=False, default=0
    )
    tax_rate: Mapped[decimal.Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=0)
    #: quantity x unit price less the discount, rounded to cents (before tax)
    line_total: Mapped[decimal.Decimal] = mapped_column(Numeric(18, 2), nullable=False, default=0)
    price_note: Mapped[str | None] = mapped_column(String(300))


class QuoteTemplate(EntityMixin, Base):
    """An offer template ("offer profile", SFA-11): the lines, texts, language and
    currency a new quote starts from. Its product lines keep no price: a quote made from
    it prices them from the catalog for its own account and day."""

    __tablename__ = "sfa_quote_template"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    language: Mapped[str | None] = mapped_column(String(5))
    introduction: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class QuoteTemplateLine(EntityMixin, Base):
    """One line of an offer template: a catalog product (priced when a quote is made)
    or free text with its own price."""

    __tablename__ = "sfa_quote_template_line"
    __table_args__ = (
        CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
        CheckConstraint("tax_rate BETWEEN 0 AND 100", name="tax_range"),
    )

    template_id: Mapped[int] = mapped_column(
        ForeignKey("sfa_quote_template.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="SET NULL"), index=True
    )
    #: empty with a product: the product's name in the quote's language
    description: Mapped[str | None] = mapped_column(String(500))
    #: empty with a product: the product's description in the new quote's language;
    #: text a rep wrote on the quote the template was saved from is kept here
    details: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(10))
    quantity: Mapped[decimal.Decimal] = mapped_column(Numeric(14, 3), nullable=False, default=1)
    #: only for lines without a product
    unit_price: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 2))
    discount_percent: Mapped[decimal.Decimal] = mapped_column(
        Numeric(5, 2), nullable=False, default=0
    )
    tax_rate: Mapped[decimal.Decimal | None] = mapped_column(Numeric(5, 2))


class Quota(EntityMixin, Base):
    """A sales target (SFA-07) for one user and period: a year (``2027``), half
    (``2027-H1``), quarter (``2027-Q3``) or month (``2027-05``)."""

    __tablename__ = "sfa_quota"
    __table_args__ = (UniqueConstraint("user_id", "period", name="user_period"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    period_start: Mapped[dt.date | None] = mapped_column(Date, index=True)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(18, 2), nullable=False)
    amount_currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
