"""Frozen records that plugins return and the host passes around: the public data model."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

from harness.errors import PluginError, UsageError
from harness.stages import STAGES, stage_index

Category = Literal["normalization", "offsets", "amplitude", "other"]
Severity = Literal["error", "warn", "info"]
CATEGORIES: tuple[str, ...] = ("normalization", "offsets", "amplitude", "other")
SEVERITIES: tuple[str, ...] = ("error", "warn", "info")
DEFAULT_PROFILES: tuple[str, ...] = ("smoke", "stable", "full")


@dataclass(frozen=True)
class Knob:
    """A documented, selectable behaviour of a pipeline.

    `stages` names the stages that read the knob: the stage cache keys include its value there,
    so changing it recomputes exactly from the first of those stages on. `choices` (strings as
    typed on the command line) restricts the values; otherwise the value is parsed to the type of
    `default` (int, float, bool, str) or with `parse`.
    """

    default: Any
    stages: tuple[str, ...] = ("config",)
    choices: tuple[str, ...] | None = None
    help: str = ""
    parse: Callable[[str], Any] | None = None

    def __post_init__(self) -> None:
        for name in self.stages:
            stage_index(name)

    def coerce(self, name: str, raw: Any) -> Any:
        """Turn a command-line string (or a value) into the knob's value, or explain why not."""
        if self.choices is not None:
            text = (raw if isinstance(raw, str) else _choice_text(raw)).replace(" ", "")
            if text not in self.choices:
                raise UsageError(
                    f"invalid value {text!r} for knob {name!r}; valid values: {', '.join(self.choices)}"
                )
            return self.parse(text) if self.parse else _parse_choice(text, self.default)
        if not isinstance(raw, str):
            return raw
        try:
            if self.parse is not None:
                return self.parse(raw)
            return _parse_like(raw, self.default)
        except (TypeError, ValueError) as exc:
            kind = type(self.default).__name__
            raise UsageError(f"invalid value {raw!r} for knob {name!r}: expected {kind} ({exc})") from None


def _choice_text(value: Any) -> str:
    return json.dumps(list(value), separators=(",", ":")) if isinstance(value, (list, tuple)) else str(value)


def _parse_choice(text: str, default: Any) -> Any:
    if isinstance(default, (list, tuple)) or text.startswith("["):
        return json.loads(text)
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes", "on")
    if isinstance(default, int) and text.lstrip("+-").isdigit():
        return int(text)
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _parse_like(text: str, default: Any) -> Any:
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError("not a boolean")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        value = float(text)
        return value
    if isinstance(default, (list, tuple)):
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError("not a list")
        return value
    return text


@dataclass(frozen=True)
class StageSpec:
    """One stage of a pipeline: the runner calls `func(ctx, **inputs)` and stores `outputs`.

    Input artifact names may carry a split suffix (`X.train`); the keyword is the name with dots
    replaced by underscores (`X_train`). `tolerances` maps an output to (rtol, atol) for diffs.
    """

    name: str
    func: Callable[..., Mapping[str, Any]]
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    tolerances: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if self.name not in STAGES:
            raise PluginError(f"stage {self.name!r} is not canonical; valid stages: {', '.join(STAGES)}")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline plugin: named stages in canonical order, its knobs, scenarios and profiles."""

    name: str
    stages: tuple[StageSpec, ...]
    knobs: Mapping[str, Knob | Any] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ("default",)
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    description: str = ""

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        object.__setattr__(self, "stages", stages)
        object.__setattr__(self, "scenarios", tuple(self.scenarios))
        object.__setattr__(self, "profiles", tuple(self.profiles))
        knobs = {name: k if isinstance(k, Knob) else Knob(default=k) for name, k in dict(self.knobs).items()}
        object.__setattr__(self, "knobs", knobs)
        if not self.scenarios or not self.profiles:
            raise PluginError(f"pipeline {self.name!r} needs at least one scenario and one profile")
        positions = [stage_index(s.name) for s in stages]
        if positions != sorted(set(positions)):
            raise PluginError(
                f"pipeline {self.name!r}: stages must be unique and in canonical order, got "
                f"{[s.name for s in stages]}"
            )
        produced: dict[str, str] = {}
        for stage in stages:
            for name in stage.inputs:
                if name not in produced:
                    raise PluginError(
                        f"pipeline {self.name!r}: stage {stage.name!r} reads {name!r}, which no earlier stage outputs"
                    )
            for name in stage.outputs:
                if name in produced:
                    raise PluginError(
                        f"pipeline {self.name!r}: artifact {name!r} is output by both {produced[name]!r} and {stage.name!r}"
                    )
                produced[name] = stage.name

    @property
    def default_scenario(self) -> str:
        return self.scenarios[0]

    def stage(self, name: str) -> StageSpec | None:
        return next((s for s in self.stages if s.name == name), None)

    def producer_of(self, artifact: str) -> str | None:
        return next((s.name for s in self.stages if artifact in s.outputs), None)


@dataclass(frozen=True)
class CheckInput:
    """What a check sees of one side: its identity, settings and artifacts up to the stage."""

    side: str
    pipeline: str
    scenario: str
    profile: str
    knobs: Mapping[str, Any]
    artifacts: Mapping[str, Any]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one side (or on both, for cross checks)."""

    measured: Any
    expected: Any
    tolerance: Any
    passed: bool
    explanation: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckSpec:
    """An invariant evaluated on stored artifacts after a stage ran.

    `func(inp: CheckInput) -> CheckResult | None` for per-side checks, or `func(a, b)` when
    `cross` is true; returning None means "not applicable here". `known_breaks` maps a knob to
    the values known to break the check (the finding is then labelled with that knob);
    in the profiles of `report_only_in` a failure is reported but never breaks the stage.
    """

    id: str
    category: Category
    stage: str
    severity: Severity
    func: Callable[..., CheckResult | None]
    tolerance: Any = None
    description: str = ""
    cross: bool = False
    pipelines: tuple[str, ...] | None = None
    known_breaks: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    report_only_in: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        stage_index(self.stage)
        if self.category not in CATEGORIES:
            raise PluginError(f"check {self.id}: category {self.category!r} not in {CATEGORIES}")
        if self.severity not in SEVERITIES:
            raise PluginError(f"check {self.id}: severity {self.severity!r} not in {SEVERITIES}")

    @property
    def name(self) -> str:
        return self.id


@dataclass(frozen=True)
class RunRequest:
    """One run a hypothesis needs: a pipeline with its scenario, profile, knob settings and seeds."""

    pipeline: str
    scenario: str | None = None
    profile: str | None = None
    knobs: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (42,)
    stage: str = "all"
    label: str = ""


@dataclass(frozen=True)
class Prediction:
    """How a check is predicted to respond between the baseline and an intervention."""

    check: str
    stage: str
    change: Literal["flip_to_fail", "flip_to_pass", "toward", "away", "unchanged", "value"]
    value: Any = None
    tolerance: float | None = None
    intervention: str | None = None


@dataclass(frozen=True)
class HypothesisSpec:
    """A hypothesis as a plugin: the runs it needs and the prediction that decides it."""

    id: str
    title: str
    statement: str
    baseline: RunRequest
    interventions: tuple[RunRequest, ...] = ()
    predictions: tuple[Prediction, ...] = ()
    published_verdict: str = ""
    spec_section: str = ""
    needs_profile: str | None = None
    evaluate: Callable[..., Any] | None = None

    @property
    def name(self) -> str:
        return self.id


@dataclass(frozen=True)
class ReporterSpec:
    """A report renderer: `func(report, out_dir, console)` writes or prints one format."""

    name: str
    func: Callable[..., Any]
    description: str = ""
    default: bool = False
