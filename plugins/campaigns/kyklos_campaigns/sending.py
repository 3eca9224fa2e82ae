"""Sending a campaign (MKT-03, MKT-04) through an outbox with idempotent delivery.

``start`` (the "Send" action, page or API) queues the ``campaigns.send`` job at the
campaign's time. The job, running with the permissions of the user who sent it:

1. fills the outbox once: one ``campaigns_recipient`` row per person the list reaches
   now (a dynamic list is evaluated here, at send time; consent, suppression and
   duplicates are applied and the exclusions counted on the campaign);
2. takes the queued rows one by one. Taking a row (state ``sending``) and recording
   the previous row as ``sent`` is one short transaction; the message goes out between
   two such commits, with a Message-ID derived from the row
   (``<campaign-C.R@domain>``). A worker killed with SIGKILL leaves at most the one
   message it was sending in ``sending``: the job runs again after its lease expires,
   sends that one again with the same Message-ID (receivers drop a repeated
   Message-ID; see the README) and carries on with the queued ones, none of them lost;
3. waits ``60 / throttle_per_minute`` seconds between messages.

E-mail goes straight to SMTP with the core's mail settings; another channel (``sms``
from the sms plugin, through ``kyklos_message_channels``) gets
``channel.send(request, recipient, subject, body)`` inside the transaction that marks
the row sent, so that the channel's own after-commit delivery sees the same outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time

from sqlalchemy import func, select, update

from kyklos_sdk import (
    MailConnection,
    MailError,
    build_mail,
    bulk_insert,
    collect,
    request_as,
    utcnow,
)

from . import _
from .models import Campaign, EmailTemplate, Recipient, TargetList
from .rendering import TemplateError, merge_context, render
from .targets import resolve
from .tracking import click_url, open_url, response_url, unsubscribe_url

log = logging.getLogger("kyklos_campaigns")

JOB = "campaigns.send"
#: messages rendered per request while sending e-mail
BATCH = 100
MAX_ATTEMPTS = 3


class EmailChannel:
    id = "email"
    title = _("E-mail")


def channels(request) -> dict:
    """The channels a campaign can use, by id: e-mail, and what plugins offer through
    the ``kyklos_message_channels`` hook (SMS...)."""
    found = collect(request.registry.kyklos_pm, "kyklos_message_channels")
    out = {"email": EmailChannel()}
    for ch in found:
        if getattr(ch, "id", None) and ch.id not in out:
            out[ch.id] = ch
    return out


def start(request, campaign: Campaign) -> str:
    """Queue the campaign's sending at its time (now when it has none); returns the job
    id. Sending twice is the same job."""
    from kyklos_sdk import RecordError

    errors = {}
    if campaign.status != "draft":
        errors["status"] = _("This campaign was sent already.")
    if campaign.list_id is None:
        errors["list_id"] = _("Choose the target list.")
    if campaign.channel == "letter":
        errors["channel"] = _('Letters are not sent: make them with "Make the letters".')
    if campaign.channel == "email" and campaign.template_id is None:
        errors["template_id"] = _("Choose the e-mail template.")
    if campaign.channel not in channels(request):
        errors["channel"] = _("This channel is not available.")
    if errors:
        raise RecordError(errors)
    eta = (
        campaign.scheduled_at
        if campaign.scheduled_at and campaign.scheduled_at > utcnow()
        else None
    )
    campaign.status = "scheduled"
    campaign.version += 1
    return request.enqueue_job(
        JOB, args={"campaign_id": campaign.id}, key=f"{JOB}:{campaign.id}", eta=eta
    )


def fill_outbox(request, campaign: Campaign) -> int:
    """One queued row per person the list reaches now; nothing when rows exist (the
    job ran before). Returns the number of rows."""
    db = request.dbsession
    have = db.execute(
        select(func.count()).select_from(Recipient).where(Recipient.campaign_id == campaign.id)
    ).scalar_one()
    if have:
        return have
    tl = db.get(TargetList, campaign.list_id)
    channel = campaign.channel if campaign.channel in ("email", "letter") else "sms"
    res = resolve(request, tl, channel)
    now = utcnow()
    if res.members:
        # bulk_insert: the core indexes the recipients for the campaign's recipient list
        bulk_insert(
            db,
            Recipient.__table__,
            [
                {
                    "campaign_id": campaign.id,
                    "person_id": pid,
                    "address": address,
                    "name": name,
                    "state": "queued",
                    "attempts": 0,
                    "version": 1,
                    "custom": {},
                    "owner_id": campaign.owner_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for pid, address, name, _lang in res.members
            ],
        )
    # a frozen list left people out when it was built: they count here too
    frozen = tl.kind == "static"
    campaign.excluded_consent = res.no_consent + (tl.excluded_consent if frozen else 0)
    campaign.excluded_duplicate = res.duplicate + (tl.excluded_duplicate if frozen else 0)
    campaign.excluded_suppressed = res.suppressed + (tl.excluded_suppressed if frozen else 0)
    campaign.excluded_no_address = res.no_address + (tl.excluded_no_address if frozen else 0)
    campaign.status = "sending"
    campaign.started_at = now
    return len(res.members)


def template_for(db, campaign: Campaign, language: str | None) -> EmailTemplate | None:
    """The campaign's template in ``language`` (a template of the same name), else the
    campaign's own."""
    memo = db.info.setdefault("campaigns.templates", {})  # one look-up per batch
    key = (campaign.template_id, language)
    if key not in memo:
        memo[key] = _template_for(db, campaign, language)
    return memo[key]


def _template_for(db, campaign: Campaign, language: str | None) -> EmailTemplate | None:
    base = db.get(EmailTemplate, campaign.template_id) if campaign.template_id else None
    if base is None or not language or language == base.language:
        return base
    other = db.execute(
        select(EmailTemplate).where(
            EmailTemplate.name == base.name,
            EmailTemplate.language == language,
            EmailTemplate.deleted_at.is_(None),
        )
    ).scalar_one_or_none()
    return other or base


def message_id(request, rec: Recipient) -> str:
    sender = request.registry.settings.get("kyklos.mail.sender") or "kyklos@localhost"
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<campaign-{rec.campaign_id}.{rec.id}@{domain}>"


def compose(request, campaign: Campaign, rec: Recipient) -> dict:
    """``{"subject", "html", "text", "unsubscribe"}`` of one recipient's message."""
    from kyklos_contacts.models import Person

    db = request.dbsession
    person = db.get(Person, rec.person_id)
    unsub = unsubscribe_url(request, rec.id)
    template = template_for(db, campaign, person.language if person else None)
    values = merge_context(
        request,
        person,
        {"unsubscribe_url": unsub, "response_url": response_url(request, rec.id)},
    )
    from .coupons import coupon_values

    values.update(coupon_values(db, campaign.id, rec.person_id))
    out = render(
        template,
        values,
        link=lambda url: click_url(request, rec.id, url),
        pixel_url=open_url(request, rec.id),
    )
    out["unsubscribe"] = unsub
    return out


def build_email(request, rec: Recipient, parts: dict):
    msg = build_mail(
        request.registry.settings, rec.address, parts["subject"], parts["text"], parts["html"]
    )
    del msg["Message-ID"]
    msg["Message-ID"] = message_id(request, rec)
    # RFC 8058: mail clients offer "unsubscribe" and POST to it without a form
    msg["List-Unsubscribe"] = f"<{parts['unsubscribe']}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return msg


def _finish(db, rid: int, state: str, error: str | None) -> None:
    values = {"state": state, "error": error, "claimed_at": None}
    if state == "sent":
        values["sent_at"] = utcnow()
    db.execute(
        update(Recipient)
        .where(Recipient.id == rid, Recipient.state == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _next(request, campaign_id: int, finished: tuple | None):
    """Record ``finished`` (``(row id, state, error)``) and take the next queued row,
    in one transaction. Returns the taken row's id or ``None``."""
    db = request.dbsession
    now = utcnow()
    if finished is not None:
        _finish(db, *finished)
    rid = db.execute(
        select(Recipient.id)
        .where(Recipient.campaign_id == campaign_id, Recipient.state == "queued")
        .order_by(Recipient.id)
        .limit(1)
    ).scalar()
    if rid is None:
        return None
    db.execute(
        update(Recipient)
        .where(Recipient.id == rid, Recipient.state == "queued")
        .values(state="sending", claimed_at=now, attempts=Recipient.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return rid


def send_job(ctx, campaign_id: int):
    """The ``campaigns.send`` job (see the module's description)."""
    registry = ctx.registry
    user_id = ctx.user_id
    with request_as(registry, user_id, job_id=ctx.job_id, write=True) as request:
        db = request.dbsession
        campaign = db.get(Campaign, int(campaign_id))
        if campaign is None or campaign.deleted_at is not None or campaign.status == "sent":
            return {"skipped": True}
        total = fill_outbox(request, campaign)
        # rows a killed run left "sending": their outcome is unknown, send them again
        # (same Message-ID)
        db.execute(
            update(Recipient)
            .where(Recipient.campaign_id == campaign.id, Recipient.state == "sending")
            .values(state="queued")
            .execution_options(synchronize_session=False)
        )
        throttle = max(1, int(campaign.throttle_per_minute or 600))
        channel_id = campaign.channel
    pacer = _Pacer(60.0 / throttle)
    progress = _Progress(ctx, total)
    if channel_id == "email":
        sent, failed = _send_email(ctx, int(campaign_id), pacer, progress)
    else:
        sent, failed = _send_channel(ctx, int(campaign_id), channel_id, pacer, progress)
    with request_as(registry, None, write=True) as request:
        campaign = request.dbsession.get(Campaign, int(campaign_id))
        left = request.dbsession.execute(
            select(func.count())
            .select_from(Recipient)
            .where(Recipient.campaign_id == campaign.id, Recipient.state.in_(("queued", "sending")))
        ).scalar_one()
        if not left:
            campaign.status = "sent"
            campaign.finished_at = utcnow()
    return {"sent": sent, "failed": failed}


class _Pacer:
    """Keeps to the campaign's rate: each message goes out ``interval`` seconds after the
    previous one was due, so the time spent preparing it counts towards the wait."""

    def __init__(self, interval: float):
        self.interval = interval
        self.due = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self.due > now:
            time.sleep(self.due - now)
        self.due = max(self.due, now - self.interval) + self.interval


class _Progress:
    """The job's progress for the UI, at most once a second (each report is a write)."""

    def __init__(self, ctx, total: int):
        self.ctx, self.total, self.done, self.at = ctx, max(1, total), 0, 0.0

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.at >= 1.0:
            self.at = now
            self.ctx.progress(min(99, 100 * self.done / self.total))


def _queued_batch(request, campaign_id: int) -> list[Recipient]:
    """The next queued rows, with their people loaded in the same session (one query
    each instead of one per message)."""
    from kyklos_contacts.models import Person

    db = request.dbsession
    rows = (
        db.execute(
            select(Recipient)
            .where(Recipient.campaign_id == campaign_id, Recipient.state == "queued")
            .order_by(Recipient.id)
            .limit(BATCH)
        )
        .scalars()
        .all()
    )
    ids = {r.person_id for r in rows if r.person_id}
    if ids:
        # held for the batch: the session's identity map keeps objects weakly, and
        # ``compose`` finds the people there
        db.info["campaigns.people"] = (
            db.execute(select(Person).where(Person.id.in_(ids))).scalars().all()
        )
    return rows


def _send_email(ctx, campaign_id: int, pacer: _Pacer, progress: _Progress) -> tuple[int, int]:
    """E-mail in batches: a batch's messages are rendered in one request (the sender's
    permissions and the templates looked up once), then each goes out over one kept SMTP
    connection. Taking a row (``sending``) and recording the previous one as ``sent`` is
    one short transaction per message, so a kill leaves at most one row ``sending``."""
    registry = ctx.registry
    sent = failed = 0
    finished = None
    with MailConnection(registry.settings) as conn:
        while True:
            with request_as(registry, ctx.user_id, job_id=ctx.job_id) as request:
                rows = _queued_batch(request, campaign_id)
                if not rows:
                    break
                campaign = request.dbsession.get(Campaign, campaign_id)
                batch = []
                for rec in rows:
                    try:
                        batch.append(
                            (
                                rec.id,
                                build_email(request, rec, compose(request, campaign, rec)),
                                None,
                            )
                        )
                    except (TemplateError, MailError) as exc:
                        batch.append((rec.id, None, str(exc)[:500]))
            for rid, msg, error in batch:
                with request_as(registry, None, write=True) as request:
                    if finished is not None:
                        _finish(request.dbsession, *finished)
                        finished = None
                    taken = _take(request.dbsession, rid, error)
                if not taken:
                    continue  # another run took it meanwhile
                if msg is None:
                    failed += 1
                    progress.step()
                    continue
                pacer.wait()
                try:
                    conn.send(msg)
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning("campaign %s: sending to row %s failed: %s", campaign_id, rid, exc)
                    finished = (rid, "failed", str(exc)[:500])
                    with request_as(registry, None, write=True) as request:
                        row = request.dbsession.get(Recipient, rid)
                        if row.attempts < MAX_ATTEMPTS and not isinstance(
                            exc, smtplib.SMTPRecipientsRefused
                        ):
                            row.state, finished = "queued", None  # again later in this run
                        else:
                            _finish(request.dbsession, *finished)
                            finished = None
                            failed += 1
                            progress.step()
                else:
                    finished = (rid, "sent", None)
                    sent += 1
                    progress.step()
    if finished is not None:
        with request_as(registry, None, write=True) as request:
            _finish(request.dbsession, *finished)
    return sent, failed


def _take(db, rid: int, error: str | None) -> bool:
    """Take queued row ``rid``: ``sending``, or ``failed`` with ``error`` when its message
    could not be made. False when it was not queued any more."""
    values = (
        {"state": "failed", "error": error, "claimed_at": None}
        if error
        else {"state": "sending", "claimed_at": utcnow()}
    )
    done = db.execute(
        update(Recipient)
        .where(Recipient.id == rid, Recipient.state == "queued")
        .values(attempts=Recipient.attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)


def _send_channel(
    ctx, campaign_id: int, channel_id: str, pacer: _Pacer, progress: _Progress
) -> tuple[int, int]:
    """Another channel (SMS): ``channel.send`` inside the transaction that marks the row
    sent, one row at a time, so the channel's own after-commit delivery sees the outcome."""
    registry = ctx.registry
    finished = None
    sent = failed = 0
    while True:
        pacer.wait()  # outside the transaction: never hold the write lock while waiting
        with request_as(registry, ctx.user_id, job_id=ctx.job_id, write=True) as request:
            rid = _next(request, campaign_id, finished)
            finished = None
            if rid is None:
                break
            db = request.dbsession
            rec = db.get(Recipient, rid)
            campaign = db.get(Campaign, campaign_id)
            channel = channels(request).get(channel_id)
            try:
                parts = compose(request, campaign, rec)
            except (TemplateError, MailError) as exc:
                finished = (rid, "failed", str(exc)[:500])
                failed += 1
                continue
            if channel is None:
                finished = (rid, "failed", "channel not available")
                failed += 1
                continue
            channel.send(request, rec.address, parts["subject"], parts["text"])
            # this transaction also marks it sent: a failure rolls both back
            _finish(db, rid, "sent", None)
            sent += 1
        progress.step()
    return sent, failed


def due_at(campaign: Campaign) -> dt.datetime | None:
    return campaign.scheduled_at


def includeme(config):
    config.add_job(JOB, send_job, retries=5, retry_delay=30, title=_("Send a campaign"))
