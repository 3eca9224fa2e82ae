"""Leads, the rules that score them, and the public web forms that capture them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    Base,
    EntityMixin,
    IdMixin,
    JSONType,
    SoftDeleteMixin,
    UTCDateTime,
    owner_count_index,
)


class Lead(EntityMixin, SoftDeleteMixin, Base):
    """A prospective customer not yet qualified (SFA-01): a person at a company, with
    where they came from, how warm they are and, once converted, what they became."""

    __tablename__ = "sfa_lead"

    first_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    company: Mapped[str | None] = mapped_column(String(200), index=True)
    job_title: Mapped[str | None] = mapped_column(String(200))
    vat_number: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="new", index=True)
    rating: Mapped[str | None] = mapped_column(String(10), index=True)
    #: the sum of the matching scoring rules' points, recomputed on every save
    score: Mapped[int] = mapped_column(Integer, nullable=False, default=0, index=True)
    #: why: ``[{"rule": id, "label": "source is trade show", "points": 20}, ...]``
    score_explanation: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    campaign: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    web_form_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_web_form.id", ondelete="SET NULL"), index=True
    )
    converted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    converted_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL")
    )
    converted_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL")
    )
    converted_opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_opportunity.id", ondelete="SET NULL")
    )

    @property
    def full_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return f"{name} ({self.company})" if self.company else name


class ScoringRule(EntityMixin, Base):
    """``points`` for every lead whose ``field`` matches ``op`` ``value``, in the list
    filters' language (``source__eq=trade_show``); ``label`` explains the points."""

    __tablename__ = "sfa_scoring_rule"

    label: Mapped[str] = mapped_column(String(200), nullable=False)
    field: Mapped[str] = mapped_column(String(40), nullable=False)
    op: Mapped[str] = mapped_column(String(12), nullable=False, default="eq")
    value: Mapped[str | None] = mapped_column(String(500))
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class WebForm(EntityMixin, Base):
    """A web-to-lead form (SFA-02) that other sites embed. Posts must carry its random
    ``form_key``; a new key revokes every copy of the old snippet."""

    __tablename__ = "sfa_web_form"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    form_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: the site the form is embedded on, e.g. ``https://www.example.com``: the only
    #: origin a thank-you redirect may go to
    allowed_origin: Mapped[str | None] = mapped_column(String(200))
    redirect_url: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(20), nullable=False, default="web")
    campaign: Mapped[str | None] = mapped_column(String(200))
    thank_you: Mapped[str | None] = mapped_column(String(500))


class WebFormHit(IdMixin, Base):
    """One accepted or refused post to a web form, by client address: the rate limit
    counts these (old rows are pruned as new ones arrive)."""

    __tablename__ = "sfa_web_form_hit"
    __table_args__ = (Index("ix_sfa_web_form_hit_client_at", "client", "at"),)

    client: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


# a list's exact count under a record rule reads this index, not every row
owner_count_index(Lead)
