"""Bounces and spam complaints of campaign e-mail, as the mail plugin reads them from
its mailboxes (``kyklos_mail_bounce_received``; optional: campaigns works without mail).

The recipient row is found by the Message-ID the report quotes (campaign messages carry
``<campaign-{campaign}.{recipient}@domain>``, see :func:`.sending.message_id`), else as
the latest message sent to the address. A hard bounce marks it ``bounced`` and puts the
address on the suppression list (so no later campaign writes to it); a complaint
unsubscribes the person (consent withdrawn) and suppresses the address too, since a
provider's spam reports count against every later send. A temporary failure (a soft
bounce) is counted and noted on the row only: the sending server is still trying, and
the state stays as it is.

Written directly, like the tracking views: the report is the mail system speaking, not
a user, and the mailbox owner it runs as may have no right to campaigns."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from kyklos_sdk import hookimpl, utcnow

from .models import Recipient, Suppression

OURS = re.compile(r"^<campaign-(\d+)\.(\d+)@[^<>\s]+>$")


def _recipient(db, address: str, original_message_id: str) -> Recipient | None:
    found = OURS.match((original_message_id or "").strip())
    if found:
        rec = db.get(Recipient, int(found.group(2)))
        if rec is not None and rec.campaign_id == int(found.group(1)):
            return rec
    if original_message_id:
        rec = db.execute(
            select(Recipient).where(Recipient.message_id == original_message_id).limit(1)
        ).scalar()
        if rec is not None:
            return rec
    return db.execute(
        select(Recipient)
        .where(func.lower(Recipient.address) == address.lower(), Recipient.sent_at.is_not(None))
        .order_by(Recipient.sent_at.desc(), Recipient.id.desc())
        .limit(1)
    ).scalar()


def _suppress(db, address: str, reason: str) -> None:
    address = address.lower()[:254]
    exists = db.execute(
        select(Suppression.id).where(func.lower(Suppression.address) == address)
    ).scalar()
    if exists is None:
        db.add(Suppression(address=address, reason=reason[:250]))
        db.flush()


def received(request, address, kind, permanent, reason, original_message_id) -> None:
    from .tracking import unsubscribe

    db = request.dbsession
    rec = _recipient(db, address, original_message_id)
    if kind == "complaint":
        _suppress(db, address, f"spam complaint: {reason}" if reason else "spam complaint")
        if rec is not None:
            unsubscribe(request, rec)
        return
    if kind != "bounce":
        return
    if permanent:
        _suppress(db, address, f"hard bounce: {reason}" if reason else "hard bounce")
        if rec is not None:
            rec.state = "bounced"
            rec.bounced_at = rec.bounced_at or utcnow()
            rec.error = (reason or None) and reason[:500]
            rec.claimed_at = None
    elif rec is not None:
        rec.soft_bounces = (rec.soft_bounces or 0) + 1
        if rec.state == "sent":
            # delivery is still being tried: worth knowing, not a failure yet
            rec.error = (f"delayed: {reason}" if reason else "delayed")[:500]
    if rec is not None:
        rec.updated_at = utcnow()
        rec.version += 1


class Hooks:
    @hookimpl(optionalhook=True)
    def kyklos_mail_bounce_received(
        self, request, address, kind, permanent, reason, original_message_id
    ):
        received(request, address, kind, permanent, reason, original_message_id)


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_campaigns.bounces")
