"""Judging whole hypotheses on hand-made reports, reading checks and artifacts off runs, and planning shared runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.hypotheses import Judgement, RunResult, judge_hypothesis, observe
from harness.hypotheses.ledger import markdown
from harness.hypotheses.runs import LedgerOptions, plan
from harness.errors import PluginError
from harness.manager import PluginOptions, build_registry
from harness.records import HypothesisSpec, Prediction, RunRequest
from harness.store import StageFiles


def report(stage: str = "scale", *findings: dict, status: str = "ok", error: str | None = None) -> dict:
    side = {"status": status, **({"error": error} if error else {})}
    return {"stages": [{"stage": stage, "sides": {"a": side}, "findings": list(findings)}], "summary": "made by hand"}


def finding(check: str, status: str, measured, expected=1.0, **details) -> dict:
    return {"check": check, "side": "a", "status": status, "measured": measured, "expected": expected,
            "explanation": f"{check} {status}", "details": details}


def result(label: str, rep: dict | None, seed: int = 42, run_dir: Path | None = None, error: str | None = None) -> RunResult:
    return RunResult(label, seed, f"{label}-{seed}", rep, run_dir, error)


SCALE = HypothesisSpec(
    "H-T", "test", "dataset_raw breaks N-9 and leaves N-13", RunRequest("sim_lines"),
    (RunRequest("sim_lines", knobs={"intensity_scale": "dataset_raw"}, label="raw"),),
    (Prediction("N-9", "scale", "flip_to_fail", role="control"), Prediction("N-13", "scale", "unchanged")),
    expected_verdict="supported",
)


def scale_runs(n13_raw: float, n9_raw_status: str = "fail") -> dict[str, list[RunResult]]:
    base = report("scale", finding("N-9", "pass", 1.0), finding("N-13", "pass", 0.6043, 0.6043))
    raw = report("scale", finding("N-9", n9_raw_status, 0.0762), finding("N-13", "pass", n13_raw, 0.6043))
    return {"baseline": [result("baseline", base)], "raw": [result("raw", raw)]}


def test_supported_refuted_and_control_failure_with_their_evidence():
    supported = judge_hypothesis(SCALE, scale_runs(0.6043), "smoke")
    assert (supported["verdict"], supported["agreement"]) == ("supported", "agrees")
    evidence = supported["predictions"][1]["evidence"]
    assert [(e["run"], e["status"], e["measured"]) for e in evidence] == [("baseline", "pass", 0.6043), ("raw", "pass", 0.6043)]
    refuted = judge_hypothesis(SCALE, scale_runs(0.2417), "smoke")
    assert refuted["verdict"] == "refuted" and refuted["agreement"] == "disagrees (spec: supported)"
    assert "0.2417" in refuted["reason"]
    no_effect = judge_hypothesis(SCALE, scale_runs(0.6043, n9_raw_status="pass"), "smoke")
    assert no_effect["verdict"] == "inconclusive" and "did not take effect" in no_effect["reason"]
    assert not no_effect["run_failed"]


def test_failed_or_missing_stages_make_the_verdict_inconclusive():
    runs = scale_runs(0.6043)
    runs["raw"] = [result("raw", report("scale", status="error", error="ValueError: boom"))]
    failed = judge_hypothesis(SCALE, runs, "smoke")
    assert failed["verdict"] == "inconclusive" and failed["run_failed"] and "boom" in failed["reason"]
    runs["raw"] = [result("raw", None, error="UsageError: unknown knob 'intensity_scale'")]
    assert judge_hypothesis(SCALE, runs, "smoke")["run_failed"]
    runs["raw"] = [result("raw", report("group"))]
    absent = judge_hypothesis(SCALE, runs, "smoke")
    assert absent["verdict"] == "inconclusive" and "no stage 'scale'" in absent["reason"] and not absent["run_failed"]


def test_needs_profile_is_reported_without_runs():
    spec = HypothesisSpec("H-S", "stable only", "s", RunRequest("sim_lines"), predictions=(Prediction("A-1", "evaluate", "passes"),),
                          needs_profile="stable", needs_reason="one smoke epoch does not reconstruct")
    entry = judge_hypothesis(spec, None, "smoke")
    assert entry["verdict"] == "needs stable" and entry["reason"] == "needs stable: one smoke epoch does not reconstruct"


def test_fields_measures_and_artifacts_are_read_off_the_run(tmp_path):
    rep = report("probe", finding("N-2", "fail", {"norm_factor": 0.009766, "l2": 102.77}, counts={"border": 7}))
    run = result("coupled", rep, run_dir=tmp_path)
    assert observe(Prediction("N-2", "probe", "value", 0.009766, field="norm_factor"), run).measured == 0.009766
    assert observe(Prediction("N-2", "probe", "above", 0, field="details/counts/border"), run).measured == 7
    assert observe(Prediction("N-2", "probe", "value", 1.0, field="missing"), run).status == "n/a"
    assert observe(Prediction("N-5", "probe", "passes"), run).status == "n/a"
    StageFiles(tmp_path / "a", "probe").write({"history": {"nll": [2.0], "loss": [4.0]}}, {"status": "ok"})
    share = Prediction("artifact:history", "probe", "below", 0.99, measure=lambda h: h["nll"][-1] / h["loss"][-1])
    seen = observe(share, run)
    assert (seen.status, seen.measured) == ("value", 0.5)
    assert observe(Prediction("artifact:nothing", "probe", "value", 1), run).status == "n/a"


def test_sweeps_report_spreads_and_a_custom_evaluate_decides_too():
    spec = HypothesisSpec(
        "H-W", "seeds", "seeds explain the gap", RunRequest("sim_lines", seeds=(1, 2)),
        (RunRequest("dose_legacy", seeds=(1, 2), label="legacy"),), (Prediction("N-13", "scale", "within_spread"),),
        evaluate=lambda runs: Judgement(len(runs["legacy"]) == 2, "two legacy seeds"))
    runs = {"baseline": [result("baseline", report("scale", finding("N-13", "pass", v)), seed=s) for s, v in ((1, 0.60), (2, 0.53))],
            "legacy": [result("legacy", report("scale", finding("N-13", "pass", v)), seed=s) for s, v in ((1, 0.236), (2, 0.228))]}
    entry = judge_hypothesis(spec, runs, "smoke")
    assert entry["verdict"] == "refuted" and "outside the seed spread" in entry["reason"]
    assert entry["predictions"][0]["spread"]["baseline"]["spread"] == pytest.approx(0.07)
    assert (entry["predictions"][1]["check"], entry["predictions"][1]["holds"]) == ("evaluate()", True)
    text = markdown({"settings": {"profile": "smoke", "scenario": None, "seeds": None}, "created": "now",
                     "hypotheses": [entry], "runs": [{"name": r.name, "setup": r.label} for rs in runs.values() for r in rs],
                     "warnings": []})
    assert "(runs/baseline-1/)" in text and "spread 0.07" in text


def test_plan_runs_each_distinct_run_once_to_the_latest_stage_read():
    registry = build_registry(PluginOptions(autoload=False))
    first = HypothesisSpec("H-1", "a", "a", RunRequest("sim_lines"),
                           (RunRequest("sim_lines", knobs={"combine": "rect"}, label="rect"),),
                           (Prediction("A-4@stitch", "stitch", "flip_to_fail"),))
    second = HypothesisSpec("H-2", "b", "b", RunRequest("sim_lines", scenario="gs2_ideal"),
                            (RunRequest("sim_lines", knobs={"intensity_scale": "dataset_raw"}, seeds=(42, 43), label="raw"),),
                            (Prediction("N-9", "scale", "fails", intervention="raw"),))
    planned = plan([first, second], LedgerOptions(seeds=3), registry)
    stages = {(run.knobs, run.seed): stage for run, stage in planned.stages.items()}
    assert stages == {("{}", 42): "stitch", ('{"combine": "rect"}', 42): "stitch",
                      ('{"intensity_scale": "dataset_raw"}', 42): "scale", ('{"intensity_scale": "dataset_raw"}', 43): "scale",
                      ('{"intensity_scale": "dataset_raw"}', 44): "scale"}
    assert planned.uses["H-2"]["baseline"] == [] and planned.uses["H-1"]["baseline"][0].scenario == "gs2_ideal"


def test_invalid_hypothesis_records_are_plugin_errors():
    with pytest.raises(PluginError, match="needs a value"):
        Prediction("N-9", "scale", "value")
    with pytest.raises(PluginError, match="change 'explodes'"):
        Prediction("N-9", "scale", "explodes")
    with pytest.raises(PluginError, match="names run 'nope'"):
        HypothesisSpec("H-X", "t", "s", RunRequest("sim_lines"), predictions=(Prediction("N-9", "scale", "fails", intervention="nope"),))
    with pytest.raises(PluginError, match="its own label"):
        HypothesisSpec("H-X", "t", "s", RunRequest("sim_lines"), (RunRequest("sim_lines"),))
