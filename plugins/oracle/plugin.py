"""Check ORACLE-1 at `evaluate`: the oracle's reconstruction, scored like the PINN's, and a "data vs network" verdict.

The oracle reconstructs the test image of a side from that side's diffraction, probe and positions
(plugins/oracle/engine.py): the image of the first test pattern, from every pattern of that image (dose_legacy:
its test image's grid regions; sim_lines: its one image). Its amplitude is scored with the same functions and
registration knob as the PINN's (pipelines.physics.metrics.evaluate_registered), against the same truth, with
the scale that image's diffraction was simulated at: 1/object_norm of the test set (dose_legacy divides each
set by its own norm_Y_I; sim_lines' norm is 1). Then:

- oracle reconstructs, PINN does not  → "network" (the data can be inverted; the PINN path loses it);
- oracle fails too                    → "data" (diffraction, probe and positions do not agree);
- both reconstruct                    → "both".

Without ground truth (object all-NaN or absent) the oracle's amplitude is the reference the PINN's
canvas is scored against instead.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from harness import CheckSpec, hookimpl
from harness.records import CheckInput, CheckResult
from pipelines.physics import metrics as physics
from plugins.checks.amplitude import PEARSON_MINIMUM
from plugins.checks.common import object_norm_of, result, scalar

ORACLE_ERROR_LIMIT = 0.15
ORACLE_PEARSON_MINIMUM = 0.6
COVERED = 0.1
DEFAULT_AMPLITUDE_TOLERANCE = 0.2

__all__ = ["amplitude_error", "oracle_check", "oracle_metrics", "verdict"]


def amplitude_error(scores: Mapping[str, Any], truth_amp: np.ndarray) -> float:
    """mean |p/expected_scale − t| over the covered pixels relative to the mean truth amplitude."""
    mean_truth = float(np.mean(np.abs(truth_amp)))
    return float(scores["mae_scaled"]) / mean_truth if mean_truth > 0 else math.nan


def oracle_metrics(estimate: np.ndarray, coverage: np.ndarray, truth_amp: np.ndarray, expected_scale: float,
                   registration: str) -> dict[str, Any]:
    """The harness metrics of the oracle's estimate (on the object grid, origin 0) plus its amplitude_error."""
    scores = physics.evaluate_registered(registration, estimate, (coverage > COVERED).astype(np.float64),
                                         np.zeros(2), truth_amp, expected_scale)
    scores["amplitude_error"] = amplitude_error(scores, truth_amp)
    return scores


def pinn_reconstructs(pinn: Mapping[str, Any], tolerance: float) -> bool:
    """A-1 and pearson of the PINN's own metrics: scale within the side's tolerance and pearson ≥ 0.8."""
    pearson, scale = float(pinn.get("pearson_r", math.nan)), float(pinn.get("scale_error_unsaturated", math.nan))
    return pearson >= PEARSON_MINIMUM and abs(scale) <= tolerance


def verdict(oracle: Mapping[str, Any], pinn: Mapping[str, Any], tolerance: float) -> tuple[str, str]:
    """("data" | "network" | "both", the sentence that says why) from the oracle's and the PINN's metrics."""
    error, pearson = float(oracle["amplitude_error"]), float(oracle["pearson_r"])
    said = (f"the PINN's A-1 scale error {float(pinn.get('scale_error_unsaturated', math.nan)):+.3f}, "
            f"pearson {float(pinn.get('pearson_r', math.nan)):.3f}")
    if not (error <= ORACLE_ERROR_LIMIT and pearson >= ORACLE_PEARSON_MINIMUM):
        return "data", (f"data: the oracle fails too (error {error:.3f}, pearson {pearson:.3f}): diffraction, probe "
                        f"and positions do not determine this object ({said})")
    if not pinn_reconstructs(pinn, tolerance):
        return "network", (f"network: the oracle reconstructs to error {error:.3f} (pearson {pearson:.3f}) while "
                           f"{said}: the data can be inverted, the network path loses it")
    return "both", f"both: the oracle reconstructs to error {error:.3f} and so does the PINN ({said})"


def side_data(art: Mapping[str, Any]) -> tuple[int, np.ndarray]:
    """The image the side evaluates (that of its test patterns) and the mask of that image's patterns."""
    image_index = np.asarray(art["image_index"])
    image = int(image_index[np.asarray(art["test_idx"])[0]])
    return image, image_index == image


def has_truth(art: Mapping[str, Any], image: int) -> bool:
    """Whether the side carries a ground-truth object (real data stores none, or all NaN)."""
    return "object" in art and bool(np.isfinite(np.asarray(art["object"])[image]).any())


def oracle_check(inp: CheckInput) -> CheckResult:
    """ORACLE-1: the oracle's amplitude error and the data-vs-network verdict (or the PINN against the oracle)."""
    art = inp.artifacts
    image, mine = side_data(art)
    probe = np.asarray(art["probe"])
    shape = tuple(np.asarray(art["object"]).shape[-2:]) if "object" in art else tuple(np.asarray(art["canvas"]).shape)
    from plugins.oracle.cache import cached_reconstruction  # PtyLab takes 2.4 s to import: only when a check runs

    oracle = cached_reconstruction(np.asarray(art["diffraction"])[mine], probe,
                                   np.asarray(art["positions"], dtype=np.float64)[mine], shape)
    registration = str(inp.knobs.get("eval_registration", "bookkeeping"))
    object_scale = 1.0 / object_norm_of(inp, "infer")  # the reconstructed image belongs to the infer (test) set
    pinn = art["metrics"]
    if not has_truth(art, image):
        return reference_result(inp, oracle.object, object_scale, registration)
    truth_amp = np.abs(np.asarray(art["object"])[image]).astype(np.float64)
    scores = oracle_metrics(oracle.object, oracle.coverage, truth_amp, object_scale, registration)
    tolerance = float(inp.conventions.get("amplitude_tolerance", DEFAULT_AMPLITUDE_TOLERANCE))
    label, text = verdict(scores, pinn, tolerance)
    return result(scores["amplitude_error"], 0.0, ORACLE_ERROR_LIMIT, label == "both", text, verdict=label,
                  oracle_pearson_r=scores["pearson_r"], oracle_scale_error=scores["scale_error"],
                  oracle_coverage_fraction=scores["coverage_fraction"], pinn_pearson_r=pinn.get("pearson_r"),
                  pinn_scale_error_unsaturated=pinn.get("scale_error_unsaturated"), registration=registration)


def reference_result(inp: CheckInput, estimate: np.ndarray, object_scale: float, registration: str) -> CheckResult:
    """No ground truth: the PINN's canvas scored against the oracle's amplitude (in object units) as the reference."""
    art = inp.artifacts
    reference = np.abs(estimate).astype(np.float64) / object_scale
    scores = physics.evaluate_registered(registration, np.asarray(art["canvas"]), np.asarray(art["coverage"]),
                                         np.asarray(art["canvas_origin"]), reference, scalar(art["expected_scale"]))
    pearson = float(scores["pearson_r"])
    passed = pearson >= PEARSON_MINIMUM
    text = (f"reference: no ground truth; against the oracle's reconstruction the PINN has pearson {pearson:.3f}, "
            f"A-1 scale error {float(scores['scale_error_unsaturated']):+.3f}")
    return result(pearson, 1.0, PEARSON_MINIMUM, passed, text, verdict="reference", reference_metrics=scores)


REQUIRES = ("diffraction", "probe", "positions", "image_index", "test_idx", "object_norm", "canvas", "coverage",
            "canvas_origin", "expected_scale", "metrics")


@hookimpl
def harness_register_checks() -> list[CheckSpec]:
    """ORACLE-1 at evaluate (info: it explains a bad reconstruction, it never breaks a run)."""
    return [CheckSpec("ORACLE-1", "amplitude", "evaluate", "info", oracle_check, tolerance=ORACLE_ERROR_LIMIT,
                      description="data vs network: an independent PtyLab ePIE reconstruction of the side's data, "
                                  "scored like the PINN's", requires=REQUIRES)]
