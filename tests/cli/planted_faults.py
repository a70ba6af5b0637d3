"""One-file variants of both reference pipelines, each with one realistic fault planted at one stage.

Loaded with `-p tests/cli/planted_faults.py`; it imports from `harness` only, as a user's plugin would.
Each variant is named `<base>__<fault>`; FAULTS gives the stage and category where it must surface,
DATA_VS_NETWORK two faults the oracle must tell apart (one in the data, one in the network path).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from harness import derive, hookimpl

BASES = ("sim_lines", "dose_legacy")


def probe_off_by_five_percent(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """A normalisation that forgets part of the mask: the probe comes out 5% too bright."""
    out = dict(base(ctx, **inputs))
    out["probe"] = (out["probe"] * np.float32(1.05)).astype(out["probe"].dtype)
    return out


def rolled_probe_in_simulation(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """The forward model illuminates with the probe shifted by one pixel: energy and photon budget unchanged."""
    return base(ctx, **{**inputs, "probe": np.roll(inputs["probe"], 1, axis=1)})


def centre_from_first_channel(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """Group centres taken from the first channel instead of the mean of the channels."""
    out = dict(base(ctx, **inputs))
    for grouping in ("train", "infer"):
        nn = out[f"coords_nn.{grouping}"]
        centre = nn[..., :1] + 0.5
        out[f"coords_offsets.{grouping}"] = centre
        out[f"coords_relative.{grouping}"] = centre - nn
    return out


def double_gain(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """The model input scaled twice: X and its gain doubled."""
    out = dict(base(ctx, **inputs))
    for grouping in ("train", "infer"):
        out[f"X.{grouping}"] = out[f"X.{grouping}"] * np.float32(2.0)
        out[f"gain.{grouping}"] = out[f"gain.{grouping}"] * 2.0
    return out


def scale_ten_percent_high(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """The intensity scale computed 10% too high (and the scaler started from it)."""
    out = dict(base(ctx, **inputs))
    out["intensity_scale"] = np.float32(out["intensity_scale"] * 1.1)
    out["log_scale_init"] = np.float32(np.log(out["intensity_scale"]))
    return out


def rescaled_predictions(factor: float) -> Callable[..., dict[str, Any]]:
    """An infer stage whose predicted object is scaled by `factor` after the network (a leftover calibration factor)."""
    def infer(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
        out = dict(base(ctx, **inputs))
        out["patches_pred"] = (out["patches_pred"] * np.float32(factor)).astype(out["patches_pred"].dtype)
        return out

    infer.__doc__ = f"The predicted object scaled by {factor} after the network (a leftover calibration factor)."
    return infer


def origin_off_by_one_and_a_half(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """The canvas origin recorded 1.5 px off in y: every later registration misplaces the object."""
    out = dict(base(ctx, **inputs))
    out["canvas_origin"] = np.asarray(out["canvas_origin"], dtype=np.float64) + np.array([1.5, 0.0])
    return out


def transposed_scan(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """Scan positions written as [y, x] instead of [x, y]."""
    out = dict(base(ctx, **inputs))
    out["positions"] = np.ascontiguousarray(out["positions"][:, ::-1])
    return out


def scan_shuffled_after_simulation(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """The patterns (and their crops) reordered within each image after simulation: positions no longer match them."""
    out = dict(base(ctx, **inputs))
    images = np.asarray(inputs.get("image_index", np.zeros(len(inputs["positions"]), dtype=np.int64)))
    order = np.arange(images.size)
    rng = ctx.rng("planted.shuffle")
    for image in np.unique(images):
        rows = np.flatnonzero(images == image)
        order[rows] = rng.permutation(rows)
    for name in ("Y_obj", "exit_energy", "diffraction_clean", "diffraction"):
        out[name] = out[name][order]
    return out


FAULTS: dict[str, tuple[str, str, Any]] = {
    "probe": ("probe", "normalization", probe_off_by_five_percent),
    "simulate": ("simulate", "normalization", rolled_probe_in_simulation),
    "group": ("group", "offsets", centre_from_first_channel),
    "normalize": ("normalize", "normalization", double_gain),
    "scale": ("scale", "normalization", scale_ten_percent_high),
    "infer": ("infer", "amplitude", rescaled_predictions(0.95)),
    "stitch": ("stitch", "offsets", origin_off_by_one_and_a_half),
    "scan": ("scan", "offsets", transposed_scan),
}
"""fault name → (stage it is planted at, category it breaks, replacement stage function)."""

DATA_VS_NETWORK: dict[str, tuple[str, Any]] = {
    "predictions_halved": ("infer", rescaled_predictions(0.5)),
    "shuffled_scan": ("simulate", scan_shuffled_after_simulation),
}
"""Faults for the oracle's verdict (tests/plugins/oracle), run to evaluate: fault name → (stage, replacement).
One lies in the network path after normalize (the data the oracle reads stay intact), one in the data."""


@hookimpl
def harness_register_pipelines() -> list[Any]:
    planted = {**{fault: (stage, func) for fault, (stage, _, func) in FAULTS.items()}, **DATA_VS_NETWORK}
    return [derive(base, f"{base}__{fault}", stages={stage: func}, description=func.__doc__)
            for base in BASES for fault, (stage, func) in planted.items()]
