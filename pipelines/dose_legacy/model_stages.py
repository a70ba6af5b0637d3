"""dose_legacy stages `train` to `evaluate` (spec 3.10-3.13): the study-era model, tiling, evaluation.

The legacy model is built from the module dictionary with the simulation probe (it captured the
store probe at import), one amplitude map broadcast to all channels, the era's decoder widths,
and the TensorFlow-Probability form of the Poisson NLL.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from harness.errors import HarnessError
from pipelines import pinn_stages
from pipelines.config_trace import TracedStore
from pipelines.dose_legacy import params
from pipelines.physics.model import LossConfig, ModelConfig
from pipelines.physics.stitching import stitch_legacy_position, stitch_legacy_tiles

TRAIN_READS = ("N", "gridsize", "offset", "n_filters_scale", "probe.big", "probe.mask", "pad_object",
               "amp_activation", "mae_weight", "nll_weight", "realspace_weight", "realspace_mae_weight", "tv_weight",
               "max_position_jitter", "probe_scale", "nphotons", "nepochs", "batch_size")
ERA_DECODER_WIDTHS = {"study": (256, 128), "tip": (128, 64)}


def model_setup(ctx, config: dict, log_scale_init: float) -> tuple[ModelConfig, LossConfig, TracedStore]:
    """The legacy model and loss from the dictionary and knobs era, decoder_widths (spec 3.10, 5.1)."""
    if ctx.knobs["model_rebuild"] == "stale":
        raise HarnessError("model_rebuild=stale reproduces a model kept across doses in one process; the harness "
                           "runs one dose per run, so this knob cannot be emulated yet")
    params.restore(config)
    reads = TracedStore("train", params.cfg)
    values = reads.read_all(TRAIN_READS)
    padded = reads.note("padded_size", params.derived(params.cfg)["padded_size"])
    era = ctx.knobs["era"]
    widths = ERA_DECODER_WIDTHS[era] if ctx.knobs["decoder_widths"] == "by_era" else tuple(ctx.knobs["decoder_widths"])
    model = ModelConfig(
        N=values["N"], gridsize=values["gridsize"], n_filters_scale=values["n_filters_scale"], decoder_widths=widths,
        amp_head_channels=1, probe_big=values["probe.big"], probe_mask=values["probe.mask"],
        pad_object=values["pad_object"], padded_size=padded, combine="polar", border_mask_on_big=era == "tip",
        log_scale_init=float(log_scale_init), amp_activation=values["amp_activation"],
    )
    loss = LossConfig(nll_form="tfp_sum", nll_weight=values["nll_weight"], mae_weight=values["mae_weight"],
                      realspace_weight=values["realspace_weight"], realspace_mae_weight=values["realspace_mae_weight"],
                      tv_weight=values["tv_weight"])
    return model, loss, reads


def train(ctx, config: dict, probe: np.ndarray, object: np.ndarray, positions: np.ndarray, image_index: np.ndarray,
          train_idx: np.ndarray, nn_indices_train: np.ndarray, X_train: np.ndarray, coords_relative_train: np.ndarray,
          Y_obj_grouped_train: np.ndarray, intensity_scale: np.ndarray, log_scale_init: np.ndarray) -> dict[str, Any]:
    """Fit the study-era model on the shuffled train regions (spec 3.10; the model probe is the simulation probe).

    The shuffle reorders the patterns but not coords_offsets (as in the original), so the O-7 truth
    takes each group's centre from the positions of its own patterns.
    """
    model, loss, reads = model_setup(ctx, config, float(log_scale_init))
    patterns = train_idx[nn_indices_train]
    truth = pinn_stages.group_truth_canvases(object, image_index[patterns[:, 0]], positions[patterns].mean(axis=1),
                                             model.padded_size)
    outputs = pinn_stages.train(ctx, model, probe, X_train, coords_relative_train, float(intensity_scale),
                                epochs=reads["nepochs"], batch_size=reads["batch_size"], loss=loss,
                                y_obj_grouped=Y_obj_grouped_train, truth_canvases=truth)
    outputs["config_trace.train"] = reads.trace()
    return outputs


def infer(ctx, config: dict, model_config: dict, model_probe: np.ndarray, weights: list, intensity_scale: np.ndarray,
          X_infer: np.ndarray, coords_relative_infer: np.ndarray) -> dict[str, Any]:
    """diffraction_to_obj on the test regions in region order, batch 32 (spec 3.11)."""
    params.restore(config)
    reads = TracedStore("infer", params.cfg)
    reads.read_all(("N", "gridsize", "probe_scale", "probe.big", "probe.mask", "nphotons"))
    reads.note("padded_size", model_config["padded_size"])
    outputs = pinn_stages.infer(ctx, model_config, model_probe, weights, X_infer, coords_relative_infer,
                                float(intensity_scale))
    outputs["config_trace.infer"] = reads.trace()
    return outputs


def stitch(ctx, config: dict, derived: dict, patches_pred: np.ndarray, coords_offsets_infer: np.ndarray) -> dict[str, Any]:
    """Tile the central t x t of each test region (spec 3.12.1), or knob L5's position reassembly."""
    nimgs = config["nimgs_test"]
    if ctx.knobs["stitch"] == "position":
        per_image = len(patches_pred) // nimgs
        stitched = stitch_legacy_position(patches_pred[:per_image], coords_offsets_infer[:per_image])
    else:
        stitched = stitch_legacy_tiles(patches_pred, nimgs, config["outer_offset_test"], config["size"],
                                       derived["bigN"], config["gridsize"], config["offset"])
    return {"canvas": stitched.canvas, "coverage": stitched.coverage, "canvas_origin": stitched.canvas_origin,
            "legacy_canvas_stack": stitched.canvas_stack}


def evaluate(ctx, object: np.ndarray, object_role: np.ndarray, canvas: np.ndarray, coverage: np.ndarray,
             canvas_origin: np.ndarray, expected_scale: np.ndarray, patches_pred: np.ndarray,
             intensity_scale: np.ndarray, diffraction: np.ndarray, diffraction_grouped_infer: np.ndarray,
             X_infer: np.ndarray) -> dict[str, Any]:
    """Metrics against the raw test image 0, the legacy ground truth (spec 3.3.2, 3.13)."""
    truth = object[np.flatnonzero(object_role == "test")[0]]
    chain = {"raw": float(np.mean(diffraction)), "grouped": float(np.mean(diffraction_grouped_infer)),
             "normalised": float(np.mean(X_infer))}
    return pinn_stages.evaluate(canvas, coverage, canvas_origin, truth, float(expected_scale), patches_pred,
                                registration="bookkeeping", prediction_scale="none",
                                recorded_scale=float(intensity_scale), chain=chain)
