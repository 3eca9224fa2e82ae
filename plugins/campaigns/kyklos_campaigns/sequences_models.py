"""Drip sequences and multi-channel campaigns (MKT-05, MKT-07, MKT-11): a sequence has
ordered steps (send an e-mail, send a message through a channel such as SMS, make a
letter, create a call or a meeting for the owner, wait, check a condition); the people
of a target list are enrolled and each advances through the steps on durable timers
(``next_at``, read by the ``campaigns.sequences.advance`` job).

``StepRun`` is the guarantee that a step never runs twice for one person: one row per
(enrolment, step), inserted in the transaction that does the step's work."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin, IdMixin, RelatedList, SoftDeleteMixin, UTCDateTime

from . import _

SEQUENCE_STATUSES = [
    ("draft", _("Draft")),
    ("running", _("Running")),
    ("paused", _("Paused")),
]
STEP_KINDS = [
    ("email", _("Send an e-mail")),
    ("message", _("Send a text message")),
    ("letter", _("Make a letter")),
    ("call", _("Create a call for the owner")),
    ("meeting", _("Create a meeting for the owner")),
    ("wait", _("Wait")),
    ("condition", _("Check a condition")),
]
#: the steps that send something to the person (a campaign of their own carries them)
MESSAGE_KINDS = ("email", "message", "letter")
WAIT_UNITS = [("hours", _("Hours")), ("days", _("Days"))]
CONDITIONS = [
    ("opened", _("opened the previous message")),
    ("clicked", _("clicked a link in the previous message")),
    ("responded", _("responded to the previous message")),
    ("not_opened", _("did not open the previous message")),
    ("not_clicked", _("did not click a link in the previous message")),
    ("not_responded", _("did not respond to the previous message")),
]
OTHERWISE = [("stop", _("Stop the sequence for the person")), ("jump", _("Go to a later step"))]
ENROLMENT_STATES = [
    ("active", _("In progress")),
    ("done", _("Finished")),
    ("stopped", _("Stopped by a condition")),
]
RUN_OUTCOMES = [
    ("done", _("Done")),
    ("yes", _("Condition met")),
    ("no", _("Condition not met")),
    ("skipped", _("Skipped")),
    ("failed", _("Failed")),
]


class Sequence(EntityMixin, SoftDeleteMixin, Base):
    """A drip sequence: the people of a target list, each through the same steps."""

    __tablename__ = "campaigns_sequence"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_targetlist.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft", index=True)
    throttle_per_minute: Mapped[int] = mapped_column(Integer, nullable=False, default=600)
    description: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the user the steps run as (their record rules and field permissions apply)
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )


class SequenceStep(EntityMixin, Base):
    """One step. Which fields count depends on ``kind`` (the validation says so)."""

    __tablename__ = "campaigns_sequencestep"

    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_sequence.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(12), nullable=False, default="email")
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_template.id", ondelete="RESTRICT"), index=True
    )
    letter_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_lettertemplate.id", ondelete="RESTRICT"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(300))
    due_days: Mapped[int | None] = mapped_column(Integer)
    wait_amount: Mapped[int | None] = mapped_column(Integer)
    wait_unit: Mapped[str | None] = mapped_column(String(10))
    condition: Mapped[str | None] = mapped_column(String(20))
    otherwise: Mapped[str | None] = mapped_column(String(10))
    jump_step_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_sequencestep.id", ondelete="SET NULL")
    )
    #: the campaign that carries this step's messages (tracking, results, outbox)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_campaign.id", ondelete="SET NULL"), index=True
    )


class Enrolment(EntityMixin, Base):
    """A person in a sequence: the step they are at and when it runs (``next_at``)."""

    __tablename__ = "campaigns_enrolment"
    __table_args__ = (UniqueConstraint("sequence_id", "person_id", name="campaigns_enrol_once"),)

    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_sequence.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(250), nullable=False, default="")
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="active", index=True)
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_sequencestep.id", ondelete="SET NULL"), index=True
    )
    next_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class StepRun(IdMixin, Base):
    """A step done for one person (once: unique per enrolment and step)."""

    __tablename__ = "campaigns_steprun"
    __table_args__ = (UniqueConstraint("enrolment_id", "step_id", name="campaigns_steprun_once"),)

    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_sequence.id", ondelete="CASCADE"), nullable=False, index=True
    )
    step_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_sequencestep.id", ondelete="CASCADE"), nullable=False, index=True
    )
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_enrolment.id", ondelete="CASCADE"), nullable=False
    )
    person_id: Mapped[int] = mapped_column(Integer, nullable=False)
    ran_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)
    detail: Mapped[str | None] = mapped_column(String(500))


def includeme(config):
    config.add_entity_type(
        Sequence,
        "sequence",
        title=_("Sequence"),
        plural=_("Sequences"),
        slug="sequences",
        title_field="name",
        subtitle_field="status",
        primary_filters=("name", "status", "list_id"),
        list_columns=("name", "status", "list_id", "started_at", "owner_id"),
        filters=("name", "status", "list_id", "started_at", "owner_id"),
        sort=("name", "started_at", "created_at"),
        search=("name",),
        readonly=("status", "started_at", "started_by_id"),
        fields={
            "name": {"title": _("Name")},
            "list_id": {"title": _("Target list")},
            "status": {"title": _("Status"), "type": "choice", "choices": SEQUENCE_STATUSES},
            "throttle_per_minute": {
                "title": _("E-mails per minute"),
                "default": 600,
                "grouping": False,
            },
            "description": {"title": _("Description")},
            "started_at": {"title": _("Started at")},
            "started_by_id": {"title": _("Started by"), "form": False},
        },
        related=(
            RelatedList(
                "sequencestep",
                "sequence_id",
                _("Steps"),
                ("position", "name", "kind"),
            ),
            RelatedList(
                "sequenceenrolment",
                "sequence_id",
                _("Enrolled people"),
                ("person_id", "state", "step_id", "next_at"),
            ),
        ),
        default_sort="-created_at",
        menu_order=61,
        icon="signpost-split",
    )
    config.add_entity_type(
        SequenceStep,
        "sequencestep",
        title=_("Sequence step"),
        plural=_("Sequence steps"),
        slug="sequence-steps",
        title_field="name",
        subtitle_field="sequence_id",
        list_columns=("sequence_id", "position", "name", "kind"),
        filters=("sequence_id", "kind"),
        sort=("position", "name"),
        default_sort="position",
        search=("name",),
        # a part of another record: its own list finds it, global search leaves it out
        global_search=False,
        readonly=("campaign_id",),
        fields={
            "sequence_id": {"title": _("Sequence")},
            "position": {
                "title": _("Order"),
                "description": _("Steps run in this order; empty: after the last one."),
                "grouping": False,
            },
            "name": {
                "title": _("Name"),
                "description": _("Empty: the kind of step."),
            },
            "kind": {"title": _("Step"), "type": "choice", "choices": STEP_KINDS},
            "template_id": {
                "title": _("E-mail template"),
                "description": _("For an e-mail step."),
            },
            "letter_template_id": {
                "title": _("Letter template"),
                "description": _("For a letter step."),
            },
            "channel": {
                "title": _("Channel"),
                "type": "choice",
                "choices": [],
                "description": _("For a text message step."),
            },
            "message": {
                "title": _("Message"),
                "description": _(
                    "For a text message step. Merge fields: "
                    '{{ first_name | default("customer") }}, {{ full_name }}, {{ coupon }}.'
                ),
            },
            "subject": {
                "title": _("Subject"),
                "description": _("For a call or a meeting: what it is about."),
            },
            "due_days": {
                "title": _("Due after (days)"),
                "description": _("For a call or a meeting: days after the step runs."),
            },
            "wait_amount": {"title": _("Wait for"), "description": _("For a wait step.")},
            "wait_unit": {"title": _("Unit"), "type": "choice", "choices": WAIT_UNITS},
            "condition": {
                "title": _("Go on if the person"),
                "type": "choice",
                "choices": CONDITIONS,
                "description": _(
                    "For a condition: checked on the nearest e-mail or text message "
                    "before it. Put a wait before it to give people time."
                ),
            },
            "otherwise": {
                "title": _("Otherwise"),
                "type": "choice",
                "choices": OTHERWISE,
            },
            "jump_step_id": {
                "title": _("Later step to go to"),
                "description": _("When the condition is not met and it says so."),
            },
            "campaign_id": {"title": _("Campaign of its messages")},
        },
        menu_group=None,
        icon="signpost",
    )
    config.add_entity_type(
        Enrolment,
        "sequenceenrolment",
        title=_("Enrolled person"),
        plural=_("Enrolled people"),
        slug="sequence-enrolments",
        title_field="name",
        subtitle_field="sequence_id",
        primary_filters=("sequence_id", "state"),
        list_columns=("sequence_id", "person_id", "state", "step_id", "next_at"),
        filters=("sequence_id", "person_id", "state", "step_id", "next_at"),
        sort=("name", "next_at", "state"),
        search=("name",),
        # a part of another record: its own list finds it, global search leaves it out
        global_search=False,
        readonly=("name", "state", "step_id", "next_at", "finished_at"),
        fields={
            "sequence_id": {"title": _("Sequence")},
            "person_id": {"title": _("Person")},
            "name": {"title": _("Name")},
            "state": {"title": _("State"), "type": "choice", "choices": ENROLMENT_STATES},
            "step_id": {"title": _("Next step"), "display": "sequence_step"},
            "next_at": {"title": _("Next step at")},
            "finished_at": {"title": _("Finished at")},
        },
        menu_group=None,
        icon="person-walking",
    )

    def offer_channels():
        """The message channels of ``kyklos_message_channels`` (SMS...), e-mail aside:
        an e-mail step has its own kind."""
        from kyklos_sdk import collect

        field = config.registry.kyklos_entities["sequencestep"].fields["channel"]
        found = collect(config.registry.kyklos_pm, "kyklos_message_channels")
        field.choices = [
            (ch.id, ch.title)
            for ch in found
            if getattr(ch, "id", None) not in (None, "email", "letter")
        ]

    config.action(("campaigns.sequence.channels",), offer_channels, order=20)
