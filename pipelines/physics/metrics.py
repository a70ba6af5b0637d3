"""Stage `evaluate` physics (spec §3.13): truth on the canvas, the harness metrics, the original-style
metric sets, and the evaluation knobs S7 (`eval_registration`) and S13 (`prediction_scale`).

Every function takes explicit arrays and returns plain Python numbers (JSON-able dicts). Statistics
accumulate in float64. Conventions of §1.2: `canvas_origin` is (y, x) and canvas pixel [r, c] is the
object coordinate (y = origin_y + r, x = origin_x + c).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from pipelines.physics.translate import bilinear_sample

COVERED_THRESHOLD = 0.5
UNSATURATED_LIMIT = 0.95
RUNNER_CROP = 392
UPSAMPLE = 50
XCORR_BORDER = 2
TAPER_WIDTH = 6.0
MAX_REFINEMENTS = 10
LEGACY_TRIM = 2
PSNR_PEAK = 255.0
REGISTRATION_MODES = ("bookkeeping", "off", "xcorr")
PREDICTION_SCALE_MODES = ("none", "recorded", "least_squares")

__all__ = [
    "PREDICTION_SCALE_MODES",
    "REGISTRATION_MODES",
    "apply_prediction_scale",
    "centre_crop_pair",
    "evaluate_registered",
    "evaluation_window",
    "fourier_ring_correlation",
    "frc50",
    "full_chain_product",
    "harness_metrics",
    "legacy_eval",
    "prediction_scale_factor",
    "psnr_255",
    "residual_shift",
    "runner_eval",
    "truth_on_canvas",
]


def _nan() -> float:
    return float("nan")


# --------------------------------------------------------------------------------------------
# Truth on the canvas and the evaluation window (§3.13.1 items 1–2)
# --------------------------------------------------------------------------------------------


def _canvas_coordinates(
    canvas_shape: tuple[int, ...], canvas_origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    origin = np.asarray(canvas_origin, dtype=np.float64).reshape(2)
    rows = origin[0] + np.arange(canvas_shape[0], dtype=np.float64)
    cols = origin[1] + np.arange(canvas_shape[1], dtype=np.float64)
    return rows, cols


def truth_on_canvas(
    truth_amp: np.ndarray, canvas_shape: tuple[int, ...], canvas_origin: np.ndarray
) -> np.ndarray:
    """truth(y = origin_y + r, x = origin_x + c) on an (H, W) canvas, float64 (§3.13.1 item 1).

    Bilinear with zero fill outside the object (§1.4's sampling); an integer origin is an exact
    slice (the legacy case), so it never mixes neighbours.
    """
    truth = np.asarray(truth_amp, dtype=np.float64)
    height, width = int(canvas_shape[0]), int(canvas_shape[1])
    origin = np.asarray(canvas_origin, dtype=np.float64).reshape(2)
    if np.all(origin == np.round(origin)):
        out = np.zeros((height, width), dtype=np.float64)
        r0, c0 = int(origin[0]), int(origin[1])
        rs, re = max(r0, 0), min(r0 + height, truth.shape[0])
        cs, ce = max(c0, 0), min(c0 + width, truth.shape[1])
        if rs < re and cs < ce:
            out[rs - r0 : re - r0, cs - c0 : ce - c0] = truth[rs:re, cs:ce]
        return out
    rows, cols = _canvas_coordinates((height, width), origin)
    return np.asarray(bilinear_sample(truth, rows[:, None], cols[None, :]), dtype=np.float64)


def evaluation_window(
    truth_shape: tuple[int, ...], canvas_shape: tuple[int, ...], canvas_origin: np.ndarray
) -> np.ndarray:
    """Wnd (§3.13.1 item 2): canvas pixels whose object coordinate lies inside the object.

    "Inside" is 0 ≤ y ≤ H0 − 1 and 0 ≤ x ≤ W0 − 1, where truth_on_canvas interpolates object pixels
    only (no zero fill).
    """
    rows, cols = _canvas_coordinates(canvas_shape, canvas_origin)
    in_rows = (rows >= 0) & (rows <= truth_shape[0] - 1)
    in_cols = (cols >= 0) & (cols <= truth_shape[1] - 1)
    return in_rows[:, None] & in_cols[None, :]


# --------------------------------------------------------------------------------------------
# Registration: residual shift by sub-pixel phase cross-correlation
# --------------------------------------------------------------------------------------------


def _bounding_box(mask: np.ndarray) -> tuple[slice, slice] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _taper(mask: np.ndarray, width: float = TAPER_WIDTH) -> np.ndarray:
    """Weights rising as sin² from 0 at the edge of `mask` to 1 at `width` px inside it."""
    from scipy.ndimage import distance_transform_edt  # lazy: the host imports this module on every command

    distance = distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    return np.sin(np.clip(distance / width, 0.0, 1.0) * (np.pi / 2)) ** 2


def residual_shift(
    pred_amp: np.ndarray,
    covered: np.ndarray,
    truth_amp: np.ndarray,
    canvas_origin: np.ndarray,
    upsample_factor: int = UPSAMPLE,
    border: int = 0,
) -> list[float]:
    """(dy, dx) registration residual of p = `pred_amp` against the truth on the covered set (§3.13.1).

    Sign: the correction to `canvas_origin` (the canvas content at [r, c] matches the truth at
    origin + (dy, dx) + (r, c)); a canvas whose content moved by +s gives −s. Both steps use
    skimage's phase_cross_correlation on the bounding box of `covered` (less `border` px per side):

    1. integer part: masked normalised cross-correlation of p (valid on `covered`) against the
       truth on the box (valid inside the object), robust to partial coverage and large offsets;
    2. sub-pixel part: upsampled (factor 50) cross-correlation of p and the truth resampled at the
       current estimate, both mean-subtracted and weighted by a 6-px sin² taper of `covered` so the
       mask edges cancel; repeated until the step is below 1/upsample_factor (at most 10 times).

    Returns [nan, nan] when the box is empty or too small, or either image is constant.
    """
    from skimage.registration import phase_cross_correlation  # lazy: it imports scipy.fft (0.18 s per command)

    covered = np.asarray(covered, dtype=bool)
    origin = np.asarray(canvas_origin, dtype=np.float64).reshape(2)
    truth = np.asarray(truth_amp, dtype=np.float64)
    box = _bounding_box(covered)
    if box is not None and border:
        rows, cols = box
        box = (slice(rows.start + border, rows.stop - border), slice(cols.start + border, cols.stop - border))
    if box is None or box[0].stop - box[0].start < 4 or box[1].stop - box[1].start < 4:
        return [_nan(), _nan()]
    mask = covered[box]
    p = np.where(mask, np.nan_to_num(np.asarray(pred_amp, dtype=np.float64)[box]), 0.0)
    box_origin = origin + np.array([box[0].start, box[1].start], dtype=np.float64)
    t = truth_on_canvas(truth, p.shape, box_origin)
    if mask.sum() < 4 or np.ptp(p[mask]) == 0 or np.ptp(t) == 0:
        return [_nan(), _nan()]
    window = evaluation_window(truth.shape, p.shape, box_origin)
    coarse = phase_cross_correlation(t, p, reference_mask=window, moving_mask=mask)
    estimate = np.round(np.asarray(coarse[0] if isinstance(coarse, tuple) else coarse, dtype=np.float64))
    weights = _taper(mask)
    total = float(weights.sum())
    if total == 0:
        return [float(estimate[0]), float(estimate[1])]
    p_weighted = weights * (p - float(np.sum(weights * p)) / total)
    for _ in range(MAX_REFINEMENTS):
        t = truth_on_canvas(truth, p.shape, box_origin + estimate)
        t_weighted = weights * (t - float(np.sum(weights * t)) / total)
        if not np.any(t_weighted):
            break
        step, _, _ = phase_cross_correlation(
            t_weighted, p_weighted, upsample_factor=upsample_factor, normalization=None
        )
        estimate = estimate + step
        if np.max(np.abs(step)) < 1.0 / upsample_factor:
            break
    return [float(estimate[0]), float(estimate[1])]


# --------------------------------------------------------------------------------------------
# Harness metrics (§3.13.1)
# --------------------------------------------------------------------------------------------


def _wrap(angle: np.ndarray) -> np.ndarray:
    return np.angle(np.exp(1j * angle))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2:
        return _nan()
    da = a - a.mean()
    db = b - b.mean()
    denominator = math.sqrt(float(np.sum(da * da)) * float(np.sum(db * db)))
    return float(np.sum(da * db)) / denominator if denominator > 0 else _nan()


def _least_squares(p: np.ndarray, t: np.ndarray) -> float:
    pp = float(np.sum(p * p))
    return float(np.sum(p * t)) / pp if pp > 0 else _nan()


def _finite_max_abs(values: np.ndarray | None) -> float:
    if values is None:
        return _nan()
    magnitude = np.abs(np.asarray(values))
    finite = magnitude[np.isfinite(magnitude)]
    return float(finite.max()) if finite.size else _nan()


def _count_nonfinite(*arrays: np.ndarray | None) -> int:
    return int(sum(np.size(a) - np.count_nonzero(np.isfinite(a)) for a in arrays if a is not None))


def _covered_set(
    canvas: np.ndarray, coverage: np.ndarray, canvas_origin: np.ndarray, truth_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(Wnd, Cov) of §3.13.1 item 2: Cov = Wnd ∩ {coverage > 0.5} ∩ {canvas finite}."""
    window = evaluation_window(truth_shape, canvas.shape, canvas_origin)
    return window, window & (np.asarray(coverage) > COVERED_THRESHOLD) & np.isfinite(canvas)


def _amplitude_metrics(
    canvas: np.ndarray,
    coverage: np.ndarray,
    canvas_origin: np.ndarray,
    truth_amp: np.ndarray,
    expected_scale: float,
) -> dict[str, Any]:
    """The Cov-based metrics of §3.13.1 for one canvas and one origin."""
    canvas = np.asarray(canvas)
    truth = np.asarray(truth_amp, dtype=np.float64)
    t_canvas = truth_on_canvas(truth, canvas.shape, canvas_origin)
    window, covered = _covered_set(canvas, coverage, canvas_origin, truth.shape)
    p_all = np.abs(canvas).astype(np.float64)
    p = p_all[covered]
    t = t_canvas[covered]
    es = float(expected_scale)
    n_cov = int(covered.sum())
    n_wnd = int(window.sum())
    ls = _least_squares(p, t)
    positive = p > 0
    unsat = es * t <= UNSATURATED_LIMIT
    ls_unsat = _least_squares(p[unsat], t[unsat])
    residual = p / es - t if es != 0 else np.full_like(p, np.nan)
    if n_cov:
        phases = np.angle(canvas[covered]).astype(np.float64)
        centre = float(np.angle(np.sum(np.exp(1j * phases))))
        phase_mae = float(np.mean(np.abs(_wrap(phases - centre))))
    else:
        phase_mae = _nan()
    return {
        "coverage_fraction": n_cov / n_wnd if n_wnd else _nan(),
        "n_covered": n_cov,
        "n_window": n_wnd,
        "expected_scale": es,
        "ls_truth_per_pred": ls,
        "median_ratio": float(np.median(t[positive] / p[positive])) if positive.any() else _nan(),
        "scale_error": ls * es - 1.0,
        "ls_truth_per_pred_unsaturated": ls_unsat,
        "scale_error_unsaturated": ls_unsat * es - 1.0,
        "n_unsaturated": int(unsat.sum()),
        "pearson_r": _pearson(p, t),
        "mae_scaled": float(np.mean(np.abs(residual))) if n_cov else _nan(),
        "rmse_scaled": float(np.sqrt(np.mean(residual**2))) if n_cov else _nan(),
        "saturation_predicted": float(np.mean(es * t > 1.0)) if n_cov else _nan(),
        "saturation_observed": float(np.mean(p >= 0.99)) if n_cov else _nan(),
        "phase_mae": phase_mae,
        "residual_shift": residual_shift(p_all, covered, truth, canvas_origin, UPSAMPLE),
        "canvas_origin_used": [float(v) for v in np.asarray(canvas_origin, dtype=np.float64).reshape(2)],
    }


def harness_metrics(
    canvas: np.ndarray,
    coverage: np.ndarray,
    canvas_origin: np.ndarray,
    truth_amp: np.ndarray,
    expected_scale: float,
    patches_pred: np.ndarray | None = None,
) -> dict[str, Any]:
    """The normative harness metrics of §3.13.1 (A-1…A-5, A-7, A-9, O-11), bookkeeping registration.

    p = |canvas| and t = truth_on_canvas on Cov = Wnd ∩ {coverage > 0.5} ∩ finite. Keys:
    coverage_fraction, n_covered, n_window, expected_scale, ls_truth_per_pred, median_ratio,
    scale_error (on Cov), ls_truth_per_pred_unsaturated / scale_error_unsaturated / n_unsaturated
    (on U = Cov ∩ {expected_scale·t ≤ 0.95}), pearson_r, mae_scaled, rmse_scaled,
    saturation_predicted, saturation_observed, max_abs_patches, max_abs_canvas (finite values),
    phase_mae, residual_shift [dy, dx], n_nonfinite, canvas_origin_used, plus the S7 keys of
    `evaluate_registered` (eval_registration "bookkeeping", registration_shift [0, 0]).
    """
    return evaluate_registered(
        "bookkeeping", canvas, coverage, canvas_origin, truth_amp, expected_scale, patches_pred
    )


# --------------------------------------------------------------------------------------------
# Knob S7 eval_registration
# --------------------------------------------------------------------------------------------


def centre_crop_pair(
    canvas: np.ndarray, truth: np.ndarray, cap: int = RUNNER_CROP
) -> tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]:
    """The plan runner's `center_crop_square` of canvas and truth to one square side (§3.13.2).

    side = min(H, W, H0, W0, cap); each array is cropped from ((dim − side)//2) with no
    registration. Returns (canvas_crop, truth_crop, canvas_start (r, c), truth_start (r, c)).
    """
    canvas = np.asarray(canvas)
    truth = np.asarray(truth)
    side = int(min(canvas.shape[0], canvas.shape[1], truth.shape[0], truth.shape[1], cap))
    cr, cc = (canvas.shape[0] - side) // 2, (canvas.shape[1] - side) // 2
    tr, tc = (truth.shape[0] - side) // 2, (truth.shape[1] - side) // 2
    return canvas[cr : cr + side, cc : cc + side], truth[tr : tr + side, tc : tc + side], (cr, cc), (tr, tc)


def evaluate_registered(
    mode: str,
    canvas: np.ndarray,
    coverage: np.ndarray,
    canvas_origin: np.ndarray,
    truth_amp: np.ndarray,
    expected_scale: float,
    patches_pred: np.ndarray | None = None,
    cap: int = RUNNER_CROP,
) -> dict[str, Any]:
    """Harness metrics under knob S7 `eval_registration` (§5.2):

    - `bookkeeping` (default): `canvas_origin` as stitched;
    - `off`: the runner_eval centre crop of canvas and truth with no registration, i.e. the canvas
      centre is taken for the object centre (reproduces the (ȳ − 196, x̄ − 196) misregistration,
      O-11);
    - `xcorr`: bookkeeping, then the origin is refined by sub-pixel phase cross-correlation
      (upsample 50, border crop 2) and the metrics are recomputed at the refined origin.

    Adds `eval_registration` and `registration_shift` (the refinement; [0, 0] otherwise).
    max_abs_canvas and n_nonfinite always refer to the whole canvas.
    """
    canvas = np.asarray(canvas)
    origin = np.asarray(canvas_origin, dtype=np.float64).reshape(2)
    refinement = [0.0, 0.0]
    if mode == "bookkeeping":
        result = _amplitude_metrics(canvas, coverage, origin, truth_amp, expected_scale)
    elif mode == "off":
        canvas_crop, _, (cr, cc), (tr, tc) = centre_crop_pair(canvas, truth_amp, cap)
        side = canvas_crop.shape[0]
        coverage_crop = np.asarray(coverage)[cr : cr + side, cc : cc + side]
        implied = np.array([tr, tc], dtype=np.float64)
        result = _amplitude_metrics(canvas_crop, coverage_crop, implied, truth_amp, expected_scale)
        result["canvas_origin_used"] = [float(tr - cr), float(tc - cc)]
    elif mode == "xcorr":
        truth = np.asarray(truth_amp, dtype=np.float64)
        _, covered = _covered_set(canvas, coverage, origin, truth.shape)
        refinement = residual_shift(np.abs(canvas), covered, truth, origin, UPSAMPLE, XCORR_BORDER)
        refined = origin + np.nan_to_num(np.asarray(refinement))
        result = _amplitude_metrics(canvas, coverage, refined, truth_amp, expected_scale)
    else:
        raise ValueError(f"unknown eval_registration {mode!r}; expected one of {', '.join(REGISTRATION_MODES)}")
    result["eval_registration"] = mode
    result["registration_shift"] = [float(v) for v in refinement]
    result["max_abs_patches"] = _finite_max_abs(patches_pred)
    result["max_abs_canvas"] = _finite_max_abs(canvas)
    result["n_nonfinite"] = _count_nonfinite(patches_pred, canvas)
    return result


# --------------------------------------------------------------------------------------------
# Knob S13 prediction_scale
# --------------------------------------------------------------------------------------------


def prediction_scale_factor(
    mode: str,
    canvas: np.ndarray,
    truth_amp: np.ndarray,
    recorded_scale: float | None = None,
    cap: int = RUNNER_CROP,
) -> float:
    """The output scale of knob S13 (§3.13.2 "Prediction scale"):

    `none` → 1; `recorded` → the bundle intensity_scale (≈ 988, not physically meaningful);
    `least_squares` → Σ p·t / Σ p² over the finite pixels of the centre-cropped pair.
    """
    if mode == "none":
        return 1.0
    if mode == "recorded":
        if recorded_scale is None:
            raise ValueError("prediction_scale 'recorded' needs the bundle intensity_scale")
        return float(recorded_scale)
    if mode == "least_squares":
        canvas_crop, truth_crop, _, _ = centre_crop_pair(canvas, truth_amp, cap)
        p = np.abs(canvas_crop).astype(np.float64)
        t = np.abs(np.asarray(truth_crop)).astype(np.float64)
        finite = np.isfinite(p) & np.isfinite(t)
        return _least_squares(p[finite], t[finite])
    raise ValueError(f"unknown prediction_scale {mode!r}; expected one of {', '.join(PREDICTION_SCALE_MODES)}")


def apply_prediction_scale(canvas: np.ndarray, factor: float) -> np.ndarray:
    """The canvas multiplied by the S13 factor, kept complex64."""
    return (np.asarray(canvas).astype(np.complex128) * float(factor)).astype(np.complex64)


# --------------------------------------------------------------------------------------------
# legacy_eval (§3.13.2)
# --------------------------------------------------------------------------------------------


def psnr_255(mse: float) -> float:
    """PSNR with the cv2 convention of the legacy study: 10·log10(255² / MSE) (§3.13.2)."""
    mse = float(mse)
    if mse == 0:
        return float("inf")
    return 10.0 * math.log10(PSNR_PEAK**2 / mse) if mse > 0 else _nan()


def fourier_ring_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """FRC(k) = |Σ_ring F_a·conj(F_b)| / sqrt(Σ_ring |F_a|² · Σ_ring |F_b|²), rings of integer radius.

    Radius is measured from the zero frequency of the shifted spectrum in units of the smaller side's
    frequency step and rounded; rings run to the corner (ring binning of the original unverified,
    §3.13.2). Rings with zero energy are nan.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"FRC needs two equal 2-D images; got {a.shape} and {b.shape}")
    fa = np.fft.fftshift(np.fft.fft2(a))
    fb = np.fft.fftshift(np.fft.fft2(b))
    height, width = a.shape
    side = min(height, width)
    ky = (np.arange(height) - height // 2) * (side / height)
    kx = (np.arange(width) - width // 2) * (side / width)
    ring = np.rint(np.hypot(ky[:, None], kx[None, :])).astype(np.int64).ravel()
    cross = fa * np.conj(fb)
    num = np.bincount(ring, cross.real.ravel()) + 1j * np.bincount(ring, cross.imag.ravel())
    energy = np.bincount(ring, (np.abs(fa) ** 2).ravel()) * np.bincount(ring, (np.abs(fb) ** 2).ravel())
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(energy > 0, np.abs(num) / np.sqrt(energy), np.nan)


def frc50(truth: np.ndarray, pred: np.ndarray, sigma: float = 1.0) -> float | int:
    """FRC50 (§3.13.2): first ring index where the Gaussian-smoothed (σ = 1) FRC drops below 0.5.

    The last ring index when it never does (identical images); nan when the truth is identically 0
    (the legacy phase case) or the curve is undefined.
    """
    truth = np.asarray(truth, dtype=np.float64)
    if not np.any(truth):
        return _nan()
    curve = fourier_ring_correlation(truth, pred)
    if np.isnan(curve).any():
        return _nan()
    from scipy.ndimage import gaussian_filter1d  # lazy, as above

    smooth = gaussian_filter1d(curve, sigma) if sigma > 0 else curve
    below = np.flatnonzero(smooth < 0.5)
    return int(below[0]) if below.size else int(smooth.size - 1)


def _error_set(pred: np.ndarray, truth: np.ndarray, prefix: str) -> dict[str, Any]:
    diff = pred - truth
    mse = float(np.mean(diff**2))
    return {
        f"{prefix}_mae": float(np.mean(np.abs(diff))),
        f"{prefix}_mse": mse,
        f"{prefix}_psnr": psnr_255(mse),
        f"{prefix}_frc50": frc50(truth, pred),
    }


def legacy_eval(pred: np.ndarray, truth: np.ndarray, trim: int = LEGACY_TRIM) -> dict[str, Any]:
    """The legacy study's `eval_reconstruction` set (§3.13.2, check A-6) on a registered pair.

    Both are trimmed by `trim` (offset//2 = 2) px per side. Amplitude: mean_scale_adjustment =
    mean(t)/mean(p), p rescaled by it, then MAE, MSE, PSNR (peak 255), FRC50. Phase: each phase
    minus its mean, then MAE, MSE, PSNR, FRC50 unscaled. `pred`/`truth` are complex or real (H, W).
    """
    pred = np.asarray(pred)
    truth = np.asarray(truth)
    if pred.shape != truth.shape:
        raise ValueError(f"legacy_eval needs a registered pair of one shape; got {pred.shape}, {truth.shape}")
    if trim:
        pred = pred[trim:-trim, trim:-trim]
        truth = truth[trim:-trim, trim:-trim]
    p_amp = np.abs(pred).astype(np.float64)
    t_amp = np.abs(truth).astype(np.float64)
    mean_p = float(np.mean(p_amp))
    adjustment = float(np.mean(t_amp)) / mean_p if mean_p != 0 else _nan()
    result: dict[str, Any] = {"mean_scale_adjustment": adjustment}
    result.update(_error_set(p_amp * adjustment, t_amp, "amp"))
    p_phase = np.angle(pred).astype(np.float64)
    t_phase = np.angle(truth).astype(np.float64) if np.iscomplexobj(truth) else np.zeros_like(t_amp)
    result.update(_error_set(p_phase - p_phase.mean(), t_phase - t_phase.mean(), "phase"))
    return result


# --------------------------------------------------------------------------------------------
# runner_eval and full_chain_product (§3.13.2)
# --------------------------------------------------------------------------------------------


def _quantiles(values: np.ndarray, prefix: str) -> dict[str, float]:
    if values.size == 0:
        return {f"{prefix}_{k}": _nan() for k in ("mean", "median", "p05", "p95")}
    return {
        f"{prefix}_mean": float(np.mean(values)),
        f"{prefix}_median": float(np.median(values)),
        f"{prefix}_p05": float(np.percentile(values, 5)),
        f"{prefix}_p95": float(np.percentile(values, 95)),
    }


def runner_eval(
    canvas: np.ndarray, truth: np.ndarray, coverage: np.ndarray | None = None, cap: int = RUNNER_CROP
) -> dict[str, Any]:
    """The plan runner's metric set (§3.13.2): centre crop to min(H, 392), no registration.

    Over finite pixels: MAE, RMSE, max|Δ|, pearson_r of p = |canvas| and t = |truth|; bias p − t
    mean/median/p05/p95; least-squares scalar Σpt/Σp² and the MAE after it; ratio t/p where p > 0
    (mean/median/p05/p95/count); wrapped phase difference angle(exp(iΔφ)) mean |·| and RMS; and the
    crop's coverage_fraction (coverage > 0.5; nan without coverage) with n_positive_pred.
    """
    canvas_crop, truth_crop, (cr, cc), _ = centre_crop_pair(canvas, truth, cap)
    side = canvas_crop.shape[0]
    p_all = np.abs(canvas_crop).astype(np.float64)
    t_all = np.abs(truth_crop).astype(np.float64)
    finite = np.isfinite(p_all) & np.isfinite(t_all)
    p, t = p_all[finite], t_all[finite]
    bias = p - t
    ls = _least_squares(p, t)
    positive = p > 0
    ratio = t[positive] / p[positive]
    phase_p = np.angle(canvas_crop[finite]).astype(np.float64)
    phase_t = np.angle(truth_crop[finite]).astype(np.float64) if np.iscomplexobj(truth_crop) else 0.0
    dphi = _wrap(phase_p - phase_t)
    if coverage is not None:
        coverage_crop = np.asarray(coverage)[cr : cr + side, cc : cc + side]
        coverage_fraction = float(np.mean(coverage_crop > COVERED_THRESHOLD))
    else:
        coverage_fraction = _nan()
    result: dict[str, Any] = {
        "crop_size": int(side),
        "n_finite": int(finite.sum()),
        "mae": float(np.mean(np.abs(bias))) if p.size else _nan(),
        "rmse": float(np.sqrt(np.mean(bias**2))) if p.size else _nan(),
        "max_abs_error": float(np.max(np.abs(bias))) if p.size else _nan(),
        "pearson_r": _pearson(p, t),
        "least_squares_scale": ls,
        "mae_after_ls": float(np.mean(np.abs(ls * p - t))) if p.size else _nan(),
        "ratio_count": int(ratio.size),
        "phase_mae": float(np.mean(np.abs(dphi))) if p.size else _nan(),
        "phase_rmse": float(np.sqrt(np.mean(dphi**2))) if p.size else _nan(),
        "coverage_fraction": coverage_fraction,
        "n_positive_pred": int(positive.sum()),
    }
    result.update(_quantiles(bias, "bias"))
    result.update(_quantiles(ratio, "ratio"))
    return result


def full_chain_product(stage_means: Mapping[str, float]) -> dict[str, Any]:
    """Report-only stage-mean chain (§3.13.2, A-8, §7.6): ratios of consecutive stage means
    (raw → grouped → normalised → prediction → truth, in the mapping's order) and their product,
    which telescopes to last/first = mean(truth)/mean(raw diffraction)."""
    names = list(stage_means)
    means = [float(stage_means[name]) for name in names]
    if len(means) < 2:
        raise ValueError("full_chain_product needs at least two stage means")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = [float(np.float64(b) / np.float64(a)) for a, b in zip(means[:-1], means[1:])]
        telescoped = float(np.float64(means[-1]) / np.float64(means[0]))
    return {
        "stages": names,
        "means": means,
        "ratios": ratios,
        "product": float(np.prod(ratios)),
        "telescoped": telescoped,
    }
