"""Effective knob values: the pipeline's defaults with the user's `--set` overrides applied."""
from __future__ import annotations

from typing import Any, Mapping

from harness.errors import UsageError
from harness.records import PipelineSpec


def effective_knobs(pipeline: PipelineSpec, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults plus overrides, each coerced by its Knob; unknown knobs list the valid ones."""
    values = {name: knob.default for name, knob in pipeline.knobs.items()}
    for name, raw in overrides.items():
        if name not in pipeline.knobs:
            valid = ", ".join(sorted(pipeline.knobs)) or "(this pipeline has no knobs)"
            raise UsageError(f"unknown knob {name!r} for pipeline {pipeline.name!r}; valid knobs: {valid}")
        values[name] = pipeline.knobs[name].coerce(name, raw)
    return values


def knobs_read_by(pipeline: PipelineSpec, stage: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of knob values a stage declares it reads (what goes into its cache key)."""
    return {name: values[name] for name, knob in pipeline.knobs.items() if stage in knob.stages}


def check_choice(kind: str, value: str, valid: tuple[str, ...], pipeline: str) -> str:
    """Validate a scenario or profile name against a pipeline's list."""
    if value not in valid:
        raise UsageError(f"unknown {kind} {value!r} for pipeline {pipeline!r}; valid {kind}s: {', '.join(valid)}")
    return value


def parse_assignments(items: tuple[str, ...], sides: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Split `--set side.knob=value` (or `knob=value` for both sides) into per-side overrides."""
    result: dict[str, dict[str, str]] = {side: {} for side in sides}
    for item in items:
        target, sep, value = item.partition("=")
        if not sep or not target:
            raise UsageError(f"--set expects knob=value, got {item!r}")
        side, dot, knob = target.partition(".")
        if dot and side in sides:
            result[side][knob] = value
        elif dot and len(sides) > 1 and side in ("a", "b"):
            raise UsageError(f"--set {item!r}: side {side!r} is not part of this command")
        else:
            for each in sides:
                result[each][target] = value
    return result
