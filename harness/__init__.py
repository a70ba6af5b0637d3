"""ptycho-harness: run two ptychography pipelines stage by stage and report where they disagree."""
from __future__ import annotations

import pluggy

from harness.derive import PipelineVariant, derive

from harness.errors import HarnessError, NotApplicable
from harness.records import (
    CheckInput,
    CheckResult,
    CheckSpec,
    HypothesisSpec,
    Knob,
    PipelineSpec,
    Prediction,
    ReporterSpec,
    RunRequest,
    StageSpec,
)

hookimpl = pluggy.HookimplMarker("harness")

__all__ = [
    "hookimpl",
    "PipelineSpec",
    "StageSpec",
    "Knob",
    "CheckSpec",
    "CheckInput",
    "CheckResult",
    "HypothesisSpec",
    "RunRequest",
    "Prediction",
    "ReporterSpec",
    "HarnessError",
    "NotApplicable",
    "derive",
    "PipelineVariant",
]
