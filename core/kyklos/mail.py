"""Outgoing e-mail over SMTP, sent only after the database transaction commits.

``send_mail(request, to, subject, text, html=None)`` builds the message at once (so a
bad address or header fails inside the request) and hands it to the transaction: it
goes out from an after-commit hook when the transaction commits, and never when it
aborts — a rolled-back password reset sends no link.

Settings: ``kyklos.mail.host``, ``.port``, ``.username``, ``.password``, ``.starttls``,
``.sender``, ``.timeout``. Without a host, a message is written as an ``.eml`` file to
``kyklos.mail.drop_dir`` when that is set (development.ini sets ``var/mail``, so a newcomer
can open what Kyklos would have sent), else it is not sent; either way the console says so
once per process, not once per message.

Header injection (SECURITY.md class 7, ASVS 1.3.11): every header value is checked for
CR/LF and other control characters and refused; addresses must parse as exactly one
address each. Bodies are never interpreted.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path

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


_told_unsent: set[str] = set()


def _tell_once(key: str, level: int, message: str, *args) -> None:
    """Log ``message`` the first time only: demo data or a reminder run would otherwise
    fill a newcomer's console with one line per message."""
    if key in _told_unsent:
        log.debug(message, *args)
        return
    _told_unsent.add(key)
    log.log(level, message, *args)


def _drop(folder: str, msg: EmailMessage) -> Path:
    """Write ``msg`` to ``folder`` as ``<time>-<message id>.eml`` (a file a mail client opens)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    ident = re.sub(r"[^A-Za-z0-9._-]", "_", str(msg["Message-ID"] or "message").strip("<>"))
    path = target / f"{time.strftime('%Y%m%d-%H%M%S')}-{ident[:80]}.eml"
    path.write_bytes(msg.as_bytes())
    return path


def deliver(settings, msg: EmailMessage) -> None:
    """Send ``msg`` now (raises on SMTP errors)."""
    host = settings.get("kyklos.mail.host")
    if not host:
        folder = settings.get("kyklos.mail.drop_dir")
        if folder:
            path = _drop(folder, msg)
            _tell_once(
                "drop",
                logging.INFO,
                "kyklos.mail.host is not set: messages are written to %s instead of sent",
                path.parent,
            )
        else:
            _tell_once(
                "unsent",
                logging.WARNING,
                "mail is not sent: kyklos.mail.host is not set (set it, or kyklos.mail.drop_dir "
                "to keep messages as files)",
            )
        return
    with _open_smtp(settings) as smtp:
        smtp.send_message(msg)


def _open_smtp(settings) -> smtplib.SMTP:
    host = settings.get("kyklos.mail.host")
    port = int(settings.get("kyklos.mail.port") or 25)
    timeout = float(settings.get("kyklos.mail.timeout") or 30)
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if asbool(settings.get("kyklos.mail.starttls")):
            smtp.starttls(context=ssl.create_default_context())
        user = settings.get("kyklos.mail.username")
        if user:
            smtp.login(user, settings.get("kyklos.mail.password") or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


class MailConnection:
    """One SMTP connection for many messages (a campaign, a batch of notices): opened at
    the first ``send``, opened again once when the server had dropped it, closed by
    ``close()`` or at the end of a ``with`` block. Connecting, the TLS handshake and the
    login cost more than sending one message; a mailer that sends thousands keeps them.

    Without ``kyklos.mail.host`` each message goes where :func:`deliver` puts it."""

    def __init__(self, settings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> MailConnection:
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def send(self, msg: EmailMessage) -> None:
        """Send ``msg`` now (raises on SMTP errors, as :func:`deliver`)."""
        if not self.settings.get("kyklos.mail.host"):
            deliver(self.settings, msg)
            return
        reused = self._smtp is not None
        try:
            if not reused:
                self._smtp = _open_smtp(self.settings)
            try:
                self._smtp.send_message(msg)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # an idle connection the server had closed: the message never reached it
                self._smtp.close()
                self._smtp = _open_smtp(self.settings)
                self._smtp.send_message(msg)
        except BaseException:
            self.close()  # the connection's state is unknown: a fresh one next time
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


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
