"""dose_legacy stages config → split (spec 3.1–3.6): the legacy dictionary, probe, objects, grid scan, simulation.

Every stage that reads the configuration restores the legacy dictionary from the `config` artifact,
reads it through a `TracedStore` and emits its reads as `config_trace.<stage>`.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np

from harness.context import StageContext
from pipelines.config_trace import TracedStore
from pipelines.dose_legacy import params
from pipelines.physics.forward import exit_energy, photon_scale, simulate_diffraction
from pipelines.physics.normalization import legacy_object_norm
from pipelines.physics.objects import lines_objects
from pipelines.physics.patches import integer_crops
from pipelines.physics.probe import normalize_probe, normalize_probe_study_era, probe_mask
from pipelines.physics.scan import LegacyGrid, legacy_grid
from pipelines.probe_selection import raw_probe
from pipelines.scenarios import scenario

SETS = ("train", "test")
"""The legacy data sets in pattern order: every train pattern precedes every test pattern (spec 3.6)."""
BLOCK = 4096
"""Patterns per simulation step: bounds the Y_norm temporaries (the full profile has 62,504 patterns)."""
SIZE_KEYS = ("bigN", "padded_size", "padding_size", "C")
"""Derived sizes that also belong to the flat `config` record (spec 3.1 key vocabulary)."""


def traced_config(stage: str, config: Mapping[str, Any]) -> TracedStore:
    """Put the `config` artifact back into the legacy dictionary and read it through a trace (spec 3.1.1)."""
    params.restore(config)
    return TracedStore(stage, params.cfg)


def legacy_grids(store: TracedStore) -> dict[str, LegacyGrid]:
    """The train and test region grids of spec 3.4.1, from the dictionary's counts and strides."""
    return {
        name: legacy_grid(store[f"nimgs_{name}"], store["size"], store["N"], store["gridsize"], store["offset"],
                          store[f"outer_offset_{name}"])
        for name in SETS
    }


def crop_corners(positions: np.ndarray, n: int) -> np.ndarray:
    """Integer crop top-left corners (r0, c0) of patches at [x, y] = (c0 + N/2, r0 + N/2) (spec 1.2 item 5).

    Grid positions are whole pixels; a data file's fractional ones get the nearest crop (within 0.5 px).
    """
    return np.rint(positions[:, ::-1] - n // 2).astype(np.int64)


def set_rows(object_role: np.ndarray, image_index: np.ndarray) -> dict[str, slice]:
    """Pattern rows of each set; the scan puts all train patterns first (spec 3.4.1, 3.6)."""
    n_train = int(np.count_nonzero(object_role[image_index] == "train"))
    return {"train": slice(0, n_train), "test": slice(n_train, image_index.shape[0])}


def normalised_blocks(y_obj: np.ndarray, rows: slice, norm: float) -> Iterator[tuple[slice, np.ndarray]]:
    """Y_norm = Y_obj / norm_Y_I over one set's rows, BLOCK patterns at a time (spec 3.5.2 step 2)."""
    for start in range(rows.start, rows.stop, BLOCK):
        block = slice(start, min(start + BLOCK, rows.stop))
        yield block, y_obj[block] / norm


def normalised_exit_energy(y_obj: np.ndarray, rows: dict[str, slice], norms: dict[str, float],
                           probe: np.ndarray) -> np.ndarray:
    """Σ|Y_norm·P|² of every pattern, Y_norm = Y_obj / the norm of its set (spec 3.5.2 steps 1-2)."""
    energy = np.empty(y_obj.shape[0], dtype=np.float64)
    for name in SETS:
        for block, y_norm in normalised_blocks(y_obj, rows[name], norms[name]):
            energy[block] = exit_energy(y_norm, probe)
    return energy


def config_stage(ctx: StageContext) -> dict[str, Any]:
    """Write the dictionary as the dose notebook's init/execute did; add sizes and run identity (spec 3.1)."""
    knobs = ctx.knobs
    values = params.configure(scenario(ctx.scenario), ctx.profile, knobs["nphotons"], knobs["loss_fn"],
                              knobs["max_position_jitter"])
    store = TracedStore("config", values)
    derived = params.derived(store)
    resolved = {**values, **{key: derived[key] for key in SIZE_KEYS}, "scenario": ctx.scenario,
                "profile": ctx.profile, "run_seed": ctx.run_seed, "loss_fn": knobs["loss_fn"]}
    return {"config": resolved, "derived": derived, "config_trace": store.trace()}


def probe_stage(ctx: StageContext, config: Mapping[str, Any]) -> dict[str, Any]:
    """Scenario probe (knobs X1, X2), r < N/4 mask, era normalisation: study broadcast mean or tip (spec 3.2)."""
    store = traced_config("probe", config)
    probe_raw, source = raw_probe(scenario(ctx.scenario), ctx.knobs)
    return era_probe(ctx.knobs["era"], store, probe_raw, source)


def era_probe(era: str, store: TracedStore, probe_raw: np.ndarray, source: str) -> dict[str, Any]:
    """The probe stage's outputs for a raw probe: r < N/4 mask, normalised by era (knob L1, spec 3.2.3)."""
    mask = probe_mask(store["N"])
    normalise = normalize_probe_study_era if era == "study" else normalize_probe
    probe, norm = normalise(probe_raw, store["probe_scale"], mask)
    return {"probe_raw": probe_raw, "probe": probe, "probe_mask": mask, "probe_norm_factor": np.float64(norm),
            "probe_source": source, "config_trace.probe": store.trace()}


def object_stage(ctx: StageContext, config: Mapping[str, Any]) -> dict[str, Any]:
    """Train images from stream object.train, then test images from object.test, each drawn sequentially (3.3.2)."""
    store = traced_config("object", config)
    images = {name: lines_objects(ctx.legacy_rng(f"object.{name}"), store[f"nimgs_{name}"], store["size"])
              for name in SETS}
    role = np.array([name for name in SETS for _ in range(images[name].shape[0])])
    return {"object": np.concatenate([images[name] for name in SETS]), "object_role": role,
            "config_trace.object": store.trace()}


def scan_stage(ctx: StageContext, config: Mapping[str, Any]) -> dict[str, Any]:
    """Grid patch positions, train regions then test regions; image indices into `object` (spec 3.4.1)."""
    store = traced_config("scan", config)
    grids = legacy_grids(store)
    first_image = {"train": 0, "test": store["nimgs_train"]}
    origins = [np.tile(grids[name].region_origins, (store[f"nimgs_{name}"], 1)) for name in SETS]
    return {
        "positions": np.concatenate([grids[name].positions for name in SETS]),
        "image_index": np.concatenate([grids[name].image_index + first_image[name] for name in SETS]),
        "legacy_region_origin": np.concatenate(origins).astype(np.int64),
        "config_trace.scan": store.trace(),
    }


def simulate_stage(
    ctx: StageContext,
    config: Mapping[str, Any],
    probe: np.ndarray,
    object: np.ndarray,
    object_role: np.ndarray,
    positions: np.ndarray,
    image_index: np.ndarray,
) -> dict[str, Any]:
    """Integer crops, per-set object norm, train s_sim reused for test, Poisson train then test (spec 3.5.2)."""
    store = traced_config("simulate", config)
    n, channels = store["N"], store["gridsize"] ** 2
    y_obj = integer_crops(object, image_index, crop_corners(positions, n), n)
    rows = set_rows(object_role, image_index)
    norms = {name: legacy_object_norm(y_obj[rows[name]], channels) for name in SETS}
    energy = normalised_exit_energy(y_obj, rows, norms, probe)
    s_sim = photon_scale(store["nphotons"], energy[rows["train"]].mean())  # the test set reuses it (steps 3-4)
    diffraction = np.empty(y_obj.shape, dtype=np.float32)
    clean = np.empty(y_obj.shape, dtype=np.float32)
    rng = ctx.rng("noise")
    for name in SETS:  # Poisson draws: train patterns, then test (spec 9.2 rule 4)
        for block, y_norm in normalised_blocks(y_obj, rows[name], norms[name]):
            diffraction[block], clean[block] = simulate_diffraction(y_norm, probe, s_sim, rng)
    return {
        "Y_obj": y_obj,
        "object_norm": np.array([norms[name] for name in SETS], dtype=np.float64),
        "exit_energy": energy,
        "s_sim": np.float64(s_sim),
        "diffraction_clean": clean,
        "diffraction": diffraction,
        "config_trace.simulate": store.trace(),
    }


def split_stage(ctx: StageContext, object_role: np.ndarray, image_index: np.ndarray) -> dict[str, Any]:
    """Train and test pattern indices by the role of each pattern's image (spec 3.6)."""
    is_train = object_role[image_index] == "train"
    return {"train_idx": np.flatnonzero(is_train).astype(np.int64),
            "test_idx": np.flatnonzero(~is_train).astype(np.int64)}
