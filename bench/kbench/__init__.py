"""Kyklos benchmark harness: deterministic data, one baseline per scenario in the same
run, efficiency ratios, latency percentiles, peak memory and correctness checks."""
