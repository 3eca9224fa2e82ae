"""Exports of any entity list to CSV or XLSX, with the list's filters, sort and columns,
the user's record rules and field rules, and formula-injection neutralisation.

Rows are read in keyset batches of a column-projected Core select (the list's own
visibility criterion, filters and order, only the allow-listed exported columns), never
all at once and never as ORM objects. The web and API CSV export streams: the header
is sent at once, then one chunk per batch, read on a connection of its own (the
request's transaction has ended by then), so memory stays flat and the first bytes
arrive before the export ends. XLSX goes through a temporary file (openpyxl's
write-only workbook needs one); :func:`export` writes either format to a file (CLI).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from decimal import Decimal

from pyramid.httpexceptions import HTTPForbidden
from pyramid.response import FileIter, Response
from webob.multidict import MultiDict

from kyklos.entities import query, service, values
from kyklos.entities.money import Money
from kyklos.i18n import _
from kyklos.problem import Problem

BATCH = 1000
#: characters that make a spreadsheet read a cell as a formula (incl. full-width forms)
TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
#: characters spreadsheets skip before looking for a trigger (the bypass variants)
LEADING = frozenset(" \"'\u3000\u00a0\ufeff")
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(text: str) -> str:
    """``text`` made inert for spreadsheets: prefixed with ``'`` when its first
    character, after blanks and quotes, would start a formula (OWASP CSV injection)."""
    if not text or (text[0] not in TRIGGERS and text[0] not in LEADING):
        return text  # nothing to strip, and the first character is harmless
    stripped = text.lstrip("".join(LEADING))
    if stripped and stripped[0] in TRIGGERS:
        return "'" + text
    if text and text[0] in TRIGGERS:
        return "'" + text
    return text


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (C0 controls but tab and line
    breaks, lone surrogates, U+FFFE/U+FFFF): values stored before input refused them
    must not make an XLSX export fail for everyone; each becomes U+FFFD."""
    if not text or not ILLEGAL_XML.search(text):
        return text
    return ILLEGAL_XML.sub("\ufffd", text)


def cell_text(field, value) -> str:
    """The exported text of one value (JSON form, lists joined by ", ")."""
    value = values.to_json(field, value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and "amount" in value:
        return f"{value['amount']} {value.get('currency') or ''}".strip()
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def columns_for(request, et, lp: query.ListParams, columns=None) -> list[str]:
    """The exported fields: ``columns`` or the list's ``fields``, else every readable
    field; never a field the user may not read."""
    readable, _w = service.field_access(request, et)
    wanted = columns or lp.fields or [n for n in et.fields if n != "version"]
    out = []
    for name in wanted:
        f = et.fields.get(name)
        if f is None or name not in readable or getattr(f, "virtual", False):
            continue
        out.append(name)
    return list(dict.fromkeys(out))


class Reader:
    """The exported rows of a parsed list, as lists of cell texts, in keyset batches of
    one Core select projected to the exported columns (plus the sort keys).

    ``human``: the values as people read them on the record's page (titles of
    referenced records, translated choices, numbers, money and dates per locale and
    time zone, typed lists as words) instead of the data form an import reads back."""

    def __init__(self, request, et, lp: query.ListParams, columns: list[str], human: bool = False):
        self.et = et
        self.request = request
        self.human = human
        self.keys = query._keys(et, lp)
        model = et.model
        exprs: list = []

        def add(expr) -> int:
            exprs.append(expr.label(f"c{len(exprs)}"))
            return len(exprs) - 1

        custom = None
        #: per column: (kind, result index or indexes, field); kind 0 a plain column,
        #: 1 money (amount and currency columns), 2 a custom field (the JSON document)
        self.cells = []
        for name in columns:
            f = et.fields[name]
            if f.custom:
                custom = add(model.custom) if custom is None else custom
                self.cells.append((2, custom, f))
            elif f.type == "money":
                amount = add(getattr(model, name))
                self.cells.append((1, (amount, add(getattr(model, f.currency_field))), f))
            else:
                self.cells.append((0, add(getattr(model, name)), f))
        self.key_index = [add(query.expr_of(et, et.fields[n])) for n, _d in self.keys]
        self.id_index = add(model.id) if human else None
        base = service.visible_select(request, et, "read", lp.deleted != "exclude").where(
            *query._where(request, et, lp)
        )
        self.stmt = base.with_only_columns(*exprs).order_by(*query._order(et, self.keys))

    def batches(self, connection, size: int = 0):
        """Lists of rows (lists of cell texts), one per keyset batch, read through the
        Core ``connection``."""
        size = size or BATCH
        nulls_high = connection.dialect.name == "postgresql"
        vals = None
        while True:
            stmt = self.stmt
            if vals is not None:
                stmt = stmt.where(query._keyset(self.et, self.keys, vals, nulls_high))
            rows = connection.execute(stmt.limit(size)).all()
            if rows and self.human:
                yield self.human_rows(rows)
            elif rows:
                yield [self.cells_of(r) for r in rows]
            if len(rows) < size:
                return
            last = rows[-1]
            vals = [last[i] for i in self.key_index]

    def cells_of(self, row) -> list[str]:
        out = []
        for kind, index, f in self.cells:
            if kind == 0:
                v = row[index]
                t = type(v)
                if v is None:
                    out.append("")
                elif t is str:
                    out.append(v)
                elif t is int:
                    out.append(str(v))
                else:
                    out.append(cell_text(f, v))
            elif kind == 1:
                amount = row[index[0]]
                out.append(
                    "" if amount is None else cell_text(f, Money(Decimal(amount), row[index[1]]))
                )
            else:
                doc = row[index] or {}
                out.append(cell_text(f, values.from_json(f, doc.get(f.name))))
        return out

    def values_of(self, row) -> list:
        """The Python values of one row's exported cells."""
        out = []
        for kind, index, f in self.cells:
            if kind == 0:
                out.append(row[index])
            elif kind == 1:
                amount = row[index[0]]
                out.append(None if amount is None else Money(Decimal(amount), row[index[1]]))
            else:
                out.append(values.from_json(f, (row[index] or {}).get(f.name)))
        return out

    def human_rows(self, rows) -> list[list[str]]:
        """A batch of rows as people read them: the titles of every referenced record of
        the batch in one query per referenced type, the lookup titles translated."""
        from kyklos.entities import display, translations

        request, et = self.request, self.et
        vals = [self.values_of(r) for r in rows]
        wanted: dict[str, set] = {}
        for i, (_kind, _index, f) in enumerate(self.cells):
            if f.type == "reference":
                wanted.setdefault(f.reference, set()).update(v[i] for v in vals)
        titles = {t: display.titles_by_id(request, t, ids) for t, ids in wanted.items()}
        own = {}
        if et.lookup:
            ids = [r[self.id_index] for r in rows]
            own = translations.titles_for(request, et, ids, request.locale_name)
        out = []
        for r, row_vals in zip(rows, vals, strict=True):
            cells = []
            for (_kind, _index, f), v in zip(self.cells, row_vals, strict=True):
                if et.lookup and f.name == et.title_field and v:
                    text = own.get(r[self.id_index]) or request.localizer.translate(
                        display._ts(str(v), display.catalog_domain(et))
                    )
                else:
                    refs = titles.get(f.reference) if f.type == "reference" else None
                    text = display.format_value(request, f, v, refs).text
                cells.append(text)
            out.append(cells)
        return out


def header(request, et, columns: list[str]) -> list[str]:
    return [request.localizer.translate(et.fields[c].title) or c for c in columns]


def iter_rows(request, et, lp: query.ListParams, columns: list[str], human: bool = False):
    """Lists of cell texts, header first, in keyset batches (inside the request's
    transaction)."""
    yield header(request, et, columns)
    reader = Reader(request, et, lp, columns, human=human)
    for batch in reader.batches(request.dbsession.connection()):
        yield from batch


def write_csv(rows, out) -> int:
    """Write ``rows`` to the binary file ``out`` as UTF-8 CSV with a BOM (so spreadsheet
    programs detect the encoding); returns the number of data rows."""
    out.write("\ufeff".encode())
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL)
    n = -1
    for row in rows:
        writer.writerow([neutralise(c) for c in row])
        n += 1
        if n % BATCH == 0:  # encode in chunks: one write per batch, not per row
            out.write(buf.getvalue().encode("utf-8"))
            buf.seek(0)
            buf.truncate()
    out.write(buf.getvalue().encode("utf-8"))
    return max(n, 0)


def write_xlsx(rows, out) -> int:
    """Write ``rows`` to ``out`` as XLSX (openpyxl write-only). Every cell is a string
    cell: never a formula, whatever it contains."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("export")
    n = -1
    for row in rows:
        cells = []
        for c in row:
            cell = WriteOnlyCell(ws, value=xml_safe(neutralise(c)))
            cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
        n += 1
    wb.save(out)
    return max(n, 0)


def prepare(request, et, fmt: str, params, columns=None):
    """Check the export request and parse its list: ``(ListParams, column names)``.
    Raises :class:`Problem` (400) naming bad parameters, :class:`HTTPForbidden`."""
    if fmt not in FORMATS:
        raise Problem(400, _("Unknown format"), errors={"format": _("Use csv or xlsx.")})
    if not request.has_permission(et.permission("export")):
        raise HTTPForbidden()
    from kyklos.entities.customfields import refresh

    refresh(request.registry, request.dbsession)
    params = MultiDict(params)
    params.pop("variant", None)
    cols = params.pop("columns", None)
    if cols and columns is None:
        columns = [c.strip() for c in cols.split(",") if c.strip()]
    params.pop("format", None)
    lp = query.parse_list_params(request, et, params)
    names = columns_for(request, et, lp, columns)
    if columns and len(names) != len(set(columns)):
        unknown = ", ".join(c for c in columns if c not in names)[:200]
        raise Problem(
            400,
            _("Invalid list parameters"),
            errors={"columns": _("Unknown fields: ${names}", mapping={"names": unknown})},
        )
    return lp, names


def _log(request, et, fmt, lp, names, n, **extra) -> None:
    from kyklos.security.audit import log_event

    log_event(
        request,
        "export",
        entity=et.name,
        format=fmt,
        rows=n,
        columns=names,
        filters=[f"{f.field}__{f.op}" for f in lp.filters],
        **extra,
    )


def export(
    request, et, fmt: str, params, out, columns=None, progress=None, human: bool = False
) -> int:
    """Export the list ``params`` (query-string pairs, as for the list API) of ``et`` to
    the binary file ``out``. Checks the export permission; logs a security event.
    ``human``: values as people read them (see :class:`Reader`)."""
    lp, names = prepare(request, et, fmt, params, columns)
    rows = iter_rows(request, et, lp, names, human=human)
    if progress is not None:
        rows = progress(rows)
    n = write_csv(rows, out) if fmt == "csv" else write_xlsx(rows, out)
    _log(request, et, fmt, lp, names, n)
    return n


class CSVStream:
    """A WSGI app_iter streaming a CSV export: the BOM and header, then one chunk per
    keyset batch, read on a connection of its own (the request's transaction has ended
    when the server iterates). The security event is written when the stream ends, or
    when the server closes it early (``complete: false``), with the rows sent."""

    def __init__(self, request, et, lp, names):
        self.request = request
        self.et, self.lp, self.names = et, lp, names
        self.head = header(request, et, names)
        self.reader = Reader(request, et, lp, names)
        self.engine = request.registry["dbengine"]
        # Read now: the identity's user is detached once the request's session closes.
        ident = request.identity
        self.user_id = ident.user.id if ident is not None else None
        self.rows = 0
        self.done = False
        self.logged = False
        self._gen = None

    @staticmethod
    def _encode(rows, bom: bool = False) -> bytes:
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL)
        writer.writerows([[neutralise(c) for c in row] for row in rows])
        return ("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8")

    def __iter__(self):
        if self._gen is None:
            self._gen = self._chunks()
        return self._gen

    def _chunks(self):
        yield self._encode([self.head], bom=True)
        with self.engine.connect() as conn:
            for batch in self.reader.batches(conn):
                self.rows += len(batch)
                yield self._encode(batch)
            conn.rollback()  # read only
        self.done = True
        self._log()

    def close(self) -> None:
        """Called by the server when the response ends, finished or not: releases the
        connection at once and logs the event."""
        if self._gen is not None:
            self._gen.close()
        self._log()

    def _log(self) -> None:
        if self.logged:
            return
        self.logged = True
        _log(
            self.request,
            self.et,
            "csv",
            self.lp,
            self.names,
            self.rows,
            streamed=True,
            complete=self.done,
            immediate=True,
            user_id=self.user_id,
        )


def export_view(request):
    """``GET /{slug}/_export?format=csv|xlsx&<list parameters>`` and the same under
    ``/api/v1/{slug}/_export``."""
    et = service.get_entity_type(request, request.matchdict["slug"])
    fmt = request.GET.get("format", "csv")
    # "human": values as people read them; the default "data" is what imports read back
    human = request.GET.get("variant") == "human"
    from kyklos.entities.ui import query_params

    params = [
        (k, v) for k, v in query_params(request.GET).items() if k not in ("format", "variant")
    ]
    cols = request.GET.getall("cols")
    columns = [c for v in cols for c in v.split(",") if c.strip()] or None
    if fmt == "csv" and not human:
        lp, names = prepare(request, et, fmt, params, columns)
        resp = Response(
            content_type="text/csv", charset="utf-8", app_iter=CSVStream(request, et, lp, names)
        )
    else:
        # the human variant reads titles through the request's session: not streamed
        out = tempfile.TemporaryFile()
        export(request, et, fmt, params, out, columns=columns, human=human)
        size = out.tell()
        out.seek(0)
        resp = Response(content_type=FORMATS[fmt].split(";")[0], app_iter=FileIter(out))
        if fmt == "csv":
            resp.charset = "utf-8"
        resp.content_length = size
    resp.content_disposition = f'attachment; filename="{et.slug}.{fmt}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def exports_paths(request) -> dict:
    from kyklos.entities import openapi as o  # it imports the registry's modules

    return {
        "/api/v1/{slug}/_export": {
            "get": o.operation(
                "Export",
                "export_records",
                {
                    "200": {
                        "description": "the file (the list's filters and sort apply)",
                        "content": {
                            "text/csv": {"schema": o.BINARY},
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": o.BINARY
                            },
                        },
                    },
                    **o.problems("400", "401", "403", "404"),
                },
                summary="Export the records a list query selects (its parameters apply)",
                parameters=[
                    o.slug_param(request),
                    o.param("format", {"type": "string", "enum": ["csv", "xlsx"]}),
                    o.param("cols", {"type": "string", "pattern": "^[a-z_][a-z0-9_.,]{0,500}$"}),
                    o.param(
                        "variant",
                        {
                            "type": "string",
                            "enum": ["data", "human"],
                            "description": "data (default): values as the API "
                            "and imports take them; human: as people read them "
                            "(titles, translated words, locale formats)",
                        },
                    ),
                ],
                **o.SEMANTIC,
            )
        }
    }


def includeme(config):
    config.add_openapi_paths(exports_paths)
    config.add_route("entity.export", "/{slug}/_export", request_method="GET", kyklos_slug=True)
    config.add_route(
        "api.entity.export", "/api/v1/{slug:[a-z][a-z0-9_-]*}/_export", request_method="GET"
    )
    for route in ("entity.export", "api.entity.export"):
        config.add_view(export_view, route_name=route, permission="authenticated")
