"""How a text travels as SMS, worked out before it is sent (a pure function, shared by
the send form's live counter through ``/sms/count`` and by the outbox).

GSM 03.38's 7-bit default alphabet when every character is in it (an extension
character such as ``€`` or ``{`` costs two septets: escape + character), else UCS-2
(UTF-16 code units; a character beyond the BMP, an emoji, costs two). One message holds
160 septets or 70 units; a longer text is split into parts of 153 septets or 67 units
(the rest of each part is the concatenation header), and an escape pair or a surrogate
pair is never split across two parts, as handsets and gateways split them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: GSM 03.38's default alphabet in code order; 0x1B is the escape to the extension table
GSM_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_BASIC = frozenset(GSM_TABLE) - {"\x1b"}
#: the extension table (escape + code): each character costs two septets
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C,
                 "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}  # fmt: skip
GSM_EXTENDED = frozenset(GSM_EXTENSION)

SINGLE = {"gsm7": 160, "ucs2": 70}
MULTI = {"gsm7": 153, "ucs2": 67}
#: a text longer than this many parts is refused (gateways and handsets give up too)
MAX_PARTS = 10


@dataclass(frozen=True)
class Count:
    encoding: str  # "gsm7" or "ucs2"
    #: septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text
    units: int
    parts: int
    #: units still free in the last part
    remaining: int
    #: the characters that forced UCS-2 (empty for GSM-7), at most 10
    unicode_chars: tuple[str, ...] = ()


def is_gsm7(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def _cost(c: str, encoding: str) -> int:
    if encoding == "gsm7":
        return 2 if c in GSM_EXTENDED else 1
    return 2 if ord(c) > 0xFFFF else 1


def encoding_of(text: str) -> str:
    return "gsm7" if is_gsm7(text) else "ucs2"


def split(text: str, encoding: str | None = None) -> list[str]:
    """The parts ``text`` goes out as (one part for an empty text)."""
    encoding = encoding or encoding_of(text)
    total = sum(_cost(c, encoding) for c in text)
    if total <= SINGLE[encoding]:
        return [text]
    size = MULTI[encoding]
    parts, current, used = [], [], 0
    for c in text:
        cost = _cost(c, encoding)
        if used + cost > size:  # the pair moves whole to the next part
            parts.append("".join(current))
            current, used = [], 0
        current.append(c)
        used += cost
    parts.append("".join(current))
    return parts


def count(text: str) -> Count:
    """The encoding, length and number of parts of ``text``."""
    encoding = encoding_of(text)
    units = sum(_cost(c, encoding) for c in text)
    parts = split(text, encoding)
    limit = SINGLE[encoding] if len(parts) == 1 else MULTI[encoding]
    last = sum(_cost(c, encoding) for c in parts[-1])
    odd = ()
    if encoding == "ucs2":
        odd = tuple(dict.fromkeys(c for c in text if not is_gsm7(c)))[:10]
    return Count(encoding, units, len(parts), limit - last, odd)


def ucs2_hex(text: str) -> str:
    """The text as UTF-16-BE in hex: Jasmin's ``hex-content`` with ``coding=8``."""
    return text.encode("utf-16-be").hex()


def gsm7_bytes(text: str) -> bytes:
    """The text as unpacked GSM 03.38 septets, one per octet: what SMPP's
    ``short_message`` carries with ``data_coding`` 0 (sent as ``hex-content``, so no
    gateway re-encodes é or € as UTF-8 on the way)."""
    out = bytearray()
    for c in text:
        if c in GSM_EXTENSION:
            out += bytes((0x1B, GSM_EXTENSION[c]))
        else:
            out.append(GSM_TABLE.index(c))
    return bytes(out)


def decode(data: bytes, coding: int) -> str:
    """An inbound message's text from its SMPP ``data_coding``."""
    if coding == 8:
        return data.decode("utf-16-be", errors="replace")
    if coding == 0 and all(b < 0x80 for b in data):
        ext = {v: k for k, v in GSM_EXTENSION.items()}
        out, escape = [], False
        for b in data:
            if escape:
                out.append(ext.get(b, " "))
                escape = False
            elif b == 0x1B:
                escape = True
            else:
                out.append(GSM_TABLE[b])
        return "".join(out)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
