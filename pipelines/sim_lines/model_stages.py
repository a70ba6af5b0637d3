"""sim_lines stages `train` to `evaluate` (spec 3.10-3.13): the model is configured from the store.

The original builds its model from the global store; with `config_bridge=off` that store still
holds the simulation-time probe values (CONFIG-001), which this module reproduces by reading the
store the group stage left, through a TracedStore.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from pipelines import pinn_stages
from pipelines.config_trace import TracedStore
from pipelines.physics.model import LossConfig, ModelConfig
from pipelines.physics.probe import normalize_probe, probe_mask
from pipelines.physics.stitching import shift_and_sum
from pipelines.sim_lines import config as slc

TRAIN_READS = ("n_filters_scale", "object.big", "probe.big", "probe.mask", "pad_object", "amp_activation",
               "gaussian_smoothing_sigma", "intensity_scale.trainable", "probe.trainable", "mae_weight",
               "nll_weight", "realspace_weight", "realspace_mae_weight", "tv_weight", "offset",
               "max_position_jitter", "probe_scale", "nepochs", "batch_size")


def model_setup(ctx, store: dict, channels: int, log_scale_init: float) -> tuple[ModelConfig, LossConfig, TracedStore]:
    """The ModelConfig and loss the original builds from the store at train (spec 3.1.2 reads, 3.10)."""
    reads = TracedStore("train", store)
    values = reads.read_all(TRAIN_READS)
    n = reads["N"]
    if ctx.knobs["config_bridge"] == "off_all":
        reads["gridsize"]  # the stale store value the original used; the grouping already applied it
    gridsize = reads.note("gridsize", int(math.isqrt(channels)))
    padded = reads.note("padded_size", slc.padded_size(store, gridsize))
    reads.note("nphotons", store["nphotons"])
    realspace = ctx.knobs["realspace"] == "d6a"
    model = ModelConfig(
        N=n, gridsize=gridsize, n_filters_scale=values["n_filters_scale"],
        decoder_widths=tuple(ctx.knobs["decoder_widths"]),
        amp_head_channels=None if ctx.knobs["amp_head_channels"] == "C" else 1,
        probe_big=values["probe.big"], probe_mask=values["probe.mask"], pad_object=values["pad_object"],
        padded_size=padded, combine=ctx.knobs["combine"], reassembly_batching=ctx.knobs["reassembly_batching"],
        reassembly_norm_eps=float(ctx.knobs["reassembly_norm_eps"]), border_mask_on_big=True,
        log_scale_init=float(log_scale_init), amp_activation=values["amp_activation"],
    )
    loss = LossConfig(nll_form=ctx.knobs["nll_form"], nll_weight=values["nll_weight"], mae_weight=values["mae_weight"],
                      realspace_weight=0.1 if realspace else values["realspace_weight"],
                      realspace_mae_weight=1.0 if realspace else values["realspace_mae_weight"],
                      tv_weight=values["tv_weight"])
    return model, loss, reads


def train(ctx, config: dict, sl_store_group: dict, probe: np.ndarray, object: np.ndarray, X_train: np.ndarray,
          coords_relative_train: np.ndarray, coords_offsets_train: np.ndarray, Y_obj_grouped_train: np.ndarray,
          intensity_scale: np.ndarray, log_scale_init: np.ndarray) -> dict[str, Any]:
    """Build the model from the store (P_model re-normalised with the store's probe_scale) and fit it."""
    model, loss, reads = model_setup(ctx, sl_store_group, X_train.shape[-1], float(log_scale_init))
    model_probe, _ = normalize_probe(probe, reads["probe_scale"], probe_mask(model.N))
    epochs = config["nepochs"] if ctx.knobs["nepochs"] == "profile" else int(ctx.knobs["nepochs"])
    truth = pinn_stages.group_truth_canvases(object, np.zeros(len(X_train), dtype=np.int64),
                                             coords_offsets_train[:, 0, :, 0], model.padded_size)
    outputs = pinn_stages.train(ctx, model, model_probe, X_train, coords_relative_train, float(intensity_scale),
                                epochs=epochs, batch_size=config["batch_size"], loss=loss,
                                y_obj_grouped=Y_obj_grouped_train, truth_canvases=truth)
    outputs["config_trace.train"] = reads.trace()
    return outputs


def infer(ctx, sl_store_group: dict, model_config: dict, model_probe: np.ndarray, weights: list,
          intensity_scale_final: np.ndarray, X_infer: np.ndarray, coords_relative_infer: np.ndarray) -> dict[str, Any]:
    """Load the bundle and reconstruct the infer grouping (spec 3.11).

    The original bridges the inference config (knob config_bridge=on) and then loads the bundle,
    which restores the store as it was at training; either way the model reads the training store,
    stale values included, and the adapter sets gridsize from the number of input channels.
    """
    reads = TracedStore("infer", sl_store_group)
    reads.read_all(("N", "probe_scale", "probe.big", "probe.mask", "nphotons"))
    reads.note("gridsize", int(math.isqrt(X_infer.shape[-1])))
    reads.note("padded_size", model_config["padded_size"])
    reads.note("intensity_scale", float(intensity_scale_final))
    outputs = pinn_stages.infer(ctx, model_config, model_probe, weights, X_infer, coords_relative_infer,
                                float(intensity_scale_final))
    outputs["config_trace.infer"] = reads.trace()
    return outputs


def stitch(ctx, config: dict, patches_pred: np.ndarray, coords_offsets_infer: np.ndarray) -> dict[str, Any]:
    """Shift-and-sum of the central M x M on a canvas centred on the scan centroid (spec 3.12.2)."""
    stitched = shift_and_sum(patches_pred, coords_offsets_infer, config["reassemble_M"])
    return {"canvas": stitched.canvas, "coverage": stitched.coverage, "canvas_origin": stitched.canvas_origin}


def evaluate(ctx, object: np.ndarray, canvas: np.ndarray, coverage: np.ndarray, canvas_origin: np.ndarray,
             expected_scale: np.ndarray, patches_pred: np.ndarray, intensity_scale_final: np.ndarray,
             diffraction: np.ndarray, diffraction_grouped_infer: np.ndarray, X_infer: np.ndarray) -> dict[str, Any]:
    """Metrics against the one lines object (it is both simulation object and truth; spec 3.13)."""
    chain = {"raw": float(np.mean(diffraction)), "grouped": float(np.mean(diffraction_grouped_infer)),
             "normalised": float(np.mean(X_infer))}
    return pinn_stages.evaluate(canvas, coverage, canvas_origin, object[0], float(expected_scale), patches_pred,
                                registration=ctx.knobs["eval_registration"],
                                prediction_scale=ctx.knobs["prediction_scale"],
                                recorded_scale=float(intensity_scale_final), chain=chain)
