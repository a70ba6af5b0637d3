"""The reference pipelines end to end: the default smoke diff, determinism through training, and
each knob the spec lists as a known break flagging the right first stage, category and check.

These tests start TensorFlow in worker processes; they share the session's stage cache (`runs`,
tests/conftest.py), so the baseline side and the stages before a knob's first reader are computed once.
"""
from __future__ import annotations

import json
from typing import Any

import pytest


def findings(report: dict[str, Any], stage: str) -> list[dict[str, Any]]:
    return next(e for e in report["stages"] if e["stage"] == stage)["findings"]


def test_default_smoke_diff_shows_only_expected_differences_and_passing_checks(runs):
    code, report, output = runs("default", "diff", "--a", "dose_legacy", "--b", "sim_lines", "--stage", "all")
    assert code == 0, output
    assert [e["verdict"] for e in report["stages"]] == ["expected"] * 13
    for entry in report["stages"]:
        for finding in entry["findings"]:
            if finding["category"] in ("normalization", "offsets") and finding["severity"] == "error":
                assert finding["status"] in ("pass", "n/a") or finding["report_only"], finding
    amplitude = [f for e in report["stages"] for f in e["findings"] if f["check"] in ("A-1", "A-5")]
    assert amplitude and all(f["report_only"] for f in amplitude)
    warned = {f["check"] for e in report["stages"] for f in e["findings"] if f["status"] == "fail" and f["severity"] == "warn"}
    assert "O-5" in warned, "sim_lines gs2 groups exceed the 78 px in-model canvas: the documented warning"
    assert report["categories"] == {"normalization": None, "offsets": None, "amplitude": None, "other": None}


def test_two_smoke_runs_are_bitwise_identical_for_every_stage_including_train(runs):
    code, _, output = runs("again", "diff", "--a", "dose_legacy", "--b", "sim_lines", "--stage", "all", "--no-cache")
    assert code == 0, output
    for side in ("a", "b"):
        first, second = runs.hashes("default", side), runs.hashes("again", side)
        assert "train/weights" in first and "evaluate/metrics" in first
        assert first == second, {k for k in first if first[k] != second.get(k)}


@pytest.mark.parametrize("name, knob, stage, category, check, label", [
    ("era_tip", "a.era=tip", "scale", "normalization", "N-9", "known break of dose_legacy era=tip"),
    ("dataset_raw", "b.intensity_scale=dataset_raw", "scale", "normalization", "N-9",
     "known break of sim_lines intensity_scale=dataset_raw"),
    ("sign", "b.local_offset_sign=+1", "group", "offsets", "O-2", "known break of sim_lines local_offset_sign=1"),
    ("nphotons", "b.normalize=nphotons", "normalize", "normalization", "N-8", "known break of sim_lines normalize=nphotons"),
    ("bridge_off", "b.config_bridge=off", "train", "normalization", "N-0@train", "known break of sim_lines config_bridge=off"),
    ("rect", "b.combine=rect", "infer", "amplitude", "A-4@infer", "known break of sim_lines combine=rect"),
    ("registration", "b.eval_registration=off", "evaluate", "offsets", "O-11",
     "known break of sim_lines eval_registration=off"),
])
def test_known_break_is_flagged_at_its_first_stage_with_the_knob(runs, name, knob, stage, category, check, label):
    code, report, output = runs(name, "diff", "--a", "dose_legacy", "--b", "sim_lines", "--set", knob, "--stage", stage)
    assert code == 1, output
    first = report["categories"][category]
    assert (first["stage"], first["check"], first["known_break"]) == (stage, check, label)
    assert report["first_break"]["stage"] == stage
    if name == "dataset_raw":
        n9 = next(f for f in findings(report, "scale") if f["check"] == "N-9" and f["side"] == "b")
        assert 0.07 < n9["measured"] < 0.085, "gs2 sums the scale over the 4 channels: about 0.077"
    if name == "bridge_off":
        failing = {f["check"] for f in findings(report, "train") if f["status"] == "fail" and f["side"] == "b"}
        assert {"N-0@train", "N-4"} <= failing
        n4 = next(f for f in findings(report, "train") if f["check"] == "N-4" and f["side"] == "b")
        assert n4["measured"] == pytest.approx(2.5, rel=1e-6)


def test_canvas_c1_keeps_o5_passing_while_the_model_canvas_and_train_memory_grow(runs):
    code, report, output = runs("c1", "run", "sim_lines", "--set", "canvas=c1", "--stage", "train")
    assert code in (0, 1), output
    labels = {f["known_break"] for e in report["stages"] for f in e["findings"]
              if f["status"] == "fail" and f["severity"] == "error" and not f["report_only"]}
    assert labels <= {"known break of sim_lines canvas=c1"}, labels
    o5 = next(f for f in findings(report, "train") if f["check"] == "O-5")
    assert o5["status"] == "pass"
    _, baseline, _ = runs("c1_baseline", "run", "sim_lines", "--stage", "train")
    assert next(f for f in findings(baseline, "train") if f["check"] == "O-5")["status"] == "fail"
    c1_train = json.loads((runs.root / "c1" / "a" / "train.json").read_text())
    base_train = json.loads((runs.root / "c1_baseline" / "a" / "train.json").read_text())
    assert c1_train["artifacts"]["model_config"]["value"]["padded_size"] > 700  # 794 in smoke, 826-828 full
    assert base_train["artifacts"]["model_config"]["value"]["padded_size"] == 78
    assert c1_train["peak_rss_growth_mb"] > base_train["peak_rss_growth_mb"] + 200


def test_a_pipeline_diffed_against_itself_has_no_break_and_every_artifact_equal(runs):
    code, report, output = runs("self", "diff", "--a", "sim_lines", "--b", "sim_lines", "--stage", "all")
    assert code == 0, output
    assert [e["verdict"] for e in report["stages"]] == ["equal"] * 13
    comparisons = [c for e in report["stages"] for c in e["comparisons"]]
    assert len(comparisons) > 60 and all(c["status"] == "equal" for c in comparisons)
    assert report["first_break"] is None


def test_gs1_ideal_smoke_diff_runs_every_stage_on_both_sides(runs):
    code, report, output = runs("gs1", "diff", "--a", "dose_legacy", "--b", "sim_lines", "--scenario", "gs1_ideal")
    assert code == 0, output
    assert all(e["sides"][s]["status"] in ("ok", "cached") for e in report["stages"] for s in ("a", "b"))
    assert report["settings"]["scenario"] == "gs1_ideal" and len(report["stages"]) == 13
