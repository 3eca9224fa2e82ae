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
#: tried in order after UTF-8 when the file has no BOM (Greek, Central European, Western)
FALLBACK_ENCODINGS = ("cp1253", "cp1250", "cp1252")
GREEK = frozenset(range(0x0370, 0x0400))
POLISH = frozenset("ąćęłńśźżĄĆĘŁŃŚŹŻ")


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


def detect_format(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    return {"txt": "csv", "tsv": "csv"}.get(suffix, suffix)


def _score(text: str, encoding: str) -> int:
    """How plausible ``text`` is in ``encoding``: letters of the script it serves."""
    if encoding == "cp1253":
        return sum(2 for c in text if ord(c) in GREEK)
    if encoding == "cp1250":
        return sum(2 for c in text if c in POLISH)
    return sum(1 for c in text if ord(c) > 127 and c.isalpha())


def detect_encoding(path: Path, sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best, best_score = "cp1252", -1
    for enc in FALLBACK_ENCODINGS:
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _score(text, enc)
        if score > best_score:
            best, best_score = enc, score
    return best


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
        ):
            raise FileError(name, "binary data (NUL bytes): not a text CSV file", 1)
        self.encoding = opts.encoding or detect_encoding(path, sample)
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
                    for i, cell in enumerate(row):
                        if "\x00" in cell:
                            raise FileError(self.name, "NUL character in a cell", n, i + 1)
                    yield n, row
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
    except (zipfile.BadZipFile, OSError):
        raise FileError(name, "not an XLSX file (not a zip archive)") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.get("zip_entries", MAX_ZIP_ENTRIES):
            raise FileError(name, f"the archive has {len(infos)} entries: too many")
        total = sum(i.file_size for i in infos)
        if total > limits.get("zip_bytes", MAX_ZIP_BYTES):
            raise FileError(name, f"the archive inflates to {total} bytes: too large")
        for i in infos:
            if i.compress_size and i.file_size / i.compress_size > MAX_ZIP_RATIO and \
                    i.file_size > 10 * 1024 * 1024:
                raise FileError(name, f"{i.filename}: suspicious compression ratio")


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
    return str(value)


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
        try:
            ws = wb[self.opts.sheet] if self.opts.sheet else wb.worksheets[0]
            n = 0
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
        return CSVReader(path, name, opts)
    if fmt == "xlsx":
        return XLSXReader(path, name, opts)
    parser = plugin_formats(registry).get(fmt) if registry is not None else None
    if parser is None:
        raise FileError(name, f"unknown file format {fmt[:20]!r}: use CSV or XLSX")
    try:
        rows = parser(path.read_bytes())
    except ValueError as exc:
        raise FileError(name, str(exc)[:300]) from None
    return RowsReader(name, [list(r) for r in rows])

