"""Harness overhead: `harness diff` of two trivial pipelines, fresh and cached, timed as a user runs it.

Prints the median wall time of each, the stages' own time, and the host's time per stage, next to
the targets (cached re-run < 3 s; host < 1 s per stage beyond the stage's own work).
Run: .venv/bin/python tests/benchmarks/bench_harness_overhead.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "harness" / "sample_pipelines.py"
HARNESS = [sys.executable, "-m", "harness"]


def timed_diff(out: Path, cache: Path, *extra: str) -> tuple[float, dict]:
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache), "HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1"}
    started = time.perf_counter()
    subprocess.run([*HARNESS, "diff", "--a", "wave_a", "--b", "wave_b", "-p", str(PLUGIN), "--out", str(out), *extra],
                   env=env, check=False, capture_output=True)
    wall = time.perf_counter() - started
    return wall, json.loads((out / "report.json").read_text())


def stage_seconds(report: dict) -> float:
    """The longer side's own stage time (the sides run at once)."""
    return max(sum(e["sides"][side].get("seconds", 0.0) for e in report["stages"] if e["sides"][side]["status"] == "ok")
               for side in report["sides"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    fresh, cached, own = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.repeat):
            cache = Path(tmp) / f"cache{index}"
            wall, report = timed_diff(Path(tmp) / f"fresh{index}", cache, "--no-cache")
            fresh.append(wall)
            own.append(stage_seconds(report))
            wall, report = timed_diff(Path(tmp) / f"cached{index}", cache)
            assert all(e["sides"][s]["status"] == "cached" for e in report["stages"] for s in report["sides"])
            cached.append(wall)
    n_stages = len(report["stages"])
    fresh_median, cached_median = statistics.median(fresh), statistics.median(cached)
    host_per_stage = (fresh_median - statistics.median(own)) / n_stages
    print(f"fresh diff (2 sides x {n_stages} stages): median {fresh_median:.2f} s over {args.repeat} runs")
    print(f"cached re-run:                         median {cached_median:.2f} s  (target < 3 s: {'met' if cached_median < 3 else 'MISSED'})")
    print(f"stages' own work (longer side):        median {statistics.median(own):.3f} s")
    print(f"host time per stage (incl. start-up):  {host_per_stage:.2f} s  (target < 1 s: {'met' if host_per_stage < 1 else 'MISSED'})")


if __name__ == "__main__":
    main()
