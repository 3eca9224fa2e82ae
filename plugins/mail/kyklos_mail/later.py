"""Scheduled send: "send later" at a time the user gives in their own time zone. The
message is checked at once (bad input is refused then, field by field), kept in
``mail_scheduled`` and sent by the job ``mail.send_later`` queued for that time; the
queue lives in the database, so a restarted worker still sends it. Cancelling marks the
row, and the job, when it runs, sends only what is still scheduled."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kyklos_sdk import utcnow

from . import _
from .compose import ComposeError, send_message
from .models import Scheduled

SEND_LATER = "mail.send_later"
#: how far ahead a message may be scheduled
MAX_AHEAD = dt.timedelta(days=366)


def parse_when(request, raw) -> dt.datetime:
    """``raw``: ISO 8601; without an offset it is a time in the user's zone."""
    try:
        when = dt.datetime.fromisoformat(str(raw).strip())
    except (TypeError, ValueError):
        raise ComposeError({"send_at": _("Give a date and time.")}) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=request.timezone)
    when = when.astimezone(dt.UTC)
    now = utcnow()
    if when <= now:
        raise ComposeError({"send_at": _("Choose a time in the future.")})
    if when > now + MAX_AHEAD:
        raise ComposeError({"send_at": _("Choose a time within a year.")})
    return when


def schedule(request, data: dict, send_at) -> Scheduled:
    """Check ``data`` as :func:`send_message` would and ``send_at``; keep the message
    and queue its job. Raises :class:`ComposeError` naming each bad field."""
    data = {k: v for k, v in data.items() if k != "send_at"}
    errors = {}
    when = None
    try:
        when = parse_when(request, send_at)
    except ComposeError as e:
        errors.update(e.errors)
    try:
        send_message(request, data, check_only=True)
    except ComposeError as e:
        errors = {**e.errors, **errors}
    if errors:
        raise ComposeError(errors)
    row = Scheduled(
        user_id=request.identity.user.id,
        mailbox_id=int(data["mailbox_id"]),
        subject=str(data.get("subject") or "")[:998],
        recipients=", ".join(str(a) for a in [*(data.get("to") or []), *(data.get("cc") or [])]),
        data=data,
        send_at=when,
        status="scheduled",
    )
    db = request.dbsession
    db.add(row)
    db.flush()
    row.job_id = request.enqueue_job(
        SEND_LATER, args={"scheduled_id": row.id}, eta=when, key=f"mail.later:{row.id}"
    )
    return row


def cancel(request, row: Scheduled) -> None:
    if row.status != "scheduled":
        raise ComposeError({"status": _("Only a message not sent yet can be cancelled.")})
    row.status = "cancelled"


def mine(request, limit=100) -> list[Scheduled]:
    return (
        request.dbsession.execute(
            select(Scheduled)
            .where(Scheduled.user_id == request.identity.user.id)
            .order_by(Scheduled.send_at.desc(), Scheduled.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def send_later(ctx, scheduled_id: int):
    """The ``mail.send_later`` job, run as the message's author."""
    request = ctx.request
    db = request.dbsession
    row = db.get(Scheduled, int(scheduled_id))
    if row is None or row.status != "scheduled":
        return {"skipped": True}
    try:
        with db.begin_nested():  # a refused message leaves nothing filed
            stored = send_message(request, dict(row.data))
    except ComposeError as e:
        row.status = "failed"
        row.error = "; ".join(str(request.localizer.translate(v)) for v in e.errors.values())[:2000]
        request.notify(
            [row.user_id],
            _(
                "A scheduled e-mail was not sent: ${subject}",
                mapping={"subject": row.subject[:200]},
            ),
            row.error[:500],
            url=request.route_path("mail.scheduled"),
            kind="mail",
        )
        return {"failed": row.error}
    row.status, row.mail_id = "sent", stored.id
    return {"sent": stored.id}


def includeme(config):
    config.add_job(SEND_LATER, send_later, retries=0, title=_("Send a scheduled e-mail"))
