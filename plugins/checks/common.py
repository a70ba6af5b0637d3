"""Helpers shared by the invariant checks of spec 6: artifact access, float64 energies, JSON-able results.

Everything here is plain numpy on stored artifacts; nothing imports TensorFlow.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from harness.artifacts import GROUPINGS
from harness.rendering import plain
from harness.records import CheckInput, CheckResult
from pipelines.config_trace import TRACED_KEYS
from pipelines.scenarios import N, NPHOTONS, OFFSET, scenario

DEFAULT_JITTER = 10
"""max_position_jitter after the dose notebook's execute and in sim_lines (spec 3.1); knob L4 may set 3."""
SPLIT_OF = {"train": "train_idx", "infer": "test_idx"}
"""The split artifact whose patterns each grouping's nn_indices index."""
CHUNK = 256
"""Patterns per block when accumulating energies, so float64 temporaries stay small."""
FLOAT32_EPS = float(np.finfo(np.float32).eps)
"""2^-23: the spacing of float32 numbers at 1, twice the largest relative rounding error."""
SIGMAS = 5.0
"""Statistical tolerances are this many standard deviations of the statistic under its null model."""


def result(measured: Any, expected: Any, tolerance: Any, passed: bool, explanation: str, **details: Any) -> CheckResult:
    """A CheckResult whose numbers are plain Python values."""
    return CheckResult(plain(measured), plain(expected), plain(tolerance), bool(passed), explanation, plain(details))


def scalar(value: Any) -> float:
    """A stored scalar (Python number or 0-d array) as a float."""
    return float(np.asarray(value, dtype=np.float64))


def relative(measured: float, expected: float) -> float:
    """|measured/expected − 1|; inf when expected is 0 and measured is not; nan stays nan."""
    if expected == 0:
        return 0.0 if measured == 0 else math.inf
    return abs(measured / expected - 1.0)


def _power(block: np.ndarray) -> np.ndarray:
    """|x|² in float64."""
    if np.iscomplexobj(block):
        wide = block.astype(np.complex128)
        return wide.real**2 + wide.imag**2
    wide = block.astype(np.float64)
    return wide * wide


def pattern_energies(stack: np.ndarray) -> np.ndarray:
    """Σ_xy |x|² of each (N, N) image of an (n, N, N) stack, float64 (n,), in blocks."""
    out = np.empty(stack.shape[0], dtype=np.float64)
    for start in range(0, stack.shape[0], CHUNK):
        out[start : start + CHUNK] = _power(stack[start : start + CHUNK]).sum(axis=(1, 2))
    return out


def channel_energies(grouped: np.ndarray) -> np.ndarray:
    """Σ_xy |x|² of each channel of a (B, N, N, C) grouping, float64 (B, C), in blocks."""
    out = np.empty((grouped.shape[0], grouped.shape[-1]), dtype=np.float64)
    for start in range(0, grouped.shape[0], CHUNK):
        out[start : start + CHUNK] = _power(grouped[start : start + CHUNK]).sum(axis=(1, 2))
    return out


def magnitude_moments(array: np.ndarray) -> dict[str, float]:
    """mean, std and max of |x| over a whole array, accumulated in float64 by blocks of the first axis."""
    values = np.asarray(array)
    flat = values.reshape(values.shape[0], -1) if values.ndim > 1 else values.reshape(1, -1)
    total = total_sq = 0.0
    peak = -math.inf
    for start in range(0, flat.shape[0], CHUNK):
        magnitude = np.abs(flat[start : start + CHUNK]).astype(np.float64)
        total += float(magnitude.sum())
        total_sq += float((magnitude * magnitude).sum())
        peak = max(peak, float(magnitude.max()))
    count = flat.size
    mean = total / count
    return {"mean": mean, "std": math.sqrt(max(total_sq / count - mean * mean, 0.0)), "max": peak}


def nphotons(inp: CheckInput) -> float:
    """The run's photon dose per pattern (config)."""
    return float(inp.artifacts["config"]["nphotons"])


def noise_tolerance(floor: float, photons: float) -> float:
    """max(floor, 5/sqrt(total photons)): five Poisson standard deviations of a mean count."""
    return max(floor, 5.0 / math.sqrt(photons))


def float32_rounding(pixels: int = N * N) -> float:
    """(2 + log2 pixels)·eps32: relative error bound of a float32 far field of `pixels` samples and of its energy.

    Two roundings form ψ = Y_norm·P (or square a stored amplitude); a radix-2 FFT adds at most one per stage.
    """
    return (2.0 + math.log2(pixels)) * FLOAT32_EPS


def poisson_tolerance(photons: float) -> float:
    """5/sqrt(photons) + float32_rounding(): 5 σ of a Poisson total of `photons` expected counts, relative,
    plus the float32 rounding of the far fields the counts are computed from."""
    return SIGMAS / math.sqrt(photons) + float32_rounding()


def sample_rows(count: int, size: int) -> np.ndarray:
    """A deterministic sample: `size` evenly spaced indices of `count` rows, first and last included (all if fewer)."""
    return np.unique(np.linspace(0, count - 1, min(size, count)).round().astype(np.int64))


def pattern_roles(inp: CheckInput) -> np.ndarray:
    """The role (train / test / all) of the image each simulated pattern comes from."""
    roles = np.asarray(inp.artifacts["object_role"]).astype(str)
    return roles[np.asarray(inp.artifacts["image_index"], dtype=np.int64)]


def simulation_set(inp: CheckInput) -> np.ndarray:
    """Patterns whose exit energy defined s_sim: the legacy train images, else every pattern (spec 3.5)."""
    roles = pattern_roles(inp)
    return roles == "train" if np.any(roles == "train") else np.ones(roles.shape, dtype=bool)


def grouped_rows(inp: CheckInput, grouping: str) -> np.ndarray:
    """(B, C) rows of the simulated stack that a grouping's channels hold (split_idx[nn_indices])."""
    split = np.asarray(inp.artifacts[SPLIT_OF[grouping]], dtype=np.int64)
    return split[np.asarray(inp.artifacts[f"nn_indices.{grouping}"], dtype=np.int64)]


def object_norm_of(inp: CheckInput, grouping: str) -> float:
    """The object normalisation of a grouping's set: legacy (train, test); sim_lines one scalar."""
    norms = np.atleast_1d(np.asarray(inp.artifacts["object_norm"], dtype=np.float64))
    return float(norms[0] if grouping == "train" else norms[-1])


def pattern_object_norms(inp: CheckInput) -> np.ndarray:
    """Per simulated pattern, the object norm of its set: legacy test patterns the test norm, all others the first."""
    norms = np.atleast_1d(np.asarray(inp.artifacts["object_norm"], dtype=np.float64))
    return np.where(pattern_roles(inp) == "test", norms[-1], norms[0])


def worst(values: Mapping[str, float], target: float) -> str:
    """The key whose value lies farthest from target (a non-finite value is farthest)."""
    return max(values, key=lambda key: math.inf if not math.isfinite(values[key]) else abs(values[key] - target))


def same_value(read: Any, expected: Any) -> bool:
    """Exact equality that keeps booleans apart from numbers (True is not 1.0 here)."""
    if isinstance(read, bool) or isinstance(expected, bool):
        return isinstance(read, bool) and isinstance(expected, bool) and read == expected
    if isinstance(read, (int, float)) and isinstance(expected, (int, float)):
        return float(read) == float(expected)
    return read == expected


def by_design_reads(inp: CheckInput, stage: str) -> dict[str, Any]:
    """Reads that differ from the scenario by design: a pipeline that simulates single patterns reads
    gridsize 1 while simulating (convention `single_pattern_simulation`, spec 3.1.2)."""
    return {"gridsize": 1} if stage == "simulate" and inp.conventions.get("single_pattern_simulation") else {}


def scenario_reads(inp: CheckInput, stage: str) -> dict[str, Any]:
    """What N-0 expects each traced key to read at a stage: the scenario's values and the run's knobs
    (dose from knob `nphotons`, else the spec's 1e9; padded_size = N + (g − 1)·offset + jitter), never
    the configuration the check is about to judge (spec 6.1 N-0)."""
    spec = scenario(inp.scenario)
    jitter = int(inp.knobs.get("max_position_jitter", DEFAULT_JITTER))
    expected = {"N": N, "gridsize": spec.gridsize, "probe_scale": spec.probe_scale, "probe.big": spec.probe_big,
                "probe.mask": spec.probe_mask, "nphotons": float(inp.knobs.get("nphotons", NPHOTONS)),
                "padded_size": N + (spec.gridsize - 1) * OFFSET + jitter}
    return expected | by_design_reads(inp, stage)


def trace_artifact(stage: str) -> str:
    """The config_trace artifact a stage emits: `config_trace` at config, `config_trace.<stage>` after."""
    return "config_trace" if stage == "config" else f"config_trace.{stage}"


def traced_reads(inp: CheckInput, stage: str) -> dict[str, Any] | None:
    """First value read of every N-0 key at a stage, or None when the pipeline emits no trace there."""
    name = trace_artifact(stage)
    if name not in inp.artifacts:
        return None
    reads: dict[str, Any] = {}
    for _, key, value in inp.artifacts[name]:
        if key in TRACED_KEYS:
            reads.setdefault(key, value)
    return reads


def stale_reads(inp: CheckInput, stage: str) -> dict[str, tuple[Any, Any]]:
    """Traced keys whose value read at the stage differs from the scenario: key → (read, expected)."""
    reads = traced_reads(inp, stage)
    if not reads:
        return {}
    expected = scenario_reads(inp, stage)
    return {key: (value, expected[key]) for key, value in reads.items() if not same_value(value, expected[key])}


def describe_reads(mismatches: Mapping[str, tuple[Any, Any]]) -> str:
    """'probe_scale 4.0 (scenario 10.0), probe.big True (scenario False)'."""
    return ", ".join(f"{key} {read} (scenario {want})" for key, (read, want) in mismatches.items())
