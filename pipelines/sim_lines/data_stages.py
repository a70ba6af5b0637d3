"""sim_lines stages `config` to `simulate` on a data file (`--data`): the file's probe, scan and patterns
in sim_lines' conventions (spec 3.5.3): amplitudes sqrt(counts)/s_sim with s_sim = sqrt(nphotons / E)
over all n patterns (nphotons the scenario's), E the mean exit energy of the object's bilinear patches;
object_norm 1; the probe normalised as sim_lines normalises a probe guess.

Without an object (no ground truth) s_sim is 1 (the patterns stay sqrt(counts)) and object, Y_obj and
exit_energy are NaN placeholders that the `not_applicable` convention names, so checks reading them say
"not applicable: no ground truth in FILE".
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from harness.data.variant import stage_dataset
from pipelines.physics import forward
from pipelines.physics.patches import bilinear_patches
from pipelines.physics.probe import normalize_probe, probe_mask
from pipelines.scenarios import N
from pipelines.sim_lines.stages import simulation_store


def config(ctx, base: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The scenario's configuration with the counts and object size of the file.

    The dose stays the scenario's, as sim_lines' own config sets it (its training config bridges it again
    at group); the file's dose (declared, else measured) is recorded as `data_nphotons`, and the photon
    checks report a file whose counts do not match the scenario's dose.
    """
    out = dict(base(ctx))
    data = stage_dataset(ctx.knobs)
    resolved = dict(out["config"])
    n = data.count
    test = round(n * resolved["split_fraction"])
    size = data.object_size
    resolved.update(total_images=n, train_count=n - test, test_count=test,
                    group_count=min(resolved["group_count"], n - test, test), data_nphotons=data.photon_count(),
                    object_size=size, size=size, data_source=f"file:{data.name}", data_sha256=data.sha256)
    out["config"] = resolved
    return out


def probe(ctx, config: dict) -> dict[str, Any]:
    """The file's probe as the raw probe, normalised as sim_lines normalises its probe guess (spec 3.2)."""
    data = stage_dataset(ctx.knobs)
    mask = probe_mask(N)
    normalised, norm = normalize_probe(data.probe, config["probe_scale"], mask)
    return {"probe_raw": data.probe, "probe": normalised, "probe_mask": mask,
            "probe_norm_factor": np.float64(norm), "probe_source": f"file:{data.name}"}


def object_(ctx, config: dict) -> dict[str, Any]:
    """The file's object as ground truth, or a NaN placeholder of the scan's extent."""
    data = stage_dataset(ctx.knobs)
    size = config["object_size"]
    image = data.object if data.has_ground_truth else np.full((size, size), np.nan, dtype=np.complex64)
    return {"object": np.asarray(image, dtype=np.complex64)[None], "object_role": np.array(["all"])}


def scan(ctx, config: dict) -> dict[str, Any]:
    """The file's positions, [x, y] object pixels."""
    positions = stage_dataset(ctx.knobs).positions
    return {"positions": positions.copy(), "image_index": np.zeros(len(positions), dtype=np.int64)}


def simulate(ctx, config: dict, sl_store: dict, probe: np.ndarray, object: np.ndarray, positions: np.ndarray) -> dict[str, Any]:
    """The file's patterns in sim_lines' amplitude convention; Y_obj cut from the object as sim_lines cuts it."""
    data = stage_dataset(ctx.knobs)
    store, reads, nphotons = simulation_store(config, sl_store)
    if data.has_ground_truth:
        y_obj = bilinear_patches(object[0], positions, N)
        energy = forward.exit_energy(y_obj, probe)
        s_sim = forward.photon_scale(nphotons, float(energy.mean()))
    else:
        y_obj = np.full((data.count, N, N), np.nan, dtype=np.complex64)
        energy = np.full(data.count, np.nan)
        s_sim = 1.0
    diffraction = (data.amplitude / s_sim).astype(np.float32)
    ctx.log.info(f"data {data.name} ({data.format}, sha256 {data.sha256[:12]}): {data.count} patterns"
                 + "".join(f"; {note}" for note in data.notes))
    return {"Y_obj": y_obj, "object_norm": np.float64(1.0), "exit_energy": energy, "s_sim": np.float64(s_sim),
            "diffraction_clean": diffraction.copy(), "diffraction": diffraction, "sl_store.simulate": store,
            "config_trace.simulate": reads.trace()}


DATA_STAGES = {"config": config, "probe": probe, "object": object_, "scan": scan, "simulate": simulate}
