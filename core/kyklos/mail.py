"""Outgoing e-mail over SMTP, sent only after the database transaction commits.

``send_mail(request, to, subject, text, html=None)`` builds the message at once (so a
bad address or header fails inside the request) and hands it to the transaction: it
goes out from an after-commit hook when the transaction commits, and never when it
aborts — a rolled-back password reset sends no link.

Settings: ``kyklos.mail.host`` (empty: mail is not sent, a warning is logged),
``.port``, ``.username``, ``.password``, ``.starttls``, ``.sender``, ``.timeout``.

Header injection (SECURITY.md class 7, ASVS 1.3.11): every header value is checked for
CR/LF and other control characters and refused; addresses must parse as exactly one
address each. Bodies are never interpreted.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

import transaction
from transaction.interfaces import NoTransaction

from kyklos.settings import asbool

log = logging.getLogger("kyklos.mail")

MAX_SUBJECT = 998 - len("Subject: ")


class MailError(ValueError):
    """A message could not be built (bad address or header)."""


def _check_header(name: str, value: str, limit: int = 998) -> str:
    value = str(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise MailError(f"{name} contains a line break or control character")
    if len(value) > limit:
        raise MailError(f"{name} is too long")
    return value


def _address(value: str, what: str) -> Address:
    _check_header(what, value, 320)
    found = getaddresses([value])
    if len(found) != 1:
        raise MailError(f"{what} is not one e-mail address: {value!r}")
    name, addr = found[0]
    if not addr or addr.count("@") != 1 or "," in addr:
        raise MailError(f"{what} is not one e-mail address: {value!r}")
    local, domain = addr.rsplit("@", 1)
    if not local or not domain or any(c.isspace() for c in addr):
        raise MailError(f"{what} is not one e-mail address: {value!r}")
    return Address(display_name=name, addr_spec=addr)


def build_message(
    settings, to, subject, text, html=None, reply_to=None, attachments=()
) -> EmailMessage:
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise MailError("no recipient")
    msg = EmailMessage()
    sender = _address(settings.get("kyklos.mail.sender") or "kyklos@localhost", "sender")
    msg["From"] = sender
    msg["To"] = [_address(r, "recipient") for r in recipients]
    if reply_to:
        msg["Reply-To"] = _address(reply_to, "reply-to")
    msg["Subject"] = _check_header("subject", subject, MAX_SUBJECT)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.domain or "localhost")
    msg.set_content(str(text))
    if html is not None:
        msg.add_alternative(str(html), subtype="html")
    for filename, content_type, data in attachments or ():
        maintype, _sep, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def deliver(settings, msg: EmailMessage) -> None:
    """Send ``msg`` now (raises on SMTP errors)."""
    host = settings.get("kyklos.mail.host")
    if not host:
        log.warning(
            "mail to %d recipient(s) not sent: kyklos.mail.host is not set",
            len(msg.get_all("To", [])),
        )
        return
    port = int(settings.get("kyklos.mail.port") or 25)
    timeout = float(settings.get("kyklos.mail.timeout") or 30)
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        if asbool(settings.get("kyklos.mail.starttls")):
            smtp.starttls(context=ssl.create_default_context())
        user = settings.get("kyklos.mail.username")
        if user:
            smtp.login(user, settings.get("kyklos.mail.password") or "")
        smtp.send_message(msg)


def _after_commit(committed: bool, settings, msg: EmailMessage) -> None:
    if not committed:
        return
    try:
        deliver(settings, msg)
    except (OSError, smtplib.SMTPException):
        # The transaction has committed; the error can only be logged (a job queue,
        # when configured, retries instead).
        log.exception("sending mail %s failed", msg["Message-ID"])


def send_mail(
    request, to, subject, text, html=None, *, reply_to=None, attachments=()
) -> EmailMessage:
    """Queue a message to go out when the request's transaction commits.

    ``to`` is one address or a list; ``attachments`` are ``(filename, content_type,
    bytes)`` triples. Raises :class:`MailError` for a bad address or
    header. Outside any transaction the message is sent at once.
    """
    settings = dict(request.registry.settings)
    msg = build_message(settings, to, subject, text, html, reply_to, attachments)
    tm = getattr(request, "tm", None) or transaction.manager
    try:
        txn = tm.get()
    except NoTransaction:
        deliver(settings, msg)
        return msg
    txn.addAfterCommitHook(_after_commit, args=(settings, msg))
    return msg
