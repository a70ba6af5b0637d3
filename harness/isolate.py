"""`harness diff --isolate`: place each undeclared difference by re-running B's stage on A's inputs.

A "transplant" runs side B's stage function (B's pipeline, knobs, seeds and device settings) on the
inputs side A stored, and compares its outputs with A's. For a stage whose outputs differ: equal
transplanted outputs mean the difference is **inherited** from upstream, differing ones that the stage
**introduced** it. After a difference, a stage whose outputs match A's again although its inputs
differ is transplanted too: if B's code on A's inputs differs from A's, the stage is **compensating**
(two sign errors that cancel). A transplant needs B's inputs to exist on side A with the same shapes
and an output name in common; otherwise the stage is **not applicable** with the reason. Transplants
run in a worker like any stage, into `<run>/isolate/`, and are cached by the stage's code, knobs,
seeds and the inputs' checksums.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from harness.compare import Comparison
from harness.diff import SideArtifacts, compare_stage, explain_differences
from harness.manager import Registry
from harness.progress import make_progress
from harness.records import PipelineSpec
from harness.report import Isolation, Report, SideStatus, StageVerdict
from harness.runner import SideOutcome, run_jobs
from harness.stages import stage_index
from harness.store import StageFiles
from harness.worker import SideJob, TransplantJob

UNDECLARED = ("differs", "not_comparable")
"""Comparison statuses that are differences nobody declared."""

Sources = dict[str, tuple[str, str]]
"""A transplant's inputs: name → (side A's producing stage, the artifact's checksum)."""
Compare = Callable[[str], tuple[Comparison, ...]]
"""A's outputs of a stage against B's transplanted ones."""


@dataclass(frozen=True)
class _Plan:
    """One stage to isolate: its own difference, and where its transplant reads (None: not applicable, why)."""

    entry: StageVerdict
    undeclared: bool
    sources: Sources | None
    reason: str = ""
    inputs_identical: bool = False


def isolate(registry: Registry, report: Report, outcomes: dict[str, SideOutcome], settings: dict[str, Any],
            knobs: dict[str, dict[str, Any]], progress_console: Console) -> Report:
    """The diff report with an isolation record on every stage that introduces, inherits or cancels a difference."""
    a, b = list(outcomes)
    pipelines = {side: registry.pipeline(outcome.job.pipeline) for side, outcome in outcomes.items()}
    folders = {side: Path(outcome.job.run_dir) / side for side, outcome in outcomes.items()}
    plans = plan_isolation(report, pipelines, folders, (a, b))
    wanted = {plan.entry.stage: plan.sources for plan in plans if plan.sources is not None and not plan.inputs_identical}
    transplanted = _transplant(outcomes[b].job, a, wanted, progress_console) if wanted else None

    def compare(stage: str) -> tuple[Comparison, ...]:
        """A's stage outputs against the transplanted ones, each difference explained by its relation."""
        files = StageFiles(transplanted.job.side_dir, stage)
        sides = {a: SideArtifacts(folders[a], pipelines[a], stage), b: files.load(files.read_record() or {})}
        comparisons, _ = compare_stage(registry, stage, outcomes, pipelines, sides, knobs, settings)
        return tuple(explain_differences(stage, comparisons, sides)[0])

    records = classify(plans, transplanted, compare, pipelines[b].name)
    return replace(report, stages=tuple(replace(entry, isolation=records.get(entry.stage)) for entry in report.stages))


def undeclared(entry: StageVerdict) -> bool:
    """Whether a stage differs in a way nobody declared (a differing artifact, or a differs/break verdict)."""
    return entry.verdict in ("differs", "break") or any(c.status in UNDECLARED for c in entry.comparisons)


def plan_isolation(report: Report, pipelines: dict[str, PipelineSpec], folders: dict[str, Path],
                   sides: tuple[str, str]) -> list[_Plan]:
    """The stages to isolate, in order: every undeclared difference, and after the first one every stage
    whose outputs match although its inputs differ (a candidate for compensation)."""
    plans: list[_Plan] = []
    seen = False
    for entry in report.stages:
        own = undeclared(entry)
        seen = seen or own
        if not seen:
            continue
        if not all(info.usable for info in entry.sides.values()):
            if own:
                plans.append(_Plan(entry, own, None, "a side has no stored outputs at this stage"))
            continue
        sources, identical, reason = transplant_sources(entry.stage, pipelines, folders, sides)
        if own or (sources is not None and not identical):
            plans.append(_Plan(entry, own, sources, reason, identical))
    return plans


def transplant_sources(stage: str, pipelines: dict[str, PipelineSpec], folders: dict[str, Path],
                       sides: tuple[str, str]) -> tuple[Sources | None, bool, str]:
    """(where B's stage finds each input on side A, whether every input is identical on both sides, why not
    applicable): B's inputs must exist upstream on A with the same shapes, and A's stage share an output name."""
    a, b = sides
    spec_a, spec_b = pipelines[a].stage(stage), pipelines[b].stage(stage)
    if not any(name in spec_a.outputs for name in spec_b.outputs):
        return None, False, f"B's {stage} outputs none of A's ({', '.join(spec_a.outputs)})"
    sources: Sources = {}
    identical = True
    for name in spec_b.inputs:
        producer = pipelines[a].producer_of(name)
        if producer is None or stage_index(producer) >= stage_index(stage):
            return None, False, f"input {name!r} of B's {stage} is not produced upstream on side A"
        on_a = _artifact_info(folders[a], producer, name)
        on_b = _artifact_info(folders[b], pipelines[b].producer_of(name), name)
        if on_a is None or on_b is None:
            return None, False, f"input {name!r} of {stage} is not stored on both sides"
        if _shape(on_a) != _shape(on_b):
            return None, False, f"input {name!r} of {stage} has shape {_shape(on_a)} on A and {_shape(on_b)} on B"
        sources[name] = (producer, on_a["sha256"])
        identical = identical and on_a["sha256"] == on_b["sha256"]
    return sources, identical, ""


def _artifact_info(folder: Path, stage: str | None, name: str) -> dict[str, Any] | None:
    """An artifact's entry in its stage record (kind, shape, checksum), or None when not stored."""
    record = StageFiles(folder, stage).read_record() if stage else None
    if record is None or record.get("status") != "ok":
        return None
    return record.get("artifacts", {}).get(name)


def _shape(info: dict[str, Any]) -> str:
    """What must match for B's code to take A's artifact: an array's shape, a list's shapes, a value's type."""
    if info["kind"] == "array":
        return f"({', '.join(str(n) for n in info['shape'])})"
    if info["kind"] == "arrays":
        return f"{info['count']} arrays {info['shapes']}"
    return f"a {type(info['value']).__name__} value"


def _transplant(job_b: SideJob, source: str, wanted: dict[str, Sources], console: Console) -> SideOutcome:
    """Run B's stages on side `source`'s inputs in one worker (served from the stage cache when it can)."""
    job = TransplantJob(**{**{f.name: getattr(job_b, f.name) for f in fields(SideJob)}, "side": "isolate",
                           "stages": tuple(wanted)}, source=source, as_side=job_b.side, sources=wanted)
    with make_progress(console, {job.side: job.pipeline}, job.stages) as progress:
        return run_jobs([job], 1, progress)[job.side]


def classify(plans: list[_Plan], transplanted: SideOutcome | None, compare: Compare, pipeline_b: str) -> dict[str, Isolation]:
    """Each planned stage's isolation record; a compensation candidate whose transplant matches gets none."""
    records: dict[str, Isolation] = {}
    introduced_at: str | None = None
    for plan in plans:
        stage = plan.entry.stage
        record = _isolation(plan, transplanted, compare, pipeline_b, introduced_at)
        if record is None:
            continue
        if record.status == "introduced":
            introduced_at = stage
        records[stage] = record
    return records


def _isolation(plan: _Plan, transplanted: SideOutcome | None, compare: Compare, pipeline_b: str,
               introduced_at: str | None) -> Isolation | None:
    """One stage's record from its plan and transplant; `introduced_at` is the latest stage that introduced one."""
    stage = plan.entry.stage
    if plan.sources is None:
        return Isolation("not_applicable", plan.reason)
    if plan.inputs_identical:
        own = tuple(c for c in plan.entry.comparisons if c.status in UNDECLARED)
        what = f" ({_text(own[0])})" if own else ""
        return Isolation("introduced", f"its inputs are identical on both sides, so {pipeline_b}'s {stage} "
                                       f"itself gives the different outputs{what}", own)
    status = _transplant_status(transplanted, stage)
    if not status.usable:
        return Isolation("not_applicable", f"{pipeline_b}'s {stage} failed on A's inputs: {status.error or status.reason}",
                         transplant=status)
    comparisons = compare(stage)
    differing = [c for c in comparisons if c.status in UNDECLARED]
    upstream = introduced_at or "upstream"
    if plan.undeclared and differing:
        return Isolation("introduced", f"{pipeline_b}'s {stage} on A's inputs differs from A's: {_text(differing[0])}",
                         comparisons, status)
    if plan.undeclared:
        return Isolation("inherited", f"{pipeline_b}'s {stage} on A's inputs matches A's: the difference comes from "
                                      f"{upstream}", comparisons, status)
    if differing:
        return Isolation("compensating", f"the outputs match although the inputs differ, and {pipeline_b}'s {stage} "
                                         f"on A's inputs differs ({_text(differing[0])}): it cancels the difference "
                                         f"introduced at {upstream}", comparisons, status)
    return None


def _transplant_status(transplanted: SideOutcome | None, stage: str) -> SideStatus:
    """How the transplanted run of a stage went, as the report's side statuses say it."""
    info = transplanted.stages.get(stage) if transplanted else None
    if info is None:
        fatal = transplanted.fatal if transplanted else None
        return SideStatus("skipped", reason=fatal["error"] if fatal else "not run")
    return SideStatus(info["status"], info.get("seconds"), info.get("key"), info.get("reason"), info.get("error"))


def _text(comparison: Comparison) -> str:
    """A differing artifact in a few words: its relation when one was found, else the comparison's summary."""
    relation = comparison.details.get("relation") or {}
    text = relation.get("text") if relation.get("kind") not in (None, "none", "equal") else None
    return f"{comparison.artifact}: {text}" if text else comparison.summary
