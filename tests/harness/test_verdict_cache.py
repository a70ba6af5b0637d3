"""Comparisons and findings are cached under the keys of what they read: a re-run whose stages all hit
the stage cache runs no check again; a knob or a check's code change recomputes; summaries are exact
where it matters and deterministic."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.summary import array_record

COUNTING_CHECK = '''
"""A check that appends a line to calls.txt each time it runs (VERSION {version})."""
from pathlib import Path

from harness import CheckResult, CheckSpec, hookimpl


def counted(inp):
    with open(Path("calls.txt"), "a") as handle:
        handle.write(inp.side + "\\n")
    return CheckResult(1.0, 1.0, 0.0, True, "counted")


@hookimpl
def harness_register_checks():
    return [CheckSpec("T-1", "other", "simulate", "warn", counted, 0.0, "counts its calls")]
'''


def calls() -> int:
    path = Path("calls.txt")
    return len(path.read_text().splitlines()) if path.exists() else 0


def without_sides(report: dict) -> list[dict]:
    """The stages of a stored report without the side statuses (ok on the first run, cached on the next)."""
    return [{k: v for k, v in entry.items() if k != "sides"} for entry in report["stages"]]


def test_a_cached_rerun_runs_no_check_and_code_or_knob_changes_recompute(harness_cli, sample_plugin, tmp_path):
    plugin = tmp_path / "counting.py"
    plugin.write_text(COUNTING_CHECK.format(version=1))
    diff = ("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "-p", str(plugin))
    first = harness_cli(*diff, "--out", "r1")
    assert calls() == 2, first.output
    again = harness_cli(*diff, "--out", "r2")
    assert calls() == 2 and again.exit_code == first.exit_code
    stored = [json.loads(Path(run, "report.json").read_text()) for run in ("r1", "r2")]
    assert without_sides(stored[0]) == without_sides(stored[1])  # the same comparisons and findings, from the cache
    harness_cli(*diff, "--set", "a.width=5", "--out", "r3")
    assert calls() == 4  # a knob read at probe changes the keys of the stages after it
    plugin.write_text(COUNTING_CHECK.format(version=2))
    harness_cli(*diff, "--set", "a.width=5", "--out", "r4")
    assert calls() == 6  # the check's code changed
    harness_cli(*diff, "--set", "a.width=5", "--out", "r5", "--no-cache")
    assert calls() == 8


def test_summaries_are_exact_in_moments_and_deterministic_in_percentiles():
    rng = np.random.default_rng(3)
    values = rng.normal(2.0, 3.0, 1_000_003).astype(np.float32)
    values[[5, 77]] = np.nan
    values[9] = np.inf
    record = array_record(values)
    finite = values[np.isfinite(values)].astype(np.float64)
    assert (record["n_nan"], record["n_inf"], record["n_total"]) == (2, 1, values.size)
    assert abs(record["mean"] - finite.mean()) < 1e-9 and abs(record["std"] - finite.std()) < 1e-9
    assert record["min"] == finite.min() and record["max"] == finite.max()
    assert abs(record["p50"] - np.median(finite)) < 0.05 and abs(record["p99"] - np.percentile(finite, 99)) < 0.1
    assert array_record(values) == record
    small = rng.normal(size=1000)
    assert array_record(small)["p01"] == np.percentile(small, 1)


def test_stages_judged_while_the_workers_run_give_the_report_judged_at_the_end(harness_cli, sample_plugin,
                                                                               monkeypatch):
    """With cores to spare the host judges each stage as soon as both sides have reported it (EarlyVerdicts);
    with none it judges every stage after the workers end. The two reports say the same."""
    import multiprocessing

    import harness.diff

    judged_during_run = []
    real_entry = harness.diff._stage_entry

    def spy(*args):
        judged_during_run.append(bool(multiprocessing.active_children()))  # a worker still runs
        return real_entry(*args)

    monkeypatch.setattr(harness.diff, "_stage_entry", spy)
    diff = ("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--no-cache", "--stage", "all")
    reports = []
    for cores, out in ((64, "early"), (1, "late")):
        monkeypatch.setattr(harness.diff.os, "cpu_count", lambda cores=cores: cores)
        judged_during_run.clear()
        result = harness_cli(*diff, "--out", out)
        reports.append(json.loads(Path(out, "report.json").read_text()))
        assert result.exit_code == reports[-1]["exit_code"], result.output
        assert judged_during_run and any(judged_during_run) == (cores == 64), judged_during_run
    assert without_sides(reports[0]) == without_sides(reports[1])
    assert reports[0]["first_break"] == reports[1]["first_break"]
