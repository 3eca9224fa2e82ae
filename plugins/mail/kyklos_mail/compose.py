"""Writing from a record (ACT-02): the recipients offered are the record's addresses, the
files offered are the record's attachments, and what is sent goes out through the
mailbox's own SMTP server and is filed on the record (and on everyone it was sent to)
at once, in the same transaction: a message that could not be sent is not filed."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

from kyklos_sdk import (
    attachments_of,
    get_entity_type,
    get_record,
    read_attachment,
    record_titles,
    visible_select,
)

from . import _
from .filing import file_to, match
from .imap import ERRORS, Settings, send
from .jobs import created
from .models import Mailbox, Message
from .parse import parse

MAX_RECIPIENTS = 50


class ComposeError(ValueError):
    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


def addresses_of(request, entity: str, record) -> list[tuple[str, str]]:
    """``[(address, label)]`` of a person (all of their addresses) or an account (its
    own and its people's, those the user may see)."""
    out: list[tuple[str, str]] = []

    def add(addr, label):
        if addr and all(a.lower() != addr.lower() for a, _l in out):
            out.append((addr, f"{label} <{addr}>" if label else addr))

    if entity == "person":
        title = record_titles(request, get_entity_type(request, "person"), [record]).get(
            record.id, ""
        )
        add(record.email, title)
        for e in record.emails or ():
            add(e.get("email"), title)
    elif entity == "account":
        add(record.email, record.name)
        from kyklos_contacts.models import Person

        pet = get_entity_type(request, "person")
        people = (
            request.dbsession.execute(
                visible_select(request, pet).where(Person.account_id == record.id).limit(50)
            )
            .scalars()
            .all()
        )
        titles = record_titles(request, pet, people)
        for p in people:
            add(p.email, titles.get(p.id, ""))
            for e in p.emails or ():
                add(e.get("email"), titles.get(p.id, ""))
    return out


def sendable_mailboxes(request) -> list[Mailbox]:
    et = get_entity_type(request, "mailbox")
    return (
        request.dbsession.execute(
            visible_select(request, et)
            .where(
                Mailbox.active.is_(True),
                Mailbox.smtp_host.is_not(None),
                Mailbox.smtp_host != "",
                Mailbox.password_secret != "",
            )
            .order_by(Mailbox.kind.desc(), Mailbox.name)
        )
        .scalars()
        .all()
    )


def _addresses(values, key, errors) -> list[Address]:
    out = []
    for raw in values or ():
        raw = str(raw).strip()
        if not raw:
            continue
        found = getaddresses([raw])
        ok = len(found) == 1 and found[0][1].count("@") == 1
        if ok and not any(ord(c) < 32 for c in raw):
            name, addr = found[0]
            local, _sep, domain = addr.partition("@")
            if local and "." in domain and not any(c.isspace() for c in addr):
                out.append(Address(display_name=name, addr_spec=addr))
                continue
        errors[key] = _("Not an e-mail address: ${a}", mapping={"a": raw[:100]})
    return out


def subject_tags(request, message: Message) -> list[str]:
    """The tags of the records ``message`` is filed to that want their answers back
    (a case's ``[CS-2026-00042]``), from ``kyklos_mail_subject_tag``."""
    from sqlalchemy import select

    from .models import Filing

    hook = request.registry.kyklos_pm.hook.kyklos_mail_subject_tag
    if not hook.get_hookimpls():
        return []
    tags = []
    filings = request.dbsession.execute(
        select(Filing.entity, Filing.record_id)
        .where(Filing.mail_id == message.id)
        .order_by(Filing.id)
    ).all()
    for entity, rid in filings:
        tag = hook(request=request, entity=entity, record_id=rid)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def record_tags(request, entity: str, record_id: int) -> list[str]:
    """The tag of the record one writes from (``kyklos_mail_subject_tag``), if any."""
    tag = request.registry.kyklos_pm.hook.kyklos_mail_subject_tag(
        request=request, entity=entity, record_id=record_id
    )
    return [tag] if tag else []


def tagged(subject: str, tags: list[str]) -> str:
    """``subject`` with each tag it lacks added at its end."""
    for tag in tags:
        if tag not in subject:
            subject = f"{subject} {tag}"
    return subject


def send_message(request, data: dict, check_only: bool = False) -> Message | None:
    """Check ``data`` (``mailbox_id``, ``to``, ``cc``, ``subject``, ``body`` and/or
    ``body_html`` (sanitised; the text is derived from it when ``body`` is empty), ``about``
    ``{"entity", "record_id"}``, ``reply_to`` (a message id), ``attachment_ids``), send
    and file. Raises :class:`ComposeError` naming each bad field. ``check_only``: stop
    after the checks (a message scheduled for later is checked when it is written)."""
    errors: dict = {}
    boxes = {b.id: b for b in sendable_mailboxes(request)}
    box = None
    try:
        box = boxes.get(int(data.get("mailbox_id")))
    except (TypeError, ValueError):
        pass
    if box is None:
        errors["mailbox_id"] = _("Choose a mailbox you may send from.")
    to = _addresses(data.get("to"), "to", errors)
    cc = _addresses(data.get("cc"), "cc", errors)
    if not to and "to" not in errors:
        errors["to"] = _("Give at least one recipient.")
    if len(to) + len(cc) > MAX_RECIPIENTS:
        errors["to"] = _("At most ${n} recipients.", mapping={"n": MAX_RECIPIENTS})
    subject = str(data.get("subject") or "").strip()
    if not subject:
        errors["subject"] = _("Give a subject.")
    elif len(subject) > 900 or any(ord(c) < 32 for c in subject):
        errors["subject"] = _("A subject is one line of at most 900 characters.")
    body = str(data.get("body") or "")
    html = str(data.get("body_html") or "")
    if html.strip():
        from .merge import html_to_text
        from .parse import sanitise

        # the same sanitiser as incoming mail: what a rep sends can carry no script
        html = sanitise(html)
        if not body.strip():
            body = html_to_text(html)
    if not body.strip():
        errors["body_html" if html.strip() else "body"] = _("Write the message.")
    about = data.get("about") or None
    record = et = None
    if about is not None:
        from .recipients import mailable_types

        if not isinstance(about, dict) or about.get("entity") not in mailable_types(request):
            errors["about"] = _("Write from a record that names people to write to.")
        else:
            et = get_entity_type(request, about["entity"])
            try:
                record = get_record(request, et, about.get("record_id"))
            except Exception:  # noqa: BLE001 - HTTPNotFound: unknown or not visible
                errors["about"] = _("No such record.")
    reply = None
    if data.get("reply_to"):
        try:
            reply = get_record(request, get_entity_type(request, "mailmessage"), data["reply_to"])
        except Exception:  # noqa: BLE001 - HTTPNotFound
            errors["reply_to"] = _("No such message.")
    if reply is not None and subject and "subject" not in errors:
        # the answer must find its way back to the case the message belongs to
        subject = tagged(subject, subject_tags(request, reply))
    if record is not None and subject and "subject" not in errors:
        # written from a case: the customer's answer must come back to it too
        subject = tagged(subject, record_tags(request, et.name, record.id))
    files = []
    wanted = data.get("attachment_ids") or []
    if wanted:
        if record is None or not isinstance(wanted, list):
            errors["attachment_ids"] = _("Attach files of the record you write from.")
        else:
            own = {a.id: a for a in attachments_of(request.dbsession, et, record.id)}
            try:
                files = [own[int(i)] for i in wanted]
            except (KeyError, TypeError, ValueError):
                errors["attachment_ids"] = _("Attach files of the record you write from.")
    track = data.get("track", False)
    if track not in (True, False, None):
        errors["track"] = _("Say true or false.")
    elif track:
        from .tracking import allowed

        if not allowed(request.registry):
            errors["track"] = _("Tracking of opens and clicks is turned off on this site.")
    if errors:
        raise ComposeError(errors)
    if check_only:
        return None

    msg = EmailMessage()
    user = request.identity.user
    msg["From"] = Address(display_name=user.name or "", addr_spec=box.address)
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=box.address.rpartition("@")[2] or "localhost")
    if reply is not None and reply.message_id:
        msg["In-Reply-To"] = reply.message_id
        msg["References"] = " ".join([*(reply.references or [])[-20:], reply.message_id])
    msg.set_content(body)
    key = None
    if track:
        import html as markup
        import secrets

        from .tracking import tracked_html

        key = secrets.token_hex(16)
        # a plain-text message gets an HTML twin to carry the open pixel
        sent_html = (
            html if html.strip() else ("<p>" + markup.escape(body).replace("\n", "<br>") + "</p>")
        )
        msg.add_alternative(tracked_html(request, sent_html, key), subtype="html")
    elif html.strip():
        # multipart/alternative: the plain text for clients that do not show HTML
        msg.add_alternative(html, subtype="html")
    for att in files:
        maintype, _s, subtype = att.content_type.partition("/")
        msg.add_attachment(
            read_attachment(request, att),
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=att.filename,
        )
    raw = msg.as_bytes()
    parsed = parse(raw)
    stored = Message(
        mailbox_id=box.id,
        direction="out",
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to or None,
        references=parsed.references,
        subject=parsed.subject,
        sender=parsed.sender,
        recipients=", ".join(str(a) for a in to + cc),
        sent_at=parsed.date,
        private=box.kind == "personal",
        owner_id=user.id,
        size=len(raw),
    )
    db = request.dbsession
    db.add(stored)
    db.flush()
    targets = match(request, box, stored, parsed)
    if record is not None:
        targets.insert(0, (et.name, record.id, "hand"))
    for entity, rid, how in targets:
        file_to(request, stored, entity, rid, how)
    created(request, stored, parsed)
    if key is not None:
        stored.track_key = key
        # the copy kept in Kyklos has neither pixel nor tracked links: reading or
        # following it here is no open or click of the recipient
        stored.body_html = html or None
    try:
        send(Settings.of(request.registry, box), msg)
    except ERRORS as exc:
        # nothing is filed for a message that did not leave (the transaction aborts)
        raise ComposeError(
            {"mailbox_id": _("Sending failed: ${e}", mapping={"e": str(exc)[:300]})}
        ) from None
    return stored
