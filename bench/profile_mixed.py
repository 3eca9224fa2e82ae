#!/usr/bin/env python3
"""Per-request cost of scenario 6's mix (list/search, open, update), in process.

    .venv/bin/python bench/profile_mixed.py [--size N] [--db sqlite|postgresql]
                                            [--repeat R] [--profile] [--top K]

Builds the bench data (``--size`` people, default 3 000), then runs each kind of request
of scenario 6 (the six list/search queries, opening a record, an update with
``If-Match``) ``R`` times (default 40) through the whole WSGI stack as the scenario's
regional manager, beside a bare Pyramid view called the same way (``Request.blank``,
same process, same moment: the ratio is what scenario 6's efficiency is made of, minus
the HTTP server). Prints per kind the median ms, the statements per request and the
ratio to the bare view; ``--profile`` adds a cProfile of every kind (the ``--top``
functions by cumulative and own time), written to ``<results>/profiles/mixed_<kind>.prof``.
Uses the standard library only.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kbench import datagen  # noqa: E402
from kbench import env as E  # noqa: E402
from kbench.harness import interleaved  # noqa: E402
from kbench.s_http import CONNECTIONS  # noqa: E402
from kbench.serve import hello_app  # noqa: E402

QUERIES = {
    "list_country": "/api/v1/persons?country=GR&sort=last_name&limit=20",
    "list_recent": "/api/v1/persons?sort=-id&limit=20",
    "list_q_maria": "/api/v1/persons?q=maria&limit=20",
    "list_source": "/api/v1/persons?source=web&limit=20&count=none",
    "list_startswith": "/api/v1/persons?last_name__startswith=pap&limit=20",
    "list_q_nowak": "/api/v1/persons?q=nowak&limit=20",
}


def main(argv=None) -> int:
    from sqlalchemy import event
    from webob import Request

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=3000)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--repeat", type=int, default=40)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    out = E.RESULTS / "profiles"
    out.mkdir(parents=True, exist_ok=True)
    url = E.create_database(args.db)
    try:
        app = E.build(url)
        registry = app.registry
        org, people = datagen.searchable_people(registry, args.size)
        uid = org.region_managers[0]
        token = E.make_token(registry, uid)
        owners = org.visible_owners(uid)
        visible = [people.first_id + i for i, o in enumerate(people.owners) if o in owners]
        hello = hello_app()
        statements = [0]

        def count(*_a):
            statements[0] += 1

        event.listen(registry["dbengine"], "before_cursor_execute", count)
        versions: dict = {}
        upd = visible[: CONNECTIONS * 8]
        seq = [0]

        def update():
            pid = upd[seq[0] % len(upd)]
            seq[0] += 1
            if pid not in versions:
                r = E.wsgi_get(app, f"/api/v1/persons/{pid}", token)
                versions[pid] = int(r.headers["ETag"].strip('W/"'))
            r = E.wsgi_get(
                app,
                f"/api/v1/persons/{pid}",
                token,
                method="PATCH",
                body=json.dumps({"job_title": f"t{seq[0]}"}).encode(),
                headers={"If-Match": f'"{versions[pid]}"'},
            )
            assert r.status_int == 200, (r.status, r.text[:300])
            versions[pid] = int(r.headers["ETag"].strip('W/"'))
            return r

        kinds = {name: (lambda q=q: E.wsgi_get(app, q, token)) for name, q in QUERIES.items()}
        kinds["open"] = lambda: E.wsgi_get(app, f"/api/v1/persons/{visible[7]}", token)
        kinds["update"] = update
        kinds["hello"] = lambda: Request.blank("/").get_response(hello)
        for fn in kinds.values():  # warm: caches, first plans
            for _ in range(3):
                resp = fn()
                assert resp.status_int == 200, resp.status
        # Interleaved rounds, so that every kind sees the same machine load.
        times, stmts = interleaved(kinds, args.repeat, statements)
        base = statistics.median(times["hello"])
        print(
            f"[{args.db}] {args.size} people, {args.repeat} rounds; bare Pyramid view "
            f"{base * 1000:.3f} ms"
        )
        weights = {**{k: 0.60 / len(QUERIES) for k in QUERIES}, "open": 0.25, "update": 0.15}
        mixed = 0.0
        for name in kinds:
            if name == "hello":
                continue
            med = statistics.median(times[name])
            mixed += weights[name] * med
            print(
                f"{name:16} p50 {med * 1000:8.2f} ms  {stmts[name] / args.repeat:5.1f} "
                f"statements  {med / base:7.1f}x the bare view"
            )
        print(f"{'mix (weighted)':16} p50 {mixed * 1000:8.2f} ms  bare/mix = {base / mixed:.3f}")
        if args.profile:
            for name, fn in kinds.items():
                if name == "hello":
                    continue
                prof = cProfile.Profile()
                for _ in range(args.repeat):
                    prof.runcall(fn)
                path = out / f"mixed_{name}_{args.db}.prof"
                prof.dump_stats(path)
                print(f"\n=== {name} ({path})")
                st = pstats.Stats(prof)
                st.sort_stats("cumulative").print_stats(args.top)
                st.sort_stats("tottime").print_stats(args.top)
        registry["dbengine"].dispose()
    finally:
        E.drop_database(args.db, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
