"""Tolerant vCard import (2.1, 3.0, 4.0) and standards-conformant export (3.0, 4.0).

Import is hand-written rather than delegated to ``vobject`` because real address-book
exports break its assumptions: vCard 2.1 quoted-printable values with per-property
``CHARSET``, bare parameters (``TEL;CELL;VOICE:``), soft line breaks without leading
whitespace, base64 blocks ended by a blank line, ``CR CR LF`` line ends (iOS), escaped
colons in URLs (Gmail), Apple ``itemN.X-ABLabel`` groups...  One unreadable property
never aborts a card: it is recorded in :attr:`ParsedContact.errors`.  Only input that
contains no vCard at all raises :class:`VCardError`.  (``vobject`` is used by the tests
as an independent reader of what :func:`to_vcard` writes.)

Export writes CRLF line ends, folds lines at 75 octets without splitting UTF-8
sequences, and escapes ``\\ , ; newline`` in text values.  ``parse_vcards(to_vcard(c))``
gives back the same fields as ``c`` for everything this module reads.

Decoding: the value bytes of each property are decoded on their own - quoted-printable
first when ``ENCODING=QUOTED-PRINTABLE``, then with the property's ``CHARSET`` if it
names a known codec, else UTF-8, falling back to windows-1252 and finally latin-1 (which
cannot fail) for exports written in a Windows code page.
"""

from __future__ import annotations

import base64
import codecs
import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

__all__ = ["NO_YEAR", "ParsedContact", "VCardError", "parse_vcards", "to_vcard"]

#: Year of dates whose year is unknown (Apple's placeholder, also used by vCard 4.0
#: ``--MMDD``); same value as :data:`.occasions.NO_YEAR`.
NO_YEAR = 1604


class VCardError(ValueError):
    """The input is not a vCard file at all."""

    def __init__(self, line_number: int, message: str) -> None:
        self.line_number = line_number
        self.message = message
        super().__init__(f"line {line_number}: {message}")


@dataclass
class ParsedContact:
    """One contact read from a vCard.  Empty values are ``None`` / empty lists.

    ``emails`` and ``phones`` are ``(value, type, preferred)``; ``type`` is a
    comma-separated list of lowercase vCard types without ``pref``/``internet``/
    ``voice`` (e.g. ``"cell"``, ``"work,fax"``) or ``None``.  ``addresses`` are dicts
    with ``type, po_box, extended, street, city, region, postcode, country, preferred``.
    Dates with an unknown year use :data:`NO_YEAR`.  ``extra`` keeps properties with no
    field of their own (``X-...``, ``GENDER``, ``GEO``...) as ``(NAME, text)`` pairs.
    """

    uid: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    full_name: str | None = None
    nickname: str | None = None
    emails: list[tuple[str, str | None, bool]] = field(default_factory=list)
    phones: list[tuple[str, str | None, bool]] = field(default_factory=list)
    addresses: list[dict] = field(default_factory=list)
    organization: str | None = None
    department: str | None = None
    title: str | None = None
    role: str | None = None
    birthday: datetime.date | None = None
    anniversary: datetime.date | None = None
    note: str | None = None
    urls: list[str] = field(default_factory=list)
    photo: tuple[bytes, str] | None = None
    photo_uri: str | None = None
    #: the image type the card claims for ``photo`` (``TYPE``/``MEDIATYPE``/data URI);
    #: the importer checks it against the sniffed one
    photo_declared: str | None = None
    categories: list[str] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def comparable(self) -> dict:
        """All fields except ``errors`` and the photo type the file declared (a note on
        the input, not data: the export states the type the content has) - what a round
        trip must preserve."""
        skip = ("errors", "photo_declared")
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


ADDRESS_PARTS = ("po_box", "extended", "street", "city", "region", "postcode", "country")

# --------------------------------------------------------------------------------------
# Physical and logical lines
# --------------------------------------------------------------------------------------

_BEGIN_RE = re.compile(rb"^\s*BEGIN\s*:\s*VCARD\s*$", re.IGNORECASE)
_END_RE = re.compile(rb"^\s*END\s*:\s*VCARD\s*$", re.IGNORECASE)
_QP_RE = re.compile(rb"QUOTED-PRINTABLE", re.IGNORECASE)


def _to_bytes(data: bytes | bytearray | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    data = bytes(data)
    # UTF-16 exports (some Windows tools): re-encode so the rest sees ASCII-compatible
    # bytes.  Detected by BOM, or by the NUL bytes of "BEGIN" without one.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").encode("utf-8")
    head = data[:10]
    if head.startswith(b"B\x00E\x00"):
        return data.decode("utf-16-le").encode("utf-8")
    if head.startswith(b"\x00B\x00E"):
        return data.decode("utf-16-be").encode("utf-8")
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):]
    return data


def _physical_lines(data: bytes) -> list[bytes]:
    # "\r\r\n" (iOS) and "\n" count as one break; a file with no "\n" at all uses "\r".
    if b"\n" in data:
        return re.split(rb"\r*\n", data)
    return data.split(b"\r")


def _header_end(line: bytes) -> int:
    """Index of the colon that ends ``name;params``, ignoring colons in quotes."""
    quoted = False
    for i, byte in enumerate(line):
        if byte == 0x22:  # "
            quoted = not quoted
        elif byte == 0x3A and not quoted:  # :
            return i
    return -1


def _logical_lines(phys: list[bytes]) -> Iterator[tuple[int, bytes]]:
    """Unfold: (first physical line number, logical line) for each non-blank line.

    A line starting with a space or tab continues the previous one (RFC 2425 folding).
    In a quoted-printable property a line ending in ``=`` continues on the next line
    whatever that line starts with (vCard 2.1 soft line breaks).
    """
    i, count = 0, len(phys)
    while i < count:
        line, number = phys[i], i + 1
        i += 1
        if not line.strip():
            continue  # blank lines, e.g. the one that ends a 2.1 base64 block
        end = _header_end(line)
        qp = end > 0 and bool(_QP_RE.search(line[:end]))
        parts = [line]  # joined once: photos span hundreds of lines
        while i < count:
            nxt = phys[i]
            if qp and parts[-1].endswith(b"="):
                parts[-1] = parts[-1][:-1]
                parts.append(nxt[1:] if nxt[:1] in (b" ", b"\t") else nxt)
            elif nxt[:1] in (b" ", b"\t"):
                parts.append(nxt[1:])
            else:
                break
            i += 1
        yield number, b"".join(parts)


# --------------------------------------------------------------------------------------
# Content lines
# --------------------------------------------------------------------------------------

_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}


@dataclass
class _Prop:
    line: int
    group: str | None
    name: str
    params: dict[str, list[str]]
    raw: bytes  # value bytes, still encoded

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    @property
    def types(self) -> list[str]:
        return [t.lower() for t in self.params.get("TYPE", []) if t]


def _split_unquoted(text: str, sep: str) -> list[str]:
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _decode_lenient(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _parse_line(number: int, line: bytes) -> _Prop | None:
    end = _header_end(line)
    if end <= 0:
        return None
    header = _decode_lenient(line[:end]).strip()
    items = _split_unquoted(header, ";")
    name = items[0].strip()
    group = None
    if "." in name:
        group, name = name.rsplit(".", 1)
        group = group.strip().lower()
    params: dict[str, list[str]] = {}
    for item in items[1:]:
        item = item.strip()
        if not item:
            continue
        if "=" in item:
            key, _, value = item.partition("=")
            key = key.strip().upper()
        else:  # vCard 2.1 bare parameter: a type, or an encoding
            key, value = ("ENCODING" if item.upper() in _ENCODINGS else "TYPE"), item
        if key == "TYPE":  # TYPE="work,voice" (4.0) is a list even though quoted
            value = value.replace('"', "")
        values = [v.strip().strip('"') for v in _split_unquoted(value, ",")]
        params.setdefault(key, []).extend(v for v in values if v)
    return _Prop(number, group, name.upper(), params, line[end + 1:])


# --------------------------------------------------------------------------------------
# Value decoding
# --------------------------------------------------------------------------------------

_QP_ESCAPE_RE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _qp_decode(raw: bytes) -> bytes:
    # Hand-rolled: quopri would also eat a stray "=" that 2.1 writers leave unencoded.
    return _QP_ESCAPE_RE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def _decode_text(prop: _Prop, errors: list[str], text_input: bool = False) -> str:
    raw = prop.raw
    qp = (prop.param("ENCODING") or "").upper() == "QUOTED-PRINTABLE"
    if qp:
        raw = _qp_decode(raw)
        # QP is how 2.1 writers embed line breaks; make them plain "\n".
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # A str was decoded by the caller already: CHARSET then only describes the bytes
    # hidden behind quoted-printable escapes.
    charset = prop.param("CHARSET") if qp or not text_input else None
    if charset:
        try:
            return raw.decode(charset)
        except LookupError:
            errors.append(f"line {prop.line}: {prop.name}: unknown charset {charset!r}")
        except UnicodeDecodeError:
            pass  # labelled wrongly (often "utf-8" on cp1252 text): guess below
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPE_21 = {"n": "\n", "N": "\n", ";": ";", ",": ",", "\\": "\\"}


def _unescape(text: str, version: str) -> str:
    """Undo text escaping.  3.0/4.0: ``\\n``, and a backslash before anything else is
    dropped (so Gmail's ``http\\://`` reads right).  2.1 has no general escaping, so an
    unknown sequence keeps its backslash (think ``C:\\Users``)."""
    if version == "2.1":
        return _UNESCAPE_RE.sub(lambda m: _UNESCAPE_21.get(m.group(1), m.group(0)), text)
    return _UNESCAPE_RE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _split_escaped(text: str, separators: str) -> list[str]:
    """Split on unescaped separator characters, keeping escapes for _unescape()."""
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _none_if_empty(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------

_DATE_RES = (
    re.compile(r"^(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})$"),
    re.compile(r"^--(?P<m>\d{2})-?(?P<d>\d{2})$"),
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$"),
)


def _parse_date(value: str, omit_year: str | None = None) -> datetime.date:
    """vCard date (or date-time): ``1980-03-22``, ``19800322``, ``--0203``,
    ``20090808T1430-0500``, Apple's ``1604-...`` / ``X-APPLE-OMIT-YEAR``, ``22.03.1980``.
    Unknown years become :data:`NO_YEAR`; anything else raises ValueError."""
    text = value.strip()
    if "T" in text and text[:1] in "0123456789-":
        text = text.split("T", 1)[0]
    for pattern in _DATE_RES:
        match = pattern.match(text)
        if match:
            break
    else:
        raise ValueError(f"unreadable date {value!r}")
    parts = match.groupdict()
    year = int(parts.get("y") or NO_YEAR)
    if year == 0 or (omit_year and omit_year.isdigit() and year == int(omit_year)):
        year = NO_YEAR
    return datetime.date(year, int(parts["m"]), int(parts["d"]))


def _format_date(value: datetime.date, version: str) -> tuple[str, str]:
    """(params, value) of a date property."""
    if value.year == NO_YEAR:
        # RFC 6350's truncated date, which Google and Apple also read in 3.0 cards:
        # the NO_YEAR placeholder never leaves Kyklos as if it were a year
        return "", f"--{value:%m%d}"
    if version == "4.0":
        return "", f"{value:%Y%m%d}"
    return "", value.isoformat()


# --------------------------------------------------------------------------------------
# Types and Apple labels
# --------------------------------------------------------------------------------------

_IGNORED_TYPES = {"pref", "internet", "voice", "x400", "postal", "parcel", "dom", "intl"}
_TYPE_ALIASES = {"mobile": "cell", "iphone": "cell"}
_APPLE_LABEL_RE = re.compile(r"^_\$!<(.*)>!\$_$")
_APPLE_LABEL_TYPES = {
    "mobile": "cell", "iphone": "cell", "homefax": "home,fax", "workfax": "work,fax",
    "otherfax": "fax", "assistantphone": "assistant", "main": "main", "pager": "pager",
    "home": "home", "work": "work", "other": "other", "school": "school",
}


def _label_types(label: str | None) -> list[str]:
    if not label:
        return []
    match = _APPLE_LABEL_RE.match(label.strip())
    text = (match.group(1) if match else label).strip().lower()
    mapped = _APPLE_LABEL_TYPES.get(text.replace(" ", ""))
    if mapped:
        return mapped.split(",")
    token = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return [token] if token else []


def _type_string(types: list[str]) -> str | None:
    seen: list[str] = []
    for t in types:
        t = t.strip().lower().removeprefix("x-")
        t = _TYPE_ALIASES.get(t, t)
        if t and t not in _IGNORED_TYPES and t not in seen:
            seen.append(t)
    return ",".join(seen) or None


def _is_preferred(prop: _Prop) -> bool:
    if "pref" in prop.types:
        return True
    pref = prop.param("PREF")
    return pref is not None and pref.strip() == "1"


# --------------------------------------------------------------------------------------
# Photos
# --------------------------------------------------------------------------------------

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in _MAGIC if data.startswith(magic)), None)


def _image_mime(type_param: str | None, data: bytes) -> str:
    sniffed = _sniff(data)
    if sniffed:
        return sniffed
    if type_param:
        t = type_param.lower()
        return t if "/" in t else f"image/{t}"
    return "application/octet-stream"


def _b64decode(raw: bytes) -> bytes:
    compact = re.sub(rb"\s+", b"", raw)
    compact += b"=" * (-len(compact) % 4)
    return base64.b64decode(compact, validate=False)


_DATA_URI_RE = re.compile(r"^data:(?P<mime>[^;,]*)(?P<b64>;base64)?,(?P<data>.*)$",
                          re.DOTALL | re.IGNORECASE)

# --------------------------------------------------------------------------------------
# Card assembly
# --------------------------------------------------------------------------------------

_ANNIVERSARY_PROPS = ("ANNIVERSARY", "X-ANNIVERSARY", "X-MS-ANNIVERSARY",
                      "X-EVOLUTION-ANNIVERSARY", "X-KADDRESSBOOK-X-ANNIVERSARY")
_BINARY_PROPS = {"PHOTO", "LOGO", "SOUND", "KEY"}
# Read into fields, consumed as Apple metadata, or not worth keeping.
_SKIPPED_PROPS = {"BEGIN", "END", "VERSION", "PRODID", "REV", "LABEL", "X-ABLABEL",
                  "X-ABADR", "X-ABDATE", "AGENT"}
_URI_PROPS = {"GEO", "KEY", "FBURL", "CALURI", "CALADRURI", "SOURCE", "IMPP", "MEMBER",
              "RELATED", "URL", "LOGO", "SOUND"}


class _CardBuilder:
    def __init__(self, text_input: bool) -> None:
        self.version = "3.0"
        self.text_input = text_input
        self.props: list[_Prop] = []
        self.errors: list[str] = []

    def _decode(self, prop: _Prop) -> str:
        return _decode_text(prop, self.errors, self.text_input)

    def build(self) -> ParsedContact:
        contact = ParsedContact(errors=self.errors)
        labels = {p.group: self._decode(p) for p in self.props
                  if p.group and p.name == "X-ABLABEL"}
        anniversaries: dict[str, datetime.date] = {}
        for prop in self.props:
            try:
                self._apply(contact, prop, labels.get(prop.group), anniversaries)
            except (ValueError, LookupError, TypeError) as exc:
                self.errors.append(f"line {prop.line}: {prop.name}: {exc}")
        contact.anniversary = next(
            (anniversaries[n] for n in (*_ANNIVERSARY_PROPS, "X-ABDATE") if n in anniversaries),
            None,
        )
        return contact

    def _text(self, prop: _Prop) -> str:
        return _unescape(self._decode(prop), self.version)

    def _components(self, prop: _Prop) -> list[str | None]:
        raw = self._decode(prop)
        return [_none_if_empty(_unescape(c, self.version)) for c in _split_escaped(raw, ";")]

    def _apply(self, c: ParsedContact, prop: _Prop, label: str | None,
               anniversaries: dict[str, datetime.date]) -> None:
        name = prop.name
        if name in _BINARY_PROPS and name != "PHOTO":
            # Keep KEY / LOGO / SOUND only as URIs; inline binary blobs are dropped.
            is_uri = prop.param("VALUE") is not None or b"://" in prop.raw[:16]
            if prop.param("ENCODING") is None and is_uri:
                c.extra.append((name, self._text(prop).strip()))
            return
        if name == "X-ABDATE" and "anniversary" in _label_types(label):
            anniversaries.setdefault(name, _parse_date(self._text(prop)))
            return
        if name in _SKIPPED_PROPS:
            return
        handler = getattr(self, "_prop_" + name.replace("-", "_").lower(), None)
        if name in _ANNIVERSARY_PROPS:
            anniversaries.setdefault(name, _parse_date(self._text(prop),
                                                       prop.param("X-APPLE-OMIT-YEAR")))
        elif handler is not None:
            handler(c, prop, label)
        else:
            value = self._decode(prop)
            if name not in _URI_PROPS:
                value = _unescape(value, self.version)
            c.extra.append((name, value))

    # One method per property we map to a field.

    def _prop_uid(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        c.uid = c.uid or _none_if_empty(self._text(prop))

    def _prop_fn(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        c.full_name = c.full_name or _none_if_empty(self._text(prop))

    def _prop_n(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        # Each part may list several values ("Hon.,Dr."): read as "Hon., Dr.".
        raw = self._decode(prop)
        parts: list[str | None] = []
        for component in _split_escaped(raw, ";"):
            values = [_unescape(v, self.version).strip() for v in _split_escaped(component, ",")]
            parts.append(_none_if_empty(", ".join(v for v in values if v)))
        parts += [None] * 5
        c.last_name, c.first_name, c.middle_name, c.prefix, c.suffix = parts[:5]

    def _prop_nickname(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        raw = self._decode(prop)
        names = [_unescape(n, self.version).strip() for n in _split_escaped(raw, ",")]
        c.nickname = c.nickname or (", ".join(n for n in names if n) or None)

    def _prop_org(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        parts = self._components(prop)
        c.organization = parts[0]
        units = [p for p in parts[1:] if p]
        c.department = ", ".join(units) or None

    def _prop_title(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        c.title = c.title or _none_if_empty(self._text(prop))

    def _prop_role(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        c.role = c.role or _none_if_empty(self._text(prop))

    def _prop_note(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        text = self._text(prop).replace("\r\n", "\n").strip("\n")
        if text.strip():
            c.note = f"{c.note}\n\n{text}" if c.note else text

    def _prop_email(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        value = self._text(prop).strip()
        if value.lower().startswith("mailto:"):
            value = value[7:]
        if value:
            types = _type_string(prop.types + _label_types(label))
            c.emails.append((value, types, _is_preferred(prop)))

    def _prop_tel(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        value = self._text(prop).strip()
        if value.lower().startswith("tel:"):  # 4.0 URI: tel:+1-418-656-9254;ext=102
            number, *uri_params = value[4:].split(";")
            ext = next((p[4:] for p in uri_params if p.lower().startswith("ext=")), None)
            value = f"{number} ext. {ext}" if ext else number
        if value:
            types = _type_string(prop.types + _label_types(label))
            c.phones.append((value, types, _is_preferred(prop)))

    def _prop_adr(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        parts = self._components(prop) + [None] * 7
        address: dict = dict(zip(ADDRESS_PARTS, parts[:7], strict=True))
        if not any(address.values()):
            return
        address["type"] = _type_string(prop.types + _label_types(label))
        address["preferred"] = _is_preferred(prop)
        c.addresses.append(address)

    def _prop_url(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        value = self._text(prop).strip()
        if value:
            c.urls.append(value)

    def _prop_bday(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        if c.birthday is None:
            c.birthday = _parse_date(self._text(prop), prop.param("X-APPLE-OMIT-YEAR"))

    def _prop_categories(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        # Thunderbird escapes the commas between categories; categories containing a
        # comma are far rarer than that, so escaped commas separate too.
        raw = self._decode(prop).replace("\\,", ",")
        for item in _split_escaped(raw, ","):
            item = _unescape(item, self.version).strip()
            if item and item not in c.categories:
                c.categories.append(item)

    def _prop_photo(self, c: ParsedContact, prop: _Prop, label: str | None) -> None:
        if c.photo is not None:
            return
        encoding = (prop.param("ENCODING") or "").upper()
        if encoding in ("B", "BASE64"):
            data = _b64decode(prop.raw)
            if data:
                declared = prop.param("TYPE") or prop.param("MEDIATYPE")
                c.photo = (data, _image_mime(declared, data))
                c.photo_declared = declared
            return
        value = self._decode(prop).strip()
        match = _DATA_URI_RE.match(value)
        if match:
            payload = match.group("data")
            data = (_b64decode(payload.encode("ascii")) if match.group("b64")
                    else payload.encode("utf-8"))
            c.photo = (data, _image_mime(match.group("mime") or None, data))
            c.photo_declared = match.group("mime") or None
        elif value:
            c.photo_uri = c.photo_uri or value


def parse_vcards(data: bytes | bytearray | str) -> Iterator[ParsedContact]:
    """Parse every vCard in *data*; yields one :class:`ParsedContact` per card.

    Raises :class:`VCardError` straight away (not on iteration) when *data* contains no
    ``BEGIN:VCARD`` line.  Text outside cards is ignored.
    """
    raw = _to_bytes(data)
    phys = _physical_lines(raw)
    if not any(_BEGIN_RE.match(line) for line in phys):
        first = next((i + 1 for i, line in enumerate(phys) if line.strip()), 1)
        raise VCardError(first, "no BEGIN:VCARD found; this is not a vCard file")
    return _iter_cards(phys, isinstance(data, str))


def _iter_cards(phys: list[bytes], text_input: bool) -> Iterator[ParsedContact]:
    card: _CardBuilder | None = None
    nested = 0
    for number, line in _logical_lines(phys):
        if _BEGIN_RE.match(line):
            if card is None:
                card = _CardBuilder(text_input)
            else:  # 2.1 AGENT embeds a whole card; we do not import agents
                nested += 1
                if nested == 1:
                    card.errors.append(f"line {number}: embedded vCard (AGENT) ignored")
            continue
        if _END_RE.match(line):
            if nested:
                nested -= 1
            elif card is not None:
                yield card.build()
                card = None
            continue
        if card is None or nested:
            continue
        prop = _parse_line(number, line)
        if prop is None:
            card.errors.append(f"line {number}: not a property line: {line[:40]!r}")
            continue
        if prop.name == "VERSION":
            card.version = _decode_lenient(prop.raw).strip() or card.version
        card.props.append(prop)
    if card is not None:
        card.errors.append("missing END:VCARD at end of file")
        yield card.build()


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------

_KNOWN_TYPES = {"home", "work", "cell", "fax", "pager", "video", "text", "textphone",
                "msg", "car", "isdn", "modem", "bbs", "pcs"}
_TEL_URI_RE = re.compile(r"^\+[0-9().\-]+$")


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def _list_component(text: str | None) -> str:
    """A structured-name part that may hold several values ("Hon., Dr."; "Jean Paul")
    as a comma-separated list (RFC 6350 6.2.2), each value escaped on its own; spaces
    inside one value stay."""
    if not text:
        return ""
    return ",".join(_escape(v.strip()) for v in text.split(",") if v.strip())


def _escape_uri(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold at 75 octets (continuations start with one space, which counts), never
    inside a UTF-8 sequence."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    if line.isascii():  # the common case (base64 photos): one char is one octet
        chunks = [line[:75]] + [line[i:i + 74] for i in range(75, len(line), 74)]
        return "\r\n ".join(chunks)
    chunks, current, limit = [], bytearray(), 75
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > limit:
            chunks.append(current.decode("utf-8"))
            current, limit = bytearray(), 74
        current += b
    chunks.append(current.decode("utf-8"))
    return "\r\n ".join(chunks)


def _type_params(types: str | None, preferred: bool, version: str) -> str:
    tokens: list[str] = []
    for t in (types or "").split(","):
        t = t.strip().lower()
        if t:
            tokens.append(t if t in _KNOWN_TYPES else f"x-{t}")
    params = ""
    if version == "4.0":
        if tokens:
            params += ";TYPE=" + ",".join(tokens)
        if preferred:
            params += ";PREF=1"
    else:
        if preferred:
            tokens.append("pref")
        if tokens:
            params += ";TYPE=" + ",".join(t.upper() for t in tokens)
    return params


def _composed_name(c: ParsedContact) -> str:
    parts = [c.prefix, c.first_name, c.middle_name, c.last_name, c.suffix]
    name = " ".join(p for p in parts if p)
    return name or c.organization or (c.emails[0][0] if c.emails else "")


def to_vcard(contact: ParsedContact, version: str = "3.0") -> str:
    """Serialise *contact* as one vCard 3.0 or 4.0 (CRLF line ends, folded lines).

    FN is required by both versions: when ``full_name`` is empty it is composed from the
    name parts (or the organisation, or the first e-mail).  Dates with an unknown year
    are written ``--MMDD`` in both versions.  The anniversary is ``ANNIVERSARY`` in 4.0
    and ``X-ANNIVERSARY`` in 3.0.
    """
    if version not in ("3.0", "4.0"):
        raise ValueError(f"unsupported vCard version {version!r}; use '3.0' or '4.0'")
    c = contact
    lines = ["BEGIN:VCARD", f"VERSION:{version}", "PRODID:-//Kyklos//Kyklos CRM//EN"]
    if c.uid:
        lines.append("UID:" + _escape(c.uid))
    lines.append("FN:" + _escape(c.full_name or _composed_name(c)))
    name_parts = (c.last_name, c.first_name, c.middle_name, c.prefix, c.suffix)
    if any(name_parts) or version == "3.0":
        lines.append("N:" + ";".join(_list_component(p) for p in name_parts))
    if c.nickname:
        lines.append("NICKNAME:" + _escape(c.nickname))
    if c.organization or c.department:
        # Each organisational unit is a component of its own (RFC 6350 6.6.4), as
        # ``_prop_org`` reads them back into ``department``.
        units = [u.strip() for u in (c.department or "").split(",") if u.strip()]
        lines.append("ORG:" + ";".join(_escape(p) for p in [c.organization or "", *units]))
    if c.title:
        lines.append("TITLE:" + _escape(c.title))
    if c.role:
        lines.append("ROLE:" + _escape(c.role))
    for value, types, preferred in c.emails:
        lines.append(f"EMAIL{_type_params(types, preferred, version)}:{_escape(value)}")
    for value, types, preferred in c.phones:
        params = _type_params(types, preferred, version)
        if version == "4.0":
            number, _, ext = value.partition(" ext. ")
            if _TEL_URI_RE.match(number) and (not ext or ext.isdigit()):
                uri = "tel:" + number + (f";ext={ext}" if ext else "")
                lines.append(f"TEL;VALUE=uri{params}:{uri}")
                continue
            params = ";VALUE=text" + params
        lines.append(f"TEL{params}:{_escape(value)}")
    for address in c.addresses:
        params = _type_params(address.get("type"), bool(address.get("preferred")), version)
        value = ";".join(_escape(address.get(part) or "") for part in ADDRESS_PARTS)
        lines.append(f"ADR{params}:{value}")
    for url in c.urls:
        lines.append("URL:" + _escape_uri(url))
    if c.birthday:
        params, value = _format_date(c.birthday, version)
        lines.append(f"BDAY{params}:{value}")
    if c.anniversary:
        params, value = _format_date(c.anniversary, version)
        name = "ANNIVERSARY" if version == "4.0" else "X-ANNIVERSARY"
        lines.append(f"{name}{params}:{value}")
    if c.note:
        lines.append("NOTE:" + _escape(c.note))
    if c.categories:
        lines.append("CATEGORIES:" + ",".join(_escape(cat) for cat in c.categories))
    if c.photo:
        data, mime = c.photo
        encoded = base64.b64encode(data).decode("ascii")
        if version == "4.0":
            lines.append(f"PHOTO:data:{mime};base64,{encoded}")
        else:
            # 3.0 names image types by subtype (TYPE=JPEG); anything else keeps its MIME.
            kind = mime[6:].upper() if mime.startswith("image/") else mime
            lines.append(f"PHOTO;ENCODING=b;TYPE={kind}:{encoded}")
    elif c.photo_uri:
        lines.append(("PHOTO:" if version == "4.0" else "PHOTO;VALUE=uri:")
                     + _escape_uri(c.photo_uri))
    for name, value in c.extra:
        # KEY/LOGO/SOUND are only kept as URIs; say so in 3.0 where binary is default.
        params = ";VALUE=uri" if name in _BINARY_PROPS and version == "3.0" else ""
        escaped = _escape_uri(value) if name in _URI_PROPS else _escape(value)
        lines.append(f"{name}{params}:{escaped}")
    lines.append("END:VCARD")
    return "".join(_fold(line) + "\r\n" for line in lines)
