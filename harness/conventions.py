"""A pipeline's declared conventions, evaluated for one run's knob values.

A convention value is either a plain value or a function of the effective knobs (a mode a knob
switches, such as the legacy probe normalisation era); checks and the expected-divergence registry
read the evaluated mapping, never the pipeline's name.
"""
from __future__ import annotations

from typing import Any, Mapping

from harness.records import PipelineSpec


def resolve_conventions(pipeline: PipelineSpec, knobs: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared convention, those given as functions of the knobs evaluated for `knobs`."""
    return {name: value(knobs) if callable(value) else value for name, value in pipeline.conventions.items()}


def differing_conventions(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Names declared by either side whose values differ (undeclared on one side counts as different)."""
    missing = object()
    return sorted(name for name in set(a) | set(b) if a.get(name, missing) != b.get(name, missing))
