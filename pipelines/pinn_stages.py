"""The model stages both pipelines share: train (spec 3.10), infer (3.11) and evaluate (3.13).

Each pipeline decides *what* the model is (its ModelConfig, probe, loss and counts, from its own
conventions and parameter store); these functions do the work the same way for both, so the two
sides differ only where the originals did.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Mapping

import numpy as np

from pipelines.physics import metrics
from pipelines.physics.model import LossConfig, ModelConfig
from pipelines.physics.patches import bilinear_patches

ROUNDTRIP_GROUPS = 64
"""Groups fed through the model's reassembly for checks O-7a/O-7b (a diagnostic, not training)."""


def group_truth_canvases(images: np.ndarray, image_of_group: np.ndarray, centres: np.ndarray,
                         padded_size: int) -> np.ndarray:
    """Object on each group's padded canvas: pixel [P/2+dy, P/2+dx] samples (ȳ_b+dy, x̄_b+dx) (O-7a).

    `centres` (B, 2) [x, y] are the group centres of the groups as ordered in the training arrays.
    """
    out = np.empty((len(centres), padded_size, padded_size), dtype=np.complex64)
    for image in np.unique(image_of_group):
        chosen = image_of_group == image
        out[chosen] = bilinear_patches(images[image], centres[chosen], padded_size)
    return out


def reassembly_roundtrip(patches: np.ndarray, coords_relative: np.ndarray, truth: np.ndarray,
                         config: ModelConfig) -> dict[str, Any]:
    """O-7a/O-7b through the model's own reassembly: canvas vs truth where the normaliser >= 1, and the
    re-extracted channels vs the input patches on their central N/2 x N/2."""
    from pipelines.physics.model.layers import central_mask
    from pipelines.physics.model.reassembly import extract_patches, masked_patches, reassemble_patches

    patches, coords, truth = patches[:ROUNDTRIP_GROUPS], coords_relative[:ROUNDTRIP_GROUPS], truth[:ROUNDTRIP_GROUPS]
    canvas, normaliser = reassemble_patches(masked_patches(patches), coords, config.padded_size,
                                            config.reassembly_norm_eps, "per_sample")
    valid = normaliser >= 1.0
    extracted = extract_patches(canvas, coords, config.N)
    centre = central_mask(config.N).astype(bool)
    return {
        "o7a_rel_rms": _relative_rms(canvas[valid], truth[valid]),
        "o7b_rel_rms": _relative_rms(np.moveaxis(extracted, 3, 1)[:, :, centre], np.moveaxis(patches, 3, 1)[:, :, centre]),
        "n_pixels": int(valid.sum()),
        "n_groups": int(len(patches)),
    }


def _relative_rms(measured: np.ndarray, reference: np.ndarray) -> float:
    reference = reference.astype(np.complex128)
    denominator = np.sqrt(np.mean(np.abs(reference) ** 2))
    return float(np.sqrt(np.mean(np.abs(measured.astype(np.complex128) - reference) ** 2)) / denominator)


def train(ctx, config: ModelConfig, probe: np.ndarray, x: np.ndarray, coords_relative: np.ndarray,
          intensity_scale: float, *, epochs: int, batch_size: int, loss: LossConfig, y_obj_grouped: np.ndarray,
          truth_canvases: np.ndarray) -> dict[str, Any]:
    """Fit the PINN on the train grouping (seeded from the `tf` stream) and emit the 3.10.4 artifacts."""
    from pipelines.physics.model.live import remember
    from pipelines.physics.model.training import train_model

    def on_epoch(epoch: int, total: int, logs: Mapping[str, float]) -> None:
        ctx.progress.update(epoch=epoch, epochs=total, loss=float(logs.get("loss", np.nan)))
        ctx.log.info(f"epoch {epoch}/{total}: loss {logs.get('loss', np.nan):.6g}, val_loss {logs.get('val_loss', np.nan):.6g}")

    ctx.device.tensorflow()
    record = train_model(config, probe, x, coords_relative, intensity_scale, epochs=epochs, batch_size=batch_size,
                         seed=ctx.seed("tf"), loss=loss, y_obj_grouped=y_obj_grouped, device=ctx.device,
                         on_epoch=on_epoch)
    model_probe = np.asarray(probe, dtype=np.complex64)
    remember(record.models, model_probe, record.weights)
    return {
        "history": record.history,
        "log_scale_final": np.float32(record.log_scale_final),
        "intensity_scale_final": np.float32(record.intensity_scale_final),
        "param_count": record.param_count,
        "deviance_per_pixel": np.float64(record.deviance_per_pixel),
        "weights": record.weights,
        "nonfinite_first_epoch": record.nonfinite_first_epoch,
        "model_probe": model_probe,
        "model_config": {**asdict(config), "device": ctx.device.record()},
        "reassembly_roundtrip": reassembly_roundtrip(y_obj_grouped, coords_relative, truth_canvases, config),
    }


def model_config_from(record: Mapping[str, Any]) -> ModelConfig:
    """The ModelConfig stored by `train` (its artifact also carries the device record)."""
    fields = {key: value for key, value in record.items() if key != "device"}
    return ModelConfig(**fields)


def infer(ctx, model_config: Mapping[str, Any], model_probe: np.ndarray, weights: list[np.ndarray], x: np.ndarray,
          coords_relative: np.ndarray, intensity_scale: float) -> dict[str, Any]:
    """The trained model from its weights (the bundle; the live one when `train` ran in this process) on the
    infer grouping, batch 32."""
    from pipelines.physics.model.live import models_for
    from pipelines.physics.model.training import predict_patches

    ctx.device.tensorflow()
    models = models_for(model_config_from(model_config), model_probe, weights, seed=ctx.seed("tf"), device=ctx.device)
    patches, amplitude = predict_patches(models, x, coords_relative, intensity_scale)
    return {"patches_pred": patches, "pred_amp": amplitude}


def evaluate(canvas: np.ndarray, coverage: np.ndarray, canvas_origin: np.ndarray, truth: np.ndarray,
             expected_scale: float, patches_pred: np.ndarray, *, registration: str, prediction_scale: str,
             recorded_scale: float, chain: Mapping[str, float]) -> dict[str, Any]:
    """Harness metrics on covered, registered pixels (3.13.1) plus the original-style sets (3.13.2)."""
    truth_amp = np.abs(truth).astype(np.float64)
    factor = metrics.prediction_scale_factor(prediction_scale, canvas, truth_amp, recorded_scale)
    scaled = metrics.apply_prediction_scale(canvas, factor)
    results = metrics.evaluate_registered(registration, scaled, coverage, canvas_origin, truth_amp, expected_scale,
                                          patches_pred)
    on_canvas = metrics.truth_on_canvas(truth_amp, canvas.shape, canvas_origin)
    covered = (coverage > 0.5) & np.isfinite(scaled)
    results["prediction_scale"] = {"mode": prediction_scale, "factor": factor}
    results["legacy_eval"] = metrics.legacy_eval(*_covered_box(scaled, on_canvas, covered))
    results["runner_eval"] = metrics.runner_eval(scaled, truth_amp.astype(np.complex64), coverage)
    results["full_chain_product"] = metrics.full_chain_product(
        {**chain, "prediction": float(np.mean(np.abs(scaled[covered]))) if covered.any() else float("nan"),
         "truth": float(np.mean(truth_amp))})
    return {"truth_on_canvas": on_canvas.astype(np.complex64), "metrics": results}


def _covered_box(canvas: np.ndarray, truth: np.ndarray, covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The covered bounding box of canvas and truth (legacy_eval compares a registered, filled pair)."""
    rows, cols = np.nonzero(covered)
    if rows.size == 0:
        return canvas[:0, :0], truth[:0, :0]
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    return canvas[box], truth[box]
