"""Times what docs/performance.md reports for the verdict cache: the cached re-run of the default
smoke diff (stage cache and verdict cache warm), the same with the verdict cache bypassed, and the
host seconds spent in all checks of both sides when nothing is cached. Run from the repository root:

    python tests/benchmarks/bench_report_cache.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

import harness.diff
import harness.session
from harness.cli import main
from harness.verdict_cache import VerdictCache

DIFF = ["diff", "--a", "dose_legacy", "--b", "sim_lines", "--stage", "all"]


def cli_seconds(out: Path, repeats: int) -> list[float]:
    """Wall seconds of `harness diff` as a user runs it (a fresh process each time)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness", *DIFF, "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def in_process(out: Path, use_verdict_cache: bool) -> tuple[float, float]:
    """(seconds in all checks of both sides, seconds in build_report) of one in-process diff."""
    spent = {"checks": 0.0, "report": 0.0}
    run_checks, build_report, get = harness.diff.run_checks, harness.diff.build_report, VerdictCache.get

    def timed(target, key):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - started
        return wrapper

    harness.diff.run_checks = timed(run_checks, "checks")
    harness.session.build_report = timed(build_report, "report")
    if not use_verdict_cache:
        VerdictCache.get = lambda self, key: None
    try:
        CliRunner().invoke(main, [*DIFF, "--out", str(out)], catch_exceptions=False)
    finally:
        harness.diff.run_checks, harness.session.build_report, VerdictCache.get = run_checks, build_report, get
    return spent["checks"], spent["report"]


def main_() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        cli_seconds(out, 1)  # fills the stage and verdict caches
        checks, report = in_process(out, use_verdict_cache=False)
        print(f"uncached verdicts: checks of both sides {checks:.2f} s, build_report {report:.2f} s")
        checks, report = in_process(out, use_verdict_cache=True)
        print(f"cached verdicts: checks {checks:.2f} s, build_report {report:.2f} s")
        times = cli_seconds(out, repeats)
        print(f"cached re-run (CLI): median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s over {repeats}: {', '.join(f'{t:.2f}' for t in times)}")


if __name__ == "__main__":
    main_()
