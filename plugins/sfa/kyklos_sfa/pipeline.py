"""The opportunity pipeline (SFA-06, SFA-08, SFA-15): stages, stage history with the
time spent in each stage, and the board's columns and totals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

import kyklos_sdk
from kyklos_sdk import utcnow

from . import _
from .models import Opportunity, Stage, StageChange
from .reporting import ZERO, Converter, guard, may_read, visible

#: the seeded stages: code, name, probability, expected days, won, lost
DEFAULT_STAGES = [
    ("qualification", "Qualification", 10, 14, False, False),
    ("needs_analysis", "Needs analysis", 20, 21, False, False),
    ("offer_sent", "Offer sent", 30, 14, False, False),
    ("negotiation", "Negotiation", 50, 21, False, False),
    ("offer_accepted", "Offer accepted", 70, 14, False, False),
    ("contract_signed", "Contract signed", 100, None, True, False),
    ("lost", "Lost", 0, None, False, True),
]
#: the seeded names, marked for the translation catalog (stage_title looks them up)
STAGE_TITLES = (_("Qualification"), _("Needs analysis"), _("Offer sent"), _("Negotiation"),
                _("Offer accepted"), _("Contract signed"), _("Lost"))
DEFAULT_LOSS_REASONS = ["Price", "Competitor", "No budget", "No decision", "Timing", "Other"]
#: the seeded loss reasons, marked for the translation catalog (loss_reason_title)
LOSS_REASON_TITLES = (_("Price"), _("Competitor"), _("No budget"), _("No decision"),
                      _("Timing"), _("Other"))
#: most cards one board column shows (the column's totals still count them all)
CARDS_PER_COLUMN = 50


def _value_title(request, entity: str, record, text: str) -> str:
    """A data value's title in the user's language: the administrator's title for the
    user's language, else the plugin's catalog (seeded names are its msgids), else the
    text as typed (the core's record_title)."""
    return kyklos_sdk.record_title(request, entity, record) or text


def stage_title(request, stage) -> str:
    """A stage's name in the user's language."""
    if stage is None:
        return ""
    return _value_title(request, "stage", stage, stage.name)


def loss_reason_title(request, reason) -> str:
    """A loss reason's name in the user's language."""
    if reason is None:
        return ""
    return _value_title(request, "lossreason", reason, reason.name)


def closing_stage(db, won: bool) -> Stage | None:
    """The active stage that wins (or loses) a deal: the first by position."""
    flag = Stage.is_won if won else Stage.is_lost
    return db.execute(
        select(Stage).where(flag.is_(True), Stage.active.is_(True))
        .order_by(Stage.position, Stage.id).limit(1)
    ).scalar_one_or_none()


def loss_reasons(db) -> list:
    from .models import LossReason

    return list(db.execute(
        select(LossReason).where(LossReason.active.is_(True))
        .order_by(LossReason.position, LossReason.id)
    ).scalars())


def stages(db, active_only: bool = False) -> list[Stage]:
    stmt = select(Stage).order_by(Stage.position, Stage.id)
    if active_only:
        stmt = stmt.where(Stage.active.is_(True))
    return list(db.execute(stmt).scalars())


def record_change(db, opportunity, from_id, to_id, user_id, at: dt.datetime | None = None):
    row = StageChange(
        opportunity_id=opportunity.id,
        from_stage_id=from_id,
        to_stage_id=to_id,
        at=at or utcnow(),
        user_id=user_id,
    )
    db.add(row)
    return row


@dataclass
class StageSpan:
    stage: Stage | None
    entered: dt.datetime
    left: dt.datetime | None
    user_id: int | None

    @property
    def days(self) -> Decimal:
        end = self.left or utcnow()
        return Decimal((end - self.entered).total_seconds() / 86400).quantize(Decimal("0.1"))

    @property
    def overdue(self) -> bool:
        expected = self.stage.expected_days if self.stage is not None else None
        return expected is not None and self.days > expected


def history(db, opportunity_id: int) -> list[StageSpan]:
    """The stages an opportunity went through, oldest first, with their time spans."""
    rows = db.execute(
        select(StageChange, Stage)
        .outerjoin(Stage, Stage.id == StageChange.to_stage_id)
        .where(StageChange.opportunity_id == opportunity_id)
        .order_by(StageChange.at, StageChange.id)
    ).all()
    spans = []
    for i, (change, stage) in enumerate(rows):
        left = rows[i + 1][0].at if i + 1 < len(rows) else None
        if stage is not None and (stage.is_won or stage.is_lost) and left is None:
            left = change.at  # a closed deal stops the clock
        spans.append(StageSpan(stage, change.at, left, change.user_id))
    return spans


def days_per_stage(spans: list[StageSpan]) -> dict[int, Decimal]:
    """Total days spent in each stage id (a deal may come back to a stage)."""
    out: dict[int, Decimal] = {}
    for s in spans:
        if s.stage is not None:
            out[s.stage.id] = out.get(s.stage.id, ZERO) + s.days
    return out


# --- the board ---------------------------------------------------------------------------


@dataclass
class BoardFilters:
    owner_id: int | None = None
    department_id: int | None = None
    close_from: dt.date | None = None
    close_to: dt.date | None = None

    def apply(self, stmt, department_members=None):
        if self.owner_id is not None:
            stmt = stmt.where(Opportunity.owner_id == self.owner_id)
        if department_members is not None:
            stmt = stmt.where(Opportunity.owner_id.in_(department_members))
        if self.close_from is not None:
            stmt = stmt.where(Opportunity.expected_close >= self.close_from)
        if self.close_to is not None:
            stmt = stmt.where(Opportunity.expected_close <= self.close_to)
        return stmt


@dataclass
class Column:
    stage: Stage
    title: str
    cards: list = field(default_factory=list)
    count: int = 0
    #: ``None`` when a field rule hides the amount (or probability) from the user
    total: Decimal | None = ZERO
    weighted: Decimal | None = ZERO


def board(request, filters: BoardFilters, members=None) -> tuple[list[Column], Converter]:
    """The board's columns: every active stage with its visible opportunities (the
    first :data:`CARDS_PER_COLUMN` by expected close) and totals of all of them.

    Two queries for the totals and the cards, whatever the number of stages."""
    db = request.dbsession
    cols = {s.id: Column(s, stage_title(request, s)) for s in stages(db, active_only=True)}
    conv = Converter(request)
    base = filters.apply(visible(request, "opportunity"), members)
    amount_shown = may_read(request, "amount")
    weighted_shown = may_read(request, "amount", "probability")
    totals = db.execute(
        base.with_only_columns(
            Opportunity.stage_id,
            Opportunity.amount_currency,
            func.count(Opportunity.id),
            func.sum(guard(request, Opportunity.amount, "amount")),
            func.sum(guard(request, Opportunity.amount * Opportunity.probability,
                           "amount", "probability")),
        ).group_by(Opportunity.stage_id, Opportunity.amount_currency)
    ).all()
    for stage_id, currency, n, amount, weighted in totals:
        col = cols.get(stage_id)
        if col is None:
            continue
        col.count += n
        col.total += conv(amount, currency)
        col.weighted += conv(Decimal(weighted or 0) / 100, currency)
    for col in cols.values():
        col.total = col.total if amount_shown else None
        col.weighted = col.weighted if weighted_shown else None
    ranked = (
        base.with_only_columns(
            Opportunity.id,
            func.row_number()
            .over(
                partition_by=Opportunity.stage_id,
                order_by=(Opportunity.expected_close.is_(None), Opportunity.expected_close,
                          Opportunity.id),
            )
            .label("rank"),
        )
        .where(Opportunity.stage_id.in_(list(cols)))
        .subquery()
    )
    cards = db.execute(
        select(Opportunity)
        .join(ranked, ranked.c.id == Opportunity.id)
        .where(ranked.c.rank <= CARDS_PER_COLUMN)
        .order_by(ranked.c.rank)
    ).scalars()
    for opp in cards:
        cols[opp.stage_id].cards.append(opp)
    return list(cols.values()), conv


def ensure_defaults(db) -> None:
    """Create the default stages and loss reasons when there are none (the migration
    seeds them; this restores them in an emptied database, e.g. demo or test data)."""
    from .models import LossReason

    if db.execute(select(func.count(Stage.id))).scalar_one() == 0:
        for i, (code, name, prob, days, won, lost) in enumerate(DEFAULT_STAGES):
            db.add(Stage(code=code, name=name, position=(i + 1) * 10, probability=prob,
                         expected_days=days, is_won=won, is_lost=lost, active=True))
    if db.execute(select(func.count(LossReason.id))).scalar_one() == 0:
        for i, name in enumerate(DEFAULT_LOSS_REASONS):
            db.add(LossReason(name=name, position=(i + 1) * 10, active=True))
    db.flush()
