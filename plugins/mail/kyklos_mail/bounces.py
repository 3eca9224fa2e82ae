"""Delivery status notifications (bounces) and spam complaints arriving in a mailbox.

A bounce is a report about a message sent earlier, not correspondence: it is accounted
for in the ledger as "bounce" or "complaint", filed to nobody, and handed to the plugins
that sent the original (campaigns...) through ``kyklos_mail_bounce_received``.

Read in this order: an RFC 5965 feedback report (``multipart/report;
report-type=feedback-report``, what mailbox providers send on "this is spam"); an RFC
3464 delivery status notification (``report-type=delivery-status``); then, only for a
message from a mailer daemon, flufl.bounce's detectors for the non-standard formats
older servers (Exim, qmail, old Exchange...) still write."""

from __future__ import annotations

import email
import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.utils import getaddresses, parseaddr

log = logging.getLogger("kyklos_mail")

MSGID = re.compile(r"<[^<>\s]{1,290}>")
#: who writes bounces: a message from them that no detector reads is kept as mail
QUOTED_ID = re.compile(r"^Message-ID:\s*(<[^<>\s]{1,290}>)", re.I | re.M)
DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")


@dataclass
class Failure:
    address: str
    permanent: bool
    reason: str = ""


@dataclass
class Report:
    """``kind``: "bounce" or "complaint"; one failure per recipient named."""

    kind: str
    failures: list[Failure] = field(default_factory=list)
    original_message_id: str = ""

    def summary(self) -> str:
        """The ledger's reason: who failed and why, in the server's own words."""
        parts = []
        for f in self.failures:
            how = "permanent" if f.permanent else "temporary"
            if self.kind == "complaint":
                how = "complaint"
            parts.append(f"{f.address} ({how}{': ' + f.reason if f.reason else ''})")
        return "; ".join(parts) or self.kind


def _addr(value: str) -> str:
    """``rfc822; jane@example.com`` or ``<jane@example.com>`` -> ``jane@example.com``."""
    value = (value or "").strip()
    if ";" in value:
        value = value.split(";", 1)[1]
    addr = parseaddr(value.strip())[1] or value.strip().strip("<>")
    return addr.lower() if "@" in addr else ""


def _original(msg) -> tuple[str, list[str]]:
    """The Message-ID and recipients of the message a report is about (its
    ``message/rfc822`` or ``text/rfc822-headers`` part)."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            if inner is None or not hasattr(inner, "get"):
                continue
            headers = inner
        elif ctype == "text/rfc822-headers":
            raw = part.get_payload(decode=True) or b""
            headers = email.message_from_bytes(raw, policy=policy.compat32)
        else:
            continue
        ids = MSGID.findall(str(headers.get("Message-ID", "") or ""))
        rcpts = [a.lower() for _n, a in getaddresses([str(headers.get("To", "") or "")]) if a]
        return (ids[0] if ids else ""), rcpts
    return "", []


def _report_part(msg, ctype: str):
    for part in msg.walk():
        if part.get_content_type() == ctype:
            return part
    return None


def _blocks(part) -> list:
    """The header blocks of a ``message/delivery-status`` or ``feedback-report`` part
    (the email package gives them as messages, or as text to parse)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    raw = part.get_payload(decode=True) or b""
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return [
        email.message_from_string(b.strip() + "\n") for b in re.split(r"\n\s*\n", text) if b.strip()
    ]


def _feedback(msg) -> Report | None:
    part = _report_part(msg, "message/feedback-report")
    if part is None:
        return None
    fields = {}
    for block in _blocks(part):
        for k, v in block.items():
            fields.setdefault(k.lower(), []).append(str(v))
    msgid, rcpts = _original(msg)
    named = [
        _addr(v) for v in fields.get("original-rcpt-to", []) + fields.get("removal-recipient", [])
    ]
    addresses = [a for a in named if a] or rcpts
    kind = (fields.get("feedback-type") or ["abuse"])[0].strip().lower()
    report = Report("complaint", original_message_id=msgid)
    for a in dict.fromkeys(addresses):
        report.failures.append(Failure(a, True, kind))
    return report


def _dsn(msg) -> Report | None:
    part = _report_part(msg, "message/delivery-status")
    if part is None:
        return None
    msgid, _rcpts = _original(msg)
    report = Report("bounce", original_message_id=msgid)
    for block in _blocks(part)[1:]:  # the first block is about the whole message
        action = str(block.get("Action", "") or "").strip().lower()
        if action not in ("failed", "delayed"):
            continue  # delivered, relayed, expanded: nothing went wrong
        address = _addr(str(block.get("Original-Recipient", "") or "")) or _addr(
            str(block.get("Final-Recipient", "") or "")
        )
        if not address:
            continue
        status = str(block.get("Status", "") or "").strip()
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "") or "").split())
        if ";" in diagnostic:
            diagnostic = diagnostic.split(";", 1)[1].strip()
        permanent = action == "failed" and not status.startswith("4")
        reason = " ".join(x for x in (status, diagnostic) if x)[:300]
        report.failures.append(Failure(address, permanent, reason))
    return report if report.failures else None


def _from_daemon(msg) -> bool:
    sender = parseaddr(str(msg.get("From", "") or ""))[1].lower()
    local = sender.split("@", 1)[0]
    return local in DAEMONS or str(msg.get("Return-Path", "")).strip() == "<>"


def _heuristic(raw: bytes, msg) -> Report | None:
    """The non-standard bounces, read by flufl.bounce (its detectors want a compat32
    message); permanent and temporary failures both count."""
    if not _from_daemon(msg):
        return None
    from flufl.bounce import all_failures

    try:
        temporary, permanent = all_failures(email.message_from_bytes(raw, policy=policy.compat32))
    except Exception as exc:  # noqa: BLE001 - a detector's crash must not lose the message
        log.warning("bounce detectors failed: %s", exc)
        return None
    msgid, _rcpts = _original(msg)
    if not msgid:  # the returned message pasted as text below the explanation
        body = raw.split(b"\r\n\r\n", 1)[-1] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[-1]
        quoted = QUOTED_ID.search(body.decode("utf-8", errors="replace"))
        msgid = quoted.group(1) if quoted else ""
    report = Report("bounce", original_message_id=msgid)
    for addresses, perm in ((permanent, True), (temporary, False)):
        for a in sorted(addresses):
            text = a.decode("utf-8", errors="replace") if isinstance(a, bytes) else str(a)
            address = _addr(text)
            if address and address not in {f.address for f in report.failures}:
                report.failures.append(Failure(address, perm, ""))
    return report if report.failures else None


def detect(raw: bytes) -> Report | None:
    """The bounce or complaint a message is, or ``None`` for ordinary mail."""
    try:
        msg = email.message_from_bytes(raw, policy=policy.compat32)
    except Exception:  # noqa: BLE001 - unreadable mail is the parser's to account for
        return None
    if msg.get_content_type() == "multipart/report":
        report_type = (msg.get_param("report-type") or "").lower()
        if report_type == "feedback-report":
            return _feedback(msg)
        if report_type == "delivery-status":
            found = _dsn(msg)
            if found is not None:
                return found
    return _heuristic(raw, msg)


def notify(request, box, report: Report) -> list[str]:
    """Call ``kyklos_mail_bounce_received`` for each failure; an implementation that
    fails is undone alone (a savepoint) and named in the ledger's reason."""
    hook = request.registry.kyklos_pm.hook.kyklos_mail_bounce_received
    problems = []
    for f in report.failures:
        try:
            with request.dbsession.begin_nested():
                hook(
                    request=request,
                    address=f.address,
                    kind=report.kind,
                    permanent=f.permanent,
                    reason=f.reason,
                    original_message_id=report.original_message_id,
                )
        except Exception as exc:  # noqa: BLE001 - the ledger keeps the report either way
            log.warning("mailbox %s: bounce of %s not handled: %s", box.id, f.address, exc)
            problems.append(f"{f.address}: {exc.__class__.__name__}")
    return problems
