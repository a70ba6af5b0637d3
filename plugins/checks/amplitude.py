"""Amplitude checks A-1 … A-9 (spec 6.3): scale, coverage, saturation, modulus bound, finiteness, reported metrics.

Checks that span stages are registered once per stage: `A-3@scale` (a forecast from the truth patches)
and `A-3@evaluate`, `A-4@infer` and `A-4@stitch`, `A-7@train`, `A-7@infer` and `A-7@stitch`.
Training-quality numbers are report-only in the smoke profile (spec 4.4).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from harness import CheckSpec, NotApplicable, hookimpl
from harness.records import CheckInput, CheckResult
from plugins.checks.common import describe_reads, relative, result, scalar, stale_reads

SATURATION_WARNING = 0.05
MODULUS_BOUND = 1.0
MODULUS_TOLERANCE = 1e-6
BORDER_NORMALISER = 0.5
PEARSON_MINIMUM = 0.8
LEGACY_SCALE_TOLERANCE = 0.01
CHAIN_TOLERANCE = 1e-6
PHASE_MAE_LIMIT = 0.1
SMOKE = ("smoke",)
NONFINITE_BREAKS = {"normalize": ("nphotons",), "reassembly_norm_eps": (0.0,), "config_bridge": ("off", "off_all")}


def polar(inp: CheckInput) -> bool:
    """Whether the object is composed as A·exp(iφ) (knob S2; dose_legacy always)."""
    return inp.knobs.get("combine", "polar") == "polar"


def finite_max(values: np.ndarray) -> float:
    """max |x| over the finite entries, float64 (nan when none is finite)."""
    magnitude = np.abs(np.asarray(values)).astype(np.float64)
    finite = magnitude[np.isfinite(magnitude)]
    return float(finite.max()) if finite.size else math.nan


def nonfinite_count(values: Any) -> int:
    """Number of nan or inf entries."""
    return int(np.size(values) - np.count_nonzero(np.isfinite(np.asarray(values))))


def scale_check(inp: CheckInput) -> CheckResult:
    """A-1: |k_LS·expected_scale − 1| on the unsaturated covered set U ≤ the declared amplitude_tolerance
    (spec 6.3: 0.05 for the legacy study, 0.20 for sim_lines)."""
    metrics = inp.artifacts["metrics"]
    error, coverage = float(metrics["scale_error_unsaturated"]), float(metrics["coverage_fraction"])
    tolerance = float(inp.conventions["amplitude_tolerance"])
    passed = abs(error) <= tolerance
    size = 1.0 / (1.0 + error) if 1.0 + error != 0 else math.inf  # 1 + error is truth per reconstruction
    text = (f"on unsaturated covered pixels (coverage {coverage:.2f}) the reconstruction is {size:.3f} × "
            "expected_scale × truth" + ("" if passed else ": the amplitude scale is off"))
    return result(error, 0.0, tolerance, passed, text, coverage_fraction=coverage)


def reported_fraction(value: Any) -> bool:
    """A coverage fraction that was actually computed: a finite number in [0, 1]."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1


def coverage_check(inp: CheckInput) -> CheckResult:
    """A-2: coverage_fraction = |Cov|/|Wnd| is reported in `metrics` and beside every metric set that has pearson_r."""
    metrics = inp.artifacts["metrics"]
    nested = {name: value for name, value in metrics.items() if isinstance(value, Mapping) and "pearson_r" in value}
    missing = [name for name, value in nested.items() if not reported_fraction(value.get("coverage_fraction"))]
    if not reported_fraction(metrics.get("coverage_fraction")):
        missing.insert(0, "metrics")
    fraction = metrics.get("coverage_fraction")
    if missing:
        text = f"{', '.join(missing)} report amplitude or pearson numbers without coverage_fraction: unreadable"
    else:
        text = f"coverage {fraction:.3f}: amplitude and pearson numbers describe {100 * fraction:.0f}% of the window"
    return result(fraction, "reported", "present", not missing, text, missing=missing)


def require_polar(inp: CheckInput) -> None:
    """The sigmoid cap bounds the amplitude only when the object is composed as A·exp(iφ)."""
    if not polar(inp):
        raise NotApplicable("combine=rect: the amplitude is not capped at 1")


def saturation_forecast_check(inp: CheckInput) -> CheckResult:
    """A-3 (scale): share of the infer groups' central (N/2)² truth with expected_scale·|Y_obj| > 1; warn > 0.05."""
    require_polar(inp)
    art = inp.artifacts
    patches = np.asarray(art["Y_obj_grouped.infer"])
    n = patches.shape[1]
    central = np.abs(patches[:, n // 4 : n - n // 4, n // 4 : n - n // 4, :]).astype(np.float64)
    scale = scalar(art["expected_scale"])
    fraction = float(np.mean(scale * central > MODULUS_BOUND))
    passed = fraction <= SATURATION_WARNING
    text = (f"{100 * fraction:.1f}% of the infer groups' central truth needs model amplitude > 1 "
            f"(expected_scale {scale:.4f} × |truth| up to {central.max():.2f})"
            + ("" if passed else ": the sigmoid cap will saturate; the object scale behind it is set at normalize"))
    return result(fraction, 0.0, SATURATION_WARNING, passed, text)


def saturation_check(inp: CheckInput) -> CheckResult:
    """A-3 (evaluate): saturation_predicted = fraction of Cov with expected_scale·t > 1; warn above 0.05 (polar)."""
    require_polar(inp)
    metrics = inp.artifacts["metrics"]
    predicted, observed = float(metrics["saturation_predicted"]), float(metrics["saturation_observed"])
    passed = predicted <= SATURATION_WARNING
    text = (f"{100 * predicted:.1f}% of covered pixels need amplitude > 1 in model units ({100 * observed:.1f}% "
            "predicted at ≥ 0.99)" + ("" if passed else ": the sigmoid cap clips the reconstruction"))
    return result(predicted, 0.0, SATURATION_WARNING, passed, text, saturation_observed=observed)


def box_weight(coords: np.ndarray, low: int, high: int) -> np.ndarray:
    """Bilinear sample at fractional `coords` of the 1-D indicator of pixels low … high − 1."""
    base = np.floor(coords)
    frac = coords - base
    return (1.0 - frac) * ((base >= low) & (base < high)) + frac * ((base + 1 >= low) & (base + 1 < high))


def reassembly_normaliser(relative_coords: np.ndarray, n: int) -> np.ndarray:
    """(B, N, N) in-model normaliser on the trimmed patch: Σ_c central N/2 square translated by −coords_relative[c]."""
    grid = np.arange(n, dtype=np.float64)
    low, high = n // 4, n - n // 4
    rows = box_weight(grid[None, None, :] + relative_coords[:, 0, 1, :, None], low, high)
    cols = box_weight(grid[None, None, :] + relative_coords[:, 0, 0, :, None], low, high)
    return np.einsum("bcv,bcu->bvu", rows, cols)


def excess_policy(inp: CheckInput) -> str:
    """strict: nothing may exceed 1; with probe.big the declared modulus_excess: border-only pixels may, or any
    (legacy study era, x2 unmasked)."""
    if not inp.artifacts["model_config"]["probe_big"]:
        return "strict"
    return "any" if inp.conventions.get("modulus_excess") == "any" else "border"


def patch_modulus_check(inp: CheckInput) -> CheckResult:
    """A-4 (infer): max|patches_pred| ≤ 1 + 1e-6; with probe.big, border-only pixels (normaliser < 0.5) only count."""
    art = inp.artifacts
    magnitude = np.abs(np.asarray(art["patches_pred"])[..., 0]).astype(np.float64)
    excess = magnitude > MODULUS_BOUND + MODULUS_TOLERANCE
    policy = excess_policy(inp)
    peak = finite_max(magnitude)
    border = reassembly_normaliser(np.asarray(art["coords_relative.infer"], dtype=np.float64),
                                   magnitude.shape[-1]) < BORDER_NORMALISER
    counts = {"excess": int(excess.sum()), "border": int((excess & border).sum())}
    interior = counts["excess"] - counts["border"]
    passed = {"strict": counts["excess"] == 0, "border": interior == 0, "any": True}[policy]
    combine = art["model_config"]["combine"]
    if counts["excess"] == 0:
        text = f"max |patches_pred| {peak:.4f}: within the modulus bound 1 of A·exp(iφ)"
    elif policy == "any":
        text = f"{counts['excess']} patch pixels exceed 1 (max {peak:.4f}): allowed with probe.big in the study era"
    elif passed:
        text = f"{counts['border']} border-only patch pixels exceed 1 (max {peak:.4f}): probe.big ×1000 hazard"
    else:
        text = f"{interior} covered patch pixels exceed |O| = 1 (max {peak:.4f}) with combine={combine}"
    return result(peak, MODULUS_BOUND, MODULUS_TOLERANCE, passed, text, policy=policy, counts=counts)


def canvas_modulus_check(inp: CheckInput) -> CheckResult:
    """A-4 (stitch): max|canvas| ≤ 1 + 1e-6; with probe.big the pixels above 1 are counted, not failed."""
    art = inp.artifacts
    magnitude = np.abs(np.asarray(art["canvas"])).astype(np.float64)
    count = int(np.count_nonzero(magnitude > MODULUS_BOUND + MODULUS_TOLERANCE))
    peak = finite_max(magnitude)
    policy = excess_policy(inp)
    passed = count == 0 or policy != "strict"
    if count == 0:
        text = f"max |canvas| {peak:.4f}: within the modulus bound 1"
    elif passed:
        text = f"{count} canvas pixels exceed 1 (max {peak:.4f}): reported, probe.big lets border content through"
    else:
        text = f"{count} canvas pixels exceed |O| = 1 (max {peak:.4f}) with combine={art['model_config']['combine']}"
    return result(peak, MODULUS_BOUND, MODULUS_TOLERANCE, passed, text, policy=policy, excess_pixels=count)


def correlation_check(inp: CheckInput) -> CheckResult:
    """A-5: pearson_r of |canvas| and the truth on covered, registered pixels ≥ 0.8."""
    metrics = inp.artifacts["metrics"]
    pearson, coverage = float(metrics["pearson_r"]), float(metrics["coverage_fraction"])
    passed = pearson >= PEARSON_MINIMUM
    text = (f"pearson_r {pearson:.3f} on covered registered pixels (coverage {coverage:.2f})"
            + ("" if passed else ": the reconstruction does not follow the object"))
    return result(pearson, PEARSON_MINIMUM, "minimum", passed, text, coverage_fraction=coverage)


def legacy_scale_check(inp: CheckInput) -> CheckResult:
    """A-6: legacy_eval mean_scale_adjustment · expected_scale = 1 within 1%."""
    if inp.conventions["object_scale"] != "truth_over_norm":
        raise NotApplicable("the study's rescaling equals 1/expected_scale only when the network reconstructs "
                            "truth/norm_Y_I (convention object_scale=truth_over_norm)")
    legacy_eval = inp.artifacts["metrics"].get("legacy_eval")
    if legacy_eval is None:
        raise NotApplicable("metrics carry no legacy_eval (the legacy study's own evaluation)")
    adjustment = float(legacy_eval["mean_scale_adjustment"])
    measured = adjustment * scalar(inp.artifacts["expected_scale"])
    passed = abs(measured - 1.0) <= LEGACY_SCALE_TOLERANCE
    text = (f"mean scale adjustment {adjustment:.4f} × expected_scale = {measured:.4f}: the study's rescaling "
            "is the object normalisation" + ("" if passed else " only approximately; the amplitude scale is off"))
    return result(measured, 1.0, LEGACY_SCALE_TOLERANCE, passed, text, mean_scale_adjustment=adjustment)


def training_finite_check(inp: CheckInput) -> CheckResult:
    """A-7 (train): no non-finite history value; nonfinite_first_epoch is None."""
    art = inp.artifacts
    first = art["nonfinite_first_epoch"]
    first = None if first is None else int(first)
    broken = {key: nonfinite_count(values) for key, values in art["history"].items() if nonfinite_count(values)}
    passed = first is None and not broken
    stale = stale_reads(inp, "train")
    if passed:
        text = "every loss term stayed finite in every epoch"
    else:
        reads = describe_reads(stale) if stale else "the scenario's values"
        text = f"training went non-finite at epoch {first} ({', '.join(broken)}); config_trace at train read {reads}"
    return result(first, None, 0, passed, text, nonfinite_entries=broken,
                  stale_reads={key: list(pair) for key, pair in stale.items()})


def infer_finite_check(inp: CheckInput) -> CheckResult:
    """A-7 (infer): number of non-finite values in patches_pred and pred_amp = 0."""
    art = inp.artifacts
    counts = {name: nonfinite_count(art[name]) for name in ("patches_pred", "pred_amp")}
    total = sum(counts.values())
    text = ("predicted patches and amplitudes are finite" if total == 0
            else f"{counts['patches_pred']} patch and {counts['pred_amp']} amplitude values are nan or inf")
    return result(total, 0, 0, total == 0, text, counts=counts)


def stitch_finite_check(inp: CheckInput) -> CheckResult:
    """A-7 (stitch): number of non-finite canvas pixels = 0."""
    count = nonfinite_count(inp.artifacts["canvas"])
    text = "the stitched canvas is finite" if count == 0 else f"{count} canvas pixels are nan or inf"
    return result(count, 0, 0, count == 0, text)


def chain_product_check(inp: CheckInput) -> CheckResult:
    """A-8 (report): full_chain_product = Π stage-mean ratios = mean(truth)/mean(raw diffraction)."""
    chain = inp.artifacts["metrics"]["full_chain_product"]
    product, telescoped = float(chain["product"]), float(chain["telescoped"])
    passed = relative(product, telescoped) <= CHAIN_TOLERANCE
    text = (f"stage-mean chain product {product:.4g} = mean(truth)/mean(raw diffraction) = {telescoped:.4g}: "
            "fixed at simulate, it carries no symmetry information")
    return result(product, telescoped, CHAIN_TOLERANCE, passed, text, ratios=chain.get("ratios"))


def phase_check(inp: CheckInput) -> CheckResult:
    """A-9 (report): phase_mae = mean|wrap(arg canvas − circular mean)| on Cov against truth phase 0, ≤ 0.1 rad."""
    phase = float(inp.artifacts["metrics"]["phase_mae"])
    passed = phase <= PHASE_MAE_LIMIT
    text = (f"reconstructed phase deviates by {phase:.3f} rad on average from the flat truth phase"
            + ("" if passed or polar(inp) else "; with combine=rect it is atan(φ/A), not a phase"))
    return result(phase, 0.0, PHASE_MAE_LIMIT, passed, text)


@hookimpl
def harness_register_checks() -> list[CheckSpec]:
    """A-1 … A-9."""
    rect = {"combine": ("rect",)}
    metrics = ("metrics",)
    return [
        CheckSpec("A-1", "amplitude", "evaluate", "error", scale_check, "amplitude_tolerance",
                  "reconstruction / truth = expected_scale on unsaturated covered pixels",
                  known_breaks={"prediction_scale": ("recorded", "least_squares"), "eval_registration": ("off",)},
                  report_only_in=SMOKE, requires=metrics, conventions=("amplitude_tolerance",)),
        CheckSpec("A-2", "amplitude", "evaluate", "error", coverage_check, "present",
                  "coverage_fraction reported beside amplitude and pearson numbers", requires=metrics),
        CheckSpec("A-3@scale", "amplitude", "scale", "warn", saturation_forecast_check, SATURATION_WARNING,
                  "forecast: truth the sigmoid cap cannot represent", requires=("Y_obj_grouped.infer", "expected_scale")),
        CheckSpec("A-3@evaluate", "amplitude", "evaluate", "warn", saturation_check, SATURATION_WARNING,
                  "covered truth the sigmoid cap cannot represent", requires=metrics),
        CheckSpec("A-4@infer", "amplitude", "infer", "error", patch_modulus_check, MODULUS_TOLERANCE,
                  "predicted patches obey |O| ≤ 1", known_breaks=rect,
                  requires=("patches_pred", "coords_relative.infer", "model_config")),
        CheckSpec("A-4@stitch", "amplitude", "stitch", "error", canvas_modulus_check, MODULUS_TOLERANCE,
                  "stitched canvas obeys |O| ≤ 1", known_breaks=rect, requires=("canvas", "model_config")),
        CheckSpec("A-5", "amplitude", "evaluate", "warn", correlation_check, PEARSON_MINIMUM,
                  "pearson_r on covered registered pixels (proposed threshold)",
                  known_breaks={"eval_registration": ("off",)}, report_only_in=SMOKE, requires=metrics),
        CheckSpec("A-6", "amplitude", "evaluate", "error", legacy_scale_check, LEGACY_SCALE_TOLERANCE,
                  "the legacy evaluation's mean scale adjustment equals 1/expected_scale", report_only_in=SMOKE,
                  requires=(*metrics, "expected_scale"), conventions=("object_scale",)),
        CheckSpec("A-7@train", "amplitude", "train", "error", training_finite_check, 0,
                  "training history is finite", known_breaks=NONFINITE_BREAKS,
                  requires=("history", "nonfinite_first_epoch")),
        CheckSpec("A-7@infer", "amplitude", "infer", "error", infer_finite_check, 0,
                  "predictions are finite", known_breaks=NONFINITE_BREAKS, requires=("patches_pred", "pred_amp")),
        CheckSpec("A-7@stitch", "amplitude", "stitch", "error", stitch_finite_check, 0,
                  "stitched canvas is finite", known_breaks=NONFINITE_BREAKS, requires=("canvas",)),
        CheckSpec("A-8", "amplitude", "evaluate", "info", chain_product_check, CHAIN_TOLERANCE,
                  "report: stage-mean chain product telescopes", requires=metrics),
        CheckSpec("A-9", "amplitude", "evaluate", "info", phase_check, PHASE_MAE_LIMIT,
                  "report: phase error against the flat truth phase", known_breaks=rect, report_only_in=SMOKE,
                  requires=metrics),
    ]
