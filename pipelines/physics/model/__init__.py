"""The physics-informed network of spec 3.10: layers, build, loss, training and inference.

Attributes are loaded lazily (PEP 562): `from pipelines.physics.model import ModelConfig` does not import
TensorFlow; names that need the framework import it on first access.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ModelConfig": "build",
    "ModelConfigError": "build",
    "PinnModels": "build",
    "build_model": "build",
    "param_count": "build",
    "layer_shapes": "build",
    "check_padded_size": "build",
    "seed_framework": "build",
    "intensity_scale_of": "build",
    "LossConfig": "loss",
    "poisson_nll": "loss",
    "deviance_per_pixel": "loss",
    "TrainingRecord": "training",
    "train_model": "training",
    "predict_patches": "training",
    "restore_weights": "training",
    "first_nonfinite_epoch": "training",
    "reassemble_patches": "reassembly",
    "extract_patches": "reassembly",
    "masked_patches": "reassembly",
    "reextraction_coverage": "reassembly",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
