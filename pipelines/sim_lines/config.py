"""sim_lines configuration: run parameters, dataclass configs and the bridge into the global store.

The original configures its run with dataclasses (spec 3.1.2) and copies them into PtychoPINN's
global parameter dictionary with `update_legacy_dict`, which writes only non-None values, so stale
values survive (CONFIG-001). The store here is a plain dict passed between stages as an artifact;
`bridge` reproduces the copy rules and `knob config_bridge` decides which bridges happen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from harness.errors import HarnessError
from pipelines.scenarios import N, NPHOTONS, OBJECT_SIZE, Scenario


class ConfigValidationError(HarnessError):
    """A configuration the original's validation rejects (spec 3.1.2 validation rules)."""

    exit_code = 3


@dataclass(frozen=True)
class RunParams:
    """`pipeline.py RunParams` (spec 3.1.2)."""

    N: int = N
    object_size: int = OBJECT_SIZE
    object_seed: int = 42
    sim_seed: int = 42
    buffer: float = 10.0
    split_fraction: float = 0.5
    base_total_images: int = 2000
    group_count: int = 1000
    nphotons: float = NPHOTONS
    neighbor_count: int = 4
    reassemble_M: int = 20
    nepochs: int = 5
    batch_size: int = 16
    group_limit: int | None = None


_GS1 = ("gs1_ideal", "gs1_custom")
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "full": {name: {} for name in ("gs2_ideal", "gs1_ideal", "gs2_custom", "gs1_custom")},
    "stable": {
        "gs1_ideal": {"base_total_images": 512, "group_count": 256, "batch_size": 8, "nepochs": 5, "group_limit": 64},
        "gs1_custom": {"base_total_images": 512, "group_count": 256, "batch_size": 8, "nepochs": 5, "group_limit": 64},
        "gs2_ideal": {"base_total_images": 256, "group_count": 128, "batch_size": 4, "nepochs": 5, "group_limit": 64},
        "gs2_custom": {"base_total_images": 256, "group_count": 64, "batch_size": 4, "nepochs": 5, "group_limit": 64},
    },
    "smoke": {
        name: {"base_total_images": 512 if name in _GS1 else 256, "group_count": 64, "batch_size": 16, "nepochs": 1}
        for name in ("gs2_ideal", "gs1_ideal", "gs2_custom", "gs1_custom")
    },
}
"""Counts per profile and scenario (spec 4.2); conventions never change with the profile."""


def run_params(scenario: Scenario, profile: str) -> RunParams:
    return replace(RunParams(), **PROFILES[profile][scenario.name])


def derive_counts(params: RunParams, gridsize: int, image_multiplier: int = 1, group_multiplier: int = 1) -> dict[str, int]:
    """`pipeline.py derive_counts`: total, train and test images and the group count (spec 3.1.2)."""
    total = params.base_total_images * gridsize * gridsize * image_multiplier
    test_count = round(total * params.split_fraction)
    return {"total_images": total, "train_count": total - test_count, "test_count": test_count,
            "group_count": params.group_count * group_multiplier}


def validate(counts: Mapping[str, int], params: RunParams) -> None:
    """The original's checks on counts, batch size, epochs and dose (spec 3.1.2 validation rules)."""
    problems = []
    if counts["train_count"] != counts["test_count"]:
        problems.append(f"train_count {counts['train_count']} != test_count {counts['test_count']}")
    if counts["group_count"] > min(counts["train_count"], counts["test_count"]):
        problems.append(f"group_count {counts['group_count']} exceeds the split size")
    if params.batch_size <= 0 or params.batch_size & (params.batch_size - 1):
        problems.append(f"batch_size {params.batch_size} is not a positive power of 2")
    if params.nepochs <= 0:
        problems.append(f"nepochs {params.nepochs} must be positive")
    if not params.nphotons > 0:
        problems.append(f"nphotons {params.nphotons} must be positive")
    if problems:
        raise ConfigValidationError("invalid sim_lines configuration: " + "; ".join(problems))


@dataclass(frozen=True)
class ModelConfig:
    """`ptycho/config/config.py ModelConfig` defaults on main."""

    N: int = 64
    gridsize: int = 1
    n_filters_scale: int = 2
    model_type: str = "pinn"
    amp_activation: str = "sigmoid"
    object_big: bool = True
    probe_big: bool = True
    probe_mask: bool = False
    pad_object: bool = True
    probe_scale: float = 4.0
    gaussian_smoothing_sigma: float = 0.0


@dataclass(frozen=True)
class TrainingConfig:
    """`TrainingConfig` defaults on main."""

    model: ModelConfig = field(default_factory=ModelConfig)
    batch_size: int = 16
    nepochs: int = 50
    mae_weight: float = 0.0
    nll_weight: float = 1.0
    realspace_mae_weight: float = 0.0
    realspace_weight: float = 0.0
    nphotons: float = NPHOTONS
    n_groups: int | None = None
    neighbor_count: int = 4
    positions_provided: bool = True
    probe_trainable: bool = False
    intensity_scale_trainable: bool = True
    output_dir: str | None = None


@dataclass(frozen=True)
class InferenceConfig:
    """`InferenceConfig`: the model plus the inference grouping."""

    model: ModelConfig = field(default_factory=ModelConfig)
    n_groups: int | None = None
    neighbor_count: int = 4
    output_dir: str | None = None


STORE_DEFAULTS: dict[str, Any] = {
    "N": 128, "offset": 4, "gridsize": 2, "batch_size": 16, "nepochs": 60, "n_filters_scale": 2,
    "max_position_jitter": 10, "default_probe_scale": 0.7, "mae_weight": 0.0, "nll_weight": 1.0,
    "tv_weight": 0.0, "realspace_mae_weight": 0.0, "realspace_weight": 0.0, "nphotons": NPHOTONS,
    "data_source": "generic", "intensity_scale.trainable": False, "positions.provided": False,
    "object.big": True, "probe.big": False, "probe_scale": 10.0, "set_phi": False, "probe.mask": True,
    "pad_object": True, "amp_activation": "sigmoid", "gaussian_smoothing_sigma": 0.0,
}
"""PtychoPINN main's `params.cfg` defaults, the state of the emulated store before any bridge."""

RENAMES = {
    "object_big": "object.big",
    "probe_big": "probe.big",
    "probe_mask": "probe.mask",
    "probe_trainable": "probe.trainable",
    "intensity_scale_trainable": "intensity_scale.trainable",
    "positions_provided": "positions.provided",
    "output_dir": "output_prefix",
}


def bridge(store: Mapping[str, Any], config: TrainingConfig | InferenceConfig) -> dict[str, Any]:
    """`update_legacy_dict`: flatten the model fields, rename keys, write every non-None value."""
    updated = dict(store)
    flat: dict[str, Any] = {}
    for item in fields(config):
        value = getattr(config, item.name)
        if item.name == "model":
            flat.update({f.name: getattr(value, f.name) for f in fields(value)})
        else:
            flat[item.name] = value
    for key, value in flat.items():
        if value is not None:
            updated[RENAMES.get(key, key)] = value
    return updated


def model_config(scenario: Scenario) -> ModelConfig:
    """The scenario's model flags (spec 3.1.2 scenario flags; custom keeps the class defaults)."""
    return ModelConfig(N=N, gridsize=scenario.gridsize, probe_big=scenario.probe_big,
                       probe_mask=scenario.probe_mask, probe_scale=scenario.probe_scale)


def simulation_config(total_images: int, nphotons: float) -> TrainingConfig:
    """What the original bridges at `simulate`: a gs1 model of the probe size (spec 3.1.2 step 1)."""
    return TrainingConfig(model=ModelConfig(N=N, gridsize=1), n_groups=total_images, nphotons=nphotons)


def training_config(scenario: Scenario, params: RunParams, group_count: int) -> TrainingConfig:
    return TrainingConfig(model=model_config(scenario), batch_size=params.batch_size, nepochs=params.nepochs,
                          nphotons=params.nphotons, n_groups=group_count, neighbor_count=params.neighbor_count)


def inference_config(scenario: Scenario, params: RunParams, group_count: int) -> InferenceConfig:
    return InferenceConfig(model=model_config(scenario), n_groups=group_count, neighbor_count=params.neighbor_count)


def padded_size(store: Mapping[str, Any], gridsize: int) -> int:
    """get_padded_size: bigN + max_position_jitter from the store's offset and jitter."""
    return store["N"] + (gridsize - 1) * store["offset"] + store["max_position_jitter"]


def canvas_jitter(store: Mapping[str, Any], gridsize: int, max_abs_offset: float) -> int:
    """Fix C1 (knob canvas=c1): grow max_position_jitter so the canvas holds N + 2·max|offset| (spec 5.2 S4)."""
    required = math.ceil(store["N"] + 2 * max_abs_offset)
    if (required - store["N"]) % 2:
        required += 1
    big_n = store["N"] + (gridsize - 1) * store["offset"]
    return max(int(store["max_position_jitter"]), required - big_n)
