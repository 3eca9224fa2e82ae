#!/usr/bin/env python3
"""Profile the request path of the workloads of bench scenario 8 with pyinstrument.

    .venv/bin/pip install pyinstrument        # a profiling tool, not a dependency
    .venv/bin/python bench/profile_requests.py [--size N] [--db sqlite|postgresql]
                                               [--repeat R] [--out DIR]

Builds the bench data (``--size`` people, default 5 000), then runs each request ``R``
times (default 50) through the whole WSGI stack (tweens, bearer token and identity,
permission checks, query building, serialisation; the REST API, as the bench's
workloads - HTML pages need a browser session) under the profiler, and writes one
text profile per request to ``--out`` (default ``bench/results/profiles``), with the
share of time per part of the request path
printed as a summary (a sampling profiler: percentages of wall time, including the
database's).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kbench import datagen  # noqa: E402
from kbench import env as E  # noqa: E402

#: where the time goes, by the module a frame belongs to (first match wins, innermost
#: frame of ours)
PARTS = (
    ("database driver", ("sqlite3", "psycopg")),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("templates", ("chameleon", "kyklos/templates", "pyramid_chameleon")),
    ("serialisation", ("kyklos/entities/values", "kyklos/entities/display", "json")),
    ("query building", ("kyklos/entities/query",)),
    ("permissions", ("kyklos/security",)),
    ("session / token", ("kyklos/auth", "pyramid/session", "kyklos/security/tokens")),
    ("Pyramid / WebOb / tm", ("pyramid", "webob", "transaction", "zope")),
)


def requests_for(ctx, token) -> dict[str, str]:
    people = ctx.entity("person").model
    with ctx.engine.connect() as c:
        from sqlalchemy import select

        one = c.execute(select(people.id).limit(1)).scalar_one()
    base = {"sort": "last_name", "limit": "50"}
    return {
        "list_page1": "/api/v1/persons?" + urlencode(base),
        "list_custom": "/api/v1/persons?" + urlencode({**base, "cf_01": "gold"}),
        "list_q": "/api/v1/persons?" + urlencode({**base, "q": "papa"}),
        "global_search": "/api/v1/_search?" + urlencode({"q": "papa"}),
        "open_record": f"/api/v1/persons/{one}",
    }


def part_of(frame) -> str:
    path = (frame.file_path or "").replace("\\", "/")
    for name, needles in PARTS:
        if any(n in path for n in needles):
            return name
    return "kyklos, other" if "kyklos" in path else "other"


def breakdown(session) -> dict[str, float]:
    """Self time per part of the request path, in % of the total."""
    totals: dict[str, float] = {}

    def walk(frame):
        totals[part_of(frame)] = totals.get(part_of(frame), 0.0) + frame.total_self_time
        for child in frame.children:
            walk(child)

    root = session.root_frame()
    if root is not None:
        walk(root)
    whole = sum(totals.values()) or 1.0
    return {k: round(100 * v / whole, 1) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def main(argv=None) -> int:
    from pyinstrument import Profiler

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=5000)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--repeat", type=int, default=50)
    p.add_argument("--out", default=str(E.RESULTS / "profiles"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    url = E.create_database(args.db)
    app = E.build(url)
    registry = app.registry
    org = datagen.create_org(registry)
    datagen.define_custom_fields(registry)
    datagen.load_people(registry, 7, args.size, org)
    datagen.mirror_custom_fields(registry)
    datagen.analyze(registry["dbengine"])
    from kbench.context import Ctx

    ctx = Ctx(
        kind=args.db,
        url=url,
        app=app,
        registry=registry,
        engine=registry["dbengine"],
        org=org,
        people=None,
        n_people=args.size,
        n_activities=0,
        quick=True,
        repeats=args.repeat,
        http_seconds=0,
    )
    token = ctx.token(org.admin_id)
    try:
        for label, path in requests_for(ctx, token).items():
            E.wsgi_get(app, path, token)  # warm
            profiler = Profiler(interval=0.0005)
            t0 = time.perf_counter()
            profiler.start()
            for _ in range(args.repeat):
                resp = E.wsgi_get(app, path, token)
            profiler.stop()
            ms = (time.perf_counter() - t0) * 1000 / args.repeat
            assert resp.status_int == 200, (path, resp.status)
            (out / f"{label}_{args.db}.txt").write_text(
                profiler.output_text(unicode=True, color=False, show_all=False)
            )
            parts = breakdown(profiler.last_session)
            print(
                f"{label:14} {ms:7.1f} ms/request  "
                + ", ".join(f"{k} {v}%" for k, v in list(parts.items())[:6]),
                flush=True,
            )
    finally:
        registry["dbengine"].dispose()
        E.drop_database(args.db, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
