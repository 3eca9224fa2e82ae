"""Scenario 8: the workloads Kyklos is compared with Odoo on from outside (issue #19),
measured **right after an import**, with no maintenance in between.

1. A first import of people through the core's import pipeline (the same path as the
   web page and the API), keyed on e-mail, against the same file written raw
   (``executemany`` / ``COPY``, rolled back).
2. Straight after it - no ANALYZE, no VACUUM, nothing - as the administrator through the
   REST API (the whole WSGI stack): list page 1 and a deep keyset page at 90 %, plain,
   filtered by a field (city) and by a custom field (``cf_01``); quick search in the
   list (``?q=``); global search (``/api/v1/_search``); opening a record. Each one
   beside every SELECT it emitted, replayed raw on the DBAPI cursor in the same run. The
   first call after the import is reported apart ("cold").
3. A keyed re-import of the same people (every row changes its city: an update), rows/s
   against the first import.

Correctness (fails the run): rows lost or duplicated by either import, every imported
row with its search row, history entries of the updates, and global search finding
imported people by a name that only they carry.
"""

from __future__ import annotations

import csv
import json
import time
from urllib.parse import urlencode

from sqlalchemy import func, select

from . import datagen
from . import env as E
from .harness import Result, repeat, summary_ms, timed
from .s_import import _cell, committed_request

DOMAIN = "workload.example.com"
#: a surname no generated person carries: global search must find exactly the imported
#: people holding it (every 97th row)
MARKER = "Zyxwvorta"
MARK_EVERY = 97
CITY_AFTER = "Reimportville"
COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "city",
    "source",
    "gender",
    "cf_01",
    "cf_02",
]
LIMIT = 50


def write_csv(ctx, path, n: int, city: str | None = None) -> int:
    """``n`` people with unique e-mails (every ``MARK_EVERY``-th with the marker
    surname); ``city`` replaces every row's city (the re-import file)."""
    batches, _people = datagen.person_rows(9191, n, ctx.org, first_id=1)
    marked = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for rows in batches:
            for row in rows:
                last = row["last_name"]
                if row["id"] % MARK_EVERY == 0:
                    last = MARKER
                    marked += 1
                custom = row["custom"]
                w.writerow(
                    [
                        row["first_name"],
                        last,
                        f"w{row['id']}@{DOMAIN}",
                        row["phone"],
                        row["country"],
                        city or row["city"],
                        row["source"],
                        row["gender"],
                        _cell(custom.get("cf_01")),
                        _cell(custom.get("cf_02")),
                    ]
                )
    return marked


def raw_load(ctx, path) -> int:
    """The import's baseline: the file's rows written with the driver's bulk path,
    rolled back."""
    import datetime as dt

    cols = [
        *COLUMNS[:8],
        "first_name_key",
        "last_name_key",
        "name_day_key",
        "roles",
        "custom",
        "version",
        "created_at",
        "updated_at",
    ]
    cols = [c for c in cols if c not in ("cf_01", "cf_02")]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    raw = ctx.engine.raw_connection()
    n = 0
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            rows = (
                (
                    *rec[:8],
                    "",
                    "",
                    "",
                    "[]",
                    json.dumps({"cf_01": rec[8], "cf_02": rec[9]}),
                    1,
                    now,
                    now,
                )
                for rec in reader
            )
            if ctx.kind == "postgresql":
                cur = raw.driver_connection.cursor()
                with cur.copy(f"COPY contacts_person ({', '.join(cols)}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
                        n += 1
            else:
                cur = raw.cursor()
                cur.execute("BEGIN")
                sql = (
                    f"INSERT INTO contacts_person ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' * len(cols))})"
                )
                rows = list(rows)
                cur.executemany(sql, rows)
                n = len(rows)
    finally:
        raw.rollback()
        raw.close()
    return n


def import_file(ctx, token, path, on_duplicate: str) -> tuple[dict, float]:
    from kyklos.imports import pipeline

    et = ctx.entity("person")
    mapping = {h: h for h in COLUMNS}
    if ctx.custom_field("cf_01") is None:
        mapping.pop("cf_01")
        mapping.pop("cf_02")
    options = {
        "mapping": mapping,
        "key": "email",
        "on_duplicate": on_duplicate,
        "delimiter": ",",
        "encoding": "utf-8",
    }
    with committed_request(ctx.registry, token) as request:
        problems = pipeline.check_options(request, et, COLUMNS, options)
        if problems:
            raise RuntimeError(f"import options refused: {problems}")
        run_id = pipeline.start_run(request, et, path, path.name, options, False).id
    return timed(
        lambda: pipeline.execute(ctx.registry, run_id),
        profile=f"workload_{on_duplicate}_{ctx.kind}",
    )


def _cursor(ctx, token, query: dict, fraction: float = 0.9):
    """The cursor of the page at ``fraction`` of the list, from the API itself (the
    cursor of the page before it is not needed: the scenario 2 helper finds the row)."""
    from .s_list import deep_cursor

    cursor, _before, total = deep_cursor(ctx, token, query, fraction)
    return cursor, total


def measure(ctx, res, label: str, path: str, token: str, n: int) -> dict:
    """Time ``path`` through the WSGI app: the first call (cold), then ``n`` repeats;
    its SELECTs replayed raw. Returns the parsed body of the first answer."""
    t0 = time.perf_counter()
    resp = E.wsgi_get(ctx.app, path, token)
    cold = time.perf_counter() - t0
    assert resp.status_int == 200, (path, resp.status, resp.text[:500])
    with E.capture_sql(ctx.engine) as stmts:
        E.wsgi_get(ctx.app, path, token)
    selects = [(s, p) for s, p in stmts if E.is_select(s)]
    t_api = repeat(lambda: E.wsgi_get(ctx.app, path, token), n)
    replay = E.replay(ctx.engine, selects)
    try:
        t_raw = repeat(replay, n)
    finally:
        replay.close()
    res.kyklos[label] = {**summary_ms(t_api), "cold_ms": round(cold * 1000, 2)}
    res.baseline[label] = {**summary_ms(t_raw), "statements": len(selects)}
    return json.loads(resp.body)


def run(ctx) -> Result:
    res = Result(
        8,
        "Odoo workloads right after an import",
        ctx.kind,
        target="import >= 5000 rows/s, re-import as fast; each read p95 <= raw + 10 ms",
    )
    try:
        from kyklos.imports import pipeline  # noqa: F401
    except ImportError as exc:
        res.status, res.note = "skipped", f"the core's import is not available: {exc}"
        return res
    n = ctx.n_people
    E.RESULTS.mkdir(parents=True, exist_ok=True)
    first = E.RESULTS / f"workload_{ctx.kind}.csv"
    again = E.RESULTS / f"workload_again_{ctx.kind}.csv"
    marked = write_csv(ctx, first, n)
    write_csv(ctx, again, n, CITY_AFTER)
    n_raw, t_raw = timed(lambda: raw_load(ctx, first))
    admin = ctx.org.admin_id
    token = ctx.token(admin)
    et = ctx.entity("person")
    model = et.model
    with ctx.engine.connect() as c:
        before = c.execute(select(func.count()).select_from(model)).scalar_one()
    s1, t1 = import_file(ctx, token, first, "skip")

    # --- reads, right after the import ----------------------------------------------
    reps = ctx.repeats
    cf = ctx.custom_field("cf_01") is not None
    lists = {"list": {"sort": "last_name", "limit": str(LIMIT)}}
    lists["list_city"] = {**lists["list"], "city": _a_city(ctx)}
    if cf:
        lists["list_custom"] = {**lists["list"], "cf_01": "gold"}
    for label, q in lists.items():
        measure(ctx, res, label + "_page1", "/api/v1/persons?" + urlencode(q), token, reps)
        cursor, _total = _cursor(ctx, token, q)
        if cursor is not None:
            measure(
                ctx,
                res,
                label + "_deep",
                "/api/v1/persons?" + urlencode({**q, "cursor": cursor}),
                token,
                reps,
            )
    quick = measure(
        ctx,
        res,
        "list_q",
        "/api/v1/persons?"
        + urlencode({"q": MARKER[:5].lower(), "sort": "last_name", "limit": str(LIMIT)}),
        token,
        reps,
    )
    found = measure(
        ctx, res, "global_search", "/api/v1/_search?" + urlencode({"q": MARKER}), token, reps
    )
    with ctx.engine.connect() as c:
        one = c.execute(
            select(model.id).where(model.email == f"w{n // 2}@{DOMAIN}")
        ).scalar_one_or_none()
    if one is not None:
        measure(ctx, res, "open_record", f"/api/v1/persons/{one}", token, reps)

    # --- keyed re-import ------------------------------------------------------------
    s2, t2 = import_file(ctx, token, again, "update")

    # --- correctness ----------------------------------------------------------------
    from kyklos.entities.history import AuditEntry
    from kyklos.entities.search import SearchDoc

    with ctx.engine.connect() as c:
        mine = model.email.like(f"%@{DOMAIN}")
        after = c.execute(select(func.count()).select_from(model)).scalar_one()
        emails = c.execute(select(func.count(model.email.distinct())).where(mine)).scalar_one()
        moved = c.execute(select(func.count()).where(mine, model.city == CITY_AFTER)).scalar_one()
        ids = select(model.id).where(mine).scalar_subquery()
        indexed = c.execute(
            select(func.count()).where(SearchDoc.entity == et.name, SearchDoc.record_id.in_(ids))
        ).scalar_one()
        updates = c.execute(
            select(func.count()).where(
                AuditEntry.entity == et.name,
                AuditEntry.action == "update",
                AuditEntry.source == "import",
                AuditEntry.record_id.in_(ids),
            )
        ).scalar_one()
        reindexed = c.execute(
            select(func.count()).where(
                SearchDoc.entity == et.name,
                SearchDoc.record_id.in_(ids),
                SearchDoc.body.like(f"%{CITY_AFTER}%"),
            )
        ).scalar_one()
    hits = sum(len(g["items"]) for g in found["groups"] if g["type"] == et.name)
    q_hits = len(quick["items"])
    want_hits = min(marked, 10)
    checks = {
        "rows_in": n,
        "created": s1.get("created"),
        "updated": s2.get("updated"),
        "rows_lost": max(0, n - emails),
        "rows_leaked": max(0, after - before - n),
        "duplicates": max(0, after - before - emails),
        "search_rows": indexed,
        "search_rows_reindexed": reindexed,
        "history_updates": updates,
        "city_updated": moved,
        "global_search_hits": hits,
        "list_q_hits": q_hits,
        "marked": marked,
    }
    checks["ok"] = (
        s1.get("created") == n
        and s2.get("updated") == n
        and s2.get("created") == 0
        and emails == n
        and after - before == n
        and indexed == n
        and updates == n
        and moved == n
        and hits == want_hits
        and q_hits == min(marked, LIMIT)
        and (reindexed == n or not _city_searchable(et))
    )
    res.correctness = checks
    r1, r2 = n / t1, n / t2
    res.kyklos["import"] = {"seconds": round(t1, 2), "rows_per_s": round(r1)}
    res.kyklos["reimport"] = {"seconds": round(t2, 2), "rows_per_s": round(r2)}
    res.baseline["import"] = {
        "seconds": round(t_raw, 2),
        "rows": n_raw,
        "rows_per_s": round(n_raw / t_raw) if t_raw else None,
        "method": "COPY" if ctx.kind == "postgresql" else "executemany",
    }
    reads = [k for k in res.kyklos if k not in ("import", "reimport")]
    worst = max(reads, key=lambda k: res.kyklos[k]["p95_ms"] - res.baseline[k]["p95_ms"])
    res.kyklos["headline"] = (
        f"import {r1:,.0f} rows/s, re-import {r2:,.0f} rows/s; "
        f"worst read {worst} p95 {res.kyklos[worst]['p95_ms']:.1f} ms"
    )
    res.baseline["headline"] = (
        f"raw {n_raw / t_raw:,.0f} rows/s; {worst} p95 {res.baseline[worst]['p95_ms']:.1f} ms"
    )
    res.efficiency = t_raw / t1 if t1 else None
    res.target_met = (
        r1 >= 5000
        and r2 >= 0.8 * r1
        and all(res.kyklos[k]["p95_ms"] <= res.baseline[k]["p95_ms"] + 10 for k in reads)
    )
    res.note = (
        f"{n} people imported into {before} (keyed on e-mail), then read with no "
        "maintenance; a keyed re-import updates every row"
    )
    return res


def _a_city(ctx) -> str:
    """A city of the generated data (the filter of the "filtered by a field" lists)."""
    return datagen.NAMES["GR"]["cities"][0]


def _city_searchable(et) -> bool:
    return "city" in et.searchable
