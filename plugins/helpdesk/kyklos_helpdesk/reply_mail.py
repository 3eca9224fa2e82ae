"""A staff reply on a case e-mailed to the customer, and the customer's e-mailed answer
threaded back onto the case.

Out: a public reply marked "E-mail it to the customer" (on by default when the case has
an address to write to; internal notes never) is queued as a job
(``helpdesk.send_reply``) in the transaction that writes the reply, so a mail server
that is down or refuses loses nothing: the reply keeps its delivery state (queued,
sent, failed with the server's reason) and "Send the e-mail again" queues it anew. It
goes to the case's contact (else the address the case came from), in the contact's
language, with the case's tag in the subject (``[CS-2026-00042] subject``), its own
Message-ID (kept on the reply, chosen when the reply is written so that retries send
the same one) and In-Reply-To / References naming the case's earlier messages.

In: an answer whose In-Reply-To / References name a reply's Message-ID, or whose
subject carries a case's tag, becomes a customer reply on the case's conversation
(:func:`customer_reply_from_mail`, once per incoming Message-ID). The mail plugin
reaches it through its hooks (support mailboxes: ``kyklos_mail_support_message`` and
:func:`kyklos_helpdesk.service.open_case_from_message`; every other mailbox:
``kyklos_mail_message_filed``): the helpdesk never imports the mail plugin."""

from __future__ import annotations

import logging
import re
import smtplib
from email.utils import make_msgid, parseaddr

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from kyklos_sdk import (
    MailError,
    Problem,
    build_mail,
    deliver_mail,
    entity_permissions,
    get_entity_type,
    get_record,
    hookimpl,
    translate_for,
    utcnow,
)

from . import _
from .models import Case

log = logging.getLogger("kyklos_helpdesk.reply_mail")

JOB = "helpdesk.send_reply"
UPDATE = entity_permissions("helpdesk", "casereply")["update"]
STATES = [("queued", _("Queued")), ("sent", _("Sent")), ("failed", _("Failed"))]
#: how many earlier Message-IDs a reply's References names (RFC 5322 allows more; mail
#: clients thread on the first and the last ones)
REFERENCES_LIMIT = 20


def recipient(db, case: Case) -> tuple[str | None, str | None]:
    """The address (and language) a reply on ``case`` goes to: its contact's, else the
    address the case came from. The survey writes to the same person."""
    from .survey import recipient as survey_recipient

    return survey_recipient(db, case)


def new_message_id(request) -> str:
    """A fresh ``<...@domain>`` under the sender's domain (``kyklos.mail.sender``)."""
    sender = parseaddr(request.registry.settings.get("kyklos.mail.sender") or "")[1]
    domain = sender.rpartition("@")[2] or "localhost"
    return make_msgid(idstring="case-reply", domain=domain)


def queue_reply(request, reply, case: Case) -> None:
    """Queue the e-mail of ``reply`` (in the caller's transaction: a reply that is not
    saved sends nothing). The address is taken now, so the reply says whom it went to."""
    to, _lang = recipient(request.dbsession, case)
    reply.email_to = to
    reply.email_state = "queued"
    reply.email_error = None
    if not reply.message_id:
        reply.message_id = new_message_id(request)
    request.dbsession.flush()
    request.enqueue_job(JOB, args={"reply_id": reply.id})


def _references(db, reply, case: Case) -> list[str]:
    """The Message-IDs of the case's conversation before ``reply``, oldest first: the
    message that opened the case, then each reply sent or received by e-mail."""
    from .replies import CaseReply

    earlier = db.execute(
        select(CaseReply.message_id)
        .where(
            CaseReply.case_id == case.id,
            CaseReply.id != reply.id,
            CaseReply.message_id.is_not(None),
            CaseReply.created_at <= reply.created_at,
            # a note never went out: its id is nobody's business
            CaseReply.public.is_(True),
        )
        .order_by(CaseReply.created_at, CaseReply.id)
    ).scalars()
    ids = ([case.message_id] if case.message_id else []) + [m for m in earlier if m]
    if len(ids) > REFERENCES_LIMIT:
        ids = ids[:1] + ids[-(REFERENCES_LIMIT - 1) :]
    return ids


def compose(request, reply, case: Case):
    """The e-mail of ``reply``: subject, text in the recipient's language, headers."""
    to, lang = recipient(request.dbsession, case)
    mapping = {"number": case.number or "", "subject": case.subject}
    subject = f"[{case.number}] {case.subject}" if case.number else case.subject
    footer = translate_for(
        request,
        _(
            "Case ${number}: ${subject}\n"
            "Answer this e-mail to reply to us; keep the case number in the subject.",
            mapping=mapping,
        ),
        lang,
    )
    text = f"{reply.body}\n\n-- \n{footer}\n"
    msg = build_mail(request.registry.settings, reply.email_to or to, subject, text)
    del msg["Message-ID"]
    msg["Message-ID"] = reply.message_id
    refs = _references(request.dbsession, reply, case)
    if refs:
        msg["In-Reply-To"] = refs[-1]
        msg["References"] = " ".join(refs)
    return msg


def _permanent(exc: Exception) -> bool:
    """An answer of the server that trying again will not change (a 5xx reply)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        ]
        return "; ".join(parts)[:500]
    code, text = getattr(exc, "smtp_code", None), getattr(exc, "smtp_error", None)
    if code is not None:
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{code} {text}"[:500]
    return (str(exc) or exc.__class__.__name__)[:500]


def send_reply_job(ctx, reply_id: int) -> dict:
    """Send one reply's e-mail. A server that refuses for good (5xx) or fails on the last
    attempt marks the reply failed with its reason; a passing failure (the server is
    down, 4xx) is tried again by the queue, the reply staying queued meanwhile. A reply
    sent already (a job delivered twice) is not sent again."""
    from .replies import CaseReply

    db = ctx.dbsession
    reply = db.get(CaseReply, int(reply_id))
    if reply is None or reply.email_state != "queued" or not reply.public:
        return {"sent": False}
    case = db.get(Case, reply.case_id)
    if case is None or not reply.email_to:
        reply.email_state, reply.email_error = "failed", "no address"
        return {"sent": False}
    try:
        msg = compose(ctx.request, reply, case)
        deliver_mail(ctx.registry.settings, msg)
    except MailError as exc:
        # an address on file that is no address: trying again will not help
        reply.email_state, reply.email_error = "failed", str(exc)[:500]
        return {"sent": False}
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("case reply %s: sending failed: %s", reply.id, exc)
        if not _permanent(exc) and not ctx.last_attempt:
            raise
        reply.email_state, reply.email_error = "failed", _reason(exc)
        return {"sent": False}
    reply.email_state, reply.email_error, reply.emailed_at = "sent", None, utcnow()
    return {"sent": True}


def resend(request, reply) -> None:
    """Queue a reply's e-mail again (after a failure, or to send it once more); refuses
    an internal note, a customer's reply and a case without an address."""
    case = request.dbsession.get(Case, reply.case_id)
    if not reply.public or reply.from_customer:
        raise Problem(
            400,
            _("Invalid parameters"),
            errors={"send_email": _("Only a reply to the customer is e-mailed.")},
        )
    if not recipient(request.dbsession, case)[0]:
        raise Problem(400, _("Invalid parameters"), errors={"send_email": NO_ADDRESS})
    reply.send_email = True
    queue_reply(request, reply, case)


NO_ADDRESS = _(
    "The case's contact has no e-mail address: untick this to keep the reply without e-mailing it."
)


def _reply_for_update(request):
    from .replies import CaseReply  # noqa: F401 - the model is registered by replies

    et = get_entity_type(request, "casereply")
    return get_record(request, et, request.matchdict["id"], "update")


def api_resend(request):
    """``POST /api/v1/case-replies/{id}/send``: queue the reply's e-mail again;
    answers the delivery state."""
    reply = _reply_for_update(request)
    resend(request, reply)
    return {"id": reply.id, "email_state": reply.email_state, "email_to": reply.email_to}


def page_resend(request):
    """The "Send the e-mail again" button: back to the case with a message."""
    reply = _reply_for_update(request)
    loc = request.localizer
    if request.POST.get("csrf_token") != request.session.get_csrf_token():
        request.session.flash(loc.translate(_("The form expired; send it again.")), "danger")
    else:
        try:
            resend(request, reply)
        except Problem as exc:
            request.session.flash(
                loc.translate(next(iter(exc.errors.values()), exc.title)), "danger"
            )
        else:
            request.session.flash(loc.translate(_("The e-mail is queued.")), "success")
    return HTTPSeeOther(request.route_url("entity.detail", slug="cases", id=reply.case_id))


# --- in: the customer's answer ----------------------------------------------------------


def case_of_answer(request, ids, subject: str) -> Case | None:
    """The case an incoming message answers: the one whose reply (or opening message)
    has a Message-ID among ``ids`` (In-Reply-To first, then References newest first),
    else the case its subject's tag names among those the user may see. A Message-ID
    of ours cannot be guessed, so it finds the case whoever's mailbox it came in."""
    from .replies import CaseReply
    from .service import NUMBER_IN_SUBJECT, _case_by_number

    db = request.dbsession
    ids = [i.strip() for i in ids if i and i.strip()]
    for mid in ids:
        found = db.execute(
            select(CaseReply.case_id)
            .where(CaseReply.message_id == mid, CaseReply.from_customer.is_(False))
            .limit(1)
        ).scalar()
        if found is None:
            found = db.execute(
                select(Case.id).where(Case.message_id == mid, Case.deleted_at.is_(None)).limit(1)
            ).scalar()
        if found is not None:
            case = db.get(Case, found)
            if case is not None and case.deleted_at is None:
                return _kept(db, case)
    quoted = NUMBER_IN_SUBJECT.search(subject or "")
    if quoted:
        case = _case_by_number(request, quoted.group(1))
        if case is not None:
            return _kept(db, case)
    return None


def _kept(db, case: Case) -> Case:
    """A merged case's answers go to the case it was merged into."""
    seen = set()
    while case.merged_into_id is not None and case.id not in seen:
        seen.add(case.id)
        nxt = db.get(Case, case.merged_into_id)
        if nxt is None:
            break
        case = nxt
    return case


def customer_reply_from_mail(
    request, case: Case, *, body: str, message_id: str | None, person_id: int | None = None
):
    """The customer's e-mailed answer as a reply on ``case``'s conversation (public,
    from the customer), once per ``message_id``: the same message filed twice, or by a
    support mailbox and another mailbox both, is one reply. Returns the reply, or the
    one stored before."""
    from .replies import CaseReply, _title

    db = request.dbsession
    if message_id:
        seen = db.execute(
            select(CaseReply).where(
                CaseReply.case_id == case.id, CaseReply.message_id == message_id
            )
        ).scalar()
        if seen is not None:
            return seen
    body = (body or "").strip() or "—"
    reply = CaseReply(
        case_id=case.id,
        body=body[:20000],
        public=True,
        from_customer=True,
        send_email=False,
        person_id=person_id,
        message_id=message_id or None,
        title=_title(body),
        owner_id=case.owner_id,
    )
    db.add(reply)
    db.flush()
    return reply


class MailHooks:
    """The mail plugin's hook, optional: helpdesk works without mail."""

    @hookimpl(optionalhook=True)
    def kyklos_mail_message_filed(self, request, mailbox, message, parsed, filed):
        # a support mailbox filed it to its case already (open_case_from_message)
        if any(f[0] == "case" and (len(f) < 3 or f[2] == "support") for f in filed or ()):
            return
        own = (getattr(mailbox, "address", None) or "").lower() if mailbox is not None else ""
        sender = (getattr(parsed, "sender_address", "") or "").lower()
        if not sender or (own and sender == own) or _automatic(getattr(parsed, "headers", {})):
            return
        ids = [parsed.in_reply_to, *reversed(parsed.references or [])]
        case = case_of_answer(request, ids, parsed.subject or "")
        if case is None:
            return
        from .replies import back_to_assignee
        from .service import _person_by_email

        person = _person_by_email(request, sender)
        reply = customer_reply_from_mail(
            request,
            case,
            body=answer_text(getattr(parsed, "text", "") or ""),
            message_id=parsed.message_id or None,
            person_id=person.id if person is not None else None,
        )
        back_to_assignee(request, case, reply)


QUOTE_INTRO = re.compile(
    r"^(On|Am|Le|El|Στις|În|W dniu)\b.*"
    r"(wrote|schrieb|écrit|escribió|έγραψε|scris|napisał).*:\s*$"
)


def answer_text(text: str) -> str:
    """The customer's own words: the quoted message they answer (``>`` lines and the
    "On ... wrote:" line before them) is already on the case."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    kept = [ln for ln in lines if not ln.lstrip().startswith(">")]
    while kept and (not kept[-1].strip() or QUOTE_INTRO.match(kept[-1].strip())):
        kept.pop()
    return "\n".join(kept).strip() or (text or "").strip()


def _automatic(headers) -> bool:
    """An out-of-office note or another machine's answer (RFC 3834): no reply."""
    headers = headers or {}
    submitted = str(headers.get("auto-submitted") or "no").strip().lower()
    precedence = str(headers.get("precedence") or "").strip().lower()
    return submitted != "no" or precedence in {"auto_reply", "bulk", "junk", "list"}


OPENAPI = {
    "/api/v1/case-replies/{id}/send": {
        "post": {
            "operationId": "helpdesk_case_reply_send",
            "tags": ["Helpdesk"],
            "summary": "E-mail a reply to the customer again",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {
                    "description": "{id, email_state: queued, email_to}",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": {
                    "description": "an internal note, a customer's reply or no address",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
                "403": {"description": "not allowed"},
                "404": {"description": "no such reply, or not visible"},
            },
        }
    }
}


def includeme(config):
    config.add_openapi_paths(lambda request: OPENAPI)
    config.add_job(
        JOB, send_reply_job, retries=3, retry_delay=60, title=_("E-mail a reply to the customer")
    )
    config.add_route(
        "helpdesk.api.reply.send",
        r"/api/v1/case-replies/{id:\d{1,18}}/send",
        request_method="POST",
    )
    config.add_view(
        api_resend, route_name="helpdesk.api.reply.send", renderer="json", permission=UPDATE
    )
    config.add_route(
        "helpdesk.reply.send",
        r"/helpdesk/case-replies/{id:\d{1,18}}/send",
        request_method="POST",
    )
    config.add_view(page_resend, route_name="helpdesk.reply.send", permission=UPDATE)
    config.add_hooks(MailHooks(), name="kyklos_helpdesk.reply_mail")
