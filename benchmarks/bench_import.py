"""CSV import benchmark (PERFORMANCE.md section 8, scenario 1, scaled).

Imports N rows of the sample plugin's "thing" with 50 custom fields (10 of them
filterable, so their mirror rows are written too), 2 % duplicates by the business key
and 0.5 % invalid rows, through the full pipeline (parse, service validation, dedupe,
batched ORM insert, mirror rows, history, after-save hooks), and compares it with a raw
``executemany`` of the same rows in the same run.

    python benchmarks/bench_import.py [--rows 20000] [--url postgresql+psycopg:///bench]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "sample_plugins"))

N_CUSTOM = 50
N_FILTERABLE = 10


def make_csv(path: Path, rows: int, seed: int = 7) -> int:
    rnd = random.Random(seed)
    headers = ["name", "colour", "size"] + [f"cf_f{i}" for i in range(N_CUSTOM)]
    bad = dup = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for i in range(rows):
            r = rnd.random()
            key = f"thing-{i:08d}"
            if r < 0.02 and i:
                key = f"thing-{rnd.randrange(i):08d}"
                dup += 1
            size = str(rnd.randrange(1000))
            if r > 0.995:
                size = "not-a-number"
                bad += 1
            cells = [key, rnd.choice(["red", "blue", "green"]), size]
            for j in range(N_CUSTOM):
                cells.append(str(rnd.randrange(10_000)) if j % 2 else f"v{rnd.randrange(500)}")
            w.writerow(cells)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--url")
    args = ap.parse_args()
    from sqlalchemy import text

    from kyklos.entities import customfields_views
    from kyklos.imports import pipeline
    from kyklos.jobs import job_request
    from kyklos.security.models import Role, User, UserRole
    from kyklos_sdk.testing import build_app, empty_database

    tmp = Path(tempfile.mkdtemp(prefix="kyklos-bench-"))
    url = args.url or f"sqlite:///{tmp}/bench.sqlite"
    app = build_app(url, ["samplea"], files_dir=tmp)
    reg = app.registry
    empty_database(reg)
    with job_request(reg) as request:
        db = request.dbsession
        user = User(email="bench@example.com", name="bench")
        db.add(user)
        db.flush()
        admin = db.query(Role).filter_by(name="admin").one()
        db.add(UserRole(user_id=user.id, role_id=admin.id))
        uid = user.id
    with job_request(reg, uid) as request:
        for i in range(N_CUSTOM):
            customfields_views.save_definition(request, {
                "entity": "thing", "name": f"cf_f{i}",
                "type": "integer" if i % 2 else "string",
                "label": {"en": f"F{i}"}, "filterable": i < N_FILTERABLE})
    path = tmp / "things.csv"
    make_csv(path, args.rows)
    options = {"mapping": {h: h for h in ["name", "colour", "size"]
                           + [f"cf_f{i}" for i in range(N_CUSTOM)]},
               "key": "name", "on_duplicate": "skip"}
    with job_request(reg, uid) as request:
        et = reg.kyklos_entities["thing"]
        run_id = pipeline.start_run(request, et, path, path.name, options, False).id
    t0 = time.perf_counter()
    summary = pipeline.execute(reg, run_id)
    ours = time.perf_counter() - t0
    got = summary["created"] + summary["skipped"] + summary["rejected"]
    assert got == args.rows, summary
    # Baseline: the same rows, parsed by csv, inserted with the driver's executemany.
    engine = reg["dbengine"]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM samplea_thing"))
    t0 = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [(r[0], r[1], int(r[2]) if r[2].isdigit() else None,
                 json.dumps({f"cf_f{i}": v for i, v in enumerate(r[3:])}), 1) for r in reader]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        ph = "?" if engine.dialect.name == "sqlite" else "%s"
        cur.executemany(
            "INSERT INTO samplea_thing (name, colour, size, custom, version, created_at, "
            f"updated_at) VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)", rows)
        raw.commit()
    finally:
        raw.close()
    base = time.perf_counter() - t0
    print(f"{engine.dialect.name}: {args.rows} rows, {N_CUSTOM} custom fields")
    print(f"  pipeline: {ours:.2f} s = {args.rows / ours:,.0f} rows/s  {summary}")
    print(f"  raw executemany: {base:.2f} s = {args.rows / base:,.0f} rows/s")
    print(f"  efficiency: {base / ours:.3f} (target 0.25)")


if __name__ == "__main__":
    main()
