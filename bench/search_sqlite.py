#!/usr/bin/env python3
"""Global search on SQLite against a raw FTS5 query (issue #19, brief item 2).

    .venv/bin/python bench/search_sqlite.py [--size N] [--repeat R]

Builds ``--size`` people (default 20 000, the bench's generator, every one indexed),
then for a few queries measures, interleaved so that both see the same load: the
whole API request ``GET /api/v1/_search?q=...`` as the administrator; the SQL it
emitted, replayed raw on the DBAPI cursor; and the bare FTS5 look-up (``SELECT rowid
FROM kyklos_search_fts WHERE kyklos_search_fts MATCH ? ORDER BY rank LIMIT 20``).
Prints medians (ms), the statements per request and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kbench import datagen  # noqa: E402
from kbench import env as E  # noqa: E402

QUERIES = ("papa", "maria", "nowak", "Παπα", "zzzq")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args(argv)
    url = E.create_database("sqlite")
    try:
        app = E.build(url)
        registry = app.registry
        org = datagen.create_org(registry)
        datagen.define_custom_fields(registry)
        datagen.load_people(registry, 2026, args.size, org)
        datagen.mirror_custom_fields(registry)
        datagen.index_people(registry)
        datagen.analyze(registry["dbengine"])
        engine = registry["dbengine"]
        token = E.make_token(registry, org.admin_id)
        print(f"[sqlite] {args.size} people, {args.repeat} rounds (medians, ms)")
        for q in QUERIES:
            path = "/api/v1/_search?" + urlencode({"q": q})
            E.wsgi_get(app, path, token)
            with E.capture_sql(engine) as stmts:
                resp = E.wsgi_get(app, path, token)
            assert resp.status_int == 200, resp.status
            stmts = [x for x in stmts if E.is_select(x[0])]
            replay = E.replay(engine, stmts)
            raw = engine.raw_connection()
            cur = raw.cursor()
            fts_q = '"' + q.lower() + '"'

            def bare(cur=cur, fts_q=fts_q):
                cur.execute(
                    "SELECT rowid FROM kyklos_search_fts WHERE kyklos_search_fts "
                    "MATCH ? ORDER BY rank LIMIT 20",
                    (fts_q,),
                ).fetchall()

            t_api, t_sql, t_fts = [], [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                E.wsgi_get(app, path, token)
                t1 = time.perf_counter()
                replay()
                t2 = time.perf_counter()
                bare()
                t3 = time.perf_counter()
                t_api.append(t1 - t0)
                t_sql.append(t2 - t1)
                t_fts.append(t3 - t2)
            raw.close()
            replay.close()
            a, s, f = (statistics.median(x) * 1000 for x in (t_api, t_sql, t_fts))
            hits = sum(len(g["items"]) for g in resp.json["groups"])
            print(
                f"q={q!r:9} API {a:7.1f}  its SQL raw {s:7.1f} ({len(stmts)} stmts)  "
                f"FTS5 alone {f:6.1f}  API/SQL {a / max(s, 1e-6):4.1f}x  "
                f"SQL/FTS5 {s / max(f, 1e-6):5.1f}x  hits {hits}",
                flush=True,
            )
            # which of its statements dominates: each alone, median of a few runs
            for stmt, params in stmts:
                one = E.replay(engine, [(stmt, params)])
                t = []
                for _ in range(max(3, args.repeat // 3)):
                    t0 = time.perf_counter()
                    one()
                    t.append(time.perf_counter() - t0)
                one.close()
                ms = statistics.median(t) * 1000
                if ms >= 0.2 * s / max(len(stmts), 1):
                    print(f"    {ms:7.1f} ms  {' '.join(stmt.split())[:150]}")
        engine.dispose()
    finally:
        E.drop_database("sqlite", url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
