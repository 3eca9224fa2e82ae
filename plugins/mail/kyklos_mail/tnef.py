"""Outlook's TNEF (``winmail.dat``, ``application/ms-tnef``): the files it wraps become
the message's attachments like any other, and its body (HTML, text or compressed RTF)
is the message's when the message carries none of its own. A TNEF stream that cannot
be read stays attached as it came, and ``problems`` says so."""

from __future__ import annotations

TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}


def is_tnef(filename: str, content_type: str) -> bool:
    return content_type.lower() in TNEF_TYPES or (filename or "").lower() == "winmail.dat"


def unpack(data: bytes) -> tuple[list[tuple[str, bytes]], str, str]:
    """``([(file name, bytes)], text, html)`` of a TNEF stream; raises on a broken one."""
    from tnefparse import TNEF

    # the checksum is often wrong in the wild (gateways re-encode); the content is fine
    tnef = TNEF(data, do_checksum=False)
    files = []
    for n, att in enumerate(tnef.attachments, 1):
        name = att.long_filename() or att.name or f"attachment-{n}"
        if isinstance(name, bytes):
            name = name.decode("utf-8", errors="replace")
        files.append((str(name).strip("\x00 ") or f"attachment-{n}", att.data or b""))
    text = _str(tnef.body)
    html = _str(tnef.htmlbody)
    if not text and not html and tnef.rtfbody:
        text = _rtf_text(tnef.rtfbody)
    return files, text.replace("\r\n", "\n").strip(), html


def _str(value) -> str:
    if not value:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _rtf_text(rtf) -> str:
    from striprtf.striprtf import rtf_to_text

    raw = rtf.decode("latin-1") if isinstance(rtf, bytes) else str(rtf)
    if not raw.startswith("{\\rtf"):  # still compressed: compressed_rtf is missing
        return ""
    return rtf_to_text(raw, errors="ignore")
