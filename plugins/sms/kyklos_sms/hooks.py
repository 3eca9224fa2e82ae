"""Hook implementations: the "sms" message channel (greetings and automation rules send
through it), "Send SMS" on people and accounts, the messages on a person's timeline and
the gateway on the administration page."""

from __future__ import annotations

from sqlalchemy import select

from kyklos_sdk import Action, MailError, MenuItem, TimelineItem, display_text, hookimpl

from . import MANAGE, PERMISSIONS, SEND, _
from .models import STATES, SmsMessage
from .service import SmsRefused, match_person, queue

TIMELINE_LIMIT = 50


class SmsChannel:
    """Queues the text in the outbox (it leaves after the job's transaction commits).

    ``recipient`` is a number (the greetings engine gives a person's mobile) or a user
    with a ``phone``; the subject is dropped: a text message has none, and the body of
    a greeting already holds the wish."""

    id = "sms"
    title = _("SMS")

    def send(self, request, recipient, subject, body):
        number = recipient if isinstance(recipient, str) else getattr(recipient, "phone", None)
        if not number:
            raise MailError(request.localizer.translate(_("No mobile number to send the SMS to.")))
        person = None
        db = request.dbsession
        pid = match_person(db, number)
        if pid is not None:
            from kyklos_contacts.models import Person

            person = db.get(Person, pid)
        text = (body or "").strip() or (subject or "")
        try:
            queue(request, number, text, person=person, source="channel")
        except SmsRefused as exc:
            # the greetings engine and rules report a channel's refusal as MailError
            reason = next(iter(exc.errors.values()))
            raise MailError(request.localizer.translate(reason)) from None


def timeline(request, person_id: int) -> list[TimelineItem]:
    words = {k: request.localizer.translate(v) for k, v in STATES}
    rows = (
        request.dbsession.execute(
            select(SmsMessage)
            .where(SmsMessage.person_id == person_id)
            .order_by(SmsMessage.queued_at.desc(), SmsMessage.id.desc())
            .limit(TIMELINE_LIMIT)
        )
        .scalars()
        .all()
    )
    out = []
    for m in rows:
        # the number as the core shows phone numbers everywhere else
        n = display_text(request, "smsmessage", "number", m.number)
        if m.direction == "in":
            title = _("SMS from ${n}", mapping={"n": n})
        else:
            title = _("SMS to ${n} · ${state}", mapping={"n": n, "state": words[m.state]})
        out.append(
            TimelineItem(
                when=m.sent_at or m.queued_at,
                title=title,
                detail=m.body if len(m.body) <= 300 else m.body[:299] + "…",
                url=request.route_path("entity.detail", slug="sms-messages", id=m.id),
                kind="sms",
            )
        )
    return out


class Hooks:
    @hookimpl
    def kyklos_message_channels(self):
        return [SmsChannel()]

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        name = entity_type.name
        if name in ("person", "account"):
            url = request.route_path("sms.send", _query={name: record.id})
            return [Action(_("Send SMS"), url, permission=SEND)]
        if name == "smsmessage" and record.direction == "out" and record.state == "failed":
            return [
                Action(
                    _("Send again"),
                    request.route_path("sms.resend", id=record.id),
                    method="post",
                    style="primary",
                    permission=SEND,
                )
            ]
        return None

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.name != "person" or not request.has_permission(PERMISSIONS["read"]):
            return None
        return timeline(request, record.id) or None

    @hookimpl
    def kyklos_admin_items(self, request):
        return [
            MenuItem(
                _("SMS gateway"),
                request.route_path("sms.gateway"),
                permission=MANAGE,
                group=_("SMS"),
            )
        ]


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_sms.hooks")
