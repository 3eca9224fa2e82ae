"""Tables of the workflow engine: edited workflows, transition events, approvals and
automation rules with their run log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kyklos.db import Base, IdMixin, JSONType, UTCDateTime, utcnow


class WorkflowOverride(IdMixin, Base):
    """An administrator's version of an entity type's workflow (wins over the declared
    one). ``version`` counts saves."""

    __tablename__ = "kyklos_workflow"

    entity: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    definition: Mapped[dict] = mapped_column(JSONType, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )


class WorkflowEvent(IdMixin, Base):
    """A transition that happened (the record's timeline shows these)."""

    __tablename__ = "kyklos_workflow_event"
    __table_args__ = (Index("ix_kyklos_workflow_event_record", "entity", "record_id"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    transition: Mapped[str] = mapped_column(String(100), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(100))
    to_state: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("kyklos_user.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approval_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class WorkflowStepDone(IdMixin, Base):
    """A step of a state's checklist ticked off for a record (WF-01). Entering the state
    again clears them: the checklist is done once per stay."""

    __tablename__ = "kyklos_workflow_step"
    __table_args__ = (UniqueConstraint("entity", "record_id", "state", "step"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(100), nullable=False)
    step: Mapped[str] = mapped_column(String(100), nullable=False)
    done_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    done_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"
OBSOLETE = "obsolete"  # the record left the transition's source state meanwhile
SKIPPED = "skipped"  # a step not needed any more ("any" level decided by someone else)


class ApprovalRequest(IdMixin, Base):
    """A transition waiting for approval, level by level."""

    __tablename__ = "kyklos_approval_request"
    __table_args__ = (Index("ix_kyklos_approval_request_record", "entity", "record_id"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    transition: Mapped[str] = mapped_column(String(100), nullable=False)
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=PENDING, index=True)
    #: the level now deciding (1-based)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    #: the approval spec as it was when requested (a later workflow edit does not change it)
    spec: Mapped[dict] = mapped_column(JSONType, nullable=False)
    #: field values sent with the transition, applied on approval
    data: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    steps: Mapped[list[ApprovalStep]] = relationship(
        back_populates="request",
        order_by="(ApprovalStep.level, ApprovalStep.id)",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class ApprovalStep(IdMixin, Base):
    """One approver's part in one level. ``decided_by_id`` differs from ``approver_id``
    when a deputy decided for the approver (delegation)."""

    __tablename__ = "kyklos_approval_step"
    __table_args__ = (
        UniqueConstraint("request_id", "level", "approver_id"),
        Index("ix_kyklos_approval_step_approver", "approver_id", "decision"),
    )

    request_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_approval_request.id", ondelete="CASCADE"), nullable=False
    )
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    approver_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False
    )
    decision: Mapped[str] = mapped_column(String(20), nullable=False, default=PENDING)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )

    request: Mapped[ApprovalRequest] = relationship(back_populates="steps")


class AutomationRule(IdMixin, Base):
    """trigger -> conditions -> actions, for one entity type."""

    __tablename__ = "kyklos_automation_rule"

    entity: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: {"kind": created|updated|field_changed|transition|time, ...}
    trigger: Mapped[dict] = mapped_column(JSONType, nullable=False)
    #: a filter in the ``field__op`` language, e.g. {"status__eq": "won"}
    conditions: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    #: [{"type": "set_field", ...}, ...]
    actions: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
    #: time triggers: due times up to here have been handed out
    scanned_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "entity": self.entity,
            "name": self.name,
            "enabled": self.enabled,
            "trigger": self.trigger,
            "conditions": self.conditions,
            "actions": self.actions,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


FIRED = "fired"
DONE = "done"
FAILED = "failed"


class AutomationRun(IdMixin, Base):
    """Why a rule fired or did not, for one event on one record. The unique key makes
    a rule fire at most once per event, however often the event is delivered."""

    __tablename__ = "kyklos_automation_run"
    __table_args__ = (
        UniqueConstraint("rule_id", "record_id", "event_key"),
        Index("ix_kyklos_automation_run_record", "entity", "record_id"),
    )

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_automation_rule.id", ondelete="CASCADE"), nullable=False
    )
    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    event_key: Mapped[str] = mapped_column(String(200), nullable=False)
    #: fired (actions queued) -> done | failed; or skipped
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    results: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    rule: Mapped[AutomationRule] = relationship(lazy="joined")

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "rule": self.rule.name if self.rule else None,
            "record_id": self.record_id,
            "event": self.event_key,
            "outcome": self.outcome,
            "reason": self.reason,
            "results": self.results,
            "job_id": self.job_id,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class WebhookSubscription(IdMixin, Base):
    """An outbound webhook: ``events`` (``"opportunity:created"``...) are POSTed as JSON
    to ``url``, signed with ``secret`` (HMAC-SHA256, header ``X-Kyklos-Signature``)."""

    __tablename__ = "kyklos_webhook"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    #: ["<entity type>:<created|updated|deleted>", ...]
    events: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: shown once, when the webhook is made; the receiver checks signatures with it
    secret: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )


class WebhookDelivery(IdMixin, Base):
    """One attempt to deliver an event (or a test) to a webhook, with its outcome."""

    __tablename__ = "kyklos_webhook_delivery"
    __table_args__ = (Index("ix_kyklos_webhook_delivery_webhook_at", "webhook_id", "created_at"),)

    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_webhook.id", ondelete="CASCADE"), nullable=False
    )
    #: "opportunity:created", or "test"
    event: Mapped[str] = mapped_column(String(150), nullable=False)
    record_id: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: the HTTP status the receiver answered, when it answered
    http_status: Mapped[int | None] = mapped_column(Integer)
    #: the exact reason of a failure (refused address, network error, the answer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
