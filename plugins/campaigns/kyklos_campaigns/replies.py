"""Responses by reply (MKT-08): a message the mail plugin stores that answers a campaign
e-mail (its In-Reply-To or References name the Message-ID the campaign gave that
recipient, ``<campaign-{campaign}.{recipient}@domain>``, see :func:`.sending.message_id`)
records the response "replied" on the recipient row.

Through the mail plugin's ``kyklos_mail_message_filed`` hook (optional: campaigns works
without mail). Written directly, like the bounces: the mailbox owner the fetch runs as
may have no right to campaigns, and the reply is the person speaking, not a user.

A response someone already recorded (accepted, interested, refused) is kept: a reply
says less than those. Automatic answers (out of office, RFC 3834) are no response."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from kyklos_sdk import hookimpl, utcnow

from .models import Recipient

OURS = re.compile(r"^<campaign-(\d+)\.(\d+)@[^<>\s]+>$")
#: ``Precedence`` values of machine-written mail (RFC 3834 section 3.1.8 and practice)
MACHINE_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk", "list"})


def automatic(headers: dict) -> bool:
    """Whether the headers mark an automatic message (an out-of-office note...)."""
    submitted = (headers.get("auto-submitted") or "no").strip().lower()
    if submitted != "no":
        return True
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return True
    return (headers.get("precedence") or "").strip().lower() in MACHINE_PRECEDENCE


def answered(db, ids: list[str]) -> Recipient | None:
    """The recipient row whose campaign message one of ``ids`` names, the message it
    answers directly first."""
    for mid in ids:
        found = OURS.match((mid or "").strip())
        if found:
            rec = db.get(Recipient, int(found.group(2)))
            if rec is not None and rec.campaign_id == int(found.group(1)):
                return rec
    ids = [i for i in ids if i]
    if not ids:
        return None
    # a channel may have stored the Message-ID it used on the row
    return db.execute(
        select(Recipient).where(Recipient.message_id.in_(ids)).order_by(Recipient.id).limit(1)
    ).scalar()


def replied(request, mailbox, parsed) -> Recipient | None:
    """Record the reply ``parsed`` (the mail plugin's parsed message) as a response;
    returns the recipient row it answers, or ``None``."""
    own = ((getattr(mailbox, "address", None) or "") if mailbox is not None else "").lower()
    sender = (parsed.sender_address or "").lower()
    if not sender or (own and sender == own) or automatic(parsed.headers or {}):
        return None
    ids = [parsed.in_reply_to, *reversed(parsed.references or [])]
    rec = answered(request.dbsession, ids)
    if rec is None or rec.sent_at is None:
        return None
    if rec.response is None:
        now = utcnow()
        when = parsed.date
        # a date without a zone says nothing certain about when
        when = when.astimezone(dt.UTC) if when is not None and when.tzinfo else None
        rec.response = "replied"
        # the reply's own date, unless it claims to be from the future
        rec.responded_at = when if when is not None and rec.sent_at <= when <= now else now
        rec.updated_at = now
        rec.version += 1
    return rec


class Hooks:
    @hookimpl(optionalhook=True)
    def kyklos_mail_message_filed(self, request, mailbox, message, parsed, filed):
        replied(request, mailbox, parsed)


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_campaigns.replies")
