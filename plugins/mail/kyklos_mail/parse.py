"""From the bytes of a message to what Kyklos keeps: decoded headers (RFC 2047 encoded
words in any charset), the text and sanitised HTML bodies, the thread's Message-IDs and
the attachments. Never raises for a malformed message: what cannot be read is left out
and said so in ``problems``."""

from __future__ import annotations

import datetime as dt
import email
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

import nh3

MSGID = re.compile(r"<[^<>\s]{1,290}>")
#: tags and attributes a message body may keep; scripts, styles, forms, frames and every
#: event handler go, links get rel="noopener noreferrer"; images only from data: URIs
#: would still track nobody, remote ones are kept off (they are read receipts)
TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "div",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "font": {"color"},
}


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Parsed:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    subject: str = ""
    sender: str = ""
    sender_address: str = ""
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    date: dt.datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def addresses(self) -> list[str]:
        """Every address the message names, lower-case, sender first, no repeats."""
        out: list[str] = []
        for addr in [self.sender_address] + [a for _n, a in self.to + self.cc]:
            a = (addr or "").strip().lower()
            if a and "@" in a and a not in out:
                out.append(a)
        return out


def decode(value) -> str:
    """A header as text: encoded words decoded whatever their charset."""
    if value is None:
        return ""
    raw = str(value)
    try:
        return str(make_header(decode_header(raw))).strip()
    except (LookupError, UnicodeDecodeError, ValueError):
        return raw.strip()


def _ids(value: str) -> list[str]:
    return MSGID.findall(value or "")


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _text_of(part, problems) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError, KeyError) as exc:
        # an unknown or lying charset: read the bytes as Windows-1252, the usual culprit
        problems.append(f"{part.get_content_type()}: {exc.__class__.__name__}")
        payload = part.get_payload(decode=True) or b""
        return payload.decode("cp1252", errors="replace")


def parse(raw: bytes) -> Parsed:
    msg: EmailMessage = email.message_from_bytes(raw, policy=policy.default)
    p = Parsed()
    headers = {k.lower(): decode(v) for k, v in msg.raw_items()}
    p.headers = headers
    p.message_id = (_ids(headers.get("message-id", "")) or [""])[0]
    p.in_reply_to = (_ids(headers.get("in-reply-to", "")) or [""])[0]
    p.references = _ids(headers.get("references", ""))[-50:]
    # a folded subject (Apple Mail folds long ones) is one line once unfolded (RFC 5322
    # section 2.2.3): the line break goes, the white space after it stays
    p.subject = re.sub(r"\r?\n(?=[ \t])", "", headers.get("subject", "")).replace("\r", "")
    senders = getaddresses([headers.get("from", "")])
    if senders:
        name, addr = senders[0]
        p.sender_address = addr
        p.sender = f"{name} <{addr}>" if name else addr
    p.to = getaddresses([headers.get("to", "")])
    p.cc = getaddresses([headers.get("cc", "")])
    try:
        p.date = parsedate_to_datetime(headers["date"]) if headers.get("date") else None
        if p.date is not None and p.date.tzinfo is None:
            p.date = p.date.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError, IndexError):
        p.problems.append("date")
    texts, htmls = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if (
            disposition == "attachment"
            or (filename and disposition != "inline")
            or (filename and not ctype.startswith("text/"))
        ):
            data = part.get_payload(decode=True) or b""
            p.attachments.append(Attachment(decode(filename) or "attachment", ctype, data))
        elif ctype == "text/plain":
            texts.append(_text_of(part, p.problems))
        elif ctype == "text/html":
            htmls.append(_text_of(part, p.problems))
    p.text = "\n\n".join(t.strip() for t in texts if t.strip()).replace("\r\n", "\n")
    p.html = sanitise("\n".join(htmls)) if htmls else ""
    _expand_tnef(p)
    return p


def _expand_tnef(p: Parsed) -> None:
    """A winmail.dat gives way to the files it wraps; its body serves when the message
    has none (Outlook sending "rich text" puts everything in it)."""
    from .tnef import is_tnef, unpack

    out: list[Attachment] = []
    for a in p.attachments:
        if not is_tnef(a.filename, a.content_type):
            out.append(a)
            continue
        try:
            files, text, html = unpack(a.data)
        except Exception as exc:  # noqa: BLE001 - kept as it came, said so
            p.problems.append(f"winmail.dat: {exc.__class__.__name__}")
            out.append(a)
            continue
        for name, data in files:
            ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            out.append(Attachment(name, ctype, data))
        if not p.text and not p.html:
            p.text, p.html = text, sanitise(html) if html else ""
    p.attachments = out


def base_subject(subject: str) -> str:
    """A subject without its Re:/Fwd: prefixes (in the languages Kyklos ships)."""
    prefix = re.compile(r"^\s*(re|fw|fwd|aw|sv|απ|σχετ|pd|odp|prz|rv|tr)\s*:\s*", re.I)
    prev = None
    while prev != subject:
        prev, subject = subject, prefix.sub("", subject)
    return subject.strip()
