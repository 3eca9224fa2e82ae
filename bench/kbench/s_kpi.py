"""Scenario 5: a KPI report over the activities (activities per rep and type over a
year, record rules applied) against the same GROUP BY run raw."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from . import env as E
from .harness import Result, merge_checks, pct, repeat


def _compare(kpi, names: dict, titles: dict, oracle: dict) -> dict:
    """Counts per (user, type) from the KPI's labels and series against the oracle."""
    got: dict = {}
    for series in kpi.series:
        tid = titles.get(str(series.label))
        if tid is None:
            continue  # "Opportunities moved": not an activity count
        for label, value in zip(kpi.labels, series.values, strict=True):
            if value:
                got[(names[str(label)], tid)] = value
    lost = sum(max(0, n - got.get(k, 0)) for k, n in oracle.items())
    leaked = sum(max(0, n - oracle.get(k, 0)) for k, n in got.items())
    return {"expected": sum(oracle.values()), "got": sum(got.values()), "rows_lost": lost,
            "rows_leaked": leaked, "duplicates": 0, "ok": lost == 0 and leaked == 0}


def run(ctx) -> Result:
    res = Result(5, "KPI report over activities", ctx.kind, target="<= 1.3x raw + 50 ms")
    try:
        from kyklos_activities.models import ActivityType
        from kyklos_sfa import kpi as K
    except ImportError as exc:
        res.status, res.note = "skipped", f"sfa/activities not importable: {exc}"
        return res
    from kyklos.security.models import User

    rng = K.Range(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    with E.session(ctx.registry) as db:
        names = {n: i for i, n in db.execute(select(User.id, User.name))}
        titles = {t: i for i, t in db.execute(select(ActivityType.id, ActivityType.title))}
    org = ctx.org
    cases = {"admin": org.admin_id, "region manager": org.region_managers[0]}
    n = max(3, ctx.repeats // 5)
    checks, per = [], {}
    for label, uid in cases.items():
        tok = ctx.token(uid)
        owners = org.visible_owners(uid)
        oracle = {k: v for k, v in ctx.activity_oracle.items()
                  if owners is None or k[0] in owners}
        with E.request_as(ctx.registry, tok) as request:
            def kyklos(request=request):
                return K.rep_activity(request, rng)

            with E.capture_sql(ctx.engine) as stmts:
                kpi = kyklos()
            c = _compare(kpi, names, titles, oracle)
            c["user"] = label
            checks.append(c)
            group = [(s, p) for s, p in stmts
                     if "activities_activity" in s and "GROUP BY" in s.upper()]
            tk = repeat(kyklos, n)
        raw = E.replay(ctx.engine, group)
        tr = repeat(raw, n)
        raw.close()
        per[label] = {"kyklos_p50_ms": round(pct(tk, 50) * 1000, 2),
                      "kyklos_p95_ms": round(pct(tk, 95) * 1000, 2),
                      "raw_p50_ms": round(pct(tr, 50) * 1000, 2),
                      "raw_p95_ms": round(pct(tr, 95) * 1000, 2),
                      "statements": len(stmts)}
    a = per["admin"]
    res.kyklos = {"cases": per, "headline": f"p50 {a['kyklos_p50_ms']:.0f} ms"}
    res.baseline = {"headline": f"p50 {a['raw_p50_ms']:.0f} ms"}
    res.efficiency = a["raw_p50_ms"] / a["kyklos_p50_ms"] if a["kyklos_p50_ms"] else None
    res.target_met = all(p["kyklos_p50_ms"] <= 1.3 * p["raw_p50_ms"] + 50 for p in per.values())
    res.note = (f"sfa rep_activity over {ctx.n_activities} activities, year 2025; "
                "baseline = its activities GROUP BY replayed raw")
    res.correctness = merge_checks(*checks)
    res.correctness["cases"] = checks
    return res
