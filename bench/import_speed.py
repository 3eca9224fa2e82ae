"""Import speed alone (issue #19): ``--rows`` people imported through the pipeline into
a table already holding ``--prefill`` people, on one database, scenario 1's file
(8 standard + 50 custom columns, 2 % duplicate e-mails, 0.5 % invalid rows).

    .venv/bin/python bench/import_speed.py --db sqlite --rows 20000 --prefill 20000
    .venv/bin/python bench/import_speed.py --db postgresql --rows 20000 --profile
    .venv/bin/python bench/import_speed.py --db postgresql --rows 20000 --reimport

Prints rows/s for the whole import and for each fifth of it (a speed that falls as the
table grows shows there); ``--profile`` writes ``<results>/import_speed_<db>.prof``.
``--reimport`` then imports the same file again, keyed on the e-mail with
``on_duplicate=update`` (issue #19: a keyed re-import as fast as a first import), and
prints the same figures for it (``--profile`` then profiles the re-import into
``import_speed_<db>_reimport.prof``).
Uses the bench's databases (bench/README.md: ``KYKLOS_BENCH_PG``, ``KYKLOS_BENCH_PG_DB``).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kbench import datagen, s_import  # noqa: E402
from kbench import env as E  # noqa: E402
from kbench.context import Ctx  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--prefill", type=int, default=0, help="people in the table before")
    p.add_argument("--profile", action="store_true")
    p.add_argument(
        "--reimport",
        action="store_true",
        help="then import the same file again with on_duplicate=update",
    )
    p.add_argument(
        "--sql", action="store_true", help="print the statements by kind: count and seconds"
    )
    args = p.parse_args(argv)
    url = E.create_database(args.db)
    try:
        app = E.build(url)
        registry = app.registry
        org = datagen.create_org(registry)
        has_custom = datagen.define_custom_fields(registry)
        people = datagen.load_people(registry, 2026, args.prefill, org)
        if has_custom:
            datagen.mirror_custom_fields(registry)
        if args.prefill:
            datagen.index_people(registry)
        datagen.analyze(registry["dbengine"])
        ctx = Ctx(
            kind=args.db,
            url=url,
            app=app,
            registry=registry,
            engine=registry["dbengine"],
            org=org,
            people=people,
            n_people=args.prefill,
            n_activities=0,
            quick=True,
            repeats=1,
            http_seconds=0,
        )
        E.RESULTS.mkdir(parents=True, exist_ok=True)
        path = E.RESULTS / f"import_speed_{args.db}.csv"
        s_import.write_csv(ctx, path, args.rows)
        et = ctx.entity("person")
        from kyklos.imports import pipeline

        with open(path, newline="", encoding="utf-8") as fh:
            headers = next(csv.reader(fh))
        options = {
            "mapping": {h: h for h in headers},
            "key": "email",
            "on_duplicate": "skip",
            "delimiter": ",",
            "encoding": "utf-8",
        }
        sql: dict = {}
        if args.sql:
            from sqlalchemy import event

            def before(conn, cursor, statement, params, context, many):
                conn.info["t0"] = time.perf_counter()

            def after(conn, cursor, statement, params, context, many):
                kind = " ".join(statement.split()[:4])[:70]
                n, t = sql.get(kind, (0, 0.0))
                sql[kind] = (n + 1, t + time.perf_counter() - conn.info.pop("t0", 0))

            event.listen(registry["dbengine"], "before_cursor_execute", before)
            event.listen(registry["dbengine"], "after_cursor_execute", after)

        def run(on_duplicate, label, profile):
            with s_import.committed_request(registry, ctx.token(org.admin_id)) as request:
                problems = pipeline.check_options(request, et, headers, options)
                if problems:
                    raise RuntimeError(problems)
                opts = {**options, "on_duplicate": on_duplicate}
                run_id = pipeline.start_run(request, et, path, path.name, opts, False).id
            marks = []
            t0 = time.perf_counter()
            # this process's CPU seconds: under a load of other work the wall-clock rate
            # swings, while the Python work per row (SQLite's included) shows here
            c0 = time.process_time()

            def progress(_pct, message):
                marks.append((int(message.split("/")[0]), time.perf_counter() - t0))

            if profile:
                import cProfile

                prof = cProfile.Profile()
                summary = prof.runcall(pipeline.execute, registry, run_id, progress)
                suffix = "_reimport" if on_duplicate == "update" else ""
                prof.dump_stats(E.RESULTS / f"import_speed_{args.db}{suffix}.prof")
            else:
                summary = pipeline.execute(registry, run_id, progress)
            seconds = time.perf_counter() - t0
            cpu = time.process_time() - c0
            fifths, prev, step = [], (0, 0.0), max(1, args.rows // 5)
            for rows, at in marks:
                if rows - prev[0] >= step or rows == args.rows:
                    fifths.append(f"{(rows - prev[0]) / max(at - prev[1], 1e-9):,.0f}")
                    prev = (rows, at)
            # the first and the last tenth of the file (issue #19: flat from the first row
            # to the last), from the batch marks nearest to those rows
            tenth = max(1, args.rows // 10)
            first = next(((r, t) for r, t in marks if r >= tenth), None)
            before_last = [(r, t) for r, t in marks if r <= args.rows - tenth]
            if first and before_last and marks:
                last_r, last_t = marks[-1]
                lead = before_last[-1]
                print(
                    f"first {first[0]} rows: {first[0] / max(first[1], 1e-9):,.0f} rows/s; "
                    f"last {last_r - lead[0]} rows: "
                    f"{(last_r - lead[0]) / max(last_t - lead[1], 1e-9):,.0f} rows/s",
                    flush=True,
                )
            print(
                f"[{args.db}]{label} {args.rows} rows into {args.prefill}: {seconds:.2f} s, "
                f"{args.rows / seconds:,.0f} rows/s; by fifths: {' '.join(fifths)} rows/s; "
                f"created {summary['created']} updated {summary['updated']} "
                f"skipped {summary['skipped']} rejected {summary['rejected']}; "
                f"CPU {cpu:.2f} s ({args.rows / max(cpu, 1e-9):,.0f} rows per CPU second)",
                flush=True,
            )
            for kind, (n, t) in sorted(sql.items(), key=lambda kv: -kv[1][1])[:25]:
                print(f"{n:7d} {t:8.2f} s  {kind}")
            return summary

        summary = run("skip", "", args.profile and not args.reimport)
        if args.reimport and summary["state"] == "done":
            sql.clear()
            summary = run("update", " re-import (update)", args.profile)
        return 0 if summary["state"] == "done" else 1
    finally:
        E.drop_database(args.db, url)


if __name__ == "__main__":
    sys.exit(main())
