"""sim_lines stages `config` to `scale` (spec 3.1-3.9): non-grid simulation on one lines object.

The emulated global store (`sl_store*`) flows from stage to stage as an artifact; each stage that
the original let read the store reads it through a TracedStore and emits `config_trace.<stage>`.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from pipelines.config_trace import TRACED_KEYS, TracedStore
from pipelines.physics import forward, grouping, normalization
from pipelines.physics.objects import lines_object
from pipelines.physics.patches import bilinear_patches
from pipelines.physics.probe import normalize_probe, probe_mask
from pipelines.physics.scan import derived_sizes, split_by_y, uniform_positions
from pipelines.probe_selection import raw_probe
from pipelines.scenarios import N, OBJECT_SIZE, OFFSET, scenario as scenario_named
from pipelines.sim_lines import config as slc

SPLITS = ("train", "infer")


def config(ctx) -> dict[str, Any]:
    """Resolve scenario x profile into the common key vocabulary; start the store at main's defaults."""
    scenario = scenario_named(ctx.scenario)
    params = slc.run_params(scenario, ctx.profile)
    counts = slc.derive_counts(params, scenario.gridsize)
    slc.validate(counts, params)
    store = dict(slc.STORE_DEFAULTS)
    sizes = derived_sizes(N, scenario.gridsize, OFFSET, store["max_position_jitter"])
    resolved = {
        "N": N, "gridsize": scenario.gridsize, "C": scenario.channels, "offset": OFFSET, "bigN": sizes["bigN"],
        "max_position_jitter": store["max_position_jitter"], "padded_size": sizes["padded_size"],
        "probe_scale": scenario.probe_scale, "default_probe_scale": store["default_probe_scale"],
        "probe.mask": scenario.probe_mask, "probe.big": scenario.probe_big, "object.big": True, "pad_object": True,
        "amp_activation": "sigmoid", "n_filters_scale": 2, "nphotons": params.nphotons,
        "mae_weight": 0.0, "nll_weight": 1.0,
        "realspace_weight": 0.0, "realspace_mae_weight": 0.0, "tv_weight": 0.0,
        "intensity_scale.trainable": True, "probe.trainable": False, "positions.provided": True, "set_phi": False,
        "size": OBJECT_SIZE, "data_source": "lines", "run_seed": ctx.run_seed, "profile": ctx.profile,
        "scenario": scenario.name, **counts,
        **{key: value for key, value in asdict(params).items() if key not in ("N", "nphotons", "group_count")},
    }
    derived = {**sizes, "closed_form_scale": float(np.sqrt(params.nphotons) / (N / 2))}
    trace = [["config", key, resolved[key]] for key in TRACED_KEYS]
    return {"config": resolved, "derived": derived, "config_trace": trace, "sl_store": store}


def probe(ctx, config: dict) -> dict[str, Any]:
    """`make_probe` + `normalize_probe_guess` (spec 3.2): mean|mask·P| = 1/probe_scale."""
    scenario = scenario_named(config["scenario"])
    raw, source = raw_probe(scenario, ctx.knobs)
    mask = probe_mask(N)
    normalised, norm = normalize_probe(raw, scenario.probe_scale, mask)
    return {"probe_raw": raw, "probe": normalised, "probe_mask": mask, "probe_norm_factor": np.float64(norm),
            "probe_source": source}


def object_(ctx, config: dict) -> dict[str, Any]:
    """One lines image from the `object` reference stream (seed 42 at run seed 42; spec 3.3.3)."""
    image = lines_object(ctx.legacy_rng("object"), config["object_size"])
    return {"object": image[None], "object_role": np.array(["all"])}


def scan(ctx, config: dict) -> dict[str, Any]:
    """Uniform random positions, x then y, from the `coords` reference stream (spec 3.4.2)."""
    size = config["object_size"]
    positions = uniform_positions(ctx.legacy_rng("coords"), config["total_images"], size, size, config["buffer"])
    return {"positions": positions, "image_index": np.zeros(len(positions), dtype=np.int64)}


def simulate(ctx, config: dict, sl_store: dict, probe: np.ndarray, object: np.ndarray, positions: np.ndarray) -> dict[str, Any]:
    """Bridge the simulation config, extract bilinear patches, photon-scale over all n, add noise (3.5.3)."""
    store, reads, nphotons = simulation_store(config, sl_store)
    y_obj = bilinear_patches(object[0], positions, N)
    energy = forward.exit_energy(y_obj, probe)
    s_sim = forward.photon_scale(nphotons, float(energy.mean()))
    diffraction, clean = forward.simulate_diffraction(y_obj, probe, s_sim, ctx.rng("noise"))
    return {"Y_obj": y_obj, "object_norm": np.float64(1.0), "exit_energy": energy, "s_sim": np.float64(s_sim),
            "diffraction_clean": clean, "diffraction": diffraction, "sl_store.simulate": store,
            "config_trace.simulate": reads.trace()}


def simulation_store(config: dict, sl_store: dict) -> tuple[dict, TracedStore, float]:
    """The store once the simulation config is bridged, its traced reads and the nphotons it holds (3.5.3)."""
    store = slc.bridge(sl_store, slc.simulation_config(config["total_images"], config["nphotons"]))
    reads = TracedStore("simulate", store)
    nphotons = reads["nphotons"]
    reads.read_all(("N", "gridsize", "batch_size"))
    return store, reads, nphotons


def split(ctx, config: dict, positions: np.ndarray) -> dict[str, Any]:
    """Spatial split by ascending y: the top half trains, the bottom half is reconstructed (spec 3.6)."""
    train_idx, test_idx = split_by_y(positions, config["split_fraction"])
    return {"train_idx": train_idx, "test_idx": test_idx}


def group(ctx, config: dict, sl_store_simulate: dict, positions: np.ndarray, diffraction: np.ndarray,
          Y_obj: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray) -> dict[str, Any]:
    """Bridge the training config (knob config_bridge), then KD-tree groups per split (spec 3.7.2)."""
    scenario = scenario_named(config["scenario"])
    params = slc.run_params(scenario, config["profile"])
    bridge_mode = ctx.knobs["config_bridge"]
    store = sl_store_simulate
    if bridge_mode == "on":
        store = slc.bridge(store, slc.training_config(scenario, params, config["group_count"]))
    reads = TracedStore("group", store)
    gridsize = reads["gridsize"] if bridge_mode == "off_all" else scenario.gridsize
    channels = gridsize * gridsize
    neighbor_count = int(ctx.knobs["neighbor_count"])
    sign = float(ctx.knobs["local_offset_sign"])
    limit = group_limit(ctx.knobs["group_limit"], config["group_limit"])
    nsamples = {"train": config["group_count"],
                "infer": config["group_count"] if limit is None else min(config["group_count"], limit)}
    outputs: dict[str, Any] = {}
    for name, indices in (("train", train_idx), ("infer", test_idx)):
        groups = grouping.kdtree_grouping(positions[indices], neighbor_count, channels, nsamples[name],
                                          ctx.rng(f"group.{name}"), sign)
        outputs.update({
            f"diffraction_grouped.{name}": grouping.gather_groups(diffraction[indices], groups.nn_indices),
            f"coords_nn.{name}": groups.coords_nn,
            f"coords_offsets.{name}": groups.coords_offsets,
            f"coords_relative.{name}": groups.coords_relative,
            f"nn_indices.{name}": groups.nn_indices,
            f"Y_obj_grouped.{name}": grouping.gather_groups(Y_obj[indices], groups.nn_indices),
        })
    if ctx.knobs["canvas"] == "c1":
        store = {**store, "max_position_jitter": slc.canvas_jitter(
            store, gridsize, float(np.abs(outputs["coords_offsets.train"]).max()))}
    outputs["sl_store.group"] = store
    outputs["config_trace.group"] = reads.trace()
    return outputs


def group_limit(knob: str, profile_limit: int | None) -> int | None:
    """Knob S6: `profile` keeps the profile's inference limit (64 in stable), else none or 64."""
    if knob == "profile":
        return profile_limit
    return None if knob == "none" else int(knob)


def normalize(ctx, sl_store_group: dict, diffraction_grouped_train: np.ndarray,
              diffraction_grouped_infer: np.ndarray) -> dict[str, Any]:
    """`normalize_data` per grouping: mean Σ X² = (N/2)² (knob normalize=nphotons: the D4e variant)."""
    reads = TracedStore("normalize", sl_store_group)
    n, nphotons = reads["N"], reads["nphotons"]
    outputs: dict[str, Any] = {}
    for name, grouped in (("train", diffraction_grouped_train), ("infer", diffraction_grouped_infer)):
        if ctx.knobs["normalize"] == "nphotons":
            x, gain = normalization.normalize_data_nphotons(grouped, nphotons)
        else:
            x, gain = normalization.normalize_data(grouped, n)
        outputs[f"X.{name}"] = x
        outputs[f"gain.{name}"] = np.float64(gain)
    outputs["config_trace.normalize"] = reads.trace()
    return outputs


def scale(ctx, config: dict, sl_store_group: dict, diffraction_grouped_train: np.ndarray, X_train: np.ndarray,
          X_infer: np.ndarray, gain_train: np.ndarray, gain_infer: np.ndarray, s_sim: np.ndarray,
          object_norm: np.ndarray) -> dict[str, Any]:
    """The model intensity scale s_m (knob intensity_scale) and its bookkeeping (spec 3.9)."""
    reads = TracedStore("scale", sl_store_group)
    n, nphotons = reads["N"], reads["nphotons"]
    choice = ctx.knobs["intensity_scale"]
    if choice == "dataset_raw":
        s_m = normalization.dataset_raw_intensity_scale(diffraction_grouped_train, nphotons)
    elif choice == "dataset_raw_pp":
        s_m = normalization.dataset_raw_pp_intensity_scale(diffraction_grouped_train, nphotons)
    else:
        s_m = normalization.closed_form_intensity_scale(nphotons, n)
    log_scale = normalization.log_scale_init(s_m)
    # Bookkeeping, not a read of the original: the probe_scale the model will take from the store.
    model_probe_scale = sl_store_group["probe_scale"]
    return {
        "intensity_scale": s_m,
        "log_scale_init": log_scale,
        "count_ratio_nominal": np.float64(normalization.count_ratio_nominal(s_m, X_train, nphotons)),
        "count_ratio_nominal.infer": np.float64(normalization.count_ratio_nominal(s_m, X_infer, nphotons)),
        "count_ratio_true": np.float64(normalization.count_ratio_true(s_m, float(gain_train), float(s_sim))),
        "expected_scale": np.float64(normalization.expected_scale(
            float(object_norm), float(gain_infer), float(s_m), float(log_scale), model_probe_scale,
            config["probe_scale"])),
        "config_trace.scale": reads.trace(),
    }
