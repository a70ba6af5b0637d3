"""dose_legacy stages `config` to `simulate` on a data file (`--data`): the file's probe, scan and patterns in
the legacy conventions (spec 3.2.3, 3.5.2), so that `harness diff --a dose_legacy --b sim_lines --data FILE`
runs both pipelines from `normalize` on the same data.

- Split: the patterns sim_lines@data takes, `split_by_y` at sim_lines' split fraction, so both sides train
  on the same half and reconstruct the same region. The legacy stages assume every train pattern precedes
  every test pattern (`stages.set_rows`, spec 3.6), so the scan emits the file's patterns train first, then
  test (each set in ascending y), and the simulation emits the patterns in that order.
- Object: the file's object plays both roles, image 0 for the train patterns and image 1 for the test
  patterns (`object` holds it twice), as the legacy train and test images do (spec 3.3.2).
- Grouping and stitching: a file's positions lie on no region grid, so grid regions and tiles do not
  exist; the legacy code's only path for such positions is the KD-tree grouping (knob L7 nongrid_legacy)
  with `reassemble_position` (knob L5 position). DATA_KNOBS fixes both. That grouping keeps the legacy
  local-offset sign +1 (spec 3.7.2), so O-2, O-3 and O-7 report the registered known break of
  grouping=nongrid_legacy: an honest finding about the legacy code, not about the file.
- Simulate: Y_obj = integer crops of the object (the legacy simulation's patches; the nearest crop of a
  fractional position), s_sim from the train set's mean exit energy of Y_norm and the dose in the
  configuration (knob L3; the test set reuses it), diffraction = sqrt(counts)/s_sim in float32.
- Object norm: the train set's norm_Y_I, for both sets. The legacy simulation divides each set by its own
  norm before simulating it, so its test patterns show truth/norm_test; a file's patterns share one scale,
  so its test patterns show the object at the train set's scale, and a per-set value would misstate
  Y_norm, exit_energy and expected_scale of the test set by norm_test/norm_train. norm_Y_I is a mean over
  groups of the group's max amplitude; the KD-tree groups form only at `group`, so each pattern counts as
  its own group here (channels 1).
- Dose: s_sim makes the train set carry the configured dose, as in the legacy simulation; a file's dose is
  usually a mean over all its patterns, so photon checks on the train set (N-6) measure the file's train
  half against the configured dose, and report the difference.

Without an object (no ground truth) s_sim is 1 and object_norm 1 (the patterns stay sqrt(counts)); object,
Y_obj and exit_energy are NaN placeholders that the variant's `not_applicable` convention names.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from harness.data.dataset import Dataset, DataError
from harness.data.variant import stage_dataset
from pipelines.dose_legacy.stages import (
    SETS,
    crop_corners,
    era_probe,
    normalised_exit_energy,
    set_rows,
    traced_config,
)
from pipelines.physics.forward import photon_scale
from pipelines.physics.normalization import legacy_object_norm
from pipelines.physics.patches import integer_crops
from pipelines.physics.scan import split_by_y
from pipelines.scenarios import N
from pipelines.sim_lines.config import RunParams

DATA_KNOBS = {"grouping": "nongrid_legacy", "stitch": "position"}
"""Knobs with one possible value on a file's data: no grid regions, so no grid grouping and no tiles (L5, L7)."""
SPLIT_FRACTION = RunParams.split_fraction
"""The share of patterns sim_lines reconstructs (spec 3.6): the same split keeps both sides on the same patterns."""


def check_dataset(data: Dataset) -> None:
    """Refuse a file whose patterns the legacy integer crops cannot cut inside the object."""
    corners = crop_corners(data.positions, N)
    height, width = data.object.shape if data.has_ground_truth else (data.object_size,) * 2
    outside = (corners < 0).any(axis=1) | (corners[:, 0] + N > height) | (corners[:, 1] + N > width)
    if outside.any():
        raise DataError(f"cannot use {data.name}: positions: {int(outside.sum())} of {data.count} patterns reach "
                        f"outside the {height}x{width} object; dose_legacy cuts every {N}x{N} patch from inside it")


def file_rows(data: Dataset, fraction: float) -> np.ndarray:
    """The file's pattern indices in the legacy order: sim_lines' train set, then its test set."""
    return np.concatenate(split_by_y(data.positions, fraction))


def config(ctx, base: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The legacy dictionary with one object image per role, the file's object size, split and identity.

    The dose stays knob L3's, as the dose notebook sets it; the file's dose (declared, else measured) is
    recorded as `data_nphotons`, and `data_source` names the file (`normalize` keeps the legacy identity
    for a file, model_input.GAIN_BY_SOURCE).
    """
    out = dict(base(ctx))
    data = stage_dataset(ctx.knobs)
    test = round(data.count * SPLIT_FRACTION)
    out["config"] = {**out["config"], "nimgs_train": 1, "nimgs_test": 1, "size": data.object_size,
                     "train_count": data.count - test, "test_count": test, "split_fraction": SPLIT_FRACTION,
                     "data_nphotons": data.photon_count(), "data_source": f"file:{data.name}",
                     "data_sha256": data.sha256}
    return out


def probe(ctx, config: Mapping[str, Any]) -> dict[str, Any]:
    """The file's probe as the raw probe, normalised as the era normalises (knob L1, spec 3.2.3)."""
    data = stage_dataset(ctx.knobs)
    return era_probe(ctx.knobs["era"], traced_config("probe", config), data.probe, f"file:{data.name}")


def object_(ctx, config: Mapping[str, Any]) -> dict[str, Any]:
    """The file's object as the train image and again as the test image; a NaN placeholder without one."""
    store = traced_config("object", config)
    data = stage_dataset(ctx.knobs)
    size = store["size"]
    image = data.object if data.has_ground_truth else np.full((size, size), np.nan, dtype=np.complex64)
    return {"object": np.stack([np.asarray(image, dtype=np.complex64)] * len(SETS)), "object_role": np.array(SETS),
            "config_trace.object": store.trace()}


def scan(ctx, config: Mapping[str, Any]) -> dict[str, Any]:
    """The file's positions, train patterns (image 0) then test patterns (image 1).

    `legacy_region_origin` (the grid region of each pattern) has no meaning without a grid: NaN, and the
    variant's `not_applicable` convention says so.
    """
    store = traced_config("scan", config)
    data = stage_dataset(ctx.knobs)
    rows = file_rows(data, config["split_fraction"])
    image_index = np.repeat(np.arange(len(SETS), dtype=np.int64), [config["train_count"], config["test_count"]])
    return {"positions": data.positions[rows], "image_index": image_index,
            "legacy_region_origin": np.full((data.count, 2), np.nan), "config_trace.scan": store.trace()}


def simulate(ctx, config: Mapping[str, Any], probe: np.ndarray, object: np.ndarray, object_role: np.ndarray,
             positions: np.ndarray, image_index: np.ndarray) -> dict[str, Any]:
    """The file's patterns as sqrt(counts)/s_sim, s_sim of the train set; Y_obj as the legacy simulation cuts it."""
    store = traced_config("simulate", config)
    data = stage_dataset(ctx.knobs)
    rows = set_rows(object_role, image_index)
    n = store["N"]
    if data.has_ground_truth:
        y_obj = integer_crops(object, image_index, crop_corners(positions, n), n)
        norm = legacy_object_norm(y_obj[rows["train"]], 1)
        energy = normalised_exit_energy(y_obj, rows, dict.fromkeys(SETS, norm), probe)
        s_sim = photon_scale(store["nphotons"], energy[rows["train"]].mean())
        object_norm = np.full(len(SETS), norm)
    else:
        y_obj = np.full((data.count, n, n), np.nan, dtype=np.complex64)
        energy = np.full(data.count, np.nan)
        s_sim, object_norm = 1.0, np.ones(len(SETS))
    diffraction = (data.amplitude[file_rows(data, config["split_fraction"])] / s_sim).astype(np.float32)
    ctx.log.info(f"data {data.name} ({data.format}, sha256 {data.sha256[:12]}): {data.count} patterns"
                 + "".join(f"; {note}" for note in data.notes))
    return {"Y_obj": y_obj, "object_norm": object_norm, "exit_energy": energy, "s_sim": np.float64(s_sim),
            "diffraction_clean": diffraction.copy(), "diffraction": diffraction, "config_trace.simulate": store.trace()}


DATA_STAGES = {"config": config, "probe": probe, "object": object_, "scan": scan, "simulate": simulate}
