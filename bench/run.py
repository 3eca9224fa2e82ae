#!/usr/bin/env python3
"""Kyklos benchmarks: each scenario beside its baseline, in the same run, on the same
deterministic data, on SQLite and PostgreSQL.

    .venv/bin/python bench/run.py [--quick] [--db sqlite|postgresql|both] [--only 2,4]
                                  [--size N] [--seed S] [--json out.json]
                                  [--activities N | --report-5m] [--mail-messages N]

``--report-5m`` is the report builder at the issue's scale: 5 000 000 activities, and only
scenario 9 (the builder's GROUP BY against its raw replay) unless ``--only`` says more.
It is never part of ``--quick``.

Prints a table and writes JSON. Exits 1 when a correctness check fails (rows lost,
leaked or duplicated, silent overwrites) or a scenario crashes; timings never fail it.
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kbench import env as E  # noqa: E402
from kbench.harness import PeakRSS, Result, fmt_table, maxrss_mb  # noqa: E402

#: the normal run: the size the issue's Odoo comparison uses (issue #19)
DEFAULT_PEOPLE = 100_000
#: --full: a million people
FULL_PEOPLE = 1_000_000
#: --quick: the issue asks for 10x smaller (100 k); on the 2-core CI machine, shared with
#: the test suite, that takes over 3 minutes per database, so quick runs 100x smaller.
#: ``--size 100000`` gives the issue's quick size.
QUICK_PEOPLE = 10_000
ACTIVITIES_PER_PERSON = 5
#: --report-5m: the number of activities the issue sets the builder's KPI at (#24)
REPORT_ACTIVITIES = 5_000_000
#: the scenarios that read activities (the others skip loading them)
READ_ACTIVITIES = (5, 9)
#: the scenarios that search people (the others skip building their search index: the
#: report builder over 5 M activities does not read it)
SEARCH_PEOPLE = (1, 2, 3, 4, 6, 7, 8, 10, 11)
#: reads first; the HTTP load and the imports write (8 measures reads right after its own)
ORDER = (2, 3, 4, 5, 9, 7, 6, 1, 8, 10, 11)
NAMES = {
    1: "CSV import",
    2: "list API page 1 / deep page",
    3: "20 saved segments",
    4: "record-rule overhead",
    5: "KPI report over activities",
    6: "mixed HTTP load on waitress",
    7: "CSV export, streamed",
    8: "Odoo workloads right after an import",
    9: "report builder over activities",
    10: "mail ingestion from Dovecot",
    11: "mass e-mail, kill -9 mid-run",
}


def scenario_module(n: int):
    from kbench import (
        s_export,
        s_http,
        s_import,
        s_kpi,
        s_list,
        s_mail,
        s_mass_email,
        s_reports,
        s_rules,
        s_segments,
        s_workloads,
    )

    return {
        1: s_import,
        2: s_list,
        3: s_segments,
        4: s_rules,
        5: s_kpi,
        6: s_http,
        7: s_export,
        8: s_workloads,
        9: s_reports,
        10: s_mail,
        11: s_mass_email,
    }[n]


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10 000 people, 10 s HTTP load")
    p.add_argument("--full", action="store_true", help="1 000 000 people (default 100 000)")
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--only", help="comma-separated scenario numbers, e.g. 2,4")
    p.add_argument("--size", type=int, help="number of people (overrides --quick's size)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--http-seconds", type=float, help="duration of the HTTP load")
    p.add_argument("--json", dest="json_out", help="write the results here")
    p.add_argument("--activities", type=int, help="number of activities (default 5 per person)")
    p.add_argument(
        "--mail-messages",
        type=int,
        help="messages in the mailbox of scenario 10 (default 50 000, --quick 500)",
    )
    p.add_argument(
        "--report-5m",
        action="store_true",
        help="the report builder over 5 000 000 activities (scenario 9 only by default)",
    )
    args = p.parse_args(argv)
    if args.report_5m:
        if args.quick:
            p.error("--report-5m is a full-size measurement: not with --quick")
        args.activities = args.activities or REPORT_ACTIVITIES
        args.only = args.only or "9"
    return args


def people_of(args) -> int:
    if args.size:
        return args.size
    return QUICK_PEOPLE if args.quick else FULL_PEOPLE if args.full else DEFAULT_PEOPLE


def machine() -> dict:
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except OSError:
        pass
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "mem_mib": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": list(os.getloadavg()),
    }


def prepare(kind: str, args, quick: bool, chosen=ORDER):
    """Create the database, migrate it, load the data; the scenario context."""
    from kbench import datagen
    from kbench.context import Ctx

    n = people_of(args)
    n_act = args.activities or n * ACTIVITIES_PER_PERSON
    url = E.create_database(kind)
    t0 = time.perf_counter()
    app = E.build(url)
    registry = app.registry
    org = datagen.create_org(registry)
    has_custom = datagen.define_custom_fields(registry)
    people = datagen.load_people(registry, args.seed, n, org)
    if has_custom:
        datagen.mirror_custom_fields(registry)
    if any(s in chosen for s in SEARCH_PEOPLE):
        datagen.index_people(registry)
    t_people = time.perf_counter() - t0
    oracle = {}
    try:
        if any(s in chosen for s in READ_ACTIVITIES):
            oracle = datagen.load_activities(registry, args.seed, n_act, org, people)
        else:
            n_act = 0
    except ImportError:
        n_act = 0
    engine = registry["dbengine"]
    datagen.analyze(engine)
    setup = round(time.perf_counter() - t0, 1)
    print(
        f"[{kind}] {n} people ({t_people:.1f} s), {n_act} activities; setup {setup} s", flush=True
    )
    return Ctx(
        kind=kind,
        url=url,
        app=app,
        registry=registry,
        engine=engine,
        org=org,
        people=people,
        n_people=n,
        n_activities=n_act,
        quick=quick,
        repeats=10 if quick else 30,
        http_seconds=args.http_seconds or (10.0 if quick else 60.0),
        activity_oracle=oracle,
        seed=args.seed,
        mail_messages=args.mail_messages,
    ), setup


def run_one(n: int, ctx) -> Result:
    t0 = time.perf_counter()
    try:
        with PeakRSS() as mem:
            res = scenario_module(n).run(ctx)
        if not res.peak_rss_mb:
            res.peak_rss_mb = mem.peak
    except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others
        res = Result(
            n, NAMES[n], ctx.kind, status="error", note=f"{type(exc).__name__}: {exc}"[:300]
        )
        res.correctness = {"ok": False, "error": traceback.format_exc()[-3000:]}
        traceback.print_exc()
    res.seconds = time.perf_counter() - t0
    print(
        f"[{ctx.kind}] scenario {n} ({res.name}): {res.status} in {res.seconds:.1f} s"
        f"{'' if res.correct else ' -- CORRECTNESS FAILED'}",
        flush=True,
    )
    return res


def main(argv=None) -> int:
    args = parse(argv)
    quick = args.quick
    only = [int(x) for x in args.only.split(",")] if args.only else list(ORDER)
    chosen = [n for n in ORDER if n in only]
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    started = time.perf_counter()
    results: list[Result] = []
    setups = {}
    for kind in kinds:
        if kind == "postgresql":
            why = E.postgres_available()
            if why:
                for n in chosen:
                    results.append(
                        Result(
                            n,
                            NAMES[n],
                            kind,
                            status="skipped",
                            note=f"PostgreSQL unavailable: {why}",
                        )
                    )
                continue
        ctx, setups[kind] = prepare(kind, args, quick, chosen)
        try:
            for n in chosen:
                results.append(run_one(n, ctx))
        finally:
            ctx.engine.dispose()
            E.drop_database(kind, ctx.url)
    ok = all(r.correct for r in results)
    print()
    print(fmt_table(results))
    print()
    print(
        f"correctness: {'ok' if ok else 'FAILED'}; total {time.perf_counter() - started:.0f} s;"
        f" peak RSS {maxrss_mb():.0f} MiB"
    )
    if args.json_out:
        out = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "quick": quick,
            "seed": args.seed,
            "sizes": {
                "people": people_of(args),
                "activities_per_person": ACTIVITIES_PER_PERSON,
                "activities": args.activities,
            },
            "setup_seconds": setups,
            "total_seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(maxrss_mb(), 1),
            "correctness_ok": ok,
            "results": [r.as_json() for r in results],
        }
        Path(args.json_out).write_text(json.dumps(out, indent=2, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
