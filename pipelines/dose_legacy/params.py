"""The legacy global parameter dictionary (spec 3.1.1), written and read the way the dose study did.

The original keeps one module-level dictionary that the notebook's `init(nphotons, loss_fn)` and
`execute(nphotons)` write, and that every module reads. This module keeps that shape: `cfg` is
module state, `init`/`execute` write it in the original order, and stages restore it from the
`config` artifact (each side runs in its own process, and cached stages must not depend on writes
made by stages that did not run).
"""
from __future__ import annotations

from typing import Any, Mapping

from pipelines.physics.scan import derived_sizes
from pipelines.scenarios import N, NPHOTONS, OBJECT_SIZE, OFFSET, Scenario

DEFAULTS: dict[str, Any] = {
    "N": N,
    "offset": OFFSET,
    "gridsize": 2,
    "outer_offset_train": None,
    "outer_offset_test": None,
    "batch_size": 16,
    "nepochs": 60,
    "n_filters_scale": 2,
    "max_position_jitter": 10,
    "sim_jitter_scale": 0.0,
    "default_probe_scale": 0.7,
    "mae_weight": 0.0,
    "nll_weight": 1.0,
    "tv_weight": 0.0,
    "realspace_mae_weight": 0.0,
    "realspace_weight": 0.0,
    "nphotons": NPHOTONS,
    "nimgs_train": 9,
    "nimgs_test": 3,
    "data_source": "lines",
    "probe.trainable": False,
    "intensity_scale.trainable": False,
    "positions.provided": False,
    "object.big": True,
    "probe.big": False,
    "probe_scale": 10.0,
    "set_phi": False,
    "probe.mask": True,
    "pad_object": True,
    "size": OBJECT_SIZE,
    "amp_activation": "sigmoid",
    "gaussian_smoothing_sigma": 0.0,
}
"""dose_experiments `params.py` defaults (spec 3.1.1, table column "default")."""

PROFILES: dict[str, dict[str, int]] = {
    "full": {"nimgs_train": 2, "nimgs_test": 2, "outer_offset_train": 8, "outer_offset_test": 20, "batch_size": 16, "nepochs": 60},
    "stable": {"nimgs_train": 1, "nimgs_test": 1, "outer_offset_train": 24, "outer_offset_test": 20, "batch_size": 16, "nepochs": 5},
    "smoke": {"nimgs_train": 1, "nimgs_test": 1, "outer_offset_train": 92, "outer_offset_test": 64, "batch_size": 16, "nepochs": 1},
}
"""Counts per profile (spec 4.2); the full profile is the dose notebook's own."""

cfg: dict[str, Any] = {}
"""The module-level parameter dictionary, as in the original."""


def reset() -> None:
    cfg.clear()
    cfg.update(DEFAULTS)


def init(nphotons: float, loss_fn: str) -> None:
    """`notebooks/dose.py init`: photon dose, loss weights, dose-study sizes; jitter 3 until execute."""
    cfg["nphotons"] = float(nphotons)
    if loss_fn == "mae":
        cfg["mae_weight"], cfg["nll_weight"] = 1.0, 0.0
    else:
        cfg["mae_weight"], cfg["nll_weight"] = 0.0, 1.0
    cfg["nimgs_train"], cfg["nimgs_test"] = 2, 2
    cfg["outer_offset_train"], cfg["outer_offset_test"] = 8, 20
    cfg["intensity_scale.trainable"] = True
    cfg["max_position_jitter"] = 3


def execute(nphotons: float, max_position_jitter: int = 10) -> None:
    """`notebooks/dose.py execute`: resets the jitter to 10 (knob L4 = 3 keeps init's value)."""
    cfg["nphotons"] = float(nphotons)
    cfg["max_position_jitter"] = max_position_jitter


def apply_scenario(scenario: Scenario) -> None:
    """The scenario keys: gridsize, probe.big, probe.mask and probe_scale (spec 3.1.1 / 4.1)."""
    cfg["gridsize"] = scenario.gridsize
    cfg["probe.big"] = scenario.probe_big
    cfg["probe.mask"] = scenario.probe_mask
    cfg["probe_scale"] = scenario.probe_scale


def apply_profile(profile: str) -> None:
    """Counts only (spec 4.2): images, strides, batch size and epochs."""
    cfg.update(PROFILES[profile])


def configure(scenario: Scenario, profile: str, nphotons: float, loss_fn: str, max_position_jitter: int) -> dict[str, Any]:
    """The whole write sequence of a dose run, returning a copy of the final dictionary."""
    reset()
    init(nphotons, loss_fn)
    execute(nphotons, max_position_jitter)
    apply_scenario(scenario)
    apply_profile(profile)
    return dict(cfg)


def restore(values: Mapping[str, Any]) -> None:
    """Put a stored configuration back into the module dictionary (what later stages read)."""
    cfg.clear()
    cfg.update({key: value for key, value in values.items() if key in DEFAULTS})


def derived(values: Mapping[str, Any]) -> dict[str, Any]:
    """bigN, padded_size, padding_size, C and the closed-form scale of the configuration (spec 3.1)."""
    sizes = derived_sizes(values["N"], values["gridsize"], values["offset"], values["max_position_jitter"])
    sizes["closed_form_scale"] = float(values["nphotons"]) ** 0.5 / (values["N"] / 2)
    return sizes
