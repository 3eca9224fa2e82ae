"""The campaigns' entity types: target lists (a segment of people, a channel, a frozen
member snapshot or a dynamic list), their members, the suppression list, e-mail
templates, campaigns, and the recipients of a campaign (the outbox: one row per
campaign and person, carrying delivery, tracking and the person's response)."""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin, IdMixin, RelatedList, SoftDeleteMixin, UTCDateTime

from . import _

#: consent channels of the contacts plugin a list can be checked against
LIST_CHANNELS = [("email", _("E-mail")), ("sms", _("SMS"))]
KINDS = [("static", _("Static (frozen members)")), ("dynamic", _("Dynamic (evaluated at send)"))]
LANGUAGES = [("en", _("English")), ("el", _("Greek")), ("ro", _("Romanian")), ("pl", _("Polish"))]
STATUSES = [
    ("draft", _("Draft")),
    ("scheduled", _("Scheduled")),
    ("sending", _("Sending")),
    ("sent", _("Completed")),
]
STATES = [
    ("queued", _("Queued")),
    ("sending", _("Sending")),
    ("sent", _("Sent")),
    ("failed", _("Failed")),
    ("bounced", _("Bounced")),
]
RESPONSES = [
    ("accepted", _("Accepted")),
    ("interested", _("Interested")),
    ("refused", _("Refused")),
    ("replied", _("Replied by e-mail")),
]
#: how a response came (empty: recorded by hand or by reply)
RESPONSE_SOURCES = [("landing", _("On the response page"))]
#: the answers a recipient may give on the response page
LANDING_RESPONSES = ("accepted", "interested", "refused")


class TargetList(EntityMixin, SoftDeleteMixin, Base):
    """Who a campaign reaches: the people of a segment (or the people of a segment of
    accounts). ``static``: the members are frozen when the list is built; ``dynamic``:
    the segment is evaluated again when a campaign is sent. The counts are those of
    the last build."""

    __tablename__ = "campaigns_targetlist"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_segment.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="static")
    channel: Mapped[str] = mapped_column(String(10), nullable=False, default="email")
    description: Mapped[str | None] = mapped_column(Text)
    built_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    member_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_consent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_duplicate: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_suppressed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_no_address: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class TargetMember(EntityMixin, Base):
    """A person of a static list, with the address the list will use."""

    __tablename__ = "campaigns_member"
    __table_args__ = (UniqueConstraint("list_id", "person_id", name="campaigns_member_once"),)

    list_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_targetlist.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    address: Mapped[str] = mapped_column(String(254), nullable=False)
    #: the person's name when added: the member's title in lists
    name: Mapped[str] = mapped_column(String(250), nullable=False, default="")


class Suppression(EntityMixin, Base):
    """An address never to send to (a complaint, a hard bounce, a legal request),
    whatever the person's consent says."""

    __tablename__ = "campaigns_suppression"

    address: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    reason: Mapped[str | None] = mapped_column(String(250))


class EmailTemplate(EntityMixin, SoftDeleteMixin, Base):
    """An e-mail in one language. Templates of the same ``name`` are the language
    versions of one message: each recipient gets the one in their language."""

    __tablename__ = "campaigns_template"
    __table_args__ = (UniqueConstraint("name", "language", name="campaigns_template_lang"),)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    subject: Mapped[str] = mapped_column(String(250), nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_text: Mapped[str | None] = mapped_column(Text)


class LetterTemplate(EntityMixin, SoftDeleteMixin, Base):
    """A letter for post in one language: a Word document (.docx) whose merge fields are
    Jinja placeholders. Like e-mail templates, those of the same ``name`` are the
    language versions of one letter. The document itself is in
    :class:`LetterTemplateFile` (bytes have no place in the record's API and forms)."""

    __tablename__ = "campaigns_lettertemplate"
    __table_args__ = (UniqueConstraint("name", "language", name="campaigns_letter_lang"),)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    filename: Mapped[str] = mapped_column(String(250), nullable=False, default="")
    #: the merge fields the document uses, comma-separated (shown on the record)
    merge_fields: Mapped[str | None] = mapped_column(Text)


class LetterTemplateFile(IdMixin, Base):
    """The .docx of a letter template (one per template; an upload replaces it)."""

    __tablename__ = "campaigns_letterfile"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_lettertemplate.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    )
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class LetterRun(IdMixin, Base):
    """The letters of a letter campaign, made by the ``campaigns.letters`` job: a ZIP of
    one document per recipient (.docx, or PDF when asked and LibreOffice is there) and
    a CSV of their postal addresses for the envelopes. Both live in the core's file
    storage (``archive_key``, ``csv_key``), never in this row: 20 000 letters are far
    too many bytes for memory or the database. The row is made when the job is queued
    (``finished_at`` empty: the page follows ``job_id``'s progress); the last finished
    run of a campaign is the one offered for download."""

    __tablename__ = "campaigns_letterrun"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_campaign.id", ondelete="CASCADE"), nullable=False, index=True
    )
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: "docx" or "pdf": the documents in the ZIP
    format: Mapped[str] = mapped_column(
        String(4), nullable=False, default="docx", server_default="docx"
    )
    recipients: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    documents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_consent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_duplicate: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_suppressed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_no_address: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: stored files (``kyklos_sdk.StoredFile`` keys) and the ZIP's size in bytes
    archive_key: Mapped[str | None] = mapped_column(String(64))
    archive_size: Mapped[int | None] = mapped_column(BigInteger)
    csv_key: Mapped[str | None] = mapped_column(String(64))


class LandingHit(IdMixin, Base):
    """One post of a campaign's public response form, by client address: the rate limit
    (as web-to-lead's), counted in its own short transaction so a refused post counts."""

    __tablename__ = "campaigns_landinghit"

    client: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class Campaign(EntityMixin, SoftDeleteMixin, Base):
    """One send of a template to a target list on a channel, at a time, throttled."""

    __tablename__ = "campaigns_campaign"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_targetlist.id", ondelete="RESTRICT"), index=True
    )
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_template.id", ondelete="RESTRICT"), index=True
    )
    #: the letter of a campaign on the "letter" channel
    letter_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns_lettertemplate.id", ondelete="RESTRICT"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20), nullable=False, default="email")
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    throttle_per_minute: Mapped[int] = mapped_column(Integer, nullable=False, default=600)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft", index=True)
    cost: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 2))
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    excluded_consent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_duplicate: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_suppressed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    excluded_no_address: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Recipient(EntityMixin, Base):
    """The outbox: one row per (campaign, person). ``state`` moves queued -> sending ->
    sent (or failed), and from sent to bounced when a hard bounce comes back (a soft
    bounce is only counted: the receiving server keeps trying); the Message-ID is
    derived from the row, so a message re-sent after a crash is recognisably the same
    message."""

    __tablename__ = "campaigns_recipient"
    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id", name="campaigns_recipient_once"),
    )

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_campaign.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    address: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str] = mapped_column(String(250), nullable=False, default="")
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    bounced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: delays and temporary refusals reported for the message (not a failure yet)
    soft_bounces: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    clicked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    response: Mapped[str | None] = mapped_column(String(12), index=True)
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: what the recipient wrote with the response on the campaign's response page
    response_message: Mapped[str | None] = mapped_column(Text)
    #: "landing" when the recipient answered on the response page themselves
    response_source: Mapped[str | None] = mapped_column(String(12))
    #: the lead created from the response, when the sfa plugin is present
    lead_id: Mapped[int | None] = mapped_column(Integer)


def includeme(config):
    from .views import targetlist_schema

    config.add_entity_type(
        TargetList,
        "targetlist",
        schema=targetlist_schema,
        title=_("Target list"),
        plural=_("Target lists"),
        slug="target-lists",
        title_field="name",
        subtitle_field="channel",
        primary_filters=("name", "kind", "channel"),
        list_columns=("name", "kind", "channel", "member_count", "built_at"),
        filters=("name", "kind", "channel", "segment_id", "built_at"),
        sort=("name", "built_at", "member_count"),
        search=("name",),
        readonly=(
            "built_at",
            "member_count",
            "excluded_consent",
            "excluded_duplicate",
            "excluded_suppressed",
            "excluded_no_address",
        ),
        fields={
            "name": {"title": _("Name")},
            "segment_id": {
                "title": _("Segment"),
                "type": "integer",
                "display": "campaign_segment",
                "description": _("A saved segment of people or of accounts (their people)."),
            },
            "kind": {"title": _("Kind"), "type": "choice", "choices": KINDS, "default": "static"},
            "channel": {
                "title": _("Consent channel"),
                "type": "choice",
                "choices": LIST_CHANNELS,
                "default": "email",
            },
            "description": {"title": _("Description")},
            "built_at": {"title": _("Built at")},
            "member_count": {"title": _("Members")},
            "excluded_consent": {"title": _("Excluded: no consent")},
            "excluded_duplicate": {"title": _("Excluded: duplicates")},
            "excluded_suppressed": {"title": _("Excluded: suppressed")},
            "excluded_no_address": {"title": _("Excluded: no address")},
        },
        related=(RelatedList("campaignmember", "list_id", _("Members"), ("person_id", "address")),),
        menu_order=60,
        icon="people",
    )
    config.add_entity_type(
        TargetMember,
        "campaignmember",
        title=_("List member"),
        plural=_("List members"),
        slug="target-list-members",
        title_field="name",
        subtitle_field="address",
        list_columns=("list_id", "person_id", "address"),
        filters=("list_id", "person_id", "address"),
        sort=("name", "address"),
        search=("name", "address"),
        # a part of another record: its own list finds it, global search leaves it out
        global_search=False,
        readonly=("name",),
        fields={
            "list_id": {"title": _("Target list")},
            "person_id": {"title": _("Person")},
            "address": {"title": _("Address")},
            "name": {"title": _("Name")},
        },
        menu_group=None,
        icon="person",
    )
    config.add_entity_type(
        Suppression,
        "suppression",
        title=_("Suppressed address"),
        plural=_("Suppression list"),
        slug="suppressions",
        title_field="address",
        list_columns=("address", "reason", "created_at"),
        filters=("address", "created_at"),
        sort=("address", "created_at"),
        search=("address", "reason"),
        # a part of another record: its own list finds it, global search leaves it out
        global_search=False,
        fields={
            "address": {
                "title": _("Address"),
                "description": _("An e-mail address or a phone number."),
            },
            "reason": {"title": _("Reason")},
        },
        menu_order=63,
        icon="slash-circle",
    )
    config.add_entity_type(
        EmailTemplate,
        "emailtemplate",
        title=_("E-mail template"),
        plural=_("E-mail templates"),
        slug="campaign-templates",
        title_field="name",
        subtitle_field="language",
        primary_filters=("name", "language"),
        list_columns=("name", "language", "subject", "updated_at"),
        filters=("name", "language"),
        sort=("name", "language", "updated_at"),
        search=("name", "subject"),
        fields={
            "name": {
                "title": _("Name"),
                "description": _(
                    "Templates of the same name are the language versions of one message."
                ),
            },
            "language": {
                "title": _("Language"),
                "type": "choice",
                "choices": LANGUAGES,
                "default": "en",
            },
            "subject": {"title": _("Subject")},
            "body_html": {
                "title": _("Body"),
                "type": "richtext",
                # designed newsletters (tables, images) are pasted as HTML source
                "html_source": True,
                "description": _(
                    'Merge fields: {{ first_name | default("customer") }}, {{ last_name }}, '
                    "{{ full_name }}, {{ salutation }}, {{ account }}, {{ email }}."
                ),
            },
            "body_text": {
                "title": _("Plain-text part"),
                "description": _("Empty: made from the HTML body."),
            },
        },
        menu_order=62,
        icon="envelope-paper",
    )
    config.add_entity_type(
        LetterTemplate,
        "lettertemplate",
        title=_("Letter template"),
        plural=_("Letter templates"),
        slug="letter-templates",
        title_field="name",
        subtitle_field="language",
        primary_filters=("name", "language"),
        list_columns=("name", "language", "filename", "updated_at"),
        filters=("name", "language"),
        sort=("name", "language", "updated_at"),
        search=("name", "filename"),
        # the document comes with an upload (checked there): the fields it makes
        # are not typed
        readonly=("filename", "merge_fields"),
        fields={
            "name": {
                "title": _("Name"),
                "description": _(
                    "Templates of the same name are the language versions of one letter."
                ),
            },
            "language": {
                "title": _("Language"),
                "type": "choice",
                "choices": LANGUAGES,
                "default": "en",
            },
            "filename": {"title": _("Word document")},
            "merge_fields": {"title": _("Merge fields used")},
        },
        menu_order=62,
        icon="file-earmark-word",
    )
    config.add_entity_type(
        Campaign,
        "campaign",
        title=_("Campaign"),
        plural=_("Campaigns"),
        slug="campaigns",
        title_field="name",
        subtitle_field="status",
        primary_filters=("name", "status", "channel", "list_id"),
        list_columns=("name", "status", "channel", "list_id", "scheduled_at", "owner_id"),
        filters=("name", "status", "channel", "list_id", "template_id", "scheduled_at", "owner_id"),
        sort=("name", "scheduled_at", "created_at", "status"),
        search=("name",),
        readonly=(
            "status",
            "started_at",
            "finished_at",
            "excluded_consent",
            "excluded_duplicate",
            "excluded_suppressed",
            "excluded_no_address",
        ),
        fields={
            "name": {"title": _("Name")},
            "list_id": {"title": _("Target list")},
            "template_id": {"title": _("E-mail template")},
            "letter_template_id": {
                "title": _("Letter template"),
                "description": _("For the letter channel: a Word document to print and post."),
            },
            "channel": {
                "title": _("Channel"),
                "type": "choice",
                "choices": [("email", _("E-mail")), ("letter", _("Letter"))],
                "default": "email",
            },
            "scheduled_at": {
                "title": _("Send at"),
                "description": _("Empty: as soon as it is sent."),
            },
            "throttle_per_minute": {
                "title": _("Messages per minute"),
                "default": 600,
                "grouping": False,
            },
            "status": {"title": _("Status"), "type": "choice", "choices": STATUSES},
            "cost": {"title": _("Cost")},
            "started_at": {"title": _("Started at")},
            "finished_at": {"title": _("Finished at")},
            "excluded_consent": {"title": _("Excluded: no consent")},
            "excluded_duplicate": {"title": _("Excluded: duplicates")},
            "excluded_suppressed": {"title": _("Excluded: suppressed")},
            "excluded_no_address": {"title": _("Excluded: no address")},
        },
        related=(
            RelatedList(
                "campaignrecipient",
                "campaign_id",
                _("Recipients"),
                ("person_id", "address", "state", "opened_at", "clicked_at", "response"),
            ),
        ),
        default_sort="-created_at",
        menu_order=61,
        icon="megaphone",
    )
    config.add_entity_type(
        Recipient,
        "campaignrecipient",
        title=_("Campaign recipient"),
        plural=_("Campaign recipients"),
        slug="campaign-recipients",
        title_field="name",
        subtitle_field="campaign_id",
        primary_filters=("campaign_id", "state", "response"),
        list_columns=("campaign_id", "person_id", "address", "state", "response"),
        filters=(
            "campaign_id",
            "person_id",
            "address",
            "state",
            "response",
            "sent_at",
            "bounced_at",
            "opened_at",
            "clicked_at",
            "unsubscribed_at",
        ),
        sort=("name", "sent_at", "state", "response"),
        search=("name", "address"),
        # a part of another record: its own list finds it, global search leaves it out
        global_search=False,
        readonly=(
            "campaign_id",
            "person_id",
            "address",
            "name",
            "state",
            "attempts",
            "claimed_at",
            "message_id",
            "error",
            "sent_at",
            "bounced_at",
            "soft_bounces",
            "opened_at",
            "clicked_at",
            "unsubscribed_at",
            "responded_at",
            "response_source",
            "lead_id",
        ),
        fields={
            "campaign_id": {"title": _("Campaign")},
            "person_id": {"title": _("Person")},
            "address": {"title": _("Address")},
            "name": {"title": _("Name")},
            "state": {"title": _("Delivery"), "type": "choice", "choices": STATES},
            "attempts": {"title": _("Attempts")},
            "claimed_at": {"title": _("Claimed at"), "form": False},
            "message_id": {"title": _("Message-ID")},
            "error": {"title": _("Error")},
            "sent_at": {"title": _("Sent at")},
            "bounced_at": {"title": _("Bounced at")},
            "soft_bounces": {
                "title": _("Soft bounces"),
                "description": _("Delays and temporary refusals reported for the message."),
            },
            "opened_at": {"title": _("Opened at")},
            "clicked_at": {"title": _("Clicked at")},
            "unsubscribed_at": {"title": _("Unsubscribed at")},
            "response": {"title": _("Response"), "type": "choice", "choices": RESPONSES},
            "responded_at": {"title": _("Responded at")},
            "response_message": {"title": _("Message with the response"), "type": "text"},
            "response_source": {
                "title": _("Response given"),
                "type": "choice",
                "choices": RESPONSE_SOURCES,
            },
            "lead_id": {"title": _("Lead"), "form": False},
        },
        menu_group=None,
        icon="envelope-check",
    )

    def offer_channels():
        """The channel drop-down: e-mail and what ``kyklos_message_channels`` offers
        (the sms plugin's "sms"...), known once every plugin's hooks are registered."""
        from kyklos_sdk import collect

        field = config.registry.kyklos_entities["campaign"].fields["channel"]
        found = collect(config.registry.kyklos_pm, "kyklos_message_channels")
        extra = [
            (ch.id, ch.title) for ch in found if getattr(ch, "id", None) not in (None, "email")
        ]
        extra = [c for c in extra if c[0] != "letter"]
        field.choices = [("email", _("E-mail")), ("letter", _("Letter")), *extra]

    # after the entity types (order 10) and every plugin's hooks are registered
    config.action(("campaigns.channels",), offer_channels, order=20)
