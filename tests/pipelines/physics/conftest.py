"""Shared, session-scoped reference data for the physics tests (built once: objects, probes, simulations)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from pipelines.physics.custom_probe import custom_synth_v1
from pipelines.physics.forward import exit_energy, photon_scale, simulate_diffraction
from pipelines.physics.objects import lines_object, lines_objects
from pipelines.physics.patches import bilinear_patches
from pipelines.physics.probe import ideal_probe_raw, normalize_probe, normalize_probe_study_era, probe_mask
from pipelines.physics.scan import split_by_y, uniform_positions

RUN_SEED = 42
NOISE_STREAM_ID = 1001


@dataclass(frozen=True)
class SimLinesSet:
    """One sim_lines simulation: positions, split, exit energies, s_sim and both diffraction arrays."""

    positions: np.ndarray
    train_idx: np.ndarray
    test_idx: np.ndarray
    energy: np.ndarray
    s_sim: float
    diffraction: np.ndarray
    diffraction_clean: np.ndarray


@pytest.fixture(scope="session")
def mask() -> np.ndarray:
    return probe_mask(64)


@pytest.fixture(scope="session")
def probes(mask) -> dict[str, np.ndarray]:
    """Normalised probes by (source, era): ideal ps 10 and custom_synth_v1 ps 4."""
    ideal, custom = ideal_probe_raw(), custom_synth_v1()
    return {
        "ideal": normalize_probe(ideal, 10.0, mask)[0],
        "ideal_study": normalize_probe_study_era(ideal, 10.0, mask)[0],
        "custom": normalize_probe(custom, 4.0, mask)[0],
        "custom_study": normalize_probe_study_era(custom, 4.0, mask)[0],
    }


@pytest.fixture(scope="session")
def sim_lines_object() -> np.ndarray:
    return lines_object(np.random.RandomState(42))


@pytest.fixture(scope="session")
def legacy_objects() -> dict[str, np.ndarray]:
    """Legacy train (seed 1) and test (seed 2) images, two each, drawn sequentially."""
    return {"train": lines_objects(np.random.RandomState(1), 2), "test": lines_objects(np.random.RandomState(2), 2)}


@pytest.fixture(scope="session")
def simulate_sim_lines(sim_lines_object, probes):
    """Memoised sim_lines simulation by (probe name, total images) with the run-seed noise stream."""
    cache: dict[tuple[str, int], SimLinesSet] = {}

    def build(probe_name: str, total: int) -> SimLinesSet:
        if (probe_name, total) not in cache:
            positions = uniform_positions(np.random.RandomState(42), total, 392, 392)
            train_idx, test_idx = split_by_y(positions)
            patches = bilinear_patches(sim_lines_object, positions)
            energy = exit_energy(patches, probes[probe_name])
            s_sim = photon_scale(1e9, energy.mean())
            rng = np.random.default_rng(np.random.SeedSequence([RUN_SEED, NOISE_STREAM_ID]))
            diffraction, clean = simulate_diffraction(patches, probes[probe_name], s_sim, rng)
            cache[probe_name, total] = SimLinesSet(positions, train_idx, test_idx, energy, s_sim, diffraction, clean)
        return cache[probe_name, total]

    return build
