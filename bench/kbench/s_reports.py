"""Scenario 9: the report builder's grouped query (activities per type and month of
their due date, record rules applied, labels in words) against the same GROUP BY run
raw, and its totals against a hand-written count per type."""

from __future__ import annotations

from sqlalchemy import text

from . import env as E
from .harness import Result, merge_checks, pct, repeat

SPEC = {
    "entity": "activity",
    "group_by": [{"field": "type_id"}, {"field": "due_at", "bucket": "month"}],
    "measures": [{"op": "count"}],
    "sort": "d0",
    "limit": 1000,
}


def run(ctx) -> Result:
    res = Result(9, "report builder over activities", ctx.kind, target="<= 1.3x raw + 50 ms")
    if "activity" not in ctx.registry.kyklos_entities:
        res.status, res.note = "skipped", "the activities plugin is not enabled"
        return res
    from kyklos.reports import engine

    org = ctx.org
    tok = ctx.token(org.admin_id)
    n = max(2, ctx.repeats // 5) if not ctx.quick else 2
    if ctx.n_activities >= 1_000_000:
        n = 3  # --report-5m: each run reads every row (tens of seconds); p50 of three
    with E.session(ctx.registry) as db:
        # what a developer would write: the count of live activities per type
        want = dict(
            db.execute(
                text("SELECT type_id, count(*) FROM activities_activity GROUP BY type_id")
            ).all()
        )
    with E.request_as(ctx.registry, tok) as request:

        def kyklos(request=request):
            spec = engine.parse_spec(request, SPEC)
            return engine.run(request, spec)

        engine.prepare_connection(request)
        with E.capture_sql(ctx.engine) as stmts:
            result = kyklos()
        got: dict = {}
        for keys, vals in result.rows:
            got[keys[0]] = got.get(keys[0], 0) + vals[0]
        lost = sum(max(0, v - got.get(k, 0)) for k, v in want.items())
        leaked = sum(max(0, v - want.get(k, 0)) for k, v in got.items())
        check = {
            "expected": sum(want.values()),
            "got": sum(got.values()),
            "rows_lost": lost,
            "rows_leaked": leaked,
            "duplicates": 0,
            "ok": lost == 0 and leaked == 0 and not result.truncated,
        }
        group = [(s, p) for s, p in stmts if "GROUP BY" in s.upper()]
        tk = repeat(kyklos, n)
    tr = _replay_with_buckets(ctx, group, n)
    k50, r50 = pct(tk, 50) * 1000, pct(tr, 50) * 1000
    res.kyklos = {
        "p50_ms": round(k50, 2),
        "p95_ms": round(pct(tk, 95) * 1000, 2),
        "groups": len(result.rows),
        "headline": f"p50 {k50:.0f} ms",
    }
    res.baseline = {
        "p50_ms": round(r50, 2),
        "p95_ms": round(pct(tr, 95) * 1000, 2),
        "headline": f"p50 {r50:.0f} ms",
    }
    res.efficiency = r50 / k50 if k50 else None
    res.target_met = k50 <= 1.3 * r50 + 50
    res.note = (
        f"{ctx.n_activities} activities per type x month of due date, admin; "
        "baseline = the same GROUP BY replayed raw"
    )
    res.correctness = merge_checks(check)
    return res


def _replay_with_buckets(ctx, statements, n):
    """Time ``statements`` raw on one DBAPI connection that knows SQLite's
    ``kyklos_bucket`` (PostgreSQL has ``date_trunc``)."""
    from kyklos.reports.engine import sqlite_bucket

    raw = ctx.engine.raw_connection()
    if ctx.kind == "sqlite":
        raw.driver_connection.create_function("kyklos_bucket", 4, sqlite_bucket, deterministic=True)

    def run():
        cur = raw.cursor()
        for stmt, params in statements:
            cur.execute(stmt, params)
            cur.fetchall()
        cur.close()
        raw.rollback()

    try:
        return repeat(run, n)
    finally:
        raw.close()
