"""Builds the typed report from the stored artifacts of one or two sides.

For each stage: artifacts present on both sides are compared (comparator chosen through
`harness_select_comparator`), registered checks run on each side (and across sides), and
`harness.report.StageVerdict.decide` gives the verdict; the report derives the first break.
"""
from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.compare import DEFAULT_TOLERANCE, Comparison
from harness.manager import Registry
from harness.checking import run_checks
from harness.conventions import resolve_conventions
from harness.records import CheckInput, PipelineSpec
from harness.relations import category_for, find_relation, role_for
from harness.rendering import plain
from harness.report import Finding, Report, SideInfo, SideStatus, StageVerdict
from harness.runner import SideOutcome
from harness.stages import STAGES
from harness.store import StageFiles
from harness.verdict_cache import Entry, VerdictCache, code_hash, entry_key



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

    def stage_record(self, stage: str) -> dict[str, Any] | None:
        """The stored record of one of this side's stages (where worker-side check findings live)."""
        return StageFiles(self._folder, stage).read_record()

    def __iter__(self) -> Iterator[str]:
        return iter(self._producer)

    def __len__(self) -> int:
        return len(self._producer)


def build_report(
    registry: Registry,
    outcomes: dict[str, SideOutcome],
    settings: dict[str, Any],
    knobs: dict[str, dict[str, Any]],
    early: "EarlyVerdicts | None" = None,
) -> Report:
    """The typed report of a run or diff, which report.json stores and reporters render; `early` holds the
    stage entries already evaluated while the workers ran."""
    sides = list(outcomes)
    pipelines = {side: registry.pipeline(outcome.job.pipeline) for side, outcome in outcomes.items()}
    cached = _Cached(registry, outcomes, knobs, settings)
    stages = []
    for stage in settings["stages_run"]:
        present = {side: pipelines[side].stage(stage) is not None for side in sides}
        if any(present.values()):
            side_status = {side: _side_status(outcome, stage, present[side]) for side, outcome in outcomes.items()}
            entry = early.entries.get(stage) if early is not None else None
            if entry is None:
                entry = _stage_entry(registry, stage, outcomes, pipelines, knobs, settings, side_status, cached)
            comparisons, findings, only = entry
            stages.append(StageVerdict.decide(stage, side_status, comparisons, findings, only))
    return Report(
        kind="diff" if len(sides) == 2 else "run",
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        settings=settings,
        sides={side: SideInfo(outcome.job.pipeline, knobs[side], outcome.job.knob_overrides, outcome.fatal,
                              jsonable_conventions(pipelines[side], knobs[side]), pipelines[side].base)
               for side, outcome in outcomes.items()},
        stages=tuple(stages),
        knob_differences=_knob_differences(knobs) if len(sides) == 2 else {},
        warnings=tuple(registry.loaded.warnings),
    )


def finding_from_check(raw: Mapping[str, Any]) -> Finding:
    """A `harness.checking` finding dict as a typed Finding (what the checks say is kept as it is)."""
    return Finding(check=raw["check"], category=raw["category"], severity=raw["severity"], side=raw["side"],
                   stage=raw["stage"], status=raw["status"], explanation=raw.get("explanation") or "",
                   measured=raw.get("measured"), expected=raw.get("expected"), tolerance=raw.get("tolerance"),
                   known_break=raw.get("known_break"), report_only=bool(raw.get("report_only", False)),
                   details=dict(raw.get("details") or {}), traceback=raw.get("traceback"))


def _side_status(outcome: SideOutcome, stage: str, present: bool) -> SideStatus:
    if not present:
        return SideStatus("absent", reason=f"{outcome.job.pipeline} has no {stage!r} stage")
    if stage not in outcome.stages:
        return SideStatus("skipped", reason=outcome.fatal["error"] if outcome.fatal else "not run")
    info = outcome.stages[stage]
    return SideStatus(info["status"], info.get("seconds"), info.get("key"), info.get("reason"), info.get("error"),
                      info.get("traceback"))


class _Cached:
    """The verdict cache of this report, when the sides use the stage cache (see harness.verdict_cache)."""

    def __init__(self, registry: Registry, outcomes: dict[str, SideOutcome], knobs: dict[str, dict[str, Any]],
                 settings: dict[str, Any]):
        jobs = [outcome.job for outcome in outcomes.values()]
        usable = all(job.use_cache and job.cache_dir for job in jobs)
        self.cache = VerdictCache(Path(jobs[0].cache_dir)) if usable else None
        self.outcomes, self.knobs, self.settings = outcomes, knobs, settings
        self.code = code_hash(registry, tuple(settings.get("plugins", {}).get("extra", ()))) if usable else ""

    def key(self, stage: str, side_status: dict[str, SideStatus]) -> str | None:
        """The entry key of a stage whose every side is stored with its cache key, else None (not cached)."""
        if self.cache is None or not all(info.usable and info.key for info in side_status.values()):
            return None
        upto = self.settings["stages_run"][: self.settings["stages_run"].index(stage) + 1]
        sides = {side: {"pipeline": outcome.job.pipeline, "knobs": self.knobs[side],
                        "stage_keys": [outcome.stages.get(s, {}).get("key") for s in upto]}
                 for side, outcome in self.outcomes.items()}
        return entry_key(stage, sides, self.settings, self.code)


def _stage_entry(registry, stage, outcomes, pipelines, knobs, settings, side_status, cached: _Cached) -> Entry:
    """The stage's comparisons and findings: from the verdict cache, else evaluated (and cached)."""
    key = cached.key(stage, side_status)
    entry = cached.cache.get(key) if key else None
    if entry is None:
        entry = _evaluate_stage(registry, stage, outcomes, pipelines, knobs, settings, side_status)
        if key:
            cached.cache.put(key, entry)
    return entry


FINAL_STATUSES = ("ok", "cached", "error", "skipped")
"""What a worker reports when it is done with a stage (it reports "running" first)."""


class EarlyVerdicts:
    """Evaluates a stage's verdict while the workers still run, as soon as every side has reported the stage
    and a core is idle (a side finished first, or the machine has cores to spare): the host's comparisons and
    checks then no longer all wait until the slower side ends. `build_report` takes the entries as they are;
    an entry depends only on the stage's side statuses and the artifacts up to the stage, final once reported.
    """

    def __init__(self, registry: Registry, settings: dict[str, Any], knobs: dict[str, dict[str, Any]],
                 cores: int | None = None):
        self.registry, self.settings, self.knobs = registry, settings, knobs
        self.cores = cores or os.cpu_count() or 1
        self.entries: dict[str, Entry] = {}
        self._cached: _Cached | None = None

    def __call__(self, outcomes: dict[str, SideOutcome], running: int) -> None:
        """Evaluate every stage all sides have reported, in order, while fewer workers run than cores."""
        if running >= self.cores:
            return
        pipelines = {side: self.registry.pipeline(outcome.job.pipeline) for side, outcome in outcomes.items()}
        for stage in self.settings["stages_run"]:
            if stage in self.entries:
                continue
            present = {side: pipelines[side].stage(stage) is not None for side in outcomes}
            if not all(outcome.stages.get(stage, {}).get("status") in FINAL_STATUSES or not present[side]
                       for side, outcome in outcomes.items()):
                return
            if not any(present.values()):
                continue
            side_status = {side: _side_status(outcome, stage, present[side]) for side, outcome in outcomes.items()}
            self._cached = self._cached or _Cached(self.registry, outcomes, self.knobs, self.settings)
            self.entries[stage] = _stage_entry(self.registry, stage, outcomes, pipelines, self.knobs, self.settings,
                                               side_status, self._cached)


def _evaluate_stage(registry, stage, outcomes, pipelines, knobs, settings, side_status) -> Entry:
    """Compare the stage's shared artifacts and run its checks: what the verdict cache stores."""
    artifacts = {
        side: SideArtifacts(Path(outcomes[side].job.run_dir) / side, pipelines[side], stage)
        for side in outcomes if side_status[side].usable
    }
    comparisons: list[Comparison] = []
    only: dict[str, list[str]] = {side: [] for side in outcomes}
    if len(outcomes) == 2 and len(artifacts) == 2:
        comparisons, only = compare_stage(registry, stage, outcomes, pipelines, artifacts, knobs, settings)
    inputs = {
        side: CheckInput(side=side, pipeline=outcomes[side].job.pipeline, scenario=settings["scenario"],
                         profile=settings["profile"], knobs=knobs[side], artifacts=artifacts[side])
        for side in artifacts
    }
    checked = tuple(finding_from_check(raw) for raw in run_checks(registry, stage, inputs, settings["profile"]))
    comparisons, related = explain_differences(stage, comparisons, artifacts)
    findings = tuple(sorted(checked + tuple(related), key=finding_precedence))
    return tuple(comparisons), findings, {side: tuple(names) for side, names in only.items()}


RELATION_PREFIX = "relation:"
"""Check id prefix of a finding that names the relation behind an undeclared difference of one artifact."""


def finding_precedence(finding: Finding) -> int:
    """Order of a stage's findings, which decides the stage's and each category's lead: a check failing with a
    known-break label explains itself best, then the relation behind an undeclared difference (B = 2 × A says more
    than an energy off by 4), then the other checks, then a relation that only says "another random stream"."""
    if finding.known_break:
        return 0
    if finding.check.startswith(RELATION_PREFIX):
        return 1 if finding.category != "other" else 3
    return 2


def explain_differences(stage: str, comparisons: list[Comparison],
                        artifacts: Mapping[str, SideArtifacts]) -> tuple[list[Comparison], list[Finding]]:
    """Name the simplest relation behind each undeclared difference (harness.relations) and make each one found a
    breaking finding in the category the relation and the artifact's role give (a factor on X → normalization)."""
    if len(artifacts) != 2:
        return comparisons, []
    a_side, b_side = artifacts.values()
    explained, findings = [], []
    for comparison in comparisons:
        if comparison.status not in ("differs", "not_comparable"):
            explained.append(comparison)
            continue
        relation = find_relation(comparison.artifact, a_side[comparison.artifact], b_side[comparison.artifact])
        record = {"kind": relation.kind, "params": plain(relation.params), "residual": relation.residual,
                  "tolerance": relation.tolerance, "text": relation.text}
        explained.append(replace(comparison, details={**comparison.details, "relation": record}))
        if relation.found and relation.kind != "equal":
            category = category_for(relation, role_for(comparison.artifact))
            findings.append(Finding(
                check=f"{RELATION_PREFIX}{comparison.artifact}", category=category, severity="error", side="cross",
                stage=stage, status="fail", explanation=f"{comparison.artifact}: {relation.text}",
                measured=relation.residual, expected=relation.kind, tolerance=relation.tolerance,
                details={"relation": relation.kind, "params": plain(relation.params)}))
    return explained, findings


def jsonable_conventions(pipeline: PipelineSpec, knobs: dict[str, Any]) -> dict[str, Any]:
    """A side's evaluated conventions as the report stores them (values JSON can hold, others as text)."""
    return {name: value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
            for name, value in resolve_conventions(pipeline, knobs).items()}


def compare_stage(registry, stage, outcomes, pipelines, artifacts, knobs, settings):
    """Compare the artifacts both sides' stages output, each with the comparator the hook selects; also the names
    only one side outputs. `artifacts` maps side → its artifacts (a transplanted run stands in for B in --isolate)."""
    a_side, b_side = list(outcomes)
    spec_a, spec_b = pipelines[a_side].stage(stage), pipelines[b_side].stage(stage)
    shared = [name for name in spec_a.outputs if name in spec_b.outputs]
    only = {a_side: [n for n in spec_a.outputs if n not in spec_b.outputs],
            b_side: [n for n in spec_b.outputs if n not in spec_a.outputs]}
    context = {"pipelines": {s: outcomes[s].job.pipeline for s in outcomes}, "knobs": knobs,
               "conventions": {s: resolve_conventions(pipelines[s], knobs[s]) for s in outcomes},
               "scenario": settings.get("scenario"), "profile": settings.get("profile")}
    results = []
    for name in shared:
        a_value, b_value = artifacts[a_side][name], artifacts[b_side][name]
        tolerance = _tolerance(spec_a.tolerances.get(name), spec_b.tolerances.get(name))
        comparator = registry.pm.hook.harness_select_comparator(stage=stage, artifact=name, a=a_value, b=b_value,
                                                                context=context)
        comparison: Comparison = comparator(name, a_value, b_value, tolerance)
        results.append(comparison)
    return results, only


def _tolerance(a: tuple[float, float] | None, b: tuple[float, float] | None) -> tuple[float, float]:
    given = [t for t in (a, b) if t is not None]
    if not given:
        return DEFAULT_TOLERANCE
    return (max(t[0] for t in given), max(t[1] for t in given))


def _knob_differences(knobs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    a, b = knobs.values()
    out = {}
    for name in sorted(set(a) | set(b)):
        if a.get(name, "(absent)") != b.get(name, "(absent)"):
            out[name] = {"a": a.get(name, "(absent)"), "b": b.get(name, "(absent)")}
    return out
