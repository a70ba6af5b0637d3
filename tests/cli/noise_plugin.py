"""Pipelines for `harness noise`, `--noise` and `--check-determinism` tests; loaded with `-p tests/cli/noise_plugin.py`.

`noisy` simulates Poisson counts of a fixed pattern from the run seed, so its artifacts spread from seed
to seed; its normalize stage multiplies by the `gain` knob, and the NZ-1 check measures the mean counts
of X there. `noisy__unseeded` draws its counts from an unseeded generator: nondeterministic on purpose.
`sim_lines__gain` is sim_lines with a `gain` knob that scales the normalized model input X.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from harness import CheckResult, CheckSpec, Knob, PipelineSpec, StageSpec, derive, hookimpl

PATTERN = np.outer(np.hanning(24), np.hanning(24)) * 400.0 + 5.0
"""Expected counts per pixel: enough photons that a 1% gain change stands far above the Poisson spread."""


def config(ctx: Any) -> dict[str, Any]:
    return {"config": {"N": PATTERN.shape[0], "seed": ctx.run_seed}}


def simulate(ctx: Any, config: dict[str, Any]) -> dict[str, Any]:
    counts = ctx.rng("counts").poisson(np.tile(PATTERN, (16, 1, 1))).astype(np.float32)
    return {"diffraction": counts, "total": float(counts.sum())}


def simulate_unseeded(ctx: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Counts from a generator seeded by the operating system: a different draw on every run."""
    counts = np.random.default_rng().poisson(np.tile(PATTERN, (16, 1, 1))).astype(np.float32)
    return {"diffraction": counts, "total": float(counts.sum())}


def normalize(ctx: Any, diffraction: np.ndarray) -> dict[str, Any]:
    return {"X": (diffraction * np.float32(ctx.knobs["gain"])).astype(np.float32)}


def mean_counts(inp: Any) -> CheckResult:
    """NZ-1: the mean of X is the pattern's mean count (the gain is 1)."""
    measured = float(np.mean(inp.artifacts["X"]))
    expected = float(PATTERN.mean())
    return CheckResult(measured, expected, 0.05 * expected, abs(measured - expected) <= 0.05 * expected,
                       f"mean X {measured:.4g} against the pattern's {expected:.4g}")


def gained(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """sim_lines' normalize with X multiplied by the `gain` knob (1.01 plants a 1% gain error)."""
    out = dict(base(ctx, **inputs))
    for grouping in ("train", "infer"):
        out[f"X.{grouping}"] = (out[f"X.{grouping}"] * np.float32(ctx.knobs["gain"])).astype(out[f"X.{grouping}"].dtype)
    return out


def _noisy(name: str, simulate_stage: Any) -> PipelineSpec:
    return PipelineSpec(
        name=name,
        stages=(
            StageSpec("config", config, outputs=("config",)),
            StageSpec("simulate", simulate_stage, inputs=("config",), outputs=("diffraction", "total")),
            StageSpec("normalize", normalize, inputs=("diffraction",), outputs=("X",)),
        ),
        knobs={"gain": Knob(1.0, stages=("normalize",), help="factor applied by normalize")},
        scenarios=("tiny", "other"),
    )


@hookimpl
def harness_register_pipelines() -> list[Any]:
    return [_noisy("noisy", simulate), _noisy("noisy__unseeded", simulate_unseeded),
            derive("sim_lines", "sim_lines__gain", stages={"normalize": gained},
                   knobs={"gain": Knob(1.0, stages=("normalize",), help="factor on X after normalize_data")})]


@hookimpl
def harness_register_checks() -> list[CheckSpec]:
    return [CheckSpec("NZ-1", "normalization", "normalize", "error", mean_counts, pipelines=("noisy", "noisy__unseeded"),
                      requires=("X",), description="mean of X is the pattern's mean count")]
