"""Frozen records that plugins return and the host passes around: the public data model."""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, get_args

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


    def accepts(self, name: str, value: Any) -> bool:
        """Whether `value` (as a check or data file names it) is a value this knob can take."""
        if self.choices is not None:
            return any(knob_text(self.coerce(name, choice)) == knob_text(value) for choice in self.choices)
        try:
            self.coerce(name, knob_text(value))
        except UsageError:
            return False
        return True


def knob_text(value: Any) -> str:
    """A knob value as text that matches however it was written: 1.0 and 1 alike, lists as JSON."""
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return _choice_text(value)
    return str(value)


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
    `device=True` marks a stage that runs on the TensorFlow device: its bits depend on the device and
    the thread counts, so they join its cache key.
    """

    name: str
    func: Callable[..., Mapping[str, Any]]
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    tolerances: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    description: str = ""
    device: bool = False

    def __post_init__(self) -> None:
        if self.name not in STAGES:
            raise PluginError(f"stage {self.name!r} is not canonical; valid stages: {', '.join(STAGES)}")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))

    def bind_inputs(self, pipeline: str) -> None:
        """Fail now, naming the stage and the parameter, if `func(ctx, **inputs)` could not be called."""
        try:
            signature = inspect.signature(self.func)
        except (TypeError, ValueError):
            return  # builtins and C callables carry no signature to check
        keywords = {input_keyword(name): None for name in self.inputs}
        try:
            signature.bind(None, **keywords)
        except TypeError as exc:
            raise PluginError(
                f"pipeline {pipeline!r}, stage {self.name!r}: {getattr(self.func, '__qualname__', self.func)}{signature} "
                f"cannot take its inputs ({exc}); it is called as func(ctx, {', '.join(keywords) or ''})"
            ) from None


def input_keyword(artifact: str) -> str:
    """The keyword a stage function receives an input artifact under: dots become underscores."""
    return artifact.replace(".", "_")


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline plugin: named stages in canonical order, its knobs, scenarios and profiles."""

    name: str
    stages: tuple[StageSpec, ...]
    knobs: Mapping[str, Knob | Any] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ("default",)
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    description: str = ""
    conventions: Mapping[str, Any] = field(default_factory=dict)
    base: str | None = None

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
            stage.bind_inputs(self.name)
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
    conventions: Mapping[str, Any] = field(default_factory=dict)


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
    `cross` is true; returning None (or raising `NotApplicable(reason)`) means "not applicable
    here". `requires` names the artifacts the check reads and `conventions` the pipeline conventions
    it takes its expectation from: a side lacking one gets a "not applicable" finding that says which.
    `known_breaks` maps a knob to the values known to break the check (the finding is then labelled
    with that knob); in the profiles of `report_only_in` a failure is reported but never breaks the stage.
    A `device` check runs in the worker right after its stage computes, where TensorFlow and the stage's
    inputs and outputs are at hand (its `requires` must be among those); its finding is stored with the
    stage and served with it from the cache.
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
    requires: tuple[str, ...] = ()
    conventions: tuple[str, ...] = ()
    device: bool = False

    def __post_init__(self) -> None:
        stage_index(self.stage)
        object.__setattr__(self, "requires", tuple(self.requires))
        object.__setattr__(self, "conventions", tuple(self.conventions))
        if self.category not in CATEGORIES:
            raise PluginError(f"check {self.id}: category {self.category!r} not in {CATEGORIES}")
        if self.severity not in SEVERITIES:
            raise PluginError(f"check {self.id}: severity {self.severity!r} not in {SEVERITIES}")

    @property
    def name(self) -> str:
        return self.id


@dataclass(frozen=True)
class RunRequest:
    """One run a hypothesis needs: a pipeline with its scenario, profile, knob settings and seeds.

    `scenario` and `profile` left as None take the command line's (or the pipeline's default).
    More than one seed makes a seed sweep (`harness hypotheses run --seeds N` resizes it).
    `stage` "all" runs only up to the latest stage a prediction reads from this run. `against`
    names a second pipeline, run as side b of a diff (for cross checks), with `against_knobs`.
    """

    pipeline: str
    scenario: str | None = None
    profile: str | None = None
    knobs: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (42,)
    stage: str = "all"
    label: str = ""
    against: str | None = None
    against_knobs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if not self.seeds:
            raise PluginError(f"run request {self.label or self.pipeline!r} needs at least one seed")
        if self.stage != "all":
            stage_index(self.stage)


Change = Literal["flip_to_fail", "flip_to_pass", "toward", "away", "unchanged", "changes", "value", "below", "above",
                 "passes", "fails", "errors", "within_spread"]
PREDICTION_CHANGES: tuple[str, ...] = get_args(Change)
"""How a check can respond. Comparisons (flip_*, toward, away, unchanged, changes, within_spread) read
the reference run and the intervention; the others read the intervention alone."""


@dataclass(frozen=True)
class Prediction:
    """How a check is predicted to respond between the baseline and an intervention.

    `check` is a check id (`N-9`, `A-4@infer`) or `artifact:NAME` for a stored artifact of `stage`.
    `intervention` names the run label it reads (None: every intervention, or the baseline when
    there is none; "baseline": the baseline); `reference` the run it is compared with (default the
    baseline). `field` is a `/`-separated path into the measured value (`details/...` into the
    finding's details) and `measure` a function applied after it. `value` is the target of
    value/below/above/toward/away (toward/away default to the check's expected value);
    `tolerance` is relative (absolute when the target is 0). A `test` prediction decides the
    verdict, a `control` must hold for the experiment to count (the knob took effect), a `report`
    is judged and shown but decides nothing; `across_seeds` says whether every seed of a sweep or
    any one must show the response.
    """

    check: str
    stage: str
    change: Change
    value: Any = None
    tolerance: float | None = None
    intervention: str | None = None
    reference: str | None = None
    field: str | None = None
    measure: Callable[[Any], Any] | None = None
    side: str | None = None
    role: Literal["test", "control", "report"] = "test"
    across_seeds: Literal["all", "any"] = "all"
    note: str = ""

    def __post_init__(self) -> None:
        stage_index(self.stage)
        if self.change not in PREDICTION_CHANGES:
            raise PluginError(f"prediction on {self.check}: change {self.change!r} not in {PREDICTION_CHANGES}")
        if self.change in ("value", "below", "above") and self.value is None:
            raise PluginError(f"prediction on {self.check}: {self.change!r} needs a value")
        if self.role not in ("test", "control", "report") or self.across_seeds not in ("all", "any"):
            raise PluginError(f"prediction on {self.check}: role must be test, control or report; across_seeds all or any")


VERDICTS: tuple[str, ...] = ("supported", "refuted")
BASELINE = "baseline"
"""The label that always names a hypothesis's baseline run."""


@dataclass(frozen=True)
class HypothesisSpec:
    """A hypothesis as a plugin: the runs it needs and the prediction that decides it.

    `require` says whether every test prediction must hold ("all") or one suffices ("any").
    `expected_verdict` is the verdict the spec's published or derived evidence implies (None when
    untested); `needs_profile` with `needs_reason` marks a hypothesis that a smaller profile cannot
    decide. `evaluate(results)`, when given, is one more test: it receives the runs by label (lists of
    `harness.hypotheses.RunResult`, one per seed) and returns a `harness.hypotheses.Judgement`.
    """

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
    expected_verdict: str | None = None
    needs_reason: str = ""
    require: Literal["all", "any"] = "all"
    notes: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "interventions", tuple(self.interventions))
        object.__setattr__(self, "predictions", tuple(self.predictions))
        if self.expected_verdict not in (None, *VERDICTS):
            raise PluginError(f"hypothesis {self.id}: expected_verdict must be one of {VERDICTS} or None")
        if self.require not in ("all", "any"):
            raise PluginError(f"hypothesis {self.id}: require must be 'all' or 'any'")
        labels = [run.label for run in self.interventions]
        if "" in labels or BASELINE in labels or len(set(labels)) != len(labels):
            raise PluginError(f"hypothesis {self.id}: each intervention needs its own label (not {BASELINE!r}), got {labels}")
        for prediction in self.predictions:
            for label in (prediction.intervention, prediction.reference):
                if label is not None and label not in self.runs:
                    raise PluginError(f"hypothesis {self.id}: prediction on {prediction.check} names run {label!r}; "
                                      f"runs: {', '.join(self.runs)}")

    @property
    def name(self) -> str:
        return self.id

    @property
    def runs(self) -> dict[str, RunRequest]:
        """Every run by label: the baseline under "baseline", then the interventions under theirs."""
        return {BASELINE: self.baseline, **{run.label: run for run in self.interventions}}


@dataclass(frozen=True)
class ReporterSpec:
    """A report renderer: `func(report, out_dir, console)` writes or prints one format."""

    name: str
    func: Callable[..., Any]
    description: str = ""
    default: bool = False
