"""The SMS plugin's tables: the gateway's settings (one row) and the messages, sent and
received (an entity type written only by the plugin: the outbox is its queued rows)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin, IdMixin, UTCDateTime, utcnow

from . import _

STATES = [
    ("queued", _("Waiting to be sent")),
    ("sending", _("Being sent")),
    ("sent", _("Sent")),
    ("delivered", _("Delivered")),
    ("failed", _("Failed")),
    ("received", _("Received")),
]
DIRECTIONS = [("out", _("Outgoing")), ("in", _("Incoming"))]
ENCODINGS = [("gsm7", _("GSM 7-bit")), ("ucs2", _("Unicode (UCS-2)"))]
SOURCES = [
    ("manual", _("Written by hand")),
    # through the message channel: greetings of the occasions engine, automation rules
    ("channel", _("Greeting or automation rule")),
    ("api", _("API")),
    ("gateway", _("Gateway")),
]


class Gateway(IdMixin, Base):
    """The Jasmin gateway, spoken to through its HTTP API. One row; the password is
    encrypted under the deployment's keys (the SDK's ``encrypt_secret``)."""

    __tablename__ = "sms_gateway"

    url: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    username: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    password_secret: Mapped[str] = mapped_column(Text, nullable=False, default="")
    sender: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    #: messages handed to the gateway per minute at most (the operator's contract)
    per_minute: Mapped[int] = mapped_column(Integer, nullable=False, default=60)
    #: where the gateway reaches this site for receipts and inbound messages
    callback_base: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: the secret part of the inbound-message URL given to the gateway
    inbound_token: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SmsMessage(EntityMixin, Base):
    """One SMS: outbound ones go queued → sending → sent → delivered (or failed);
    inbound ones are "received"."""

    __tablename__ = "sms_message"
    __table_args__ = (
        Index("ix_sms_message_state", "state", "id"),
        Index("ix_sms_message_gateway", "gateway_id"),
    )

    direction: Mapped[str] = mapped_column(String(3), nullable=False, default="out")
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    #: the other end in E.164 (the recipient, or the sender of an inbound message)
    number: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    encoding: Mapped[str] = mapped_column(String(4), nullable=False, default="gsm7")
    parts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    source: Mapped[str] = mapped_column(String(10), nullable=False, default="manual")
    #: the gateway's id of the message (receipts name it)
    gateway_id: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    #: the secret part of this message's receipt URL
    token: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when a worker took it (set, with state "sending", before the gateway is called)
    sending_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def includeme(config):
    readonly = (
        "direction", "state", "number", "person_id", "body", "encoding", "parts", "source",
        "gateway_id", "error", "queued_at", "sending_at", "sent_at", "delivered_at",
    )  # fmt: skip
    config.add_entity_type(
        SmsMessage,
        "smsmessage",
        title=_("SMS"),
        plural=_("SMS messages"),
        slug="sms-messages",
        title_field="body",
        subtitle_field="number",
        list_columns=("queued_at", "direction", "person_id", "number", "body", "state"),
        filters=("direction", "state", "person_id", "number", "source", "queued_at"),
        sort=("queued_at", "sent_at", "state"),
        default_sort="-queued_at",
        search=("number", "body"),
        readonly=readonly,
        fields={
            "direction": {"title": _("Direction"), "type": "choice", "choices": DIRECTIONS},
            "state": {"title": _("State"), "type": "choice", "choices": STATES},
            "number": {"title": _("Number"), "type": "phone"},
            "person_id": {"title": _("Person")},
            "body": {"title": _("Message"), "type": "text"},
            "encoding": {"title": _("Encoding"), "type": "choice", "choices": ENCODINGS},
            "parts": {"title": _("Parts"), "grouping": False},
            "source": {"title": _("Source"), "type": "choice", "choices": SOURCES},
            "gateway_id": {"title": _("Gateway's message id"), "form": False},
            "error": {"title": _("Reason")},
            "queued_at": {"title": _("Queued")},
            "sending_at": {"title": _("Handed to the gateway"), "form": False},
            "sent_at": {"title": _("Sent")},
            "delivered_at": {"title": _("Delivered")},
            "token": {"internal": True},
        },
        icon="chat-text",
        menu_group=_("SMS"),
        menu_order=75,
    )
