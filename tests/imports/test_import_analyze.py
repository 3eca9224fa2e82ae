"""An import leaves the tables it wrote analysed (issue #19): the list or search a
person opens right after a bulk load is planned for the rows that are there, not for
an empty table, without waiting for autovacuum. Also after a large bulk API call and
``kyklos search-index``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from entities_support import roles_synced, thing_rules  # noqa: F401 - fixtures
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from kyklos_sdk.testing import run_cli, write_ini

pytestmark = pytest.mark.usefixtures("thing_rules")

THING = "samplea_thing"
SEARCH = "kyklos_search"
AUDIT = "kyklos_audit"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_plugins"


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def forget_statistics(registry) -> dt.datetime:
    """Drop what earlier tests left (SQLite) and return the database's clock (PostgreSQL
    keeps ``last_analyze`` per table; later analyses are those after this instant)."""
    engine = registry["dbengine"]
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            return c.execute(text("SELECT clock_timestamp()")).scalar_one()
        if c.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            c.execute(text("DELETE FROM sqlite_stat1"))
    return None


def statistics(registry, since, tables) -> dict[str, int | None]:
    """``{table: rows the planner believes it has}``, ``None`` when it was not analysed
    (since ``since`` on PostgreSQL)."""
    engine = registry["dbengine"]
    out = {}
    with engine.connect() as c:
        for t in tables:
            if engine.dialect.name == "postgresql":
                row = c.execute(
                    text(
                        "SELECT c.reltuples, s.last_analyze FROM pg_class c "
                        "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = :t"
                    ),
                    {"t": t},
                ).one()
                out[t] = int(row[0]) if row[1] is not None and row[1] >= since else None
            else:
                stat = (
                    c.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": t})
                    .scalars()
                    .first()
                )
                out[t] = int(stat.split()[0]) if stat else None
    return out


def count(registry, table) -> int:
    with registry["dbengine"].connect() as c:
        return c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def import_things(api, n: int, start: int = 0):
    ed = api("thingseditor")
    data = "name,size\n" + "".join(f"Thing {i:05d},{i % 9}\n" for i in range(start, start + n))
    opts = {"mapping": {"name": "name", "size": "size"}, "key": "name"}
    res = ed.post(
        "/api/v1/things/_import",
        {"options": json.dumps(opts)},
        upload_files=[("file", "t.csv", data.encode())],
        status=202,
    )
    run = ed.get(res.headers["Location"]).json
    assert run["state"] == "done" and run["created"] == n, run
    return ed


def test_import_leaves_its_tables_analysed(api, registry):
    since = forget_statistics(registry)
    import_things(api, 120)
    stats = statistics(registry, since, [THING, SEARCH, AUDIT])
    # every table the import wrote has statistics, and they count the imported rows
    for table, rows in stats.items():
        assert rows is not None, f"{table} was not analysed: {stats}"
    assert stats[THING] == count(registry, THING) == 120
    assert stats[SEARCH] == count(registry, SEARCH)
    # and the search answers at once
    hits = api("thingseditor").get("/api/v1/_search", {"q": "Thing 00042"}).json
    assert [i["title"] for g in hits["groups"] for i in g["items"]][:1] == ["Thing 00042"]


def test_import_refreshes_the_sqlite_full_text_index_statistics(api, registry):
    """On SQLite the search index's FTS5 shadow tables are analysed with it: statistics
    a whole-database ANALYZE took while the index was empty made every later search
    row's insert plan FTS5's look-ups for an empty index (20x slower at 20 000 rows)."""
    engine = registry["dbengine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("FTS5 is SQLite's search index")
    forget_statistics(registry)
    with engine.begin() as c:
        c.execute(text("DELETE FROM kyklos_search"))
        c.execute(text("INSERT INTO kyklos_search_fts(kyklos_search_fts) VALUES('delete-all')"))
        c.execute(text("ANALYZE"))  # what an operator or a new database's setup may run
    stale = statistics(registry, None, ["kyklos_search_fts_data"])["kyklos_search_fts_data"]
    import_things(api, 600)
    fresh = statistics(registry, None, ["kyklos_search_fts_data", "kyklos_search_fts_idx"])
    with engine.connect() as c:
        blocks = c.execute(text("SELECT count(*) FROM kyklos_search_fts_data")).scalar_one()
    # the statistics count the index as it now is, not as it was
    assert fresh["kyklos_search_fts_data"] == blocks != stale, (stale, fresh, blocks)
    assert fresh["kyklos_search_fts_idx"] is not None


def test_large_bulk_update_refreshes_stale_statistics(api, registry):
    ed = import_things(api, 1000)
    with registry["dbengine"].connect() as c:
        ids = list(c.execute(text(f"SELECT id FROM {THING} ORDER BY id")).scalars())
    assert len(ids) == 1000
    since = forget_statistics(registry)
    # a small bulk write leaves fresh statistics alone (no cost for everyday requests)
    ed.post_json(
        "/api/v1/things/_bulk",
        {"action": "update", "ids": ids[:10], "data": {"size": 1}},
        status=200,
    )
    assert statistics(registry, since, [THING])[THING] is None
    # 1 000 changed rows on a 1 000-row table: its statistics are stale, refreshed with
    # the write, and so are the history's
    ed.post_json(
        "/api/v1/things/_bulk", {"action": "update", "ids": ids, "data": {"size": 2}}, status=200
    )
    stats = statistics(registry, since, [THING, AUDIT])
    assert stats[THING] == 1000, stats
    assert stats[AUDIT] is not None, stats


def test_search_index_command_analyses_the_index(api, registry, db_url, tmp_path):
    import_things(api, 30)
    since = forget_statistics(registry)
    ini = write_ini(tmp_path, plugins="samplea", url=db_url)
    proc = run_cli("search-index", ini, pythonpath=[SAMPLES])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stats = statistics(registry, since, [SEARCH])
    assert stats[SEARCH] == count(registry, SEARCH) >= 30, stats


def test_small_batches_refresh_statistics_during_the_run(api, registry, tmp_path, monkeypatch):
    """An import on a busy machine commits time-bounded batches of fewer rows than a
    transaction needs to look at its statistics alone; the run adds its batches' rows
    up, so a table is analysed as it grows during the run, not only when it ends."""
    from kyklos.imports import pipeline
    from kyklos.jobs import job_request

    # every batch stops after its first chunk (pipeline.CHUNK_FIRST rows)
    monkeypatch.setitem(registry.settings, "kyklos.imports.batch_seconds", "0.000001")
    ed = api("thingseditor")
    path = tmp_path / "things.csv"
    path.write_text(
        "name,size\n" + "".join(f"Thing {i:05d},{i % 9}\n" for i in range(700)), encoding="utf-8"
    )
    since = forget_statistics(registry)
    seen = []

    def progress(_pct, message):
        try:
            stat = statistics(registry, since, [THING])[THING]
        except OperationalError:  # SQLite: no sqlite_stat1 before the first ANALYZE
            stat = None
        seen.append((int(message.split("/")[0]), stat))

    with job_request(registry, ed.user_id) as request:
        et = next(t for t in registry.kyklos_entities.values() if t.model.__tablename__ == THING)
        run_id = pipeline.start_run(
            request,
            et,
            path,
            path.name,
            {"mapping": {"name": "name", "size": "size"}, "key": "name"},
            False,
        ).id
    summary = pipeline.execute(registry, run_id, progress)
    assert summary["created"] == 700
    assert len(seen) == 700 // pipeline.CHUNK_FIRST, seen
    # before the last batch, the table has statistics counting at least 500 rows
    during = [stat for _rows, stat in seen[:-1] if stat is not None]
    assert during and during[0] >= 500, seen
