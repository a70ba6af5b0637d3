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
from harness.compare import Comparison
from harness.report import (
    REPORT_SCHEMA,
    CategoryBreak,
    Finding,
    Lead,
    Report,
    SideInfo,
    SideStatus,
    StageVerdict,
    load_report,
)
from harness.report_json import ReportError

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
    "Report",
    "StageVerdict",
    "Finding",
    "Lead",
    "SideStatus",
    "SideInfo",
    "CategoryBreak",
    "Comparison",
    "REPORT_SCHEMA",
    "ReportError",
    "load_report",
]
