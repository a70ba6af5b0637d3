"""Amplitude checks A-1 … A-9 (spec 6.3) on small hand-made artifacts: pass, fail, and the known-break label."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from harness.records import CheckInput, CheckResult
from harness.testing import check_input, run_check
from pipelines.physics.metrics import full_chain_product
from plugins.checks import amplitude

CHECKS = {spec.id: spec for spec in amplitude.harness_register_checks()}
POLAR = {"probe_big": False, "combine": "polar"}
BIG = {"probe_big": True, "combine": "polar"}


def side(artifacts: dict[str, Any], pipeline: str = "sim_lines", knobs: dict[str, Any] | None = None) -> CheckInput:
    return check_input(artifacts, pipeline, knobs)


def run(check_id: str, inp: CheckInput) -> tuple[CheckResult | None, str | None]:
    return run_check(CHECKS[check_id], inp)


def metrics(**values: Any) -> dict[str, Any]:
    base = {"coverage_fraction": 0.64, "scale_error_unsaturated": 0.03, "pearson_r": 0.91, "saturation_predicted": 0.01,
            "saturation_observed": 0.0, "phase_mae": 0.02, "residual_shift": [0.0, 0.0],
            "runner_eval": {"pearson_r": 0.15, "coverage_fraction": 0.14},
            "full_chain_product": full_chain_product({"raw": 0.146, "grouped": 0.147, "normalised": 0.085,
                                                      "prediction": 0.41, "truth": 2.708}),
            "legacy_eval": {"mean_scale_adjustment": 4.2958}}
    return {"metrics": {**base, **values}}


def patches(value: float, at: tuple[int, int] = (32, 32), groups: int = 3) -> np.ndarray:
    """(B, 64, 64, 1) patches of modulus 0.5 with one pixel of modulus `value` in each group."""
    out = np.full((groups, 64, 64, 1), 0.5 * np.exp(0.3j), dtype=np.complex64)
    out[:, at[0], at[1], 0] = value
    return out


# A-3 -------------------------------------------------------------------------------------------


def test_a1_scale_on_unsaturated_covered_pixels() -> None:
    assert run("A-1", side(metrics(scale_error_unsaturated=0.12)))[0].passed
    outcome, _ = run("A-1", side(metrics(scale_error_unsaturated=0.12), pipeline="dose_legacy"))
    assert not outcome.passed and outcome.tolerance == 0.05
    rescaled = side(metrics(scale_error_unsaturated=-0.42), knobs={"prediction_scale": "least_squares"})
    outcome, label = run("A-1", rescaled)
    assert not outcome.passed and label == "known break of sim_lines prediction_scale=least_squares"
    assert CHECKS["A-1"].report_only_in == ("smoke",)


def test_a1_says_how_large_the_reconstruction_is_not_the_truth_per_reconstruction() -> None:
    """k_LS is truth per prediction: a reconstruction at half the expected scale has k_LS·expected_scale − 1 = +1."""
    outcome, _ = run("A-1", side(metrics(scale_error_unsaturated=1.0)))
    assert "the reconstruction is 0.500 × expected_scale × truth" in outcome.explanation


def test_a2_coverage_is_reported_beside_every_correlation() -> None:
    outcome, _ = run("A-2", side(metrics()))
    assert outcome.passed and outcome.measured == 0.64
    missing = metrics()
    del missing["metrics"]["runner_eval"]["coverage_fraction"]
    outcome, _ = run("A-2", side(missing))
    assert not outcome.passed and outcome.details["missing"] == ["runner_eval"]
    outcome, _ = run("A-2", side(metrics(coverage_fraction=math.nan)))
    assert not outcome.passed and outcome.details["missing"] == ["metrics"]


def test_a3_forecast_from_the_infer_truth() -> None:
    truth = np.full((2, 64, 64, 4), 2.7, dtype=np.complex64)
    truth[:, :, :8, :] = 9.0  # outside the central 32×32: ignored
    assert run("A-3@scale", side({"Y_obj_grouped.infer": truth, "expected_scale": np.float64(0.2328)}))[0].passed
    outcome, label = run("A-3@scale", side({"Y_obj_grouped.infer": truth, "expected_scale": np.float64(0.5786)}))
    assert not outcome.passed and outcome.measured == 1.0 and label is None
    assert run("A-3@scale", side({}, knobs={"combine": "rect"}))[0] is None
    assert CHECKS["A-3@scale"].severity == "warn"


def test_a3_saturation_on_the_covered_set() -> None:
    assert run("A-3@evaluate", side(metrics(saturation_predicted=0.0156)))[0].passed
    outcome, _ = run("A-3@evaluate", side(metrics(saturation_predicted=0.925)))
    assert not outcome.passed and "sigmoid cap" in outcome.explanation
    assert run("A-3@evaluate", side(metrics(), knobs={"combine": "rect"}))[0] is None


# A-4 -----------------------------------------------------------------------------------------------------


def infer_stage(values: np.ndarray, model: dict[str, Any]) -> dict[str, Any]:
    return {"patches_pred": values, "model_config": model,
            "coords_relative.infer": np.zeros((values.shape[0], 1, 2, 4))}


def test_a4_patches_obey_the_polar_bound() -> None:
    outcome, _ = run("A-4@infer", side(infer_stage(patches(1.0), POLAR)))
    assert outcome.passed and outcome.measured == pytest.approx(1.0)
    outcome, label = run("A-4@infer", side(infer_stage(patches(3.2969), {**POLAR, "combine": "rect"}),
                                           knobs={"combine": "rect"}))
    assert not outcome.passed and outcome.details["counts"]["excess"] == 3
    assert label == "known break of sim_lines combine=rect"


def test_a4_probe_big_allows_border_only_pixels() -> None:
    outcome, _ = run("A-4@infer", side(infer_stage(patches(40.0, at=(2, 3)), BIG)))
    assert outcome.passed and outcome.details["counts"] == {"excess": 3, "border": 3}
    outcome, _ = run("A-4@infer", side(infer_stage(patches(1.5, at=(30, 30)), BIG)))
    assert not outcome.passed and "covered patch pixels" in outcome.explanation


def test_a4_border_follows_the_group_offsets() -> None:
    stage = infer_stage(patches(2.0, at=(10, 32)), BIG)
    assert run("A-4@infer", side(stage))[0].passed
    stage["coords_relative.infer"][:, 0, 1, 0] = 12.0  # channel 0 now reaches rows 4 … 35
    assert not run("A-4@infer", side(stage))[0].passed


def test_a4_legacy_study_era_reports_any_excess() -> None:
    outcome, _ = run("A-4@infer", side(infer_stage(patches(1.5), BIG), pipeline="dose_legacy", knobs={"era": "study"}))
    assert outcome.passed and outcome.details["policy"] == "any"


def test_a4_canvas_bound() -> None:
    canvas = np.full((40, 40), 0.9, dtype=np.complex64)
    assert run("A-4@stitch", side({"canvas": canvas, "model_config": POLAR}))[0].passed
    canvas[5, 5] = 2.511
    outcome, label = run("A-4@stitch", side({"canvas": canvas, "model_config": POLAR}, knobs={"combine": "rect"}))
    assert not outcome.passed and outcome.measured == pytest.approx(2.511, rel=1e-6)
    assert label == "known break of sim_lines combine=rect"
    outcome, _ = run("A-4@stitch", side({"canvas": canvas, "model_config": BIG}))
    assert outcome.passed and outcome.details["excess_pixels"] == 1


# A-5, A-6 ------------------------------------------------------------------------------------------------


def test_a5_pearson_on_covered_registered_pixels() -> None:
    assert run("A-5", side(metrics()))[0].passed
    outcome, label = run("A-5", side(metrics(pearson_r=0.103), knobs={"eval_registration": "off"}))
    assert not outcome.passed and label == "known break of sim_lines eval_registration=off"
    assert CHECKS["A-5"].report_only_in == ("smoke",)


def test_a6_legacy_scale_adjustment() -> None:
    outcome, _ = run("A-6", side({**metrics(), "expected_scale": np.float64(0.232774)}, pipeline="dose_legacy"))
    assert outcome.passed and outcome.measured == pytest.approx(0.99995, abs=1e-5)
    outcome, _ = run("A-6", side({**metrics(), "expected_scale": np.float64(0.25)}, pipeline="dose_legacy"))
    assert not outcome.passed
    without = metrics()
    del without["metrics"]["legacy_eval"]
    assert run("A-6", side({**without, "expected_scale": np.float64(0.25)}, pipeline="dose_legacy"))[0] is None, \
        "not applicable without the legacy evaluation"
    assert run("A-6", side({**metrics(), "expected_scale": np.float64(0.25)}))[0] is None, \
        "not applicable where the network reconstructs g·truth (sim_lines' object_scale), whatever the name"


# A-7 -----------------------------------------------------------------------------------------------------


def test_a7_training_history_is_finite() -> None:
    history = {"loss": [-3.9e6, -3.87e6], "nll": [-3.9e6, -3.87e6]}
    assert run("A-7@train", side({"history": history, "nonfinite_first_epoch": None}))[0].passed
    broken = {"history": {"loss": [-3.9e6, math.nan]}, "nonfinite_first_epoch": 2,
              "config": {"nphotons": 1e9, "padded_size": 78},
              "config_trace.train": [["train", "probe_scale", 4.0], ["train", "gridsize", 2]]}
    outcome, label = run("A-7@train", side(broken, knobs={"config_bridge": "off"}))
    assert not outcome.passed and outcome.measured == 2
    assert "epoch 2" in outcome.explanation and "probe_scale 4.0 (scenario 10.0)" in outcome.explanation
    assert label == "known break of sim_lines config_bridge=off"


def test_a7_predictions_and_canvas_are_finite() -> None:
    good = {"patches_pred": patches(0.5), "pred_amp": np.ones((3, 64, 64, 4), np.float32)}
    assert run("A-7@infer", side(good))[0].passed
    bad = {**good, "pred_amp": np.full((3, 64, 64, 4), np.nan, np.float32)}
    outcome, label = run("A-7@infer", side(bad, knobs={"normalize": "nphotons"}))
    assert not outcome.passed and outcome.measured == 3 * 64 * 64 * 4
    assert label == "known break of sim_lines normalize=nphotons"
    canvas = np.ones((20, 20), np.complex64)
    assert run("A-7@stitch", side({"canvas": canvas}))[0].passed
    canvas[0, :4] = np.inf
    outcome, label = run("A-7@stitch", side({"canvas": canvas}, knobs={"reassembly_norm_eps": 0.0}))
    assert not outcome.passed and outcome.measured == 4
    assert label == "known break of sim_lines reassembly_norm_eps=0"


# A-8, A-9 ------------------------------------------------------------------------------------------------


def test_a8_chain_product_telescopes() -> None:
    outcome, _ = run("A-8", side(metrics()))
    assert outcome.passed and outcome.measured == pytest.approx(2.708 / 0.146)
    tampered = metrics()
    tampered["metrics"]["full_chain_product"]["product"] = 1.986
    assert not run("A-8", side(tampered))[0].passed
    assert CHECKS["A-8"].severity == "info"


def test_a9_phase_against_the_flat_truth() -> None:
    assert run("A-9", side(metrics()))[0].passed
    outcome, label = run("A-9", side(metrics(phase_mae=0.136), knobs={"combine": "rect"}))
    assert not outcome.passed and "atan" in outcome.explanation
    assert label == "known break of sim_lines combine=rect"
