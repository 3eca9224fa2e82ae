"""Scenario 1: CSV import of people with 50 custom fields through the core's import
pipeline (parse, map, per-row validation, dedupe on e-mail, batched writes, mirror of
filterable custom fields), against raw ``executemany`` (SQLite) / ``COPY`` (PostgreSQL)
of the same file's rows."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import random

import transaction
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import func, select

from . import datagen
from . import env as E
from .harness import Result, timed

STANDARD = ["first_name", "last_name", "email", "phone", "country", "city", "source",
            "gender"]
DUP_RATE, INVALID_RATE = 0.02, 0.005
DOMAIN = "import.example.com"
FULL_CAP = 100_000


def write_csv(ctx, path, n) -> dict:
    """The file: ``n`` rows, 2 % repeating an earlier row's e-mail, 0.5 % invalid
    (a malformed e-mail). Returns the expected outcome."""
    specs = [name for name, _k in datagen.custom_field_specs()]
    batches, _people = datagen.person_rows(ctx_seed(ctx) + 1, n, ctx.org, first_id=1)
    r = random.Random("import")
    emails, dups, invalid = [], 0, 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(STANDARD + specs)
        for rows in batches:
            for row in rows:
                email = f"imp{row['id']}@{DOMAIN}"
                x = r.random()
                if x < DUP_RATE and emails:
                    email = emails[r.randrange(len(emails))]
                    dups += 1
                elif x < DUP_RATE + INVALID_RATE:
                    email = f"imp{row['id']}-at-{DOMAIN}"
                    invalid += 1
                else:
                    emails.append(email)
                custom = row["custom"]
                w.writerow([row["first_name"], row["last_name"], email, row["phone"],
                            row["country"], row["city"], row["source"], row["gender"]]
                           + [_cell(custom.get(s)) for s in specs])
    return {"rows": n, "duplicates": dups, "invalid": invalid,
            "created": n - dups - invalid, "emails": set(emails)}


def ctx_seed(ctx) -> int:
    return 4242


def _cell(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def raw_load(ctx, path) -> int:
    """The baseline: parse the same file and write its rows with the driver's fastest
    bulk path, in one transaction that is rolled back (the table stays as it was)."""
    specs = [name for name, _k in datagen.custom_field_specs()]
    cols = STANDARD + ["first_name_key", "last_name_key", "name_day_key", "roles", "custom",
                       "version", "created_at", "updated_at"]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    raw = ctx.engine.raw_connection()
    n = 0
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)

            def rows():
                for rec in reader:
                    custom = dict(zip(specs, rec[len(STANDARD):], strict=True))
                    yield (*rec[:len(STANDARD)], "", "", "", "[]", json.dumps(custom), 1,
                           now, now)

            if ctx.kind == "postgresql":
                cur = raw.driver_connection.cursor()
                with cur.copy(f"COPY contacts_person ({', '.join(cols)}) FROM STDIN") as cp:
                    for row in rows():
                        cp.write_row(row)
                        n += 1
            else:
                cur = raw.cursor()
                cur.execute("BEGIN")  # the engine runs pysqlite in autocommit mode
                marks = ", ".join("?" * len(cols))
                sql = f"INSERT INTO contacts_person ({', '.join(cols)}) VALUES ({marks})"
                batch = []
                for row in rows():
                    batch.append(row)
                    if len(batch) >= 10_000:
                        cur.executemany(sql, batch)
                        n += len(batch)
                        batch = []
                if batch:
                    cur.executemany(sql, batch)
                    n += len(batch)
    finally:
        raw.rollback()
        raw.close()
    return n


@contextlib.contextmanager
def committed_request(registry, token):
    req = Request.blank("/", headers={"Authorization": f"Bearer {token}"},
                        base_url="http://localhost")
    env = prepare(request=req, registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    try:
        with request.tm:
            yield request
    finally:
        env["closer"]()


def run(ctx) -> Result:
    res = Result(1, "CSV import", ctx.kind, target=">= 0.25 of executemany / COPY")
    try:
        from kyklos.imports import pipeline
    except ImportError as exc:
        res.status, res.note = "skipped", f"the core's import is not available: {exc}"
        return res
    # Full runs import at most 100 k rows: at the pipeline's rate (a few hundred rows/s
    # under load, docs/performance.md) a million would take over an hour.
    n = min(ctx.n_people, FULL_CAP) if not ctx.quick else max(500, ctx.n_people // 10)
    E.RESULTS.mkdir(parents=True, exist_ok=True)
    path = E.RESULTS / f"import_{ctx.kind}.csv"
    expected = write_csv(ctx, path, n)
    n_raw, t_raw = timed(lambda: raw_load(ctx, path))
    et = ctx.entity("person")
    token = ctx.token(ctx.org.admin_id)
    specs = [name for name, _k in datagen.custom_field_specs()]
    options = {"mapping": {h: h for h in STANDARD + specs}, "key": "email",
               "on_duplicate": "skip", "delimiter": ",", "encoding": "utf-8"}
    with committed_request(ctx.registry, token) as request:
        with open(path, newline="", encoding="utf-8") as fh:
            headers = next(csv.reader(fh))
        problems = pipeline.check_options(request, et, headers, options)
        if problems:
            raise RuntimeError(f"import options refused: {problems}")
        run_id = pipeline.start_run(request, et, path, path.name, options, False).id
    summary, t_k = timed(lambda: pipeline.execute(ctx.registry, run_id),
                         profile=f"import_{ctx.kind}")
    model = et.model
    with ctx.engine.connect() as c:
        rows = c.execute(select(model.email, func.count()).where(
            model.email.like(f"%@{DOMAIN}")).group_by(model.email)).all()
    got = {e for e, _n in rows}
    dup_rows = sum(k - 1 for _e, k in rows)
    lost = len(expected["emails"] - got)
    leaked = len(got - expected["emails"])
    created = summary.get("created")
    accounted = sum(summary.get(k) or 0 for k in ("created", "updated", "skipped", "rejected"))
    res.correctness = {
        "rows_in": n, "rows_created": created, "rows_skipped": summary.get("skipped"),
        "rows_rejected": summary.get("rejected"), "expected_created": expected["created"],
        "expected_duplicates": expected["duplicates"], "expected_invalid": expected["invalid"],
        "rows_lost": lost + max(0, n - accounted), "rows_leaked": leaked,
        "duplicates": dup_rows,
        "ok": (lost == 0 and leaked == 0 and dup_rows == 0 and accounted == n
               and created == expected["created"]
               and summary.get("rejected") == expected["invalid"]),
        "state": summary.get("state"), "error": summary.get("error"),
    }
    res.kyklos = {"seconds": round(t_k, 2), "rows_per_s": round(n / t_k),
                  "headline": f"{n / t_k:,.0f} rows/s"}
    res.baseline = {"seconds": round(t_raw, 2), "rows": n_raw,
                    "rows_per_s": round(n_raw / t_raw) if t_raw else None,
                    "method": "COPY" if ctx.kind == "postgresql" else "executemany",
                    "headline": f"{n_raw / t_raw:,.0f} rows/s"}
    res.efficiency = t_raw / t_k if t_k else None
    res.target_met = res.efficiency is not None and res.efficiency >= 0.25
    res.note = (f"{n} rows x {len(STANDARD)} + 50 custom columns, 2 % duplicate e-mails "
                "(skipped), 0.5 % invalid (rejected)")
    return res
