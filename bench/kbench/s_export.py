"""Scenario 7: CSV export of every person through the core's export (keyset batches,
record and field rules, formula neutralisation) against a raw cursor + csv.writer of
the same rows and columns."""

from __future__ import annotations

import csv
import io
import tempfile
import time
from urllib.parse import urlencode

from webob import Request

from . import env as E
from .harness import Result, check_rows, timed

COLUMNS = ["id", "first_name", "last_name", "email", "phone", "city", "country", "source",
           "gender", "birth_date", "owner_id", "created_at"]


def _raw_export(engine, out) -> int:
    """The baseline: one server-side pass, ``csv.writer`` straight from the cursor."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM contacts_person "
                    "WHERE deleted_at IS NULL ORDER BY id DESC")
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        w = csv.writer(text)
        w.writerow(COLUMNS)
        n = 0
        while True:
            rows = cur.fetchmany(5000)
            if not rows:
                break
            w.writerows(rows)
            n += len(rows)
        text.flush()
        text.detach()
        raw.rollback()
        return n
    finally:
        raw.close()


def _ids(out) -> list[int]:
    out.seek(0)
    reader = csv.reader(io.TextIOWrapper(out, encoding="utf-8-sig", newline=""))
    next(reader)
    return [int(row[0]) for row in reader]


def _streamed(ctx, token) -> tuple[float, float, bytes]:
    """The web/API export through the WSGI app: (seconds to the first byte, seconds to
    the last, the body). The server iterates the response after the view returned."""
    path = "/api/v1/persons/_export?" + urlencode(
        {"format": "csv", "sort": "-id", "columns": ",".join(COLUMNS)})
    req = Request.blank(path, base_url="http://localhost",
                        headers={"Authorization": f"Bearer {token}"})
    t0 = time.perf_counter()
    status, _headers, app_iter = req.call_application(ctx.app)
    assert status.startswith("200"), status
    chunks = iter(app_iter)
    first = next(chunks)
    ttfb = time.perf_counter() - t0
    body = first + b"".join(chunks)
    total = time.perf_counter() - t0
    if hasattr(app_iter, "close"):
        app_iter.close()
    return ttfb, total, body


def run(ctx) -> Result:
    res = Result(7, "CSV export, streamed", ctx.kind, target=">= 0.33 of cursor + csv.writer")
    try:
        from kyklos import exports
        from kyklos.entities import customfields  # noqa: F401 - the export refreshes them
    except ImportError as exc:
        res.status = "skipped"
        res.note = f"the core's export is not available: {exc}"
        return res
    et = ctx.entity("person")
    token = ctx.token(ctx.org.admin_id)
    with tempfile.TemporaryFile() as out:
        with E.request_as(ctx.registry, token) as request:
            n, t_k = timed(lambda: exports.export(request, et, "csv", [("sort", "-id")], out,
                                                  columns=COLUMNS))
        size_k = out.tell()
        ids = _ids(out)
    with tempfile.TemporaryFile() as out:
        n_raw, t_raw = timed(lambda: _raw_export(ctx.engine, out))
        size_raw = out.tell()
    ttfb, t_stream, body = _streamed(ctx, token)
    with tempfile.TemporaryFile() as out:
        out.write(body)
        stream_ids = _ids(out)
    res.kyklos = {"seconds": round(t_k, 3), "rows": n, "rows_per_s": round(n / t_k),
                  "bytes": size_k, "headline": f"{n / t_k:,.0f} rows/s",
                  "streamed": {"ttfb_ms": round(ttfb * 1000, 1), "seconds": round(t_stream, 3),
                               "rows_per_s": round(len(stream_ids) / t_stream),
                               "bytes": len(body)}}
    res.baseline = {"seconds": round(t_raw, 3), "rows": n_raw,
                    "rows_per_s": round(n_raw / t_raw), "bytes": size_raw,
                    "headline": f"{n_raw / t_raw:,.0f} rows/s"}
    res.efficiency = t_raw / t_k if t_k else None
    res.target_met = res.efficiency is not None and res.efficiency >= 0.33
    res.correctness = check_rows(list(ctx.people.ids), ids)
    res.correctness["rows_reported"] = n
    streamed = check_rows(list(ctx.people.ids), stream_ids)
    res.correctness["streamed"] = streamed
    if n != len(ids) or not streamed["ok"]:
        res.correctness["ok"] = False
    res.note = (f"{len(COLUMNS)} columns, admin, exports.export to a file; the web/API CSV "
                f"streams: first byte after {ttfb * 1000:.0f} ms, whole "
                f"{len(stream_ids) / t_stream:,.0f} rows/s")
    return res
