"""ORACLE-1 on real smoke diffs of both reference pipelines: each side's object, and the verdict on planted faults.

Two diffs through `evaluate` on the session's shared cache (`runs`, tests/conftest.py): the reference pair
(read from the cache when tests/cli/test_reference_diffs.py ran first), and dose_legacy__predictions_halved
(a network fault after normalize: the PINN's output halved at infer) against sim_lines__shuffled_scan (a data
fault: the patterns reordered against their positions after simulate), both from tests/cli/planted_faults.py.

At smoke the PINN trains one epoch and does not follow the object (pearson 0.18 on dose_legacy, -0.34 on
sim_lines; the verdict wants 0.8, and 30 epochs of sim_lines still give -0.006), so the clean sides' verdict
is "network" as well; at stable dose_legacy reaches pearson 0.89 and "both" (a 6.5-minute diff, too slow
here). What the network fault changes is the PINN's A-1 evidence, by exactly its factor, while the oracle's
reconstruction stays the clean side's; what the data fault changes is the oracle's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PtyLab", reason="the oracle needs PtyLab: pip install '.[oracle]'")

PLANTED = Path(__file__).parents[2] / "cli" / "planted_faults.py"
HALVED = 0.5
"""The factor dose_legacy__predictions_halved applies to the PINN's predicted object."""
CLEAN_ERROR_BOUND = 0.05
"""Oracle amplitude error on clean smoke data at 1e9 photons (measured 0.012 dose_legacy, 0.013 sim_lines)."""


@pytest.fixture(scope="module")
def reference(runs: Any) -> tuple[dict[str, Any], str, Path]:
    """The smoke diff dose_legacy vs sim_lines to evaluate, with the console and Markdown reports."""
    code, report, output = runs("oracle_reference", "diff", "--a", "dose_legacy", "--b", "sim_lines", "--stage", "all",
                                "--format", "console,markdown")
    assert code == 0, output
    return report, output, runs.root / "oracle_reference"


@pytest.fixture(scope="module")
def faulted(runs: Any) -> dict[str, Any]:
    """The smoke diff of a network fault (side a, dose_legacy) against a data fault (side b, sim_lines)."""
    code, report, output = runs("oracle_faults", "diff", "--a", "dose_legacy__predictions_halved",
                                "--b", "sim_lines__shuffled_scan", "--stage", "all", "-p", str(PLANTED))
    assert code == 1, output  # the shuffled scan breaks simulate's checks
    assert all(e["sides"][s]["status"] in ("ok", "cached") for e in report["stages"] for s in "ab"), output
    return report


def finding(report: dict[str, Any], check: str, side: str) -> dict[str, Any]:
    evaluate = next(e for e in report["stages"] if e["stage"] == "evaluate")
    return next(f for f in evaluate["findings"] if f["check"] == check and f["side"] == side)


@pytest.mark.parametrize("side", ["a", "b"])
def test_the_oracle_reconstructs_each_reference_sides_test_image(reference, side) -> None:
    oracle = finding(reference[0], "ORACLE-1", side)
    assert oracle["details"]["verdict"] != "data", oracle["explanation"]
    assert oracle["measured"] < CLEAN_ERROR_BOUND and oracle["details"]["oracle_pearson_r"] > 0.99, oracle


def test_the_legacy_oracle_is_scored_at_the_test_sets_object_norm(reference) -> None:
    """dose_legacy simulates each set from Y_obj/norm_Y_I of that set; the reconstructed image is the test one."""
    with np.load(reference[2] / "a" / "simulate.npz") as simulate:
        train_norm, test_norm = simulate["object_norm"]
    other_norm_error = abs(test_norm / train_norm - 1)  # what scoring at the train set's norm would show
    oracle = finding(reference[0], "ORACLE-1", "a")
    assert other_norm_error > 0.01 and abs(oracle["details"]["oracle_scale_error"]) < other_norm_error / 10, oracle


def test_a_network_fault_after_normalize_is_network_with_the_clean_sides_oracle(reference, faulted) -> None:
    clean, broken = finding(reference[0], "ORACLE-1", "a"), finding(faulted, "ORACLE-1", "a")
    assert broken["details"]["verdict"] == "network", broken["explanation"]
    assert clean["details"]["verdict"] != "data", clean["explanation"]
    oracle_numbers = ("oracle_pearson_r", "oracle_scale_error", "oracle_coverage_fraction")
    assert broken["measured"] == clean["measured"]
    assert [broken["details"][k] for k in oracle_numbers] == [clean["details"][k] for k in oracle_numbers]
    scale = "pinn_scale_error_unsaturated"
    # A-1 is k_LS·expected_scale − 1 with k_LS truth per prediction: halving the prediction doubles 1 + A-1
    assert 1 + broken["details"][scale] == pytest.approx((1 + clean["details"][scale]) / HALVED, rel=1e-4)
    # One smoke epoch leaves the clean side's own A-1 anywhere within about ±0.25 from seed to seed (the 8-seed
    # sweep in docs/performance.md), so only the broken side is asserted against the tolerance.
    tolerance = finding(reference[0], "A-1", "a")["tolerance"]
    assert tolerance < abs(broken["details"][scale])


def test_positions_that_do_not_match_the_patterns_are_data(reference, faulted) -> None:
    clean, broken = finding(reference[0], "ORACLE-1", "b"), finding(faulted, "ORACLE-1", "b")
    assert broken["details"]["verdict"] == "data", broken["explanation"]
    assert broken["explanation"].startswith("data: the oracle fails too")
    assert broken["measured"] > 4 * clean["measured"]
    assert broken["details"]["oracle_pearson_r"] < clean["details"]["oracle_pearson_r"] - 0.2


def test_the_console_markdown_and_html_reports_state_each_sides_verdict(reference) -> None:
    report, output, run_dir = reference
    markdown = (run_dir / "report.md").read_text()
    for side in "AB":
        verdict = finding(report, "ORACLE-1", side.lower())["details"]["verdict"]
        assert f"ORACLE-1 ({side}): {verdict}: the oracle" in output
        assert f"- ORACLE-1 ({side}): {verdict}: the oracle" in markdown
    assert "check verdicts:" in output and "## check verdicts" in markdown
    from harness.report import load_report
    from plugins.reporters.html import render_html

    page = render_html(load_report(run_dir), run_dir)
    assert "<h2>Check verdicts</h2>" in page and page.count("<li>ORACLE-1 (") == 2
