"""dose_legacy stages group → scale (spec 3.7.1, 3.8, 3.9): regions as groups, identity normalisation, s_m."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from harness.context import StageContext
from pipelines.dose_legacy.stages import SETS, crop_corners, legacy_grids, traced_config
from pipelines.physics.grouping import Grouping, legacy_grid_grouping, legacy_nongrid_grouping
from pipelines.physics.normalization import (
    closed_form_intensity_scale,
    count_ratio_nominal,
    count_ratio_true,
    expected_scale,
    log_scale_init,
)
from pipelines.physics.patches import integer_crops

GROUPINGS = (("train", "train"), ("infer", "test"))
"""Each grouping and the data set it groups: train, and infer = the test set (spec 2.1, 3.7.1)."""
GAIN_BY_SOURCE = {"lines": 1.0, "file": 1.0}
"""Model-input gain by the kind of `data_source` (before any `:`): neither the dose study's simulated-lines grid
path nor a data file's patterns (`--data`, `file:NAME`), which enter as the legacy raw diffraction, is
renormalised (spec 3.8)."""


def channel_stack(patterns: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, dtype: type) -> np.ndarray:
    """Channel format (spec 1.3): out[b, :, :, c] = patterns(rows[:, c])[b], filled one channel at a time.

    The result of `gather_groups` without its full-size intermediate: a full-profile train grouping
    is 1.6 GiB per complex artifact.
    """
    first = patterns(rows[:, 0])
    out = np.empty(first.shape + (rows.shape[1],), dtype=dtype)
    out[..., 0] = first
    for channel in range(1, rows.shape[1]):
        out[..., channel] = patterns(rows[:, channel])
    return out


def grouped_arrays(
    split: str,
    grouping: Grouping,
    order: np.ndarray,
    split_idx: np.ndarray,
    crops: Callable[[np.ndarray], np.ndarray],
    diffraction: np.ndarray,
    illumination: np.ndarray,
) -> dict[str, np.ndarray]:
    """Channel-format artifacts of one grouping; `order` permutes the groups of all but the coordinates (3.7.1)."""
    nn_indices = grouping.nn_indices[order]
    rows = split_idx[nn_indices]
    y_grouped = channel_stack(crops, rows, np.complex64)
    return {
        f"diffraction_grouped.{split}": channel_stack(diffraction.__getitem__, rows, np.float32),
        f"coords_nn.{split}": grouping.coords_nn,
        f"coords_offsets.{split}": grouping.coords_offsets,
        f"coords_relative.{split}": grouping.coords_relative,
        f"nn_indices.{split}": nn_indices,
        f"Y_obj_grouped.{split}": y_grouped,
        f"legacy_Y_illum.{split}": y_grouped * illumination[:, :, None],
    }


def group_stage(
    ctx: StageContext,
    config: Mapping[str, Any],
    probe: np.ndarray,
    object: np.ndarray,
    positions: np.ndarray,
    image_index: np.ndarray,
    object_norm: np.ndarray,
    diffraction: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
) -> dict[str, Any]:
    """Regions as groups, train shuffled by stream shuffle.train, infer unshuffled (spec 3.7.1; knob L7).

    Y_obj_grouped is cropped from `object` again rather than gathered from `Y_obj` (the same integer
    crops), so the 2 GiB full-profile `Y_obj` need not stay in memory for this stage.
    """
    store = traced_config("group", config)
    indices = {"train": train_idx, "test": test_idx}
    if ctx.knobs["grouping"] == "grid":
        grids = legacy_grids(store)
        groupings = {split: legacy_grid_grouping(grids[data]) for split, data in GROUPINGS}
        perm = ctx.legacy_rng("shuffle.train").permutation(groupings["train"].nn_indices.shape[0])
    else:  # the legacy KD-tree path has no sklearn shuffle: identity permutation
        channels = store["gridsize"] ** 2
        groupings = {split: legacy_nongrid_grouping(positions[indices[data]], channels, ctx.rng(f"group.{split}"))
                     for split, data in GROUPINGS}
        perm = np.arange(groupings["train"].nn_indices.shape[0])
    orders = {"train": perm, "infer": np.arange(groupings["infer"].nn_indices.shape[0])}
    norms = dict(zip(SETS, object_norm.tolist()))
    n = store["N"]
    corners = crop_corners(positions, n)

    def crops(rows: np.ndarray) -> np.ndarray:
        return integer_crops(object, image_index[rows], corners[rows], n)

    outputs: dict[str, Any] = {"legacy_shuffle_perm": perm.astype(np.int64)}
    for split, data in GROUPINGS:
        illumination = (np.abs(probe).astype(np.float64) / norms[data]).astype(np.float32)  # Y_norm·|P| = Y_obj·|P|/norm
        outputs.update(grouped_arrays(split, groupings[split], orders[split], indices[data], crops, diffraction,
                                      illumination))
    outputs["config_trace.group"] = store.trace()
    return outputs


def normalize_stage(
    ctx: StageContext,
    config: Mapping[str, Any],
    diffraction_grouped_train: np.ndarray,
    diffraction_grouped_infer: np.ndarray,
) -> dict[str, Any]:
    """Identity: X = diffraction_grouped, gain 1 on both groupings; no renormalisation on the grid path (3.8)."""
    store = traced_config("normalize", config)
    gain = GAIN_BY_SOURCE[store["data_source"].split(":", 1)[0]]
    return {
        "X.train": np.multiply(diffraction_grouped_train, np.float32(gain)),
        "X.infer": np.multiply(diffraction_grouped_infer, np.float32(gain)),
        "gain.train": np.float64(gain),
        "gain.infer": np.float64(gain),
        "config_trace.normalize": store.trace(),
    }


def scale_stage(
    ctx: StageContext,
    config: Mapping[str, Any],
    s_sim: np.ndarray,
    object_norm: np.ndarray,
    X_train: np.ndarray,
    X_infer: np.ndarray,
    gain_train: np.ndarray,
    gain_infer: np.ndarray,
) -> dict[str, Any]:
    """s_m by era (study: train s_sim; tip: closed form), log_scale_init = ln(s_sim), bookkeeping (spec 3.9)."""
    store = traced_config("scale", config)
    nphotons, probe_scale = store["nphotons"], store["probe_scale"]
    s_sim = float(s_sim)
    s_m = np.float32(s_sim) if ctx.knobs["era"] == "study" else closed_form_intensity_scale(nphotons, store["N"])
    log_scale = log_scale_init(s_sim)  # study: ln(s_m); tip: the import-time model's ln(s_sim)
    return {
        "intensity_scale": s_m,
        "log_scale_init": log_scale,
        "count_ratio_nominal": np.float64(count_ratio_nominal(s_m, X_train, nphotons)),
        "count_ratio_nominal.infer": np.float64(count_ratio_nominal(s_m, X_infer, nphotons)),
        "count_ratio_true": np.float64(count_ratio_true(s_m, float(gain_train), s_sim)),
        "expected_scale": np.float64(expected_scale(float(object_norm[1]), float(gain_infer), s_m, log_scale,
                                                    probe_scale, probe_scale)),
        "config_trace.scale": store.trace(),
    }
