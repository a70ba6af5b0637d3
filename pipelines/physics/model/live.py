"""Trained models kept alive in this process, so `infer` and check A-10 need no rebuild and no retrace.

A side's worker runs train, infer and A-10 one after the other. Rebuilding the network from the stored
weights and tracing its forward pass again cost each of them about a second of a smoke diff whose floor
is the bare training itself. A model is found by the fingerprint of its configuration, probe and weights,
and only while its own weights still hash to that fingerprint (a stage that changed them gets a fresh
build), so a reused model computes exactly what a rebuilt one would.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Sequence

import numpy as np

from harness.store import array_sha256
from pipelines.physics.model.build import ModelConfig, PinnModels, build_model, seed_framework

if TYPE_CHECKING:  # pragma: no cover - typing only
    from harness.device import DeviceHandle

KEPT = 2
"""Models kept at once: the latest side-run's, and one more for a worker that alternates between two."""
_LIVE: dict[str, PinnModels] = {}


def fingerprint(config: ModelConfig, probe: np.ndarray, weights: Sequence[np.ndarray]) -> str:
    """SHA-256 of the configuration and of the store's checksum of the model probe and of every weight."""
    digest = hashlib.sha256(json.dumps(asdict(config), sort_keys=True, default=str).encode())
    for array in (probe, *weights):
        digest.update(array_sha256(np.asarray(array)).encode())
    return digest.hexdigest()


def remember(models: PinnModels, probe: np.ndarray, weights: Sequence[np.ndarray]) -> None:
    """Keep `models` (whose weights are `weights`) for a later stage of this process."""
    _LIVE[fingerprint(models.config, probe, weights)] = models
    while len(_LIVE) > KEPT:
        del _LIVE[next(iter(_LIVE))]


def models_for(config: ModelConfig, probe: np.ndarray, weights: Sequence[np.ndarray], seed: int | None = None,
               device: "DeviceHandle | None" = None) -> PinnModels:
    """The live model with these weights, else one built (seeded as `build_model`) and restored from them.

    The framework is seeded either way, so the process's random state after this call does not depend on
    whether a model was found.
    """
    from pipelines.physics.model.training import restore_weights  # imports TensorFlow

    key = fingerprint(config, probe, weights)
    models = _LIVE.get(key)
    if models is not None and fingerprint(config, probe, models.training.get_weights()) == key:
        if seed is not None:
            seed_framework(seed, device)
        return models
    models = build_model(config, probe, seed=seed, device=device)
    restore_weights(models, list(weights))
    remember(models, probe, weights)
    return models
