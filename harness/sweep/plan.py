"""What a sweep runs: seeds × scenarios × knob values, from the command line or a small TOML file.

Everything is validated before any run starts, so a wrong name exits 2 with the valid choices and
no run folder is made.
"""
from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.knobs import check_choice, effective_knobs
from harness.manager import Registry
from harness.session import Invocation, check_seed
from harness.stages import parse_stage_selection

ARTIFACT_COLUMN = "artifact:"
"""A column naming an artifact (`artifact:X`) instead of a check."""
PLAN_KEYS = ("a", "b", "seeds", "scenarios", "vary", "stage", "profile", "columns")
"""The keys a TOML plan file may hold."""


@dataclass(frozen=True)
class SweepPlan:
    """What to sweep: the sides' pipelines, seeds, scenarios (None: the pipeline's default), knob values, columns."""

    sides: dict[str, str]
    seeds: tuple[int, ...] = (42,)
    scenarios: tuple[str | None, ...] = (None,)
    vary: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """`side.knob` (or `knob` for every side) → the values it takes, one run per combination."""
    stage: str = "all"
    profile: str = "smoke"
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: its seed, scenario and the knob values it sets (`side.knob` → value)."""

    seed: int
    scenario: str | None
    knobs: dict[str, str]

    def folder_name(self, index: int) -> str:
        """A short, filesystem-safe run folder name that says what ran."""
        knobs = "-".join(f"{k}-{v}" for k, v in self.knobs.items())
        parts = [f"{index:03d}", f"s{self.seed}", self.scenario or "default", *([knobs] if knobs else [])]
        return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts))[:96]

    def overrides(self, sides: tuple[str, ...]) -> dict[str, dict[str, str]]:
        """Per side the knob overrides of this point (a bare knob name sets it on every side)."""
        result: dict[str, dict[str, str]] = {side: {} for side in sides}
        for target, value in self.knobs.items():
            side, dot, knob = target.partition(".")
            for each in ([side] if dot else sides):
                result[each][knob if dot else target] = value
        return result


def parse_seeds(text: str) -> tuple[int, ...]:
    """`1-8`, `1,3,5` or `1-4,10`: the seeds in order, each once."""
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, dash, high = part.partition("-")
        try:
            values = range(int(low), int(high) + 1) if dash else [int(low)]
        except ValueError:
            raise UsageError(f"--seeds expects integers or ranges like 1-8,10, got {text!r}") from None
        seeds.extend(values)
    if not seeds:
        raise UsageError(f"--seeds {text!r} names no seed; give e.g. 1-8")
    for seed in seeds:
        check_seed(seed)
    return tuple(dict.fromkeys(seeds))


def parse_vary(items: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """`--vary b.gain=1,2` (repeatable) as `side.knob` → values."""
    result: dict[str, tuple[str, ...]] = {}
    for item in items:
        target, sep, values = item.partition("=")
        chosen = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not target or not chosen:
            raise UsageError(f"--vary expects [a.|b.]KNOB=V1,V2, got {item!r}")
        result[target] = chosen
    return result


def load_plan_file(path: Path) -> dict[str, Any]:
    """The keys of a TOML plan file, checked by name and normalised to the command line's forms."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"--plan {path}: cannot read it as TOML ({exc})") from None
    unknown = [key for key in data if key not in PLAN_KEYS]
    if unknown:
        raise UsageError(f"--plan {path}: unknown key {unknown[0]!r}; valid keys: {', '.join(PLAN_KEYS)}")
    if isinstance(data.get("seeds"), list):
        data["seeds"] = ",".join(str(seed) for seed in data["seeds"])
    if "vary" in data:
        if not isinstance(data["vary"], dict):
            raise UsageError(f"--plan {path}: [vary] must be a table of knob = [values]")
        data["vary"] = {k: tuple(str(v) for v in (vs if isinstance(vs, list) else [vs])) for k, vs in data["vary"].items()}
    return data


def validate(plan: SweepPlan, registry: Registry) -> SweepPlan:
    """Check every name and value against the registry; return the plan with default scenarios resolved."""
    pipelines = {side: registry.pipeline(name) for side, name in plan.sides.items()}
    first = next(iter(pipelines.values()))
    scenarios = tuple(s or first.default_scenario for s in plan.scenarios)
    for spec in pipelines.values():
        for scenario in scenarios:
            check_choice("scenario", scenario, spec.scenarios, spec.name)
        check_choice("profile", plan.profile, spec.profiles, spec.name)
    parse_stage_selection(plan.stage)
    for target, values in plan.vary.items():
        side, dot, knob = target.partition(".")
        if dot and side not in plan.sides:
            raise UsageError(f"--vary {target}: unknown side {side!r}; valid sides: {', '.join(plan.sides)}")
        for each in ([side] if dot else plan.sides):
            for value in values:
                effective_knobs(pipelines[each], {knob if dot else target: value})
    _check_columns(plan, registry)
    return replace(plan, scenarios=scenarios)


def _check_columns(plan: SweepPlan, registry: Registry) -> None:
    artifacts = {name for spec in (registry.pipeline(p) for p in plan.sides.values())
                 for stage in spec.stages for name in stage.outputs}
    for column in plan.columns:
        if column.startswith(ARTIFACT_COLUMN):
            check_choice("artifact column", column.removeprefix(ARTIFACT_COLUMN), tuple(sorted(artifacts)),
                         "/".join(plan.sides.values()))
        elif column not in registry.checks:
            raise UsageError(f"unknown column {column!r}; valid columns: a check id ({', '.join(registry.checks)}) "
                             f"or artifact:NAME")


def expand(plan: SweepPlan) -> list[SweepPoint]:
    """Every combination, seeds innermost (so one setting's seeds sit together in the table)."""
    targets = list(plan.vary)
    points = []
    for scenario in plan.scenarios:
        for values in itertools.product(*(plan.vary[t] for t in targets)):
            for seed in plan.seeds:
                points.append(SweepPoint(seed, scenario, dict(zip(targets, values))))
    return points


def invocations(plan: SweepPlan, points: list[SweepPoint], out: Path, base: Invocation) -> list[Invocation]:
    """One invocation per point, each into `out/runs/<folder>`, the rest as `base` says (cache, threads, plugins)."""
    sides = tuple(plan.sides)
    return [replace(base, sides=dict(plan.sides), scenario=point.scenario, profile=plan.profile, seed=point.seed,
                    stage=plan.stage, overrides=point.overrides(sides), out=out / "runs" / point.folder_name(index),
                    formats=())
            for index, point in enumerate(points, start=1)]
