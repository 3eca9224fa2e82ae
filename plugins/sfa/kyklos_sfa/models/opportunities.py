"""Opportunities, the pipeline stages they move through and the history of the moves."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin, IdMixin, SoftDeleteMixin, UTCDateTime, owner_count_index

OPEN, WON, LOST = "open", "won", "lost"


class Stage(EntityMixin, Base):
    """A pipeline stage (SFA-06) with its win probability and expected duration. A stage
    marked ``is_won`` or ``is_lost`` closes the opportunities that reach it."""

    __tablename__ = "sfa_stage"
    __table_args__ = (
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        CheckConstraint("NOT (is_won AND is_lost)", name="won_or_lost"),
    )

    #: stable key of a seeded stage (demo data and translations find it by this)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    probability: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    expected_days: Mapped[int | None] = mapped_column(Integer)
    is_won: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_lost: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    @property
    def status(self) -> str:
        return WON if self.is_won else LOST if self.is_lost else OPEN


class LossReason(EntityMixin, Base):
    """Why deals are lost (SFA-08): a choice list administrators keep."""

    __tablename__ = "sfa_loss_reason"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Opportunity(EntityMixin, SoftDeleteMixin, Base):
    """A potential deal with an account (SFA-05, SFA-12)."""

    __tablename__ = "sfa_opportunity"
    __table_args__ = (
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        Index("ix_sfa_opportunity_status_close", "status", "expected_close"),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    stage_id: Mapped[int] = mapped_column(
        ForeignKey("sfa_stage.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    #: money: the amount and its ISO 4217 currency (one "money" field of the entity)
    amount: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 2))
    amount_currency: Mapped[str | None] = mapped_column(String(3))
    expected_close: Mapped[dt.date | None] = mapped_column(Date, index=True)
    #: percent; follows the stage unless someone sets it by hand
    probability: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    probability_manual: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=OPEN)
    loss_reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_loss_reason.id", ondelete="SET NULL"), index=True
    )
    loss_details: Mapped[str | None] = mapped_column(Text)
    won_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    lost_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    #: when it entered its current stage (time in stage)
    stage_entered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: competitors and partners as text until the competition plugin models them
    competitors: Mapped[str | None] = mapped_column(Text)
    partners: Mapped[str | None] = mapped_column(Text)
    resources: Mapped[str | None] = mapped_column(Text)
    estimated_hours: Mapped[decimal.Decimal | None] = mapped_column(Numeric(10, 2))
    source: Mapped[str | None] = mapped_column(String(20), index=True)
    #: the lead it was converted from (no foreign key: the lead points back at it)
    lead_id: Mapped[int | None] = mapped_column(Integer, index=True)
    description: Mapped[str | None] = mapped_column(Text)


class StageChange(IdMixin, Base):
    """One move of an opportunity between stages; consecutive rows give the time spent
    in each stage. The first row (``from_stage_id`` empty) is its creation."""

    __tablename__ = "sfa_stage_change"
    __table_args__ = (Index("ix_sfa_stage_change_opp_at", "opportunity_id", "at"),)

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("sfa_opportunity.id", ondelete="CASCADE"), nullable=False
    )
    from_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_stage.id", ondelete="SET NULL")
    )
    to_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_stage.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL"), index=True
    )


class OpportunityParticipant(EntityMixin, Base):
    """Someone taking part in an opportunity: a colleague (``user_id``) or a person at
    the customer or a partner (``person_id``), with their role in the deal."""

    __tablename__ = "sfa_participant"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (person_id IS NULL)", name="user_or_person"),
    )

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("sfa_opportunity.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str | None] = mapped_column(String(100))


# a list's exact count under a record rule reads this index, not every row
owner_count_index(Opportunity)
