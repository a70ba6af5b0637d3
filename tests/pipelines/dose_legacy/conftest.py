"""Runs dose_legacy stages in this process with real StageContexts; runs are memoised for the session."""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

import pytest

from harness.context import StageContext, StageKnobs
from harness.device import DeviceHandle
from harness.knobs import effective_knobs
from harness.records import PipelineSpec
from harness.store import capture_outputs
from pipelines.dose_legacy.plugin import harness_register_pipelines

RunStages = Callable[..., dict[str, Any]]


def stage_context(
    spec: PipelineSpec,
    stage: str,
    scenario: str,
    profile: str = "smoke",
    knobs: Mapping[str, str] | None = None,
    run_seed: int = 42,
) -> StageContext:
    """The context a worker builds for one stage: effective knobs, readable only where declared."""
    declared = {name: knob.stages for name, knob in spec.knobs.items()}
    return StageContext(pipeline=spec.name, stage=stage, side="a", scenario=scenario, profile=profile,
                        run_seed=run_seed, knobs=StageKnobs(effective_knobs(spec, dict(knobs or {})), declared, stage),
                        device=DeviceHandle("cpu"), log=logging.getLogger("tests.dose_legacy"))


def run_stages(
    spec: PipelineSpec,
    scenario: str,
    profile: str = "smoke",
    knobs: Mapping[str, str] | None = None,
    run_seed: int = 42,
    until: str = "scale",
) -> dict[str, Any]:
    """Execute the stages in order up to `until` as a worker would: per-stage knob scoping, captured outputs."""
    artifacts: dict[str, Any] = {}
    for stage in spec.stages:
        ctx = stage_context(spec, stage.name, scenario, profile, knobs, run_seed)
        inputs = {name.replace(".", "_"): artifacts[name] for name in stage.inputs}
        artifacts.update(capture_outputs(stage.name, stage.outputs, stage.func(ctx, **inputs)))
        if stage.name == until:
            break
    return artifacts


@pytest.fixture(scope="session")
def dose_legacy_spec() -> PipelineSpec:
    (spec,) = harness_register_pipelines()
    return spec


@pytest.fixture(scope="session")
def make_context(dose_legacy_spec) -> Callable[..., StageContext]:
    """`make_context(stage, scenario, knobs=..., ...)`: a worker-like context for calling one stage directly."""
    return lambda stage, scenario, **kwargs: stage_context(dose_legacy_spec, stage, scenario, **kwargs)


@pytest.fixture(scope="session")
def legacy_run(dose_legacy_spec) -> RunStages:
    """`legacy_run(scenario, profile="smoke", run_seed=42, until="scale", **knobs)`, memoised per arguments."""
    cache: dict[tuple, dict[str, Any]] = {}

    def run(scenario: str, profile: str = "smoke", run_seed: int = 42, until: str = "scale", **knobs: str):
        key = (scenario, profile, run_seed, until, tuple(sorted(knobs.items())))
        if key not in cache:
            cache[key] = run_stages(dose_legacy_spec, scenario, profile, knobs, run_seed, until)
        return cache[key]

    return run
