"""Custom-field filters use an index (PERFORMANCE.md section 8, scenarios 4-5, scaled).

Loads N things with a filterable integer custom field (mirror rows written in bulk, as
the importer does), then times a range filter on it through the list query
(``query.run_list``) against the same filter on the real indexed column ``size``, and
prints the query plans: the custom filter must be an index range scan on
``kyklos_custom_value``, never a scan of the JSON.

    python bench/customfield_index.py [--rows 100000] [--url ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository
sys.path.insert(0, str(ROOT / "tests" / "sample_plugins"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--url")
    args = ap.parse_args()
    from sqlalchemy import insert, text
    from webob.multidict import MultiDict

    from kyklos.entities import customfields, customfields_views, query
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
        db.add(UserRole(user_id=user.id, role_id=db.query(Role).filter_by(name="admin").one().id))
        uid = user.id
    with job_request(reg, uid) as request:
        d = customfields_views.save_definition(request, {
            "entity": "thing", "name": "cf_score", "type": "integer", "label": "Score",
            "filterable": True})
        fid = d.id
    engine = reg["dbengine"]
    model = reg.kyklos_entities["thing"].model
    with engine.begin() as conn:
        batch = 10_000
        for start in range(0, args.rows, batch):
            n = min(batch, args.rows - start)
            conn.execute(insert(model.__table__), [
                {"name": f"t{start + i}", "size": (start + i) * 7919 % 100_000,
                 "custom": {"cf_score": (start + i) * 7919 % 100_000}, "version": 1,
                 "owner_id": uid}
                for i in range(n)])
        conn.execute(text(
            "INSERT INTO kyklos_custom_value (entity, field_id, record_id, v_num) "
            f"SELECT 'thing', {fid}, id, size FROM samplea_thing"))
        conn.execute(text("ANALYZE"))

    def timed(params):
        times = []
        for _ in range(20):
            with job_request(reg, uid) as request:
                customfields.refresh(reg, request.dbsession)
                et = reg.kyklos_entities["thing"]
                lp = query.parse_list_params(request, et, MultiDict(params))
                t0 = time.perf_counter()
                query.run_list(request, et, lp)
                times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000

    custom = timed({"cf_score__between": "50000,50100", "count": "exact"})
    column = timed({"size__between": "50000,50100", "count": "exact"})
    print(f"{engine.dialect.name}: {args.rows} things")
    print(f"  custom-field filter (mirror): {custom:.2f} ms median")
    print(f"  built-in column, no index:   {column:.2f} ms median")
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        plan = conn.execute(text(
            explain + "SELECT record_id FROM kyklos_custom_value WHERE field_id = :f "
            "AND v_num BETWEEN 50000 AND 50100"), {"f": fid}).all()
    print("  plan:", " | ".join(" ".join(str(c) for c in row) for row in plan))


if __name__ == "__main__":
    main()
