"""Reading import files: CSV (encoding and delimiter detected or chosen, BOM, quoted
newlines), XLSX (streamed, after zip-bomb checks) and formats plugins contribute through
the ``kyklos_import_formats`` hook (e.g. vCard).

A reader yields ``(row_number, [cell, ...])`` with the header as row 1. Structural
problems raise :class:`FileError`, which names the file, row and column.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_COLUMNS = 500
MAX_CELL = 100_000
MAX_ROWS = 2_000_000
#: XLSX limits checked on the zip directory before anything is inflated
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_BYTES = 500 * 1024 * 1024
MAX_ZIP_RATIO = 200
DELIMITERS = ",;\t|"
#: single-byte encodings a file without a BOM that is not UTF-8 may be in, in the order
#: preferred when several read the same letters (Western, Central European, Greek,
#: Cyrillic, then their ISO twins)
CANDIDATES = ("cp1252", "cp1250", "cp1253", "cp1251", "iso8859_15", "iso8859_2",
              "iso8859_7", "iso8859_5", "iso8859_16")
#: every encoding a person may choose (wizard drop-down, API, ``--encoding``)
ENCODINGS = ("utf-8", "utf-16", *CANDIDATES, "latin-1")
#: a word: a run of bytes that are not ASCII space, digits or punctuation
_WORD = re.compile(rb"[^\x00-\x40\x5b-\x60\x7b-\x7f]+")
#: Romanian's s/t with cedilla (cp1250, ISO 8859-2) and with comma (ISO 8859-16) are one
#: letter to a reader
_SAME_LETTER = str.maketrans("ŞşŢţ", "ȘșȚț")
#: tokens with non-ASCII bytes looked at, at most
_MAX_WORDS = 20_000
#: how much better (charset-normalizer's language coherence) one reading must be than
#: another that gives other letters for it to be chosen without asking
_MARGIN = 0.03


class FileError(ValueError):
    """A file cannot be read: ``str()`` is ``file:row:column: message``."""

    def __init__(self, file: str, message: str, row: int | None = None, column=None):
        self.file, self.row, self.column, self.message = file, row, column, message
        where = ":".join(str(p) for p in (file, row, column) if p not in (None, ""))
        super().__init__(f"{where}: {message}")


@dataclass
class Options:
    format: str | None = None  # csv, xlsx or a plugin's format; None: from the name
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    limits: dict = field(default_factory=dict)
    #: refuse to read a file whose encoding is uncertain (:class:`EncodingUnsure`)
    strict_encoding: bool = False


def detect_format(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    return {"txt": "csv", "tsv": "csv"}.get(suffix, suffix)


class EncodingUnsure(FileError):
    """The file reads as plausible text in encodings that give different letters:
    ``candidates`` is ``[(encoding, [words as that encoding reads them])]``, the best
    first. The person chooses (wizard drop-down, API option, ``--encoding``)."""

    def __init__(self, file: str, candidates: list[tuple[str, list[str]]]):
        self.candidates = candidates
        readings = "; ".join(f"{enc}: {' '.join(words[:3])}" for enc, words in candidates)
        super().__init__(file, f"the encoding is uncertain ({readings}): choose one")


@dataclass
class Guess:
    """What :func:`detect_encoding` found: the encoding, whether it is certain (a BOM,
    valid UTF-8, or the only plausible letters) and the readings it chose among."""

    encoding: str
    certain: bool = True
    candidates: list[tuple[str, list[str]]] = field(default_factory=list)


def _script(ch: str) -> str:
    return unicodedata.name(ch, "?").split(" ", 1)[0]


def _implausible(word: str) -> bool:
    """A word no language writes: letters of two scripts ("Mόller": cp1253 read of
    cp1252), a symbol or control character between letters ("£ódŸ"), a capital with
    a diacritic after a small letter ("ИеуублпнЯкз"), or a Latin word mostly of
    accented letters ("Ðáðáäüðïõëïò": Greek read as cp1252)."""
    letters = [c for c in word if c.isalpha()]
    scripts = {_script(c) for c in letters}
    if len(scripts) > 1 or any(not c.isalpha() and ord(c) > 127 for c in word):
        return True
    if any(ord(b) > 127 and b.isupper() and a.islower() for a, b in itertools.pairwise(word)):
        return True
    return scripts == {"LATIN"} and len(letters) >= 5 and \
        2 * sum(ord(c) > 127 for c in letters) > len(letters)


def _non_ascii_words(path: Path) -> list[bytes]:
    """The distinct words of the file holding a byte above 127 (at most ``_MAX_WORDS``)."""
    seen: dict[bytes, None] = {}
    with path.open("rb") as fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            data = tail + chunk
            cut = max(data.rfind(b"\n"), 0)  # a word never spans lines
            data, tail = data[:cut], data[cut:]
            for m in _WORD.finditer(data):
                w = m.group()
                if max(w) > 127:
                    seen.setdefault(w, None)
            if len(seen) >= _MAX_WORDS:
                return list(seen)[:_MAX_WORDS]
        for m in _WORD.finditer(tail):
            if max(m.group()) > 127:
                seen.setdefault(m.group(), None)
    return list(seen)[:_MAX_WORDS]


def _coherence(words: list[bytes], encodings: list[str]) -> dict[str, float]:
    """charset-normalizer's measure of how much each reading looks like a language
    (letter frequencies), less its measure of mess; 0 for a reading it discards."""
    from charset_normalizer import from_bytes

    out = dict.fromkeys(encodings, -1.0)
    payload = b" ".join(words[:2000])
    for match in from_bytes(payload, cp_isolation=list(encodings)):
        score = match.coherence - match.chaos
        for name in (match.encoding, *match.could_be_from_charset):
            key = codecs.lookup(name).name
            for enc in encodings:
                if codecs.lookup(enc).name == key:
                    out[enc] = max(out[enc], score)
    return out


def guess_encoding(path: Path, sample: bytes) -> Guess:
    """The encoding of a CSV file: a BOM (UTF-8, UTF-16); UTF-8 when the whole file is
    valid UTF-8; otherwise the single-byte encoding whose reading of the words with
    non-ASCII letters is plausible (see :func:`_implausible`). Readings giving the same
    letters are one (``Müller`` in cp1252, cp1250 and ISO 8859-2: the first of
    :data:`CANDIDATES` is named); when plausible readings give different letters,
    charset-normalizer's language statistics choose if one is clearly better, and the
    guess is marked uncertain otherwise."""
    if sample.startswith(codecs.BOM_UTF8):
        return Guess("utf-8-sig")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Guess("utf-16")
    if _utf16_without_bom(sample):
        return Guess(_utf16_without_bom(sample))
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return Guess("utf-8")
    except UnicodeDecodeError:
        pass
    words = _non_ascii_words(path)
    readings: dict[str, tuple[float, list[str]]] = {}
    for enc in CANDIDATES:
        try:
            texts = [w.decode(enc) for w in words]
        except UnicodeDecodeError:
            continue  # a byte this encoding does not define
        bad = sum(_implausible(t) for t in texts)
        readings[enc] = (bad / max(len(texts), 1), texts)
    if not readings:
        return Guess("latin-1", certain=False)
    least = min(r for r, _t in readings.values())
    groups: dict[tuple, str] = {}  # the letters read -> the first encoding reading them
    for enc, (ratio, texts) in readings.items():
        if ratio <= least + 0.02:
            groups.setdefault(tuple(t.translate(_SAME_LETTER) for t in texts), enc)
    encs = list(groups.values())
    candidates = [(enc, _examples(readings[enc][1])) for enc in encs]
    if len(encs) == 1:
        return Guess(encs[0], True, candidates)
    scores = _coherence(words, encs)
    encs.sort(key=lambda e: -scores[e])
    candidates.sort(key=lambda c: encs.index(c[0]))
    certain = scores[encs[0]] - scores[encs[1]] >= _MARGIN
    return Guess(encs[0], certain, candidates)


def _examples(texts: list[str], n: int = 6) -> list[str]:
    """A few of the words a reading gives, the ones with the most non-ASCII letters."""
    return sorted(texts, key=lambda t: -sum(ord(c) > 127 for c in t))[:n]


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text without a BOM: ASCII text has a NUL in every other byte."""
    head = sample[:4000]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.7 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.7 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(path: Path, sample: bytes) -> str:
    """The encoding :func:`guess_encoding` finds (certain or not)."""
    return guess_encoding(path, sample).encoding


def detect_delimiter(text: str) -> str:
    lines = text.splitlines()[:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        return max(DELIMITERS, key=lambda d: first.count(d)) if first else ","


class CSVReader:
    def __init__(self, path: Path, name: str, opts: Options):
        self.path, self.name, self.opts = path, name, opts
        with path.open("rb") as fh:
            sample = fh.read(64 * 1024)
        if b"\x00" in sample and not sample.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        ) and not _utf16_without_bom(sample):
            raise FileError(name, "binary data (NUL bytes): not a text CSV file", 1)
        if opts.encoding:
            self.guess = Guess(opts.encoding)
        else:
            self.guess = guess_encoding(path, sample)
            if not self.guess.certain and opts.strict_encoding:
                raise EncodingUnsure(name, self.guess.candidates)
        self.encoding = self.guess.encoding
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise FileError(name, f"unknown encoding {self.encoding[:40]!r}") from None
        text = sample.decode(self.encoding, errors="ignore").lstrip("\ufeff")
        self.delimiter = opts.delimiter or detect_delimiter(text)
        if len(self.delimiter) != 1:
            raise FileError(name, "the delimiter must be one character")

    def __iter__(self):
        limits = self.opts.limits
        max_cols = limits.get("columns", MAX_COLUMNS)
        max_cell = limits.get("cell", MAX_CELL)
        max_rows = limits.get("rows", MAX_ROWS)
        csv.field_size_limit(max_cell + 1)
        with self.path.open("r", encoding=self.encoding, errors="strict", newline="") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter, strict=True)
            n = 0
            try:
                for row in reader:
                    n += 1
                    if n == 1 and row and row[0].startswith("\ufeff"):
                        row[0] = row[0][1:]
                    if n > max_rows + 1:
                        raise FileError(self.name, f"more than {max_rows} rows", n)
                    if len(row) > max_cols:
                        raise FileError(
                            self.name, f"{len(row)} columns; at most {max_cols}", n, max_cols + 1
                        )
                    # one C-level scan of the whole row: most rows hold no control
                    # character, and a cell-by-cell loop ran for every cell of a file
                    joined = "".join(row)
                    if _CONTROL_RE.search(joined) is None:
                        yield n, row
                        continue
                    if "\x00" in joined:
                        for i, cell in enumerate(row):
                            if "\x00" in cell:
                                raise FileError(self.name, "NUL character in a cell", n, i + 1)
                    yield n, [clean_cell(c) for c in row]
            except csv.Error as exc:
                msg = str(exc)
                if "field larger than field limit" in msg:
                    msg = f"a cell longer than {max_cell} characters"
                raise FileError(self.name, msg, reader.line_num or n + 1) from None
            except UnicodeDecodeError as exc:
                raise FileError(
                    self.name,
                    f"not valid {self.encoding} text (byte {exc.start}); choose the encoding",
                    n + 1,
                ) from None


def check_zip(path: Path, name: str, limits: dict) -> None:
    """Refuse archives that would inflate past the limits (zip bombs), before parsing."""
    try:
        zf = zipfile.ZipFile(path)
    except NotImplementedError as exc:  # "zip file version 20.9": a crafted directory
        raise FileError(name, f"an archive this reader cannot open ({exc})") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FileError(name, "not an XLSX file (not a zip archive)") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.get("zip_entries", MAX_ZIP_ENTRIES):
            raise FileError(name, f"the archive has {len(infos)} entries: too many")
        total = sum(i.file_size for i in infos)
        if total > limits.get("zip_bytes", MAX_ZIP_BYTES):
            raise FileError(name, f"the archive inflates to {total} bytes: too large")
        for i in infos:
            # zipfile refuses such entries only when it inflates them, in the middle of
            # reading the sheet: refuse the archive now, by name
            if i.extract_version > zipfile.MAX_EXTRACT_VERSION or i.compress_type not in (
                zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
            ):
                raise FileError(name, f"{i.filename[:100]}: a zip entry this reader cannot "
                                      "inflate (damaged or not written by a spreadsheet)")
            if i.compress_size and i.file_size / i.compress_size > MAX_ZIP_RATIO and \
                    i.file_size > 10 * 1024 * 1024:
                raise FileError(name, f"{i.filename}: suspicious compression ratio")


#: C0 control characters other than TAB, LF and CR: no text field holds them (XLSX
#: escapes them as ``_x000B_``; some exports leave vertical tabs for line breaks)
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))
_CONTROL[0x0B] = "\n"
_CONTROL[0x0C] = "\n"


#: the characters :data:`_CONTROL` changes, found by one C-level scan of a cell
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_cell(text: str) -> str:
    """``text`` without control characters (a vertical tab or form feed: a line break)."""
    return text.translate(_CONTROL) if _CONTROL_RE.search(text) else text


def _xlsx_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return clean_cell(str(value))


class XLSXReader:
    def __init__(self, path: Path, name: str, opts: Options):
        self.path, self.name, self.opts = path, name, opts
        self.encoding, self.delimiter = "xlsx", ""
        check_zip(path, name, opts.limits)

    def __iter__(self):
        import openpyxl

        limits = self.opts.limits
        max_cols = limits.get("columns", MAX_COLUMNS)
        max_cell = limits.get("cell", MAX_CELL)
        max_rows = limits.get("rows", MAX_ROWS)
        try:
            wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for damaged files
            raise FileError(self.name, f"cannot read the workbook: {type(exc).__name__}") from None
        n = 0
        try:
            ws = wb[self.opts.sheet] if self.opts.sheet else wb.worksheets[0]
            for values in ws.iter_rows(values_only=True):
                n += 1
                if n > max_rows + 1:
                    raise FileError(self.name, f"more than {max_rows} rows", n)
                if len(values) > max_cols:
                    raise FileError(self.name, f"{len(values)} columns; at most {max_cols}", n,
                                    max_cols + 1)
                row = [_xlsx_text(v) for v in values]
                for i, cell in enumerate(row):
                    if len(cell) > max_cell:
                        raise FileError(self.name, f"a cell longer than {max_cell} characters",
                                        n, i + 1)
                while row and row[-1] == "":
                    row.pop()
                yield n, row
        except KeyError:
            raise FileError(self.name, f"no sheet {self.opts.sheet!r}") from None
        except FileError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged sheet fails as it is read
            raise FileError(self.name, f"cannot read the workbook: {type(exc).__name__}",
                            n + 1) from None
        finally:
            wb.close()


class RowsReader:
    """Rows a plugin's format parser produced (header first)."""

    def __init__(self, name: str, rows: list[list[str]]):
        self.name, self.rows = name, rows
        self.encoding, self.delimiter = "", ""

    def __iter__(self):
        yield from enumerate(self.rows, start=1)


def plugin_formats(registry) -> dict:
    """``{format: parse(bytes) -> [header, *rows]}`` from ``kyklos_import_formats``."""
    from kyklos.hooks import collect

    return {fmt: parser for fmt, parser in collect(registry.kyklos_pm, "kyklos_import_formats")}


def open_reader(registry, path: Path, name: str, opts: Options):
    fmt = opts.format or detect_format(name)
    if fmt == "csv":
        return fold_typed_groups(CSVReader(path, name, opts))
    if fmt == "xlsx":
        return fold_typed_groups(XLSXReader(path, name, opts))
    parser = plugin_formats(registry).get(fmt) if registry is not None else None
    if parser is None:
        raise FileError(name, f"unknown file format {fmt[:20]!r}: use CSV or XLSX")
    try:
        rows = parser(path.read_bytes())
    except ValueError as exc:
        raise FileError(name, str(exc)[:300]) from None
    return RowsReader(name, [list(r) for r in rows])



# --- Google's numbered typed columns --------------------------------------------------
#
# Google Contacts writes each phone, e-mail, address and website as a numbered group of
# columns whose *type* is a cell of its own: ``Phone 1 - Type`` (older exports) or
# ``Phone 1 - Label`` (newer ones) says "Mobile", ``Phone 1 - Value`` holds the number,
# and several values of one type share a cell, separated by " ::: ". Which column holds
# the mobile number changes from row to row, so no header -> field mapping can read it.
# The reader folds each group into the typed columns Outlook writes (Mobile Phone,
# Business Phone, E-mail 2 Address, Business Street, ...): one column per kind, the same
# for every row, which the shipped profiles and the wizard map like any other. Nothing
# is dropped: a value of a type without a column of its own goes to the "Other" one.

_GROUP = re.compile(
    r"^(?P<kind>Phone|E-mail|Email|Address|Website) (?P<n>\d{1,2}) - (?P<part>[\w .-]+)$",
    re.IGNORECASE,
)
#: Google's phone types -> the Outlook column
PHONE_COLUMNS = {
    "mobile": "Mobile Phone", "cell": "Mobile Phone", "work": "Business Phone",
    "home": "Home Phone", "main": "Primary Phone", "work fax": "Business Fax",
    "home fax": "Home Fax", "pager": "Pager", "other": "Other Phone",
}
#: Google's address types -> the Outlook column prefix
ADDRESS_PREFIXES = {"work": "Business", "home": "Home", "other": "Other"}
#: Google's address parts -> the Outlook column suffix
ADDRESS_PARTS = {
    "street": "Street", "extended address": "Street", "po box": "Street", "city": "City",
    "region": "State", "postal code": "Postal Code", "country": "Country/Region",
    "formatted": "Formatted",
}
#: the separator Google writes between several values in one cell
MULTI = " ::: "


def _type_of(cell: str) -> str:
    # "* Home": the asterisk marks the preferred value
    return cell.strip().lstrip("*").strip().casefold()


def _join(current: str, value: str) -> str:
    if not current:
        return value
    have = current.split(MULTI)
    return current if value in have else current + MULTI + value


class TypedGroupsReader:
    """Wraps a reader of a file with Google's numbered typed columns (see above); a file
    without them is read as it is (:func:`fold_typed_groups` decides)."""

    def __init__(self, inner, headers: list[str], groups: dict):
        self.inner = inner
        self.groups = groups  # (kind, n) -> {part: column index}
        grouped = {i for parts in groups.values() for i in parts.values()}
        self.kept = [i for i in range(len(headers)) if i not in grouped]
        self.headers = headers
        self.columns = self._columns()

    def __getattr__(self, name):  # encoding, delimiter, ...
        return getattr(self.inner, name)

    def _columns(self) -> list[str]:
        """The folded columns of every type the file uses, in a stable order: read
        once through the file, since a column exists only if some row has its type."""
        seen: dict[str, None] = {}
        for n, row in self.inner:
            if n == 1:
                continue
            for name in self._fold(row):
                seen.setdefault(name, None)
        order = [*dict.fromkeys(PHONE_COLUMNS.values())]
        order += ["E-mail Address", "E-mail 2 Address", "Web Page", "Web Page 2"]
        parts = dict.fromkeys(ADDRESS_PARTS.values())
        order += [f"{p} {s}" for p in ADDRESS_PREFIXES.values() for s in parts]
        return [c for c in order if c in seen] + [c for c in seen if c not in order]

    def _fold(self, row: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        width = len(row)

        def cell(i):
            return row[i].strip() if i is not None and i < width else ""

        emails = 0
        sites = 0
        for (kind, _n), parts in sorted(self.groups.items(), key=lambda kv: kv[0][1]):
            label = _type_of(cell(parts.get("type", parts.get("label"))))
            if kind == "phone":
                value = cell(parts.get("value"))
                if value:
                    column = PHONE_COLUMNS.get(label, "Other Phone")
                    for v in value.split(MULTI):
                        if v.strip():
                            out[column] = _join(out.get(column, ""), v.strip())
            elif kind in ("e-mail", "email"):
                value = cell(parts.get("value"))
                for v in value.split(MULTI):
                    if v.strip():
                        column = "E-mail Address" if emails == 0 else "E-mail 2 Address"
                        out[column] = _join(out.get(column, ""), v.strip())
                        emails += 1
            elif kind == "website":
                value = cell(parts.get("value"))
                for v in value.split(MULTI):
                    if v.strip():
                        column = "Web Page" if sites == 0 else "Web Page 2"
                        out[column] = _join(out.get(column, ""), v.strip())
                        sites += 1
            else:  # address
                prefix = ADDRESS_PREFIXES.get(label, "Other")
                values = {p: cell(i) for p, i in parts.items() if p in ADDRESS_PARTS}
                if any(v for p, v in values.items() if p != "formatted"):
                    values.pop("formatted", None)  # a rendering of the parts beside it
                # the PO box and the extended address (flat, c/o) lead the street line,
                # as on an envelope and as the vCard import does
                lead = [values.pop(p, "") for p in ("po box", "extended address")]
                street = ", ".join(v for v in (*lead, values.get("street", "")) if v)
                if street:
                    values["street"] = street
                for p, v in values.items():
                    if v:
                        column = f"{prefix} {ADDRESS_PARTS[p]}"
                        out[column] = _join(out.get(column, ""), v)
        return out

    def __iter__(self):
        for n, row in self.inner:
            if n == 1:
                yield n, [self.headers[i] for i in self.kept] + self.columns
                continue
            folded = self._fold(row)
            kept = [row[i] if i < len(row) else "" for i in self.kept]
            yield n, kept + [folded.get(c, "") for c in self.columns]


def typed_groups(headers: list[str]) -> dict:
    """``{(kind, n): {part: index}}`` of Google's numbered typed columns in ``headers``;
    empty when there are none (a group needs its value column, or an address part)."""
    groups: dict = {}
    for i, h in enumerate(headers):
        m = _GROUP.match((h or "").strip())
        if m:
            kind = m["kind"].casefold()
            part = m["part"].strip().casefold()
            groups.setdefault((kind, int(m["n"])), {})[part] = i
    return {k: v for k, v in groups.items()
            if "value" in v or (k[0] == "address" and set(v) & set(ADDRESS_PARTS))}


def fold_typed_groups(reader):
    """``reader``, or a :class:`TypedGroupsReader` over it when its header has Google's
    numbered typed columns."""
    rows = iter(reader)
    try:
        first = next(rows, None)
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # the file the generator opened
    if first is None:
        return reader
    headers = [c.strip() for c in first[1]]
    groups = typed_groups(headers)
    if not groups:
        return reader
    return TypedGroupsReader(reader, headers, groups)
