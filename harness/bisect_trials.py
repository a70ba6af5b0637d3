"""`harness bisect` trials: the knob changes between two sides, the target, and one diff per trial.

A trial applies a subset of the changes by running side b with side a's knob values except the
subset, which takes b's values; side a never changes, so after the first trial it is served from
the stage cache, and a subset that moves only late-reading knobs recomputes only late stages.
Changes are ordered by the first stage that reads them for the same reason: halves split by stage.
Every trial is a `harness diff` through `harness.session.execute`, in its own folder.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from rich.console import Console
from rich.text import Text

from harness.errors import UsageError
from harness.knobs import effective_knobs
from harness.manager import PluginOptions, Registry
from harness.records import BASELINE, CATEGORIES, HypothesisSpec, Knob, PipelineSpec, knob_text
from harness.session import Invocation, execute, validate
from harness.stages import STAGES, stage_index

ANY = "any"
VERB = {"pass": "passes", "fail": "fails", "error": "errors", "n/a": "does not apply"}
BISECT_SCHEMA = 1


@dataclass(frozen=True)
class Target:
    """What a trial must show: a check failing on a side, a break in a category, or any exit-1 report."""

    kind: Literal["check", "category", "any"]
    name: str
    stage: str
    """The latest stage the target can be seen at: trials run this far unless --stage says otherwise."""

    def describe(self) -> str:
        return {"check": f"check {self.name} fails", "category": f"a break in {self.name}",
                "any": "any undeclared difference or break"}[self.kind]


def parse_target(text: str, registry: Registry) -> Target:
    """A check id, a category or `any`; anything else is a usage error listing the valid targets."""
    checks = {check_id: r.record for check_id, r in registry.checks.items()}
    if text in checks:
        return Target("check", text, checks[text].stage)
    if text in CATEGORIES:
        stages = [c.stage for c in checks.values() if c.category == text]
        return Target("category", text, max(stages, key=stage_index) if stages else STAGES[-1])
    if text == ANY:
        return Target("any", ANY, STAGES[-1])
    raise UsageError(f"unknown target {text!r}; valid targets: {ANY}, {', '.join(CATEGORIES)}, "
                     f"or a check id: {', '.join(checks) or '(none registered)'}")


@dataclass(frozen=True)
class Reading:
    """What one trial's report says about the target, and how much of it the cache served."""

    reproduces: bool
    evidence: str
    computed: int
    cached: int
    exit_code: int


def read_report(report: Mapping[str, Any], target: Target) -> Reading:
    """The one place bisect reads a report (its report.json form): the target's outcome and the computed/cached
    stage counts."""
    statuses = [info["status"] for entry in report["stages"] for info in entry["sides"].values()]
    computed, cached = sum(s in ("ok", "error") for s in statuses), statuses.count("cached")
    code = report["exit_code"]
    if target.kind == "check":
        findings = [f for entry in report["stages"] for f in entry["findings"] if f["check"] == target.name]
        failing = [f for f in findings if f["status"] in ("fail", "error")]
        if failing:
            label = f" [{failing[0]['known_break']}]" if failing[0].get("known_break") else ""
            evidence = "; ".join(f"{f['check']} {VERB[f['status']]} on {f['side']} at {f['stage']}" for f in failing) + label
        else:
            by_status: dict[str, list[str]] = {}
            for f in findings:
                by_status.setdefault(VERB.get(f["status"], f["status"]), []).append(f["side"])
            evidence = "; ".join(f"{verb} on {', '.join(sides)}" for verb, sides in by_status.items()) or "did not run"
            evidence = f"{target.name} {evidence}"
        return Reading(bool(failing), evidence, computed, cached, code)
    if target.kind == "category":
        broke = report["categories"].get(target.name)
        evidence = (f"{target.name} break at {broke['stage']}: {broke['check']} on {broke['side']}" if broke
                    else f"no {target.name} break")
        return Reading(broke is not None, evidence, computed, cached, code)
    return Reading(code in (1, 3), f"exit {code}: {report['summary']}", computed, cached, code)


@dataclass(frozen=True)
class KnobChange:
    """One knob whose value differs between the sides, with the first stage that reads it on side b."""

    name: str
    a: Any
    b: Any
    first_stage: str

    def as_set(self) -> str:
        return f"{self.name}={knob_text(self.b)}"


@dataclass
class Sides:
    """The two sides of a bisection: pipelines, side a's knobs, side b's knobs that never move, the changes."""

    pipelines: dict[str, str]
    knobs_a: dict[str, Any]
    fixed_b: dict[str, Any]
    changes: list[KnobChange]
    scenario: str | None = None
    profile: str | None = None
    seed: int | None = None
    notes: list[str] = field(default_factory=list)

    def drop_unread(self, last: str) -> None:
        """Leave out changes only stages after `last` read: no trial runs them, so they cannot matter."""
        unread = [c for c in self.changes if stage_index(c.first_stage) > stage_index(last)]
        for change in unread:
            self.changes.remove(change)
            self.fixed_b[change.name] = change.b
            self.notes.append(f"{change.as_set()} left out: first read at {change.first_stage}, after {last}")

    def knobs_b(self, subset: frozenset[str]) -> dict[str, Any]:
        """Side b's knobs for a trial: a's values, except the changes in `subset`, which take b's."""
        return {**self.fixed_b, **{c.name: (c.b if c.name in subset else c.a) for c in self.changes}}


def settable(knob: Knob, name: str, value: Any) -> Any:
    """A knob value as `--set` would give it: the matching choice text (`+1`, not the parsed 1), else the value."""
    if knob.choices is None:
        return value
    return next((c for c in knob.choices if knob_text(knob.coerce(name, c)) == knob_text(value)), value)


def sides_from_knobs(spec_a: PipelineSpec, spec_b: PipelineSpec, knobs_a: Mapping[str, Any],
                     knobs_b: Mapping[str, Any]) -> Sides:
    """The changes between two sides' effective knobs; only knobs both pipelines have can move."""
    set_a = {name: settable(spec_a.knobs[name], name, value) for name, value in knobs_a.items()}
    set_b = {name: settable(spec_b.knobs[name], name, value) for name, value in knobs_b.items()}
    changes, fixed, notes = [], dict(set_b), []
    for name, knob in spec_b.knobs.items():
        if name not in spec_a.knobs or knob_text(knobs_a[name]) == knob_text(knobs_b[name]):
            continue
        if not knob.accepts(name, knobs_a[name]):
            notes.append(f"{name} stays {knob_text(set_b[name])} on b: {spec_b.name} cannot take a's value "
                         f"{knob_text(set_a[name])}")
            continue
        fixed.pop(name)
        changes.append(KnobChange(name, settable(knob, name, knobs_a[name]), set_b[name], min(knob.stages, key=stage_index)))
    changes.sort(key=lambda c: (stage_index(c.first_stage), c.name))
    return Sides({"a": spec_a.name, "b": spec_b.name}, set_a, fixed, changes, notes=notes)


def sides_from_hypothesis(spec: HypothesisSpec, label: str, registry: Registry) -> Sides:
    """A hypothesis's baseline as side a and one intervention as side b, with their scenario, profile, seed."""
    interventions = [run.label for run in spec.interventions]
    if label not in interventions:
        raise UsageError(f"hypothesis {spec.id} has no intervention {label!r}; "
                         f"valid interventions: {', '.join(interventions) or '(none)'}")
    base, moved = spec.runs[BASELINE], spec.runs[label]
    if base.against or moved.against:
        raise UsageError(f"hypothesis {spec.id}: its runs are diffs (against another pipeline); bisect one "
                         f"intervention of a single-pipeline hypothesis, or use --a/--b/--set")
    for name, value in (("scenario", {base.scenario, moved.scenario} - {None}), ("profile", {base.profile, moved.profile} - {None})):
        if len(value) > 1:
            raise UsageError(f"hypothesis {spec.id}: baseline and {label} use different {name}s {sorted(value)}; "
                             f"bisect needs one")
    spec_a, spec_b = registry.pipeline(base.pipeline), registry.pipeline(moved.pipeline)
    sides = sides_from_knobs(spec_a, spec_b, effective_knobs(spec_a, base.knobs), effective_knobs(spec_b, moved.knobs))
    sides.scenario, sides.profile = base.scenario or moved.scenario, base.profile or moved.profile
    sides.seed = base.seeds[0]
    return sides


@dataclass(frozen=True)
class TrialOptions:
    """How every trial runs: the shared settings of the diffs and where their folders go."""

    out: Path
    scenario: str | None
    profile: str
    seed: int
    stage: str
    use_cache: bool = True
    cache_dir: Path | None = None
    device: str = "auto"
    threads: tuple[int, int] | None = None
    plugins: PluginOptions = PluginOptions()


class TrialRunner:
    """The `reproduces(subset)` oracle: one diff per call, one printed line, one entry in `records`."""

    def __init__(self, sides: Sides, target: Target, options: TrialOptions, registry: Registry,
                 console: Console, progress: Console):
        self.sides, self.target, self.options, self.registry = sides, target, options, registry
        self.console, self.progress = console, progress
        self.records: list[dict[str, Any]] = []

    def invocation(self, subset: frozenset[str], run_dir: Path) -> Invocation:
        o = self.options
        return Invocation(sides=dict(self.sides.pipelines), scenario=o.scenario, profile=o.profile, seed=o.seed,
                          stage=f"{STAGES[0]}..{o.stage}", out=run_dir, formats=(), jobs=2, use_cache=o.use_cache,
                          cache_dir=o.cache_dir, device=o.device, threads=o.threads, plugins=o.plugins,
                          overrides={"a": dict(self.sides.knobs_a), "b": self.sides.knobs_b(subset)})

    def check_usage(self) -> None:
        """Validate the full-change trial before anything runs, so a bad name exits 2 and writes nothing."""
        validate(self.invocation(frozenset(c.name for c in self.sides.changes), self.options.out), self.registry)

    def describe(self, subset: frozenset[str]) -> str:
        moved = [c.as_set() for c in self.sides.changes if c.name in subset]
        return ", ".join(moved) if moved else "(none: b takes a's knobs)"

    def __call__(self, subset: frozenset[str]) -> bool:
        index = len(self.records) + 1
        names = [c.name for c in self.sides.changes if c.name in subset]
        run_dir = self.options.out / "trials" / re.sub(r"[^A-Za-z0-9._-]+", "_", f"{index:02d}-{'-'.join(names) or 'none'}")[:80]
        started = time.perf_counter()
        report, _ = execute(self.invocation(subset, run_dir), self.registry, self.progress, self.progress)
        reading = read_report(report.to_json(), self.target)
        seconds = time.perf_counter() - started
        self.records.append({"index": index, "changes": names, "settings": self.describe(subset),
                             "reproduces": reading.reproduces, "evidence": reading.evidence,
                             "stages_computed": reading.computed, "stages_cached": reading.cached,
                             "exit_code": reading.exit_code, "seconds": round(seconds, 3), "run_dir": str(run_dir)})
        verdict = Text("reproduces", style="bold red") if reading.reproduces else Text("does not reproduce", style="green")
        line = Text(f"trial {index:>2}  {self.describe(subset)}  →  ")
        line.append_text(verdict)
        line.append(f": {reading.evidence}  [stages {reading.computed} computed, {reading.cached} cached; {seconds:.1f}s]")
        self.console.print(line, soft_wrap=True)
        return reading.reproduces

