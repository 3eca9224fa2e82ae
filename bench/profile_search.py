#!/usr/bin/env python3
"""Global search and segment evaluation, in process, on data kept between runs
(issue #19: where a search's and a segment's time goes, before/after pairs).

    .venv/bin/python bench/profile_search.py build --db sqlite|postgresql [--size N]
    .venv/bin/python bench/profile_search.py run --db sqlite|postgresql [--repeat R]
                                             [--profile] [--top K]

``build`` makes the bench's data (``--size`` people, default 20 000, every one in the
search index, analysed) in the bench's scratch database (the SQLite file under
``KYKLOS_BENCH_DIR``, or ``KYKLOS_BENCH_PG_DB``) and keeps it, with the org chart in a
JSON file beside it. ``run`` opens it, so that two code trees (a branch point checked
out elsewhere, put first on ``PYTHONPATH``) can be measured on the very same data, one
after the other and again: per query, ``GET /api/v1/_search`` as the administrator and
as a regional manager (median ms, statements per request); per saved segment of
scenario 3, the list query layer's page of 50 + exact count (``run_list``) against the
hand-written SQL. ``--profile`` adds a cProfile of the searches (cumulative and own).
Reads only: ``run`` changes nothing but the saved views scenario 3 stores (one per
segment, per run).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import hashlib
import json
import pstats
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kbench import datagen  # noqa: E402
from kbench import env as E  # noqa: E402
from kbench.harness import interleaved  # noqa: E402

QUERIES = ("papa", "maria", "nowak", "Παπα", "zzzq")


def _org_file(kind: str) -> Path:
    return E.RESULTS / f"profile_search_{kind}_{E.PG_DB}.json"


def _url(kind: str) -> str:
    from sqlalchemy import make_url

    if kind == "sqlite":
        return f"sqlite:///{E.RESULTS / 'kyklos_bench.sqlite'}"
    return make_url(E.PG_ADMIN_URL).set(database=E.PG_DB).render_as_string(hide_password=False)


def build(args) -> int:
    url = E.create_database(args.db)
    app = E.build(url)
    registry = app.registry
    org, _people = datagen.searchable_people(registry, args.size)
    registry["dbengine"].dispose()
    data = dataclasses.asdict(org)
    _org_file(args.db).write_text(json.dumps({"size": args.size, "org": data}))
    print(f"[{args.db}] {args.size} people in {url}")
    return 0


def _load_org(kind: str):
    raw = json.loads(_org_file(kind).read_text())
    o = raw["org"]
    fields = {f.name for f in dataclasses.fields(datagen.Org)}
    org = datagen.Org(**{k: v for k, v in o.items() if k in fields})
    # JSON keys are strings; the chart's maps are keyed by ids
    for name in ("departments", "member_of", "scope_of", "region_of"):
        val = getattr(org, name, None)
        if isinstance(val, dict):
            setattr(
                org,
                name,
                {int(k): (tuple(v) if isinstance(v, list) else v) for k, v in val.items()},
            )
    return raw["size"], org


def _digest(value) -> str:
    """A short fingerprint of ``value``, the same in every process (``hash`` is not)."""
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()[:8]


def _med(xs) -> float:
    return statistics.median(xs) * 1000


def run(args) -> int:
    from sqlalchemy import event

    size, org = _load_org(args.db)
    app = E.build(_url(args.db))
    registry = app.registry
    engine = registry["dbengine"]
    statements = [0]

    def count(*_a):
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    users = {"admin": org.admin_id, "region": org.region_managers[0]}
    tokens = {k: E.make_token(registry, uid) for k, uid in users.items()}
    kinds = {}
    for q in QUERIES:
        for who, token in tokens.items():
            path = "/api/v1/_search?" + urlencode({"q": q})
            kinds[f"{q} ({who})"] = lambda path=path, token=token: E.wsgi_get(app, path, token)
    hits = {}
    for name, fn in kinds.items():
        for _ in range(2):
            resp = fn()
            assert resp.status_int == 200, resp.status
        hits[name] = [
            (g["type"], i["id"], i["subtitle"]) for g in resp.json["groups"] for i in g["items"]
        ]
    times, stmts = interleaved(kinds, args.repeat, statements)
    print(f"[{args.db}] {size} people, {args.repeat} rounds, medians (ms)")
    for name in kinds:
        print(
            f"  _search {name:18} {_med(times[name]):8.1f} ms  "
            f"{stmts[name] / args.repeat:4.1f} stmts  {len(hits[name])} hits  "
            f"digest {_digest(hits[name])}"
        )
    if not args.no_segments:
        segments(args, registry, org, statements)
    if args.profile:
        prof = cProfile.Profile()
        for _ in range(args.repeat):
            for fn in kinds.values():
                prof.runcall(fn)
        st = pstats.Stats(prof)
        st.sort_stats("cumulative").print_stats(args.top)
        st.sort_stats("tottime").print_stats(args.top)
    engine.dispose()
    return 0


def segments(args, registry, org, statements) -> None:
    from kbench import s_segments as S
    from webob.multidict import MultiDict

    from kyklos.entities import query as Q

    et = registry.kyklos_entities["person"]
    ctx = SimpleNamespace(
        org=org,
        custom_field=lambda n: (
            f if (f := et.fields.get(n)) is not None and f.custom and f.filterable else None
        ),
    )
    segs = S.segments(ctx)
    token = E.make_token(registry, org.admin_id)
    rows = []
    with E.request_as(registry, token) as request:
        db = request.dbsession
        conn = db.connection()
        for name, params, where, binds in segs:
            md = MultiDict(
                [tuple(p) for p in params] + [("count", "exact"), ("limit", str(S.LIMIT))]
            )

            def run(fn, md=md):
                r = fn(request, et, Q.parse_list_params(request, et, md))
                return [x if isinstance(x, int) else x.id for x in r.items], r.count

            ways = {"run_list": lambda run=run: run(Q.run_list)}
            if hasattr(Q, "run_ids"):
                ways["run_ids"] = lambda run=run: run(Q.run_ids)
            base = f"FROM contacts_person WHERE deleted_at IS NULL AND {where}"
            page_sql = S._text(f"SELECT id {base} ORDER BY id DESC LIMIT {S.LIMIT + 1}", binds)
            count_sql = S._text(f"SELECT count(*) {base}", binds)

            def hand(page_sql=page_sql, count_sql=count_sql, binds=binds):
                ids = [r[0] for r in conn.execute(page_sql, binds)][: S.LIMIT]
                return ids, conn.execute(count_sql, binds).scalar_one()

            want = hand()
            t: dict = {k: [] for k in ["hand", *ways]}
            n: dict = dict.fromkeys(ways, 0)
            for way, fn in ways.items():
                assert fn() == want, (name, way)
            for _ in range(args.repeat):
                for way, fn in ways.items():
                    before = statements[0]
                    t0 = time.perf_counter()
                    fn()
                    t[way].append(time.perf_counter() - t0)
                    n[way] += statements[0] - before
                t0 = time.perf_counter()
                hand()
                t["hand"].append(time.perf_counter() - t0)
            rows.append(
                (
                    name,
                    {k: _med(v) for k, v in t.items()},
                    {k: v / args.repeat for k, v in n.items()},
                )
            )
    ways = [k for k in rows[0][1] if k != "hand"]
    print(
        f"  {'segment':24} {'hand ms':>9}"
        + "".join(f" {w + ' ms':>12} {'ratio':>6} {'stmts':>5}" for w in ways)
    )
    for name, t, n in rows:
        print(
            f"  {name:24} {t['hand']:9.2f}"
            + "".join(f" {t[w]:12.2f} {t[w] / t['hand']:6.2f} {n[w]:5.1f}" for w in ways)
        )
    th = sum(r[1]["hand"] for r in rows)
    line = f"  {'sum':24} {th:9.2f}"
    for w in ways:
        tw = sum(r[1][w] for r in rows)
        worst = max(r[1][w] / r[1]["hand"] for r in rows)
        line += f" {tw:12.2f} {tw / th:6.2f} worst {worst:.2f}x"
    print(line)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("build", "run"))
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--size", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--no-segments", action="store_true", help="global search only")
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args(argv)
    return build(args) if args.what == "build" else run(args)


if __name__ == "__main__":
    sys.exit(main())
