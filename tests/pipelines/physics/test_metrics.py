"""Stage `evaluate` physics (spec §3.13), knobs S7 and S13, checks O-11 and A-1…A-9 on hand-made cases."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.physics.metrics import (
    centre_crop_pair,
    evaluate_registered,
    evaluation_window,
    fourier_ring_correlation,
    frc50,
    full_chain_product,
    harness_metrics,
    legacy_eval,
    prediction_scale_factor,
    psnr_255,
    residual_shift,
    runner_eval,
    truth_on_canvas,
)
from pipelines.physics.patches import bilinear_patches
from pipelines.physics.stitching import canvas_geometry, shift_and_sum
from pipelines.physics.translate import bilinear_sample, translate

EXPECTED_SCALE = 0.5786


@pytest.fixture(scope="module")
def lines_truth(sim_lines_object: np.ndarray) -> np.ndarray:
    """|object| of the sim_lines seed-42 lines object (§3.3), the ground truth of §3.13.1."""
    return np.abs(sim_lines_object).astype(np.float64)


def band_coverage(shape: tuple[int, int], rows: slice, cols: slice) -> np.ndarray:
    coverage = np.zeros(shape, dtype=np.float32)
    coverage[rows, cols] = 1.0
    return coverage


# ------------------------------------------------------------------------------------------
# truth_on_canvas and the window
# ------------------------------------------------------------------------------------------


def test_truth_on_canvas_integer_origin_is_an_exact_slice_with_zero_outside() -> None:
    truth = np.arange(100, dtype=np.float64).reshape(10, 10)
    out = truth_on_canvas(truth, (6, 5), np.array([-2.0, 7.0]))
    np.testing.assert_array_equal(out[2:, :3], truth[0:4, 7:10])
    assert np.all(out[:2] == 0) and np.all(out[:, 3:] == 0)
    window = evaluation_window(truth.shape, (6, 5), np.array([-2.0, 7.0]))
    np.testing.assert_array_equal(window, out != 0)


def test_truth_on_canvas_fractional_origin_is_bilinear() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random((20, 30))
    origin = np.array([3.25, -1.5])
    out = truth_on_canvas(truth, (8, 9), origin)
    rows = origin[0] + np.arange(8)[:, None]
    cols = origin[1] + np.arange(9)[None, :]
    np.testing.assert_allclose(out, bilinear_sample(truth, rows, cols), atol=1e-15)
    # canvas [4, 3] samples row 7.25, column 1.5
    manual = 0.75 * (0.5 * truth[7, 1] + 0.5 * truth[7, 2]) + 0.25 * (0.5 * truth[8, 1] + 0.5 * truth[8, 2])
    assert out[4, 3] == pytest.approx(manual, abs=1e-14)


# ------------------------------------------------------------------------------------------
# Harness metrics (§3.13.1)
# ------------------------------------------------------------------------------------------


def test_perfect_reconstruction_scaled_by_expected_scale_gives_zero_error(lines_truth: np.ndarray) -> None:
    truth = lines_truth[:200, :200] / 5.0  # keeps expected_scale·t below 0.95: U is all of Cov
    origin = np.array([30.4, 20.7])
    canvas = (EXPECTED_SCALE * truth_on_canvas(truth, (150, 160), origin)).astype(np.complex64)
    coverage = band_coverage((150, 160), slice(10, 140), slice(5, 150))
    patches = canvas[None, :64, :64, None]
    m = harness_metrics(canvas, coverage, origin, truth, EXPECTED_SCALE, patches_pred=patches)
    assert m["scale_error"] == pytest.approx(0.0, abs=1e-6)
    assert m["scale_error_unsaturated"] == pytest.approx(0.0, abs=1e-6)
    assert m["n_unsaturated"] == m["n_covered"] > 0
    assert m["ls_truth_per_pred"] == pytest.approx(1 / EXPECTED_SCALE, rel=1e-6)
    assert m["median_ratio"] == pytest.approx(1 / EXPECTED_SCALE, rel=1e-6)
    assert m["pearson_r"] == pytest.approx(1.0, abs=1e-9)
    assert m["mae_scaled"] < 1e-6 and m["rmse_scaled"] < 1e-6
    assert np.allclose(m["residual_shift"], [0.0, 0.0], atol=0.02)
    assert m["coverage_fraction"] == pytest.approx(130 * 145 / (150 * 160))
    assert m["phase_mae"] == 0.0 and m["n_nonfinite"] == 0
    assert m["max_abs_canvas"] == pytest.approx(float(np.abs(canvas).max()))


@pytest.mark.parametrize("delta", [(2.3, -1.6), (0.4, 0.25), (-7.0, 3.55)])
def test_shifted_reconstruction_gives_the_origin_error_back(
    lines_truth: np.ndarray, delta: tuple[float, float]
) -> None:
    truth = lines_truth
    origin = np.array([150.0, 60.0])
    shape = (180, 260)
    canvas = truth_on_canvas(truth, shape, origin + np.array(delta)).astype(np.complex64)
    coverage = band_coverage(shape, slice(20, 160), slice(20, 240))
    m = harness_metrics(canvas, coverage, origin, truth, 1.0)
    np.testing.assert_allclose(m["residual_shift"], delta, atol=0.1)


def test_residual_shift_of_content_moved_by_plus_s_is_minus_s(lines_truth: np.ndarray) -> None:
    truth = lines_truth[100:300, 100:300]
    t_canvas = truth_on_canvas(truth, truth.shape, np.zeros(2))
    moved = translate(t_canvas, [1.5, -2.25])  # content moves by (dx, dy) = (+1.5, −2.25)
    covered = np.zeros(truth.shape, dtype=bool)
    covered[30:170, 30:170] = True
    np.testing.assert_allclose(residual_shift(moved, covered, truth, np.zeros(2)), [2.25, -1.5], atol=0.1)


def test_residual_shift_with_sparse_coverage_of_64_patches(lines_truth: np.ndarray) -> None:
    truth = lines_truth
    rng = np.random.default_rng(5)
    positions = np.stack([rng.uniform(10, 382, 64), rng.uniform(196, 382, 64)], axis=1)
    stitched = shift_and_sum(bilinear_patches(truth, positions), positions)
    delta = np.array([1.3, -0.6])
    m = harness_metrics(stitched.canvas, stitched.coverage, stitched.canvas_origin - delta, truth, 1.0)
    np.testing.assert_allclose(m["residual_shift"], delta, atol=0.1)


def test_saturation_fractions_on_a_hand_made_canvas() -> None:
    truth = np.full((10, 10), 1.0)
    truth[:, :3] = 2.0  # expected_scale·t = 1.2 > 1 on 3 of 10 columns
    canvas = np.full((10, 10), 0.5, dtype=np.complex64)
    canvas[:2, :] = 0.995  # p >= 0.99 on 2 of 10 rows
    m = harness_metrics(canvas, np.ones((10, 10), np.float32), np.zeros(2), truth, 0.6)
    assert m["saturation_predicted"] == pytest.approx(0.3)
    assert m["saturation_observed"] == pytest.approx(0.2)
    assert m["n_unsaturated"] == 70  # U = {0.6·t ≤ 0.95}


def test_nonfinite_pixels_are_counted_and_left_out_of_cov(lines_truth: np.ndarray) -> None:
    truth = lines_truth[:64, :64]
    canvas = truth.astype(np.complex64)
    canvas[5, 5] = np.nan
    patches = np.zeros((2, 64, 64, 1), np.complex64)
    patches[1, 0, 0, 0] = np.inf
    m = harness_metrics(canvas, np.ones((64, 64), np.float32), np.zeros(2), truth, 1.0, patches)
    assert m["n_nonfinite"] == 2
    assert m["n_covered"] == 64 * 64 - 1
    assert m["scale_error"] == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(m["max_abs_canvas"]) and m["max_abs_patches"] == 0.0


def test_phase_mae_is_about_the_circular_mean() -> None:
    truth = np.ones((8, 8))
    phase = np.where(np.arange(64).reshape(8, 8) % 2 == 0, np.pi - 0.2, -np.pi + 0.2)  # ±0.2 around π
    canvas = np.exp(1j * phase).astype(np.complex64)
    m = harness_metrics(canvas, np.ones((8, 8), np.float32), np.zeros(2), truth, 1.0)
    assert m["phase_mae"] == pytest.approx(0.2, abs=1e-6)


def test_metrics_are_json_serialisable_python_values(lines_truth: np.ndarray) -> None:
    truth = lines_truth[:80, :80]
    canvas = truth_on_canvas(truth, (60, 60), np.array([5.5, 6.5])).astype(np.complex64)
    m = harness_metrics(canvas, np.ones((60, 60), np.float32), np.array([5.5, 6.5]), truth, 0.5, canvas[None])
    json.dumps(m)
    for value in m.values():
        assert isinstance(value, (float, int, str, list))
        if isinstance(value, list):
            assert all(isinstance(v, float) for v in value)


# ------------------------------------------------------------------------------------------
# Knob S7 eval_registration and O-11
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stitched_half(lines_truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ground-truth patches at 400 positions of the test half (y ≥ 196), stitched (§3.12.2)."""
    rng = np.random.default_rng(11)
    positions = np.stack([rng.uniform(10, 382, 400), rng.uniform(196, 382, 400)], axis=1)
    stitched = shift_and_sum(bilinear_patches(lines_truth, positions), positions)
    return stitched.canvas, stitched.coverage, stitched.canvas_origin, positions


def test_s7_off_reproduces_the_centroid_minus_196_misregistration(
    lines_truth: np.ndarray, stitched_half: tuple
) -> None:
    canvas, coverage, origin, positions = stitched_half
    truth = lines_truth
    centroid = canvas_geometry(positions).centroid_xy
    off = evaluate_registered("off", canvas, coverage, origin, truth, 1.0)
    np.testing.assert_allclose(off["residual_shift"], [centroid[1] - 196, centroid[0] - 196], atol=0.1)
    assert off["pearson_r"] < 0.5
    booked = evaluate_registered("bookkeeping", canvas, coverage, origin, truth, 1.0)
    np.testing.assert_allclose(booked["residual_shift"], [0.0, 0.0], atol=0.05)
    assert booked["pearson_r"] > 0.999
    assert booked["eval_registration"] == "bookkeeping" and off["eval_registration"] == "off"


def test_s7_xcorr_refines_a_wrong_origin(lines_truth: np.ndarray, stitched_half: tuple) -> None:
    canvas, coverage, origin, _ = stitched_half
    truth = lines_truth
    error = np.array([1.3, -0.6])
    refined = evaluate_registered("xcorr", canvas, coverage, origin + error, truth, 1.0)
    np.testing.assert_allclose(refined["registration_shift"], -error, atol=0.1)
    np.testing.assert_allclose(refined["canvas_origin_used"], origin, atol=0.1)
    assert refined["pearson_r"] > 0.99
    np.testing.assert_allclose(refined["residual_shift"], [0.0, 0.0], atol=0.1)


def test_s7_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="eval_registration"):
        evaluate_registered("registered", np.zeros((4, 4)), np.ones((4, 4)), np.zeros(2), np.ones((4, 4)), 1.0)


# ------------------------------------------------------------------------------------------
# Knob S13 prediction_scale
# ------------------------------------------------------------------------------------------


def test_s13_prediction_scale_modes(lines_truth: np.ndarray) -> None:
    truth = lines_truth
    canvas = (truth[:, :] / 3.0).astype(np.complex64)
    assert prediction_scale_factor("none", canvas, truth) == 1.0
    assert prediction_scale_factor("recorded", canvas, truth, recorded_scale=988.2117) == 988.2117
    assert prediction_scale_factor("least_squares", canvas, truth) == pytest.approx(3.0, rel=1e-6)
    with pytest.raises(ValueError):
        prediction_scale_factor("recorded", canvas, truth)
    with pytest.raises(ValueError):
        prediction_scale_factor("median", canvas, truth)


# ------------------------------------------------------------------------------------------
# legacy_eval (§3.13.2)
# ------------------------------------------------------------------------------------------


def test_psnr_convention_peak_255() -> None:
    assert psnr_255(0.00374) == pytest.approx(72.40, abs=0.005)
    assert psnr_255(1.02e-5) == pytest.approx(98.04, abs=0.01)


def test_legacy_eval_reproduces_the_psnr_convention_and_scale_adjustment() -> None:
    rng = np.random.default_rng(2)
    side = 40
    truth = 1.0 + rng.random((side, side))
    sign = np.where((np.arange(side)[:, None] + np.arange(side)[None, :]) % 2 == 0, 1.0, -1.0)
    pred = (truth + np.sqrt(0.00374) * sign) / 4.2958  # zero-mean error, then a global scale
    m = legacy_eval(pred.astype(np.complex64), truth)
    assert m["mean_scale_adjustment"] == pytest.approx(4.2958, rel=1e-6)
    assert m["amp_mse"] == pytest.approx(0.00374, rel=1e-5)
    assert m["amp_mae"] == pytest.approx(np.sqrt(0.00374), rel=1e-5)
    assert m["amp_psnr"] == pytest.approx(72.40, abs=0.005)
    assert m["phase_mae"] == 0.0 and np.isnan(m["phase_frc50"])  # truth phase 0, as in the legacy study
    json.dumps(m)


def test_legacy_eval_trims_two_pixels_per_side() -> None:
    truth = np.ones((20, 20))
    pred = np.ones((20, 20), dtype=np.complex64)
    pred[:2, :] = 100.0
    pred[:, -2:] = 100.0
    m = legacy_eval(pred, truth)
    assert m["mean_scale_adjustment"] == 1.0 and m["amp_mae"] == 0.0


def test_frc50_of_identical_images_is_the_last_ring(lines_truth: np.ndarray) -> None:
    image = lines_truth[:96, :96]
    curve = fourier_ring_correlation(image, image)
    np.testing.assert_allclose(curve, 1.0)
    assert frc50(image, image) == curve.size - 1
    noise = np.random.default_rng(0).random((96, 96))
    assert frc50(image, noise) < curve.size // 4


# ------------------------------------------------------------------------------------------
# runner_eval and full_chain_product (§3.13.2)
# ------------------------------------------------------------------------------------------


def test_runner_eval_centre_crops_without_registration(lines_truth: np.ndarray) -> None:
    truth = lines_truth
    canvas = np.zeros((396, 396), dtype=np.complex64)
    canvas[2:394, 2:394] = truth / 2.0  # canvas centre = object centre, half the amplitude
    canvas[2:394, 2:100] = 0.0  # an uncovered strip
    coverage = (np.abs(canvas) > 0).astype(np.float32)
    m = runner_eval(canvas, truth, coverage)
    assert m["crop_size"] == 392
    assert m["least_squares_scale"] == pytest.approx(2.0, rel=1e-6)
    assert m["ratio_median"] == pytest.approx(2.0, rel=1e-6) and m["ratio_count"] == 392 * 294
    assert m["coverage_fraction"] == pytest.approx(294 / 392)
    assert m["bias_mean"] == pytest.approx(float(np.mean(np.abs(canvas[2:394, 2:394]) - truth)), rel=1e-6)
    assert m["phase_mae"] == 0.0
    json.dumps(m)
    canvas_crop, truth_crop, canvas_start, truth_start = centre_crop_pair(np.zeros((330, 330)), truth)
    assert canvas_crop.shape == truth_crop.shape == (330, 330)
    assert truth_start == (31, 31) and canvas_start == (0, 0)


def test_full_chain_product_telescopes() -> None:
    means = {"raw": 0.146, "grouped": 0.1475, "normalised": 0.0851, "prediction": 0.402, "truth": 2.708}
    result = full_chain_product(means)
    assert result["product"] == pytest.approx(2.708 / 0.146, rel=1e-12)
    assert result["telescoped"] == pytest.approx(18.548, abs=1e-3)
    assert len(result["ratios"]) == 4
