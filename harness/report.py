"""The typed report model the host owns: findings, side statuses, stage verdicts and the report.

`harness.diff` builds a `Report`; `report.json` is its `to_json()`, read back with `Report.from_json`
(or `load_report`), which validates every field and names the one that is wrong. The rules that
decide what a finding means live here once: `Finding.breaks`, `StageVerdict.decide`, and the
report's first break, categories, exit code and summary, which are derived from its stages.
Reporters only render these records (see docs/reporters.md).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Union

from harness.compare import Comparison
from harness.errors import UsageError
from harness.records import CATEGORIES
from harness.report_json import ReportError, Reader, require_schema
from harness.store import atomic_write_json

REPORT_SCHEMA = 2
"""Version of report.json; 2 added typed validation and kept "n/a" findings with their reasons."""
VERDICTS = ("ok", "equal", "expected", "skipped", "differs", "break", "error")
"""Stage verdicts from best to worst."""
FINDING_STATUSES = ("pass", "fail", "error", "n/a")
ISOLATION_STATUSES = ("introduced", "inherited", "compensating", "not_applicable")
NOISE_SUBJECTS = ("artifact", "check")
"""What a noise score measures: an artifact's B − A difference, or a check's measured value (harness.noise_scores)."""
NOISE_Z_LIMIT = 3.0
"""|z| below this is inside the floor: indistinguishable from the pipeline's own seed-to-seed spread."""
"""Where `harness diff --isolate` places a stage's difference (see harness.isolate)."""
EXIT_OK, EXIT_DIFFERS, EXIT_USAGE, EXIT_STAGE_ERROR = 0, 1, 2, 3
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class Finding:
    """One check's outcome on one side (or `cross`) at one stage."""

    check: str
    category: str
    severity: str
    side: str
    stage: str
    status: str
    explanation: str
    measured: Any = None
    expected: Any = None
    tolerance: Any = None
    known_break: str | None = None
    report_only: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)
    traceback: str | None = None

    @property
    def breaks(self) -> bool:
        """The one rule: a check that raised, or a failed error-severity check that is not report-only."""
        if self.status == "error":
            return True
        return self.status == "fail" and self.severity == "error" and not self.report_only

    @property
    def kind(self) -> str:
        """How renderers classify it: fail (breaks), error, warn, info, pass, or n/a (did not apply)."""
        if self.status == "error":
            return "error"
        if self.status == "fail":
            return "fail" if self.breaks else ("info" if self.severity == "info" else "warn")
        return self.status

    @property
    def verdict(self) -> str | None:
        """The finer verdict a check states for its side (details `verdict`, ORACLE-1's "data" or "network"), if any."""
        value = self.details.get("verdict")
        return None if value is None else str(value)

    def to_json(self) -> dict[str, Any]:
        out = {"check": self.check, "category": self.category, "severity": self.severity, "side": self.side,
               "stage": self.stage, "report_only": self.report_only, "status": self.status,
               "measured": self.measured, "expected": self.expected, "tolerance": self.tolerance,
               "explanation": self.explanation, "known_break": self.known_break, "details": dict(self.details)}
        if self.traceback is not None:
            out["traceback"] = self.traceback
        return out

    @classmethod
    def from_json(cls, data: Any, where: str = "finding") -> "Finding":
        r = Reader(data, where)
        return cls(check=r.str("check"), category=r.choice("category", CATEGORIES), severity=r.str("severity"),
                   side=r.str("side"), stage=r.str("stage"), status=r.choice("status", FINDING_STATUSES),
                   explanation=r.str("explanation", default=""), measured=r.any("measured"),
                   expected=r.any("expected"), tolerance=r.any("tolerance"),
                   known_break=r.str("known_break", optional=True), report_only=r.bool("report_only", default=False),
                   details=r.mapping("details", default={}), traceback=r.str("traceback", optional=True))


@dataclass(frozen=True)
class Lead:
    """A stage's first finding when it is not a check: the first differing artifact, or the side that raised."""

    explanation: str
    artifact: str | None = None
    side: str | None = None

    def to_json(self) -> dict[str, Any]:
        key = {"artifact": self.artifact} if self.artifact is not None else {"side": self.side}
        return {**key, "explanation": self.explanation}

    @classmethod
    def from_json(cls, data: Any, where: str) -> "Lead":
        r = Reader(data, where)
        return cls(r.str("explanation", default=""), r.str("artifact", optional=True), r.str("side", optional=True))


FirstFinding = Union[Finding, Lead]
"""What a stage verdict points at first."""


def _lead_from_json(data: Any, where: str) -> FirstFinding | None:
    if data is None:
        return None
    return Finding.from_json(data, where) if isinstance(data, Mapping) and "check" in data else Lead.from_json(data, where)


@dataclass(frozen=True)
class SideStatus:
    """How one side fared at one stage: ok, cached, error, skipped or absent, with time, cache key and reason."""

    status: str
    seconds: float | None = None
    key: str | None = None
    reason: str | None = None
    error: str | None = None
    traceback: str | None = None

    @property
    def usable(self) -> bool:
        """Whether the stage's artifacts are stored for this side."""
        return self.status in ("ok", "cached")

    def to_json(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if value is not None}

    @classmethod
    def from_json(cls, data: Any, where: str) -> "SideStatus":
        r = Reader(data, where)
        return cls(r.str("status"), r.number("seconds", optional=True), r.str("key", optional=True),
                   r.str("reason", optional=True), r.str("error", optional=True), r.str("traceback", optional=True))


@dataclass(frozen=True)
class Isolation:
    """B's stage re-run on A's inputs: whether it introduced the stage's difference, inherited it, or cancelled
    an earlier one; `comparisons` compare the transplanted outputs with A's, `transplant` is that run's status."""

    status: str
    reason: str
    comparisons: tuple[Comparison, ...] = ()
    transplant: SideStatus | None = None

    def __post_init__(self) -> None:
        if self.status not in ISOLATION_STATUSES:
            raise ReportError(f"isolation status {self.status!r} is not one of {', '.join(ISOLATION_STATUSES)}")

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "comparisons": [c.to_dict() for c in self.comparisons],
                "transplant": self.transplant.to_json() if self.transplant else None}

    @classmethod
    def from_json(cls, data: Any, where: str) -> "Isolation":
        r = Reader(data, where)
        transplant = r.mapping("transplant", optional=True)
        return cls(r.choice("status", ISOLATION_STATUSES), r.str("reason", default=""),
                   tuple(comparison_from_json(c, f"{where}.comparisons[{i}]")
                         for i, c in enumerate(r.list("comparisons", default=[]))),
                   SideStatus.from_json(transplant, f"{where}.transplant") if transplant is not None else None)


@dataclass(frozen=True)
class NoiseScore:
    """A difference or check value measured against a noise floor (`--noise FLOOR`).

    For an artifact, `value` is B − A of one summary `statistic` (mean, std, rms of the array, or a scalar's
    value) and `floor_std` that statistic's seed-to-seed std; for a check, `value` is the measured value on
    `side` and `floor_mean`/`floor_std` its spread over seeds. `z` is None where the floor has no spread (the
    statistic is the same on every seed); `inside` then means the value sits exactly on the floor.
    """

    subject: str
    name: str
    side: str
    statistic: str
    value: float
    floor_mean: float
    floor_std: float
    z: float | None
    inside: bool
    supported_tolerance: float | None = None
    """For a check: the smallest tolerance the floor supports, |floor mean − expected| + 5·floor std."""

    def __post_init__(self) -> None:
        if self.subject not in NOISE_SUBJECTS:
            raise ReportError(f"noise subject {self.subject!r} is not one of {', '.join(NOISE_SUBJECTS)}")

    @property
    def text(self) -> str:
        """`X.train mean z=+41.3 (outside the floor)`: what the console and markdown print."""
        label = f"{self.name} {self.statistic}" if self.subject == "artifact" else f"{self.name} ({self.side.upper()})"
        score = f"z={self.z:+.1f}" if self.z is not None else ("z=0 (no spread)" if self.inside else "z=inf (no spread)")
        supported = (f"; smallest tolerance the floor supports {self.supported_tolerance:.3g}"
                     if self.supported_tolerance is not None else "")
        return f"{label} {score} ({'inside' if self.inside else 'outside'} the floor{supported})"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: Any, where: str) -> "NoiseScore":
        r = Reader(data, where)
        return cls(r.choice("subject", NOISE_SUBJECTS), r.str("name"), r.str("side"), r.str("statistic"),
                   r.number("value"), r.number("floor_mean"), r.number("floor_std"), r.number("z", optional=True),
                   r.bool("inside"), r.number("supported_tolerance", optional=True))


@dataclass(frozen=True)
class StageVerdict:
    """One stage of a run or diff: each side's status, the comparisons, the findings and the verdict."""

    stage: str
    verdict: str
    sides: Mapping[str, SideStatus]
    category: str | None = None
    first_finding: FirstFinding | None = None
    comparisons: tuple[Comparison, ...] = ()
    only: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    isolation: Isolation | None = None
    noise: tuple[NoiseScore, ...] = ()
    nondeterministic: Mapping[str, str] = field(default_factory=dict)
    """Side → first artifact that differed when the side ran twice on the same seed (`--check-determinism`)."""

    @property
    def loudest_noise(self) -> NoiseScore | None:
        """The noise score with the largest |z| (no spread and off the floor counts as largest)."""
        def size(score: NoiseScore) -> float:
            return abs(score.z) if score.z is not None else (0.0 if score.inside else float("inf"))
        return max(self.noise, key=size, default=None)

    @classmethod
    def decide(cls, stage: str, sides: Mapping[str, SideStatus], comparisons: tuple[Comparison, ...],
               findings: tuple[Finding, ...], only: Mapping[str, tuple[str, ...]]) -> "StageVerdict":
        """The verdict is the worst of error > break > skipped > differs > expected > equal (ok for one side)."""
        def made(verdict: str, category: str | None = None, first: FirstFinding | None = None) -> "StageVerdict":
            return cls(stage, verdict, sides, category, first, comparisons, only, findings)

        failed = next((side for side, info in sides.items() if info.status == "error"), None)
        if failed is not None:
            return made("error", first=Lead(sides[failed].error or "", side=failed))
        breaking = next((f for f in findings if f.breaks), None)
        if breaking is not None:
            return made("break", breaking.category if breaking.status != "error" else "other", breaking)
        if any(info.status in ("skipped", "absent") for info in sides.values()):
            return made("skipped")
        differing = next((c for c in comparisons if c.status in ("differs", "not_comparable")), None)
        if differing is not None:
            return made("differs", first=Lead(differing.summary, artifact=differing.artifact))
        expected = next((c for c in comparisons if c.status == "expected"), None)
        if expected is not None:
            return made("expected", first=Lead(expected.reason or expected.summary, artifact=expected.artifact))
        return made("equal" if len(sides) == 2 else "ok")

    def not_applicable(self, side: str) -> list[Finding]:
        """The checks of `side` that did not apply here (their explanations say why)."""
        return [f for f in self.findings if f.side == side and f.status == "n/a"]

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "verdict": self.verdict, "category": self.category,
                "first_finding": self.first_finding.to_json() if self.first_finding else None,
                "sides": {side: info.to_json() for side, info in self.sides.items()},
                "comparisons": [c.to_dict() for c in self.comparisons],
                "only": {side: list(names) for side, names in self.only.items()},
                "findings": [f.to_json() for f in self.findings],
                **({"isolation": self.isolation.to_json()} if self.isolation else {}),
                **({"noise": [score.to_json() for score in self.noise]} if self.noise else {}),
                **({"nondeterministic": dict(self.nondeterministic)} if self.nondeterministic else {})}

    @classmethod
    def from_json(cls, data: Any, where: str) -> "StageVerdict":
        r = Reader(data, where)
        isolation = r.any("isolation")
        return cls(stage=r.str("stage"), verdict=r.choice("verdict", VERDICTS),
                   sides={s: SideStatus.from_json(v, f"{where}.sides.{s}") for s, v in r.mapping("sides").items()},
                   category=r.str("category", optional=True),
                   first_finding=_lead_from_json(r.any("first_finding"), f"{where}.first_finding"),
                   comparisons=tuple(comparison_from_json(c, f"{where}.comparisons[{i}]")
                                     for i, c in enumerate(r.list("comparisons", default=[]))),
                   only={s: tuple(names) for s, names in r.mapping("only", default={}).items()},
                   findings=tuple(Finding.from_json(f, f"{where}.findings[{i}]")
                                  for i, f in enumerate(r.list("findings", default=[]))),
                   isolation=Isolation.from_json(isolation, f"{where}.isolation") if isolation is not None else None,
                   noise=tuple(NoiseScore.from_json(n, f"{where}.noise[{i}]")
                               for i, n in enumerate(r.list("noise", default=[]))),
                   nondeterministic={s: str(a) for s, a in r.mapping("nondeterministic", default={}).items()})


def comparison_from_json(data: Any, where: str) -> Comparison:
    """A validated Comparison from its report.json form."""
    r = Reader(data, where)
    return Comparison(r.str("artifact"), r.choice("status", ("equal", "differs", "expected", "not_comparable")),
                      r.str("kind", default=""), r.str("summary", default=""), r.mapping("details", default={}),
                      r.str("reason", default=""))


@dataclass(frozen=True)
class SideInfo:
    """One side of the run: its pipeline (and the pipeline it derives from), effective knobs, the knobs set on
    the command line, its declared conventions as evaluated for those knobs, a fatal error."""

    pipeline: str
    knobs: Mapping[str, Any] = field(default_factory=dict)
    knob_overrides: Mapping[str, Any] = field(default_factory=dict)
    fatal: Mapping[str, Any] | None = None
    conventions: Mapping[str, Any] = field(default_factory=dict)
    base: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "base": self.base, "knobs": dict(self.knobs),
                "knob_overrides": dict(self.knob_overrides), "conventions": dict(self.conventions),
                "fatal": dict(self.fatal) if self.fatal else None}

    @classmethod
    def from_json(cls, data: Any, where: str) -> "SideInfo":
        r = Reader(data, where)
        fatal = r.mapping("fatal", optional=True)
        return cls(r.str("pipeline"), r.mapping("knobs", default={}), r.mapping("knob_overrides", default={}),
                   fatal or None, r.mapping("conventions", default={}), r.str("base", optional=True))


@dataclass(frozen=True)
class CategoryBreak:
    """Where a category first breaks: the stage, check, side, known-break label, and whether the other side passes."""

    stage: str
    check: str
    side: str
    explanation: str
    known_break: str | None
    other_side_passes: bool | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Report:
    """A whole run (one side) or diff (two sides); first break, categories, exit code and summary derive from it."""

    kind: str
    created: str
    settings: Mapping[str, Any]
    sides: Mapping[str, SideInfo]
    stages: tuple[StageVerdict, ...]
    knob_differences: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def stage(self, name: str) -> StageVerdict | None:
        return next((entry for entry in self.stages if entry.stage == name), None)

    @cached_property
    def first_break(self) -> StageVerdict | None:
        return next((s for s in self.stages if s.verdict == "break"), None)

    @cached_property
    def first_difference(self) -> StageVerdict | None:
        return next((s for s in self.stages if s.verdict in ("differs", "break")), None)

    @cached_property
    def categories(self) -> dict[str, CategoryBreak | None]:
        """Per category, the first stage where one of its checks breaks (None: it never does)."""
        return {category: self._first_failure(category) for category in CATEGORIES}

    def _first_failure(self, category: str) -> CategoryBreak | None:
        for entry in self.stages:
            failing = [f for f in entry.findings if f.category == category and f.breaks]
            if failing:
                first, sides_failing = failing[0], {f.side for f in failing}
                passes = None
                if len(self.sides) == 2:
                    passes = any(s not in sides_failing for s in self.sides) and "cross" not in sides_failing
                return CategoryBreak(entry.stage, first.check, first.side, first.explanation, first.known_break, passes)
        return None

    @cached_property
    def errored(self) -> bool:
        return any(side.fatal for side in self.sides.values()) or any(s.verdict == "error" for s in self.stages)

    @cached_property
    def exit_code(self) -> int:
        if self.errored:
            return EXIT_STAGE_ERROR
        return EXIT_DIFFERS if any(s.verdict in ("differs", "break") for s in self.stages) else EXIT_OK

    @cached_property
    def summary(self) -> str:
        """One line: the headline (first break, error, first difference or no break) and the verdict counts."""
        counts = {v: sum(1 for s in self.stages if s.verdict == v) for v in VERDICTS}
        parts = [f"{n} {v}" for v, n in counts.items() if n]
        if self.first_break is not None:
            first = self.first_break.first_finding
            label = f" ({first.known_break})" if isinstance(first, Finding) and first.known_break else ""
            headline = f"first break at {self.first_break.stage} [{self.first_break.category}]{label}"
        elif self.errored:
            headline = "a stage errored"
        elif self.first_difference is not None:
            headline = f"first difference at {self.first_difference.stage}"
        else:
            headline = "no break"
        return f"{headline}; stages: {', '.join(parts) or 'none'}"

    def to_json(self) -> dict[str, Any]:
        """The report.json content: the stored records, then the derived first break, categories, exit code, summary."""
        return {"schema_version": REPORT_SCHEMA, "kind": self.kind, "created": self.created,
                "settings": dict(self.settings), "sides": {s: info.to_json() for s, info in self.sides.items()},
                "knob_differences": {k: dict(v) for k, v in self.knob_differences.items()},
                "stages": [entry.to_json() for entry in self.stages], "warnings": list(self.warnings),
                "first_break": _pointer(self.first_break), "first_difference": _pointer(self.first_difference),
                "categories": {c: info.to_json() if info else None for c, info in self.categories.items()},
                "exit_code": self.exit_code, "summary": self.summary}

    @classmethod
    def from_json(cls, data: Any) -> "Report":
        """Validate and type a report.json dict; derived fields in it are recomputed, not trusted."""
        require_schema(data, REPORT_SCHEMA)
        r = Reader(data, "report")
        return cls(kind=r.choice("kind", ("run", "diff")), created=r.str("created", default=""),
                   settings=r.mapping("settings"),
                   sides={s: SideInfo.from_json(v, f"report.sides.{s}") for s, v in r.mapping("sides").items()},
                   stages=tuple(StageVerdict.from_json(e, f"report.stages[{i}]") for i, e in enumerate(r.list("stages"))),
                   knob_differences=r.mapping("knob_differences", default={}),
                   warnings=tuple(str(w) for w in r.list("warnings", default=[])))


def _pointer(entry: StageVerdict | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"stage": entry.stage, "verdict": entry.verdict, "category": entry.category,
            "finding": entry.first_finding.to_json() if entry.first_finding else None}


def write_report(run_dir: Path, report: Report) -> Path:
    """Store the report as `<run_dir>/report.json`, atomically, through the one serializer."""
    path = Path(run_dir) / REPORT_FILE
    atomic_write_json(path, report.to_json())
    return path


def load_report(run_dir: Path) -> Report:
    """Read and validate `<run_dir>/report.json`; a missing, damaged or old-schema file raises one clear UsageError."""
    path = Path(run_dir) / REPORT_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{str(run_dir)!r} holds no {REPORT_FILE}; is it a run folder written by harness run or diff?") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path} is not valid JSON: {exc}") from None
    try:
        return Report.from_json(data)
    except ReportError as exc:
        raise ReportError(f"{path}: {exc}") from None
