"""Exports of any entity list to CSV or XLSX, with the list's filters, sort and columns,
the user's record rules and field rules, and formula-injection neutralisation.

Rows are read in keyset batches (``query.run_list``), never all at once, and written to
a temporary file that the response then streams: the database work finishes inside the
request's transaction, and memory stays flat whatever the size.
"""

from __future__ import annotations

import csv
import io
import tempfile

from pyramid.httpexceptions import HTTPForbidden
from pyramid.response import FileIter, Response
from webob.multidict import MultiDict

from kyklos.entities import query, service, values
from kyklos.i18n import _
from kyklos.problem import Problem

BATCH = 1000
#: characters that make a spreadsheet read a cell as a formula (incl. full-width forms)
TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
#: characters spreadsheets skip before looking for a trigger (the bypass variants)
LEADING = frozenset(" \"'\u3000\u00a0\ufeff")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(text: str) -> str:
    """``text`` made inert for spreadsheets: prefixed with ``'`` when its first
    character, after blanks and quotes, would start a formula (OWASP CSV injection)."""
    stripped = text.lstrip("".join(LEADING))
    if stripped and stripped[0] in TRIGGERS:
        return "'" + text
    if text and text[0] in TRIGGERS:
        return "'" + text
    return text


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


def iter_rows(request, et, lp: query.ListParams, columns: list[str]):
    """Lists of cell texts, header first, in keyset batches."""
    yield [request.localizer.translate(et.fields[c].title) or c for c in columns]
    lp.limit = BATCH
    lp.count = "none"
    lp.fields = None
    lp.cursor = None
    while True:
        result = query.run_list(request, et, lp)
        for rec in result.items:
            yield [cell_text(et.fields[c], values.read_value(et, et.fields[c], rec))
                   for c in columns]
        if result.next_cursor is None:
            return
        lp.cursor = result.next_cursor


def write_csv(rows, out) -> int:
    """Write ``rows`` to the binary file ``out`` as UTF-8 CSV with a BOM (so spreadsheet
    programs detect the encoding); returns the number of data rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, quoting=csv.QUOTE_MINIMAL)
    n = -1
    for row in rows:
        writer.writerow([neutralise(c) for c in row])
        n += 1
    text.flush()
    text.detach()
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
            cell = WriteOnlyCell(ws, value=neutralise(c))
            cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
        n += 1
    wb.save(out)
    return max(n, 0)


def export(request, et, fmt: str, params, out, columns=None, progress=None) -> int:
    """Export the list ``params`` (query-string pairs, as for the list API) of ``et`` to
    the binary file ``out``. Checks the export permission; logs a security event."""
    if fmt not in FORMATS:
        raise Problem(400, _("Unknown format"), errors={"format": _("Use csv or xlsx.")})
    if not request.has_permission(et.permission("export")):
        raise HTTPForbidden()
    from kyklos.entities.customfields import refresh

    refresh(request.registry, request.dbsession)
    params = MultiDict(params)
    cols = params.pop("columns", None)
    if cols and columns is None:
        columns = [c.strip() for c in cols.split(",") if c.strip()]
    params.pop("format", None)
    lp = query.parse_list_params(request, et, params)
    names = columns_for(request, et, lp, columns)
    if columns and len(names) != len(set(columns)):
        unknown = ", ".join(c for c in columns if c not in names)[:200]
        raise Problem(400, _("Invalid list parameters"),
                      errors={"columns": _("Unknown fields: ${names}", mapping={"names": unknown})})
    rows = iter_rows(request, et, lp, names)
    if progress is not None:
        rows = progress(rows)
    n = write_csv(rows, out) if fmt == "csv" else write_xlsx(rows, out)
    from kyklos.security.audit import log_event

    log_event(request, "export", entity=et.name, format=fmt, rows=n, columns=names,
              filters=[f"{f.field}__{f.op}" for f in lp.filters])
    return n


def export_view(request):
    """``GET /{slug}/_export?format=csv|xlsx&<list parameters>`` and the same under
    ``/api/v1/{slug}/_export``."""
    et = service.get_entity_type(request, request.matchdict["slug"])
    fmt = request.GET.get("format", "csv")
    from kyklos.entities.ui import query_params

    params = [(k, v) for k, v in query_params(request.GET).items() if k != "format"]
    cols = request.GET.getall("cols")
    columns = [c for v in cols for c in v.split(",") if c.strip()] or None
    out = tempfile.TemporaryFile()
    export(request, et, fmt, params, out, columns=columns)
    size = out.tell()
    out.seek(0)
    resp = Response(content_type=FORMATS[fmt].split(";")[0], app_iter=FileIter(out))
    if fmt == "csv":
        resp.charset = "utf-8"
    resp.content_length = size
    resp.content_disposition = f'attachment; filename="{et.slug}.{fmt}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def includeme(config):
    config.add_route("entity.export", "/{slug}/_export", request_method="GET", kyklos_slug=True)
    config.add_route("api.entity.export", "/api/v1/{slug:[a-z][a-z0-9_-]*}/_export",
                     request_method="GET")
    for route in ("entity.export", "api.entity.export"):
        config.add_view(export_view, route_name=route, permission="authenticated")
