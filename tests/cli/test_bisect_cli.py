"""`harness bisect` end to end on the seven-knob `dial` pipeline: run counts, a pair, dead ends, usage errors."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

PLUGIN = str(Path(__file__).with_name("bisect_plugin.py"))
SEVEN = ("--set", "b.label=x", "--set", "b.width=5", "--set", "b.photons=50", "--set", "b.noise=off",
         "--set", "b.gain=2", "--set", "b.boost=2", "--set", "b.clip=off")


def bisect(harness_cli, *args: str):
    return harness_cli("bisect", "-p", PLUGIN, *args)


def record(folder: str) -> dict:
    return json.loads((Path(folder) / "bisect.json").read_text())


def test_single_culprit_among_seven_knobs_is_found_within_two_log_n_plus_two_diffs(harness_cli):
    result = bisect(harness_cli, "--a", "dial", "--b", "dial", *SEVEN, "--target", "T-N", "--stage", "scale", "--out", "b1")
    assert result.exit_code == 0, result.output
    rec = record("b1")
    bound = 2 * math.ceil(math.log2(7)) + 2
    assert len(rec["changes"]) == 7 and rec["minimal"] == ["gain"] and rec["status"] == "found"
    trial_dirs = sorted(Path("b1/trials").iterdir())
    assert rec["runs"] == len(rec["trials"]) == len(trial_dirs) <= bound == rec["single_culprit_bound"]
    assert all((d / "report.json").is_file() for d in trial_dirs)
    assert f"{rec['runs']} runs spent" in result.output and "minimal set: gain=2 (1 of 7 changes)" in result.output
    assert [t["purpose"] for t in rec["trials"][:2]] == ["all changes", "no change"]
    assert rec["trials"][1]["stages_computed"] == 0, "b at a's knobs is side a: every stage from the cache"
    assert all(t["stages_cached"] > 0 for t in rec["trials"][1:])


def test_a_pair_of_knobs_that_only_break_together_is_found(harness_cli):
    result = bisect(harness_cli, "--a", "dial", "--b", "dial", *SEVEN, "--target", "T-A", "--out", "b2")
    assert result.exit_code == 0, result.output
    rec = record("b2")
    assert rec["minimal"] == ["boost", "clip"]
    assert "minimal set: boost=2, clip=off (2 of 7 changes)" in result.output
    alone = {tuple(t["changes"]): t["reproduces"] for t in rec["trials"]}
    assert alone.get(("clip",)) is False and alone[("boost", "clip")] is True


def test_category_target_on_a_hypothesis_intervention_leaves_out_knobs_read_too_late(harness_cli):
    result = bisect(harness_cli, "--hypothesis", "H-DIAL", "--intervention", "many", "--target", "normalization",
                    "--stage", "normalize", "--out", "b3")
    assert result.exit_code == 0, result.output
    rec = record("b3")
    assert rec["minimal"] == ["gain"] and [c["knob"] for c in rec["changes"]] == ["label", "width", "photons", "gain"]
    assert any("boost=1.5 left out" in note for note in rec["notes"])
    assert rec["runs"] <= 2 * math.ceil(math.log2(4)) + 2


def test_full_change_set_that_does_not_reproduce_exits_one_after_one_diff(harness_cli):
    result = bisect(harness_cli, "--a", "dial", "--b", "dial", "--set", "b.width=5", "--set", "b.label=x",
                    "--target", "T-A", "--out", "b4")
    assert result.exit_code == 1, result.output
    assert "do not reproduce check T-A fails" in result.output and "1 runs spent" in result.output
    assert record("b4")["status"] == "not_reproduced"


def test_target_that_holds_without_any_change_is_not_blamed_on_the_knobs(harness_cli, sample_plugin):
    result = harness_cli("bisect", "-p", sample_plugin, "--a", "wave_a", "--b", "wave_b", "--set", "b.width=5",
                         "--set", "b.gain=2", "--target", "any", "--out", "b5")
    assert result.exit_code == 1, result.output
    assert "holds with no knob change" in result.output and record("b5")["runs"] == 2


@pytest.mark.parametrize("args, message", [
    (("--a", "dial", "--b", "dial", "--set", "b.gain=2", "--target", "N-99"), "valid targets: any, normalization"),
    (("--a", "dial", "--b", "dial", "--set", "b.gian=2", "--target", "T-N"), "valid knobs: boost, clip"),
    (("--a", "dial", "--b", "dial", "--target", "T-N"), "set no shared knob read up to normalize differently"),
    (("--a", "dial", "--b", "dial", "--set", "b.gain=2", "--target", "T-A", "--stage", "normalize"),
     "T-A is checked at scale; --stage normalize stops before it"),
    (("--a", "dial", "--b", "dial", "--set", "b.gain=2", "--target", "T-N", "--profile", "huge"), "valid profiles"),
    (("--hypothesis", "H-NONE", "--intervention", "x", "--target", "T-N"), "valid hypotheses: H-ARCHITECTURE"),
    (("--hypothesis", "H-DIAL", "--intervention", "few", "--target", "T-N"), "valid interventions: many"),
    (("--hypothesis", "H-DIAL", "--intervention", "many", "--a", "dial", "--target", "T-N"), "not both"),
    (("--b", "dial", "--target", "T-N"), "give --a PIPELINE and --b PIPELINE"),
])
def test_usage_errors_exit_two_with_the_valid_choices_and_write_nothing(harness_cli, args, message):
    result = bisect(harness_cli, *args, "--out", "bad")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not Path("bad").exists() and not Path("runs").exists()
