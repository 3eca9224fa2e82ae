"""The mail plugin's tables: mailboxes (an entity type), the messages fetched or sent
(an entity type, written only by the plugin), the ledger that accounts for every UID of
a mailbox (D6), and the filings that tie a message to the records it is about."""

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
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    LANGUAGES,
    Base,
    EntityMixin,
    IdMixin,
    JSONType,
    RelatedList,
    UTCDateTime,
    utcnow,
)

from . import _

KINDS = [("personal", _("Personal")), ("shared", _("Shared"))]
SECURITY = [("ssl", _("SSL/TLS")), ("starttls", _("STARTTLS")), ("none", _("None (plain)"))]
STATES = [
    ("new", _("Not checked yet")),
    ("ok", _("Working")),
    ("failing", _("Failing")),
    ("paused", _("Paused")),
]
OUTCOMES = [
    ("filed", _("Filed")),
    ("unmatched", _("Kept, no record matched")),
    ("ignored", _("Ignored by a rule")),
    ("failed", _("Failed")),
    # reports about mail sent earlier (bounces.py): accounted for, filed to nobody
    ("bounce", _("Bounce (not delivered)")),
    ("complaint", _("Spam complaint")),
]
DIRECTIONS = [("in", _("Received")), ("out", _("Sent"))]


class Mailbox(EntityMixin, Base):
    """A personal (its owner's) or shared mailbox: IMAP to read, SMTP to send. The
    password is kept encrypted (``password_secret``), set apart from the record
    (``PUT /api/v1/mailboxes/{id}/password``) so it is never in a form, the API or history."""

    __tablename__ = "mail_mailbox"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    address: Mapped[str] = mapped_column(String(254), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="personal")
    imap_host: Mapped[str] = mapped_column(String(200), nullable=False)
    imap_port: Mapped[int] = mapped_column(Integer, nullable=False, default=993)
    imap_security: Mapped[str] = mapped_column(String(10), nullable=False, default="ssl")
    username: Mapped[str] = mapped_column(String(254), nullable=False)
    password_secret: Mapped[str] = mapped_column(Text, nullable=False, default="")
    folder: Mapped[str] = mapped_column(String(200), nullable=False, default="INBOX")
    smtp_host: Mapped[str | None] = mapped_column(String(200))
    smtp_port: Mapped[int] = mapped_column(Integer, nullable=False, default=587)
    smtp_security: Mapped[str] = mapped_column(String(10), nullable=False, default="starttls")
    #: the drop-box: what users BCC or forward to their ``local+token@`` address here
    #: is filed as theirs (:mod:`.dropbox`)
    dropbox: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: a message from an unknown address is filed to the account whose domain it is
    file_by_domain: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: what arrives opens a case or joins the one its subject names (support@): the
    #: plugin implementing ``kyklos_mail_support_message`` does it, as the owner
    support: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="new")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the IMAP folder's UIDVALIDITY the ledger's UIDs belong to
    uidvalidity: Mapped[int | None] = mapped_column(Integer)
    #: the highest UID accounted for in the ledger (the incremental fetch's cursor)
    last_uid: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Message(EntityMixin, Base):
    """One e-mail, received through a mailbox or sent from Kyklos."""

    __tablename__ = "mail_message"
    __table_args__ = (Index("ix_mail_message_msgid", "message_id"),)

    mailbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_mailbox.id", ondelete="SET NULL"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3), nullable=False, default="in")
    message_id: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    in_reply_to: Mapped[str | None] = mapped_column(String(300))
    references: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: the Message-ID of the thread's first message Kyklos knows
    thread_key: Mapped[str] = mapped_column(String(300), nullable=False, default="", index=True)
    subject: Mapped[str] = mapped_column(String(998), nullable=False, default="")
    sender: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    recipients: Mapped[str] = mapped_column(Text, nullable=False, default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    body_text: Mapped[str | None] = mapped_column(Text)
    #: HTML already sanitised (nh3) when stored
    body_html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: a personal mailbox's messages are seen by its owner only
    private: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: the mailbox rule that applied when it arrived
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_rule.id", ondelete="SET NULL"), index=True
    )
    #: a received message's headers (lower-case name -> decoded text), for the rules'
    #: header conditions and their test
    headers: Mapped[dict | None] = mapped_column(JSONType)
    #: opens and clicks of a sent message, only when its writer asked for tracking
    #: (off by default, and only where the site allows it: ``kyklos.mail.tracking``);
    #: ``track_key`` is the random key the signed pixel and links name
    track_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    clicked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    clicks: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


ATTACHMENT_CONDITIONS = [("yes", _("Has attachments")), ("no", _("Has no attachments"))]
HEADER_OPS = [
    ("contains", _("contains")),
    ("equals", _("is exactly")),
    ("present", _("is present")),
]


class Rule(EntityMixin, Base):
    """A mailbox rule (ACT-15): conditions on what arrives (all that are given must
    hold; empty ones match anything) and what then happens. Rules are tried from the
    lowest position up; the first that matches applies, and the message shows it."""

    __tablename__ = "mail_rule"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    mailbox_id: Mapped[int] = mapped_column(
        ForeignKey("mail_mailbox.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    from_contains: Mapped[str | None] = mapped_column(String(254))
    to_contains: Mapped[str | None] = mapped_column(String(254))
    subject_contains: Mapped[str | None] = mapped_column(String(200))
    has_attachment: Mapped[str | None] = mapped_column(String(3))
    body_contains: Mapped[str | None] = mapped_column(String(200))
    #: a header condition: its name (``List-Id``, ``X-Priority``...), how it is
    #: compared (HEADER_OPS) and the text
    header_name: Mapped[str | None] = mapped_column(String(100))
    header_op: Mapped[str | None] = mapped_column(String(8))
    header_value: Mapped[str | None] = mapped_column(String(254))
    file_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    file_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    assign_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    skip_filing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    make_private: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    open_case: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class LedgerEntry(IdMixin, Base):
    """What became of one UID of a mailbox's folder: every message the server has is
    accounted for here, or shows as a gap on the reconciliation page."""

    __tablename__ = "mail_ledger"
    __table_args__ = (UniqueConstraint("mailbox_id", "uidvalidity", "uid", name="uq_mail_uid"),)

    mailbox_id: Mapped[int] = mapped_column(
        ForeignKey("mail_mailbox.id", ondelete="CASCADE"), nullable=False, index=True
    )
    uidvalidity: Mapped[int] = mapped_column(Integer, nullable=False)
    uid: Mapped[int] = mapped_column(Integer, nullable=False)
    message_id: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_message.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


#: each language by its own name, as the contacts plugin lists them


class Template(EntityMixin, Base):
    """An e-mail template in one language: subject and HTML body with Jinja merge fields
    such as ``{{ first_name or "customer" }}`` filled from the record one writes from
    (see :mod:`.merge`). A template with ``translation_of_id`` is a language version of
    that one, whose own language is the default; private ones only their owner sees."""

    __tablename__ = "mail_template"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    subject: Mapped[str] = mapped_column(String(900), nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    translation_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_template.id", ondelete="CASCADE"), index=True
    )


SCHEDULE_STATES = [
    ("scheduled", _("Scheduled")),
    ("sent", _("Sent")),
    ("cancelled", _("Cancelled")),
    ("failed", _("Failed")),
]


class Scheduled(IdMixin, Base):
    """A message to send later: checked when written, kept with the job that sends it
    at ``send_at`` (the queue is in the database, so a worker restart loses nothing);
    its author may cancel it until it is sent."""

    __tablename__ = "mail_scheduled"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    mailbox_id: Mapped[int] = mapped_column(
        ForeignKey("mail_mailbox.id", ondelete="CASCADE"), nullable=False, index=True
    )
    subject: Mapped[str] = mapped_column(String(998), nullable=False, default="")
    recipients: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: what ``POST /api/v1/mail/send`` was given, sent as is when the time comes
    data: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    send_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="scheduled")
    error: Mapped[str | None] = mapped_column(Text)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail_message.id", ondelete="SET NULL"))
    job_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Filing(IdMixin, Base):
    """A message filed to a record (a person, an account, or another plugin's record)."""

    __tablename__ = "mail_filing"
    __table_args__ = (
        UniqueConstraint("mail_id", "entity", "record_id", name="uq_mail_filing"),
        Index("ix_mail_filing_record", "entity", "record_id"),
    )

    mail_id: Mapped[int] = mapped_column(
        ForeignKey("mail_message.id", ondelete="CASCADE"), nullable=False, index=True
    )
    entity: Mapped[str] = mapped_column(String(60), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    #: "address", "domain", "thread", "hand" or the hook implementation's word
    how: Mapped[str] = mapped_column(String(20), nullable=False, default="address")
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class DropboxAddress(IdMixin, Base):
    """A user's personal drop-box address: ``local+token@domain`` on the mailbox the
    administrator marks as the drop-box (see :mod:`.dropbox`). Regenerating replaces
    the token, so an address that leaked stops filing."""

    __tablename__ = "mail_dropbox"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    token: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


def includeme(config):
    config.add_entity_type(
        Mailbox,
        "mailbox",
        title=_("Mailbox"),
        plural=_("Mailboxes"),
        slug="mailboxes",
        title_field="name",
        subtitle_field="address",
        list_columns=("name", "address", "kind", "state", "last_checked_at"),
        filters=("kind", "state", "active", "support", "owner_id"),
        sort=("name", "last_checked_at"),
        search=("name", "address"),
        readonly=("state", "last_error", "last_checked_at"),
        fields={
            "name": {"title": _("Name")},
            "address": {"title": _("E-mail address"), "type": "email"},
            "kind": {"title": _("Kind"), "type": "choice", "choices": KINDS},
            "imap_host": {"title": _("IMAP server")},
            "imap_port": {"title": _("IMAP port"), "grouping": False},
            "imap_security": {
                "title": _("IMAP security"),
                "type": "choice",
                "choices": SECURITY,
            },
            "username": {"title": _("User name")},
            "password_secret": {"internal": True},
            "uidvalidity": {"internal": True},
            "last_uid": {"internal": True},
            "folder": {"title": _("Folder")},
            "smtp_host": {"title": _("SMTP server")},
            "smtp_port": {"title": _("SMTP port"), "grouping": False},
            "smtp_security": {
                "title": _("SMTP security"),
                "type": "choice",
                "choices": SECURITY,
            },
            "file_by_domain": {"title": _("File unknown senders to their company's account")},
            "support": {"title": _("Support mailbox: incoming e-mail opens or updates cases")},
            "dropbox": {
                "title": _("Drop-box mailbox"),
                "description": _(
                    "Users BCC or forward e-mail to their personal address on this mailbox "
                    "to file it to the people it concerns."
                ),
            },
            "active": {"title": _("Active")},
            "state": {"title": _("Connection"), "type": "choice", "choices": STATES},
            "last_error": {"title": _("Last error")},
            "last_checked_at": {"title": _("Last checked")},
        },
        related=[
            RelatedList(
                "mailmessage", "mailbox_id", _("Messages"), ("subject", "sender", "sent_at")
            )
        ],
        icon="envelope",
        menu_group=_("Mail"),
        menu_order=70,
    )
    config.add_entity_type(
        Template,
        "mailtemplate",
        title=_("E-mail template"),
        plural=_("E-mail templates"),
        slug="mail-templates",
        title_field="name",
        subtitle_field="language",
        list_columns=("name", "language", "subject", "shared", "translation_of_id", "active"),
        filters=("language", "active", "shared", "translation_of_id"),
        sort=("name",),
        default_sort="name",
        search=("name", "subject"),
        fields={
            "name": {"title": _("Name")},
            "language": {
                "title": _("Language"),
                "type": "choice",
                "choices": list(LANGUAGES.items()),  # the languages Kyklos speaks
                "default": "en",
            },
            "translation_of_id": {
                "title": _("Translation of"),
                "description": _(
                    "Empty for a template in its default language; else the template this "
                    "one translates. Writing to someone in this language uses this version."
                ),
            },
            "subject": {
                "title": _("Subject"),
                "description": _(
                    "Merge fields of the record one writes from, such as {{ first_name }} or "
                    '{{ first_name or "customer" }}, and {{ my_name }}, {{ my_email }}.'
                ),
            },
            "body": {
                "title": _("Text (HTML)"),
                "type": "text",
                "description": _(
                    "HTML with the same merge fields as the subject; scripts, styles and "
                    "remote images are removed. A plain-text version is sent along."
                ),
            },
            "shared": {
                "title": _("Shared with everyone"),
                "description": _("Otherwise only you see and use it."),
                "default": True,
            },
            "active": {"title": _("Active"), "default": True},
        },
        related=[
            RelatedList(
                "mailtemplate", "translation_of_id", _("Translations"), ("name", "language")
            )
        ],
        icon="file-earmark-text",
        menu_group=_("Mail"),
        menu_order=73,
    )
    # before the messages: a message's "rule that applied" refers to it
    config.add_entity_type(
        Rule,
        "mailrule",
        title=_("Mailbox rule"),
        plural=_("Mailbox rules"),
        slug="mail-rules",
        title_field="name",
        subtitle_field="mailbox_id",
        list_columns=(
            "position",
            "name",
            "mailbox_id",
            "from_contains",
            "subject_contains",
            "active",
        ),
        filters=("mailbox_id", "active"),
        sort=("position", "name"),
        default_sort="position",
        search=("name",),
        fields={
            "name": {"title": _("Name")},
            "mailbox_id": {"title": _("Mailbox")},
            "position": {
                "title": _("Position"),
                "description": _(
                    "Rules are tried from the lowest position up; the first that matches applies."
                ),
                "grouping": False,
            },
            "active": {"title": _("Active"), "default": True},
            "from_contains": {
                "title": _("From contains"),
                "description": _("Part of the sender's address or name. Empty: any sender."),
            },
            "to_contains": {
                "title": _("To or Cc contains"),
                "description": _("Part of a recipient's address or name. Empty: any recipient."),
            },
            "subject_contains": {
                "title": _("Subject contains"),
                "description": _("Empty: any subject."),
            },
            "has_attachment": {
                "title": _("Attachments"),
                "type": "choice",
                "choices": ATTACHMENT_CONDITIONS,
                "description": _("Empty: with or without attachments."),
            },
            "body_contains": {
                "title": _("Text contains"),
                "description": _("Words in the message's text. Empty: any text."),
            },
            "header_name": {
                "title": _("Header"),
                "description": _(
                    "The name of a header, such as List-Id or X-Priority. Empty: no header "
                    "condition."
                ),
            },
            "header_op": {
                "title": _("Header condition"),
                "type": "choice",
                "choices": HEADER_OPS,
                "description": _("How the header's value is compared (letter case ignored)."),
            },
            "header_value": {"title": _("Header value")},
            "file_person_id": {"title": _("File to the person")},
            "file_account_id": {"title": _("File to the account")},
            "assign_to_id": {
                "title": _("Assign to"),
                "description": _("The message becomes theirs and they are notified."),
            },
            "skip_filing": {
                "title": _("Do not file it"),
                "description": _("Kept and accounted for, but filed to no record."),
            },
            "make_private": {"title": _("Mark it private")},
            "open_case": {
                "title": _("Open a case"),
                "description": _("Or add it to the case its subject names (needs the helpdesk)."),
            },
        },
        icon="funnel",
        menu_group=_("Mail"),
        menu_order=72,
    )
    config.add_entity_type(
        Message,
        "mailmessage",
        title=_("E-mail"),
        plural=_("E-mails"),
        slug="mail-messages",
        title_field="subject",
        subtitle_field="sender",
        list_columns=("subject", "sender", "sent_at", "direction", "mailbox_id"),
        filters=("mailbox_id", "direction", "sent_at", "thread_key", "message_id"),
        sort=("sent_at",),
        default_sort="-sent_at",
        search=("subject", "sender", "recipients"),
        readonly=(
            "mailbox_id",
            "direction",
            "message_id",
            "in_reply_to",
            "references",
            "thread_key",
            "subject",
            "sender",
            "recipients",
            "sent_at",
            "body_text",
            "body_html",
            "attachments",
            "private",
            "rule_id",
            "opened_at",
            "opens",
            "clicked_at",
            "clicks",
        ),
        fields={
            "mailbox_id": {"title": _("Mailbox")},
            "direction": {"title": _("Direction"), "type": "choice", "choices": DIRECTIONS},
            "message_id": {"title": _("Message-ID"), "form": False},
            "in_reply_to": {"title": _("In reply to"), "form": False},
            "references": {"title": _("References"), "form": False},
            "thread_key": {"title": _("Thread"), "form": False},
            "subject": {"title": _("Subject")},
            "sender": {"title": _("From")},
            "recipients": {"title": _("To")},
            "sent_at": {"title": _("Date")},
            "body_text": {"title": _("Text"), "form": False},
            "body_html": {"title": _("HTML"), "form": False},
            "attachments": {"title": _("Attachments"), "form": False},
            "private": {"title": _("Private")},
            # bytes on the server: bookkeeping, not something people read
            "size": {"internal": True},
            "rule_id": {"title": _("Rule that applied")},
            "headers": {"internal": True},
            "track_key": {"internal": True},
            "opened_at": {"title": _("First opened"), "form": False},
            "opens": {"title": _("Opens"), "form": False},
            "clicked_at": {"title": _("First link followed"), "form": False},
            "clicks": {"title": _("Links followed"), "form": False},
        },
        icon="envelope-open",
        menu_group=_("Mail"),
        menu_order=71,
    )
