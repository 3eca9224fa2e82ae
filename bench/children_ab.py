#!/usr/bin/env python3
"""Child collections read by Core selects vs the ORM's select-in loader, in process.

    .venv/bin/python bench/children_ab.py [--size N] [--db sqlite|postgresql]
                                          [--repeat R]

Builds scenario 6's data (``--size`` people, default 1 500) and runs scenario 6's list
queries and the opening of a record ``R`` times (default 60) through the whole WSGI
stack, each request twice in a row: once with :mod:`kyklos.entities.children` reading
the page's phones, e-mails and addresses (this branch) and once with its plans switched
off, so that the model's ``lazy="selectin"`` loader reads them as before. The pairs
alternate which goes first, so both halves see the same machine load; prints the p50
of each and their difference per kind, and checks that the two bodies are equal.
Uses the standard library only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kbench import datagen  # noqa: E402
from kbench import env as E  # noqa: E402
from profile_mixed import QUERIES  # noqa: E402


def main(argv=None) -> int:
    from kyklos.entities import children

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=1500)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--repeat", type=int, default=60)
    args = p.parse_args(argv)
    url = E.create_database(args.db)
    try:
        app = E.build(url)
        registry = app.registry
        org, people = datagen.searchable_people(registry, args.size)
        uid = org.region_managers[0]
        token = E.make_token(registry, uid)
        owners = org.visible_owners(uid)
        visible = [people.first_id + i for i, o in enumerate(people.owners) if o in owners]
        paths = dict(QUERIES, open=f"/api/v1/persons/{visible[7]}")
        core_plans = children.plans
        off = lambda model: ()  # noqa: E731

        def timed(path, plans):
            children.plans = plans
            t = time.perf_counter()
            r = E.wsgi_get(app, path, token)
            took = time.perf_counter() - t
            assert r.status_int == 200, r.status
            return took, r.body

        for path in paths.values():  # warm both ways
            for plans in (core_plans, off, core_plans, off):
                timed(path, plans)
        times = {name: ([], []) for name in paths}
        for i in range(args.repeat):
            for name, path in paths.items():
                order = ((0, core_plans), (1, off)) if i % 2 else ((1, off), (0, core_plans))
                bodies = {}
                for side, plans in order:
                    took, bodies[side] = timed(path, plans)
                    times[name][side].append(took)
                assert bodies[0] == bodies[1], name
        children.plans = core_plans
        print(f"[{args.db}] {args.size} people, {args.repeat} pairs; p50 in ms")
        print(f"{'request':16} {'select-in':>10} {'core':>10} {'diff':>8}")
        for name, (core, orm) in times.items():
            c, o = statistics.median(core) * 1000, statistics.median(orm) * 1000
            print(f"{name:16} {o:10.2f} {c:10.2f} {(c - o) / o * 100:7.1f}%")
    finally:
        E.drop_database(args.db, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
