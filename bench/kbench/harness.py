"""Timing, percentiles, peak memory and the result record every scenario returns."""

from __future__ import annotations

import gc
import os
import resource
import statistics
import threading
import time
from dataclasses import dataclass, field


def now() -> float:
    return time.perf_counter()


def pct(samples: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``samples``; 0.0 when empty."""
    if not samples:
        return 0.0
    s = sorted(samples)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def summary_ms(samples: list[float]) -> dict:
    """p50 / p95 / mean / n of samples given in seconds, in milliseconds."""
    return {
        "p50_ms": round(pct(samples, 50) * 1000, 3),
        "p95_ms": round(pct(samples, 95) * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3) if samples else 0.0,
        "n": len(samples),
    }


def repeat(fn, n: int, warmup: int = 1) -> list[float]:
    """Run ``fn`` ``warmup`` times untimed, then ``n`` times; the durations in seconds."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t0 = now()
        fn()
        out.append(now() - t0)
    return out


def interleaved(kinds: dict, rounds: int, statements: list[int]) -> tuple[dict, dict]:
    """``(times, statements)`` per kind: each of ``kinds``' calls once per round, in
    turn, so that every kind sees the same machine load; ``statements[0]`` is a counter
    the caller's engine event increments (the statements each kind ran, in all)."""
    times: dict = {k: [] for k in kinds}
    stmts: dict = {k: 0 for k in kinds}
    for _ in range(rounds):
        for name, fn in kinds.items():
            before = statements[0]
            t0 = now()
            fn()
            times[name].append(now() - t0)
            stmts[name] += statements[0] - before
    return times, stmts


def timed(fn, profile: str | None = None):
    """``(result, seconds)`` of one call. With ``KYKLOS_BENCH_PROFILE`` set in the
    environment, a call named ``profile`` runs under cProfile and its statistics go to
    ``<results>/<profile>.prof`` (read them with ``python -m pstats``); the seconds then
    include the profiler's overhead."""
    gc.collect()
    if profile and os.environ.get("KYKLOS_BENCH_PROFILE"):
        import cProfile

        from .env import RESULTS

        RESULTS.mkdir(parents=True, exist_ok=True)
        prof = cProfile.Profile()
        t0 = now()
        value = prof.runcall(fn)
        seconds = now() - t0
        prof.dump_stats(RESULTS / f"{profile}.prof")
        return value, seconds
    t0 = now()
    value = fn()
    return value, now() - t0


def rss_mb() -> float:
    """Current resident set size of this process in MiB (Linux /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def hwm_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of process ``pid`` in MiB, 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def maxrss_mb() -> float:
    """Peak RSS of this process since it started (getrusage), MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakRSS:
    """Samples this process's RSS every 20 ms while the block runs: the peak of one
    scenario (``getrusage`` only knows the peak since the process started)."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak = 0.0
        self.start = 0.0
        self._stop = threading.Event()
        self._thread = None

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.start = rss_mb()
        self.peak = self.start
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=1)
        self.peak = max(self.peak, rss_mb())
        return False


@dataclass
class Result:
    """One scenario on one database."""

    scenario: int
    name: str
    db: str
    status: str = "ok"  # ok | skipped | error
    #: Kyklos figures and the baseline's, measured in the same run on the same data
    kyklos: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)
    #: baseline time / Kyklos time (1.0 = as fast as the raw path); None if not a ratio
    efficiency: float | None = None
    target: str = ""
    target_met: bool | None = None
    #: rows_lost / rows_leaked / duplicates and any scenario-specific counts; "ok" decides
    correctness: dict = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    seconds: float = 0.0
    note: str = ""

    @property
    def correct(self) -> bool:
        if self.status == "error":
            return False
        return bool(self.correctness.get("ok", True))

    def as_json(self) -> dict:
        return {
            "scenario": self.scenario,
            "name": self.name,
            "db": self.db,
            "status": self.status,
            "kyklos": self.kyklos,
            "baseline": self.baseline,
            "efficiency": None if self.efficiency is None else round(self.efficiency, 3),
            "target": self.target,
            "target_met": self.target_met,
            "correctness": self.correctness,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "seconds": round(self.seconds, 2),
            "note": self.note,
        }


def check_rows(expected: set | list, got: list) -> dict:
    """Correctness of a result set against an oracle: lost, leaked and duplicated ids."""
    exp = set(expected)
    seen = set(got)
    out = {
        "expected": len(exp),
        "got": len(got),
        "rows_lost": len(exp - seen),
        "rows_leaked": len(seen - exp),
        "duplicates": len(got) - len(seen),
    }
    out["ok"] = out["rows_lost"] == 0 and out["rows_leaked"] == 0 and out["duplicates"] == 0
    return out


def merge_checks(*checks: dict) -> dict:
    """Sum several ``check_rows`` results (and keep each under its own key)."""
    out = {"rows_lost": 0, "rows_leaked": 0, "duplicates": 0, "ok": True}
    for c in checks:
        for k in ("rows_lost", "rows_leaked", "duplicates"):
            out[k] += c.get(k, 0)
        out["ok"] = out["ok"] and c.get("ok", True)
    return out


def fmt_table(results: list[Result]) -> str:
    """A plain-text table of the results."""
    head = ["#", "scenario", "db", "status", "kyklos", "baseline", "eff.", "target", "met",
            "correct", "peak MiB"]
    rows = []
    for r in results:
        rows.append([
            str(r.scenario),
            r.name[:30],
            r.db,
            r.status,
            r.kyklos.get("headline", ""),
            r.baseline.get("headline", ""),
            "" if r.efficiency is None else f"{r.efficiency:.2f}",
            r.target[:34],
            {True: "yes", False: "NO", None: "-"}[r.target_met],
            "ok" if r.correct else "FAIL",
            f"{r.peak_rss_mb:.0f}",
        ])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    notes = [f"  [{r.scenario}/{r.db}] {r.note}" for r in results if r.note]
    if notes:
        lines.append("")
        lines.append("notes:")
        lines.extend(notes)
    return "\n".join(lines)


def cpu_count() -> int:
    return os.cpu_count() or 1
