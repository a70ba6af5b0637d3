"""Per-stage verdicts and the first break, from the stored artifacts of one or two sides.

For each stage: artifacts present on both sides are compared (comparator chosen through
`harness_select_comparator`), registered checks run on each side (and across sides), and the
stage verdict is the worst finding: error > break > differs > expected > equal; skipped when a
side did not run it.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.compare import DEFAULT_TOLERANCE, Comparison
from harness.manager import Registry
from harness.checking import run_checks
from harness.records import CATEGORIES, CheckInput, PipelineSpec
from harness.runner import SideOutcome
from harness.stages import STAGES
from harness.store import StageFiles

REPORT_SCHEMA = 1
VERDICT_ORDER = ("ok", "equal", "expected", "skipped", "differs", "break", "error")
EXIT_OK, EXIT_DIFFERS, EXIT_USAGE, EXIT_STAGE_ERROR = 0, 1, 2, 3


class SideArtifacts(Mapping[str, Any]):
    """Artifacts of one side up to a stage, loaded lazily from the run folder (never unpickled)."""

    def __init__(self, folder: Path, pipeline: PipelineSpec, upto: str):
        self._folder = folder
        self._producer: dict[str, str] = {}
        last = STAGES.index(upto)
        for stage in pipeline.stages:
            if STAGES.index(stage.name) <= last:
                for name in stage.outputs:
                    self._producer[name] = stage.name
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            stage = self._producer[name]
            files = StageFiles(self._folder, stage)
            record = files.read_record()
            if record is None or record.get("status") != "ok":
                raise KeyError(f"{name!r}: stage {stage!r} has no stored outputs")
            self._loaded.update(files.load(record, [name]))
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._producer)

    def __len__(self) -> int:
        return len(self._producer)


def build_report(
    registry: Registry,
    outcomes: dict[str, SideOutcome],
    settings: dict[str, Any],
    knobs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The full report of a run or diff, as a JSON-able dict that reporters render."""
    sides = list(outcomes)
    pipelines = {side: registry.pipeline(outcome.job.pipeline) for side, outcome in outcomes.items()}
    requested = settings["stages_run"]
    stages = []
    for stage in requested:
        present = {side: pipelines[side].stage(stage) is not None for side in sides}
        if not any(present.values()):
            continue
        stages.append(_stage_entry(registry, stage, outcomes, pipelines, knobs, settings, present))
    report = {
        "schema_version": REPORT_SCHEMA,
        "kind": "diff" if len(sides) == 2 else "run",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": settings,
        "sides": {
            side: {
                "pipeline": outcome.job.pipeline,
                "knobs": knobs[side],
                "knob_overrides": outcome.job.knob_overrides,
                "fatal": outcome.fatal,
            }
            for side, outcome in outcomes.items()
        },
        "knob_differences": _knob_differences(knobs) if len(sides) == 2 else {},
        "stages": stages,
        "warnings": list(registry.loaded.warnings),
    }
    report.update(summarise(report))
    return report


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """First break, first difference, per-category first failure, exit code and a one-line summary."""
    stages = report["stages"]
    first_break = next((s for s in stages if s["verdict"] == "break"), None)
    first_difference = next((s for s in stages if s["verdict"] in ("differs", "break")), None)
    categories: dict[str, Any] = {}
    for category in CATEGORIES:
        categories[category] = None
        for entry in stages:
            failing = [f for f in entry["findings"] if f["category"] == category and _breaks(f)]
            if failing:
                first = failing[0]
                sides_failing = {f["side"] for f in failing}
                others = [s for s in report["sides"] if s not in sides_failing]
                categories[category] = {
                    "stage": entry["stage"],
                    "check": first["check"],
                    "side": first["side"],
                    "known_break": first.get("known_break"),
                    "explanation": first["explanation"],
                    "other_side_passes": (bool(others) and "cross" not in sides_failing) if len(report["sides"]) == 2 else None,
                }
                break
    fatal = any(side.get("fatal") for side in report["sides"].values())
    errored = fatal or any(s["verdict"] == "error" for s in stages)
    if errored:
        code = EXIT_STAGE_ERROR
    elif any(s["verdict"] in ("differs", "break") for s in stages):
        code = EXIT_DIFFERS
    else:
        code = EXIT_OK
    counts = {v: sum(1 for s in stages if s["verdict"] == v) for v in VERDICT_ORDER}
    parts = [f"{n} {v}" for v, n in counts.items() if n]
    if first_break:
        finding = first_break["first_finding"]
        label = f" ({finding['known_break']})" if finding and finding.get("known_break") else ""
        headline = f"first break at {first_break['stage']} [{first_break['category']}]{label}"
    elif errored:
        headline = "a stage errored"
    elif first_difference:
        headline = f"first difference at {first_difference['stage']}"
    else:
        headline = "no break"
    return {
        "first_break": _pointer(first_break),
        "first_difference": _pointer(first_difference),
        "categories": categories,
        "exit_code": code,
        "summary": f"{headline}; stages: {', '.join(parts) or 'none'}",
    }


def _pointer(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"stage": entry["stage"], "verdict": entry["verdict"], "category": entry["category"],
            "finding": entry["first_finding"]}


def _stage_entry(registry, stage, outcomes, pipelines, knobs, settings, present) -> dict[str, Any]:
    side_status = {}
    for side, outcome in outcomes.items():
        if not present[side]:
            side_status[side] = {"status": "absent", "reason": f"{outcome.job.pipeline} has no {stage!r} stage"}
        elif stage in outcome.stages:
            side_status[side] = outcome.stages[stage]
        else:
            reason = outcome.fatal["error"] if outcome.fatal else "not run"
            side_status[side] = {"status": "skipped", "reason": reason}
    usable = {side: info["status"] in ("ok", "cached") for side, info in side_status.items()}
    artifacts = {
        side: SideArtifacts(Path(outcomes[side].job.run_dir) / side, pipelines[side], stage)
        for side in outcomes if usable[side]
    }
    comparisons: list[dict[str, Any]] = []
    only: dict[str, list[str]] = {side: [] for side in outcomes}
    if len(outcomes) == 2 and all(usable.values()):
        comparisons, only = _compare_stage(registry, stage, outcomes, pipelines, artifacts, knobs, settings)
    inputs = {
        side: CheckInput(side=side, pipeline=outcomes[side].job.pipeline, scenario=settings["scenario"],
                         profile=settings["profile"], knobs=knobs[side], artifacts=artifacts[side])
        for side in artifacts
    }
    findings = run_checks(registry, stage, inputs, settings["profile"])
    verdict, category, first = _verdict(side_status, comparisons, findings)
    if verdict == "equal" and len(outcomes) == 1:
        verdict = "ok"
    return {
        "stage": stage,
        "verdict": verdict,
        "category": category,
        "first_finding": first,
        "sides": side_status,
        "comparisons": comparisons,
        "only": only,
        "findings": findings,
    }


def _compare_stage(registry, stage, outcomes, pipelines, artifacts, knobs, settings):
    a_side, b_side = list(outcomes)
    spec_a, spec_b = pipelines[a_side].stage(stage), pipelines[b_side].stage(stage)
    shared = [name for name in spec_a.outputs if name in spec_b.outputs]
    only = {a_side: [n for n in spec_a.outputs if n not in spec_b.outputs],
            b_side: [n for n in spec_b.outputs if n not in spec_a.outputs]}
    context = {"pipelines": {s: outcomes[s].job.pipeline for s in outcomes}, "knobs": knobs,
               "scenario": settings.get("scenario"), "profile": settings.get("profile")}
    results = []
    for name in shared:
        a_value, b_value = artifacts[a_side][name], artifacts[b_side][name]
        tolerance = _tolerance(spec_a.tolerances.get(name), spec_b.tolerances.get(name))
        comparator = registry.pm.hook.harness_select_comparator(stage=stage, artifact=name, a=a_value, b=b_value,
                                                                context=context)
        comparison: Comparison = comparator(name, a_value, b_value, tolerance)
        results.append(comparison.to_dict())
    return results, only


def _tolerance(a: tuple[float, float] | None, b: tuple[float, float] | None) -> tuple[float, float]:
    given = [t for t in (a, b) if t is not None]
    if not given:
        return DEFAULT_TOLERANCE
    return (max(t[0] for t in given), max(t[1] for t in given))


def _breaks(finding: dict[str, Any]) -> bool:
    if finding["status"] == "error":
        return True
    return finding["status"] == "fail" and finding["severity"] == "error" and not finding["report_only"]


def _verdict(side_status, comparisons, findings) -> tuple[str, str | None, dict[str, Any] | None]:
    statuses = [info["status"] for info in side_status.values()]
    if "error" in statuses:
        side = next(s for s, info in side_status.items() if info["status"] == "error")
        return "error", None, {"side": side, "explanation": side_status[side].get("error", "")}
    breaking = [f for f in findings if _breaks(f)]
    if breaking:
        first = breaking[0]
        category = first["category"] if first["status"] != "error" else "other"
        return "break", category, first
    if any(s in ("skipped", "absent") for s in statuses):
        return "skipped", None, None
    differing = [c for c in comparisons if c["status"] in ("differs", "not_comparable")]
    if differing:
        return "differs", None, {"artifact": differing[0]["artifact"], "explanation": differing[0]["summary"]}
    expected = [c for c in comparisons if c["status"] == "expected"]
    if expected:
        return "expected", None, {"artifact": expected[0]["artifact"], "explanation": expected[0]["reason"] or expected[0]["summary"]}
    return "equal", None, None


def _knob_differences(knobs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    a, b = knobs.values()
    out = {}
    for name in sorted(set(a) | set(b)):
        if a.get(name, "(absent)") != b.get(name, "(absent)"):
            out[name] = {"a": a.get(name, "(absent)"), "b": b.get(name, "(absent)")}
    return out
