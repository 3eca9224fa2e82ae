"""The benchmark harness must not rot: run bench/run.py on a tiny data set on SQLite and
check the JSON it writes (shape, correctness fields, exit code)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_smoke(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--db", "sqlite", "--size", "300",
         "--only", "2,4,8", "--json", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "KYKLOS_BENCH_DIR": str(tmp_path / "results")},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["correctness_ok"] is True
    assert data["sizes"]["people"] == 300
    assert {"cpus", "mem_mib", "python"} <= set(data["machine"])
    by_scenario = {r["scenario"]: r for r in data["results"]}
    assert set(by_scenario) == {2, 4, 8}
    for r in by_scenario.values():
        assert r["db"] == "sqlite"
        assert r["status"] == "ok", r["note"]
        c = r["correctness"]
        assert c["ok"] is True
        assert c["rows_lost"] == 0 and c["rows_leaked"] == 0 and c["duplicates"] == 0
        assert r["efficiency"] is not None and r["efficiency"] > 0
        assert r["peak_rss_mb"] > 0
        assert isinstance(r["target_met"], bool)
    # the oracle really compared rows: each restricted user saw a part of the data
    users = by_scenario[4]["correctness"]["users"]
    assert len(users) == 4
    assert all(u["expected"] == u["got"] for u in users)
    assert min(u["expected"] for u in users) < 300
    assert by_scenario[2]["kyklos"]["page1"]["n"] > 0
    # scenario 8: both imports complete and checked, every read measured after them
    w = by_scenario[8]
    assert w["correctness"]["created"] == w["correctness"]["updated"] == 300
    assert w["correctness"]["global_search_hits"] == w["correctness"]["marked"] == 3
    for read in ("list_page1", "list_deep", "list_city_page1", "list_custom_page1",
                 "list_custom_deep", "list_q", "global_search", "open_record"):
        assert w["kyklos"][read]["n"] > 0 and "cold_ms" in w["kyklos"][read], read
        assert w["baseline"][read]["statements"] > 0, read
    assert w["kyklos"]["reimport"]["rows_per_s"] > 0
    assert "scenario" in proc.stdout and "correctness: ok" in proc.stdout
