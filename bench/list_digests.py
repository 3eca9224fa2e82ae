#!/usr/bin/env python3
"""Scenario 3's segments through the product's list surfaces, on the data
``bench/profile_search.py build`` keeps (issue #19): per segment, the list API
(``GET /api/v1/persons?...&count=exact&limit=50``) and the HTML list page with the same
parameters, as the administrator: a digest of the body (the page's CSRF token taken
out), the median ms and the statements per request; then one digest of every body.
Run it on two code trees (the other first on ``PYTHONPATH``) to prove a change keeps
the output byte for byte and to count what it saves.

    .venv/bin/python bench/list_digests.py --db sqlite|postgresql [--repeat R]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import profile_search as PS  # noqa: E402
from kbench import env as E  # noqa: E402
from kbench import s_segments as S  # noqa: E402

_CSRF = re.compile(rb'name="csrf_token" value="[^"]*"')


def main(argv=None) -> int:
    from sqlalchemy import event

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    _size, org = PS._load_org(args.db)
    app = E.build(PS._url(args.db))
    registry = app.registry
    n = [0]

    def count(*_a):
        n[0] += 1

    event.listen(registry["dbengine"], "before_cursor_execute", count)
    et = registry.kyklos_entities["person"]
    ctx = SimpleNamespace(
        org=org,
        custom_field=lambda nm: (
            f if (f := et.fields.get(nm)) is not None and f.custom and f.filterable else None
        ),
    )
    token = E.make_token(registry, org.admin_id)
    every = hashlib.sha256()
    total = {"api": 0.0, "page": 0.0}
    stmts = {"api": 0.0, "page": 0.0}
    for name, params, _w, _b in S.segments(ctx):
        qs = urlencode([*params, ("count", "exact"), ("limit", str(S.LIMIT))])
        for kind, path in (("api", f"/api/v1/{et.slug}?{qs}"), ("page", f"/{et.slug}/?{qs}")):
            resp = E.wsgi_get(app, path, token)
            assert resp.status_int == 200, (path, resp.status)
            body = _CSRF.sub(b"", resp.body)
            every.update(body)
            times = []
            n0 = n[0]
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                E.wsgi_get(app, path, token)
                times.append(time.perf_counter() - t0)
            ms = statistics.median(times) * 1000
            per = (n[0] - n0) / args.repeat
            total[kind] += ms
            stmts[kind] += per
            digest = hashlib.sha256(body).hexdigest()[:10]
            print(f"{name:24} {kind:4} {digest} {ms:8.2f} ms {per:5.1f} stmts")
    print(
        f"all bodies {every.hexdigest()[:16]}; sum ms api {total['api']:.1f} page "
        f"{total['page']:.1f}; stmts api {stmts['api']:.0f} page {stmts['page']:.0f}"
    )
    registry["dbengine"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
