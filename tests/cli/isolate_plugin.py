"""A five-stage numpy pipeline, `chain`, whose every stage carries a sign through, and one-file variants of it
for `harness diff --isolate`: a sign flipped at probe (one fault), flipped back at normalize (two faults that
cancel), and a renamed artifact between simulate and group (a transplant that cannot apply)."""
from __future__ import annotations

from typing import Any

import numpy as np

from harness import PipelineSpec, StageSpec, derive, hookimpl


def config(ctx: Any) -> dict[str, Any]:
    return {"config": {"size": 16}}


def probe(ctx: Any, config: dict[str, Any]) -> dict[str, Any]:
    return {"probe": np.linspace(0.5, 2.0, config["size"])}


def simulate(ctx: Any, probe: np.ndarray) -> dict[str, Any]:
    return {"signal": np.cumsum(probe) * 0.5}


def group(ctx: Any, signal: np.ndarray) -> dict[str, Any]:
    return {"groups": signal.reshape(4, -1)}


def normalize(ctx: Any, groups: np.ndarray) -> dict[str, Any]:
    return {"X": groups / np.abs(groups).max()}


def scale(ctx: Any, X: np.ndarray) -> dict[str, Any]:
    return {"X_scaled": X * 3.0, "energy": float(np.sum(X**2))}


def flipped(ctx: Any, base: Any, **inputs: Any) -> dict[str, Any]:
    """A sign error: every output of the stage negated."""
    return {name: -value for name, value in base(ctx, **inputs).items()}


def simulate_trace(ctx: Any, probe: np.ndarray) -> dict[str, Any]:
    """simulate under another output name, and three times as strong."""
    return {"trace": simulate(ctx, probe)["signal"] * 3.0}


def group_trace(ctx: Any, trace: np.ndarray) -> dict[str, Any]:
    return group(ctx, trace)


CHAIN = PipelineSpec(
    name="chain",
    stages=(
        StageSpec("config", config, outputs=("config",)),
        StageSpec("probe", probe, inputs=("config",), outputs=("probe",)),
        StageSpec("simulate", simulate, inputs=("probe",), outputs=("signal",)),
        StageSpec("group", group, inputs=("signal",), outputs=("groups",)),
        StageSpec("normalize", normalize, inputs=("groups",), outputs=("X",)),
        StageSpec("scale", scale, inputs=("X",), outputs=("X_scaled", "energy")),
    ),
    scenarios=("tiny",),
)


@hookimpl
def harness_register_pipelines() -> list[Any]:
    return [
        CHAIN,
        derive("chain", "chain__flip", stages={"probe": flipped}),
        derive("chain", "chain__compensated", stages={"probe": flipped, "normalize": flipped}),
        derive("chain", "chain__renamed", stages={
            "simulate": StageSpec("simulate", simulate_trace, inputs=("probe",), outputs=("trace",)),
            "group": StageSpec("group", group_trace, inputs=("trace",), outputs=("groups",)),
        }),
    ]
