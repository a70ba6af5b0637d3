"""`--check-determinism`: run each side a second time on the same seed, without the cache, and compare checksums.

The second pass writes into `<run>/determinism/<side>` and never reads or refreshes the stage cache, so
every stage is computed again in a fresh worker. A stage whose stored artifacts differ between the
two passes is nondeterministic (or inherits a nondeterministic input); the report marks it with the
first artifact whose checksum differs.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from harness.progress import make_progress
from harness.report import Report
from harness.runner import SideOutcome, run_jobs
from harness.store import StageFiles
from harness.worker import SideJob

DETERMINISM_FOLDER = "determinism"


def second_pass(outcomes: Mapping[str, SideOutcome], parallel: int, progress_console) -> dict[str, SideOutcome]:
    """Run every side again on the same seed into `<run>/determinism`, uncached."""
    jobs = [replace(outcome.job, run_dir=str(Path(outcome.job.run_dir) / DETERMINISM_FOLDER), use_cache=False,
                    cache_dir=None) for outcome in outcomes.values()]
    sides = {job.side: job.pipeline for job in jobs}
    with make_progress(progress_console, sides, jobs[0].stages) as progress:
        return run_jobs(jobs, parallel, progress)


def first_difference(first: Path, second: Path, stage: str) -> str | None:
    """The first artifact of `stage` whose checksum differs between two side folders (None: all equal or
    the stage is not stored in both)."""
    records = [StageFiles(folder, stage).read_record() for folder in (first, second)]
    if any(r is None or r.get("status") != "ok" for r in records):
        return None
    one, two = (r.get("artifacts", {}) for r in records)
    return next((name for name in one if one[name].get("sha256") != two.get(name, {}).get("sha256")), None)


def mark_nondeterministic(report: Report, jobs: Mapping[str, SideJob]) -> Report:
    """The report with each stage's nondeterministic sides (side → first differing artifact)."""
    stages = []
    for entry in report.stages:
        found = {}
        for side, job in jobs.items():
            artifact = first_difference(job.side_dir, Path(job.run_dir) / DETERMINISM_FOLDER / side, entry.stage)
            if artifact is not None:
                found[side] = artifact
        stages.append(replace(entry, nondeterministic=found))
    return replace(report, stages=tuple(stages))
