"""From hypotheses to concrete runs and back: plan each distinct run once, execute it, read checks off it.

Requests that resolve to the same pipeline, scenario, profile, knobs and seed are one run, taken to
the latest stage any hypothesis reads from it; the stage cache makes their shared prefixes (and
any run repeated later) cost nothing. Each run is a `harness run` (or, with `against`, a
`harness diff`) executed through `harness.session.execute`, with its own report folder.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from rich.console import Console

from harness.errors import HarnessError
from harness.hypotheses.judge import COMPARISONS, Observation
from harness.manager import PluginOptions, Registry
from harness.rendering import plain
from harness.report import load_report
from harness.records import BASELINE, HypothesisSpec, Prediction, RunRequest
from harness.session import Invocation
from harness.stages import stage_index
from harness.store import StageFiles
from harness.sweep.executors import RunDone, executor_for

PROFILE_ORDER: tuple[str, ...] = ("smoke", "stable", "full")
ARTIFACT_PREFIX = "artifact:"


@dataclass(frozen=True)
class LedgerOptions:
    """What `harness hypotheses run` was asked for, beyond the hypotheses."""

    scenario: str | None = None
    profile: str = "smoke"
    seeds: int | None = None
    out: Path | None = None
    use_cache: bool = True
    cache_dir: Path | None = None
    device: str = "auto"
    threads: tuple[int, int] | None = None
    plugins: PluginOptions = PluginOptions()
    scheduler: str | None = None
    """Dask scheduler address: the runs execute as Dask tasks there (see harness.sweep)."""
    workers: int | None = None
    """Workers of the LocalCluster the runs execute on (default: one per core)."""
    sequential: bool = False
    """Run here, one after another, instead of on Dask (a LocalCluster unless `scheduler` names one)."""


@dataclass(frozen=True)
class PlannedRun:
    """One concrete run with one seed; equal requests of different hypotheses share it."""

    pipeline: str
    against: str | None
    scenario: str | None
    profile: str
    knobs: str
    against_knobs: str
    seed: int

    def describe(self, seed: bool = True) -> str:
        """`sim_lines gs2_ideal smoke seed 42 intensity_scale=dataset_raw` in words (optionally without the seed)."""
        sides = self.pipeline + (f" vs {self.against}" if self.against else "")
        knobs = {**json.loads(self.knobs), **{f"b.{k}": v for k, v in json.loads(self.against_knobs).items()}}
        settings = " ".join(f"{name}={value}" for name, value in knobs.items())
        which = f" seed {self.seed}" if seed else ""
        return f"{sides} {self.scenario or '(default scenario)'} {self.profile}{which} {settings}".rstrip()

    def folder_name(self, index: int) -> str:
        """A short, filesystem-safe folder name that still says what ran."""
        knobs = "-".join(f"{k}-{v}" for k, v in json.loads(self.knobs).items())
        parts = [f"{index:02d}", self.pipeline, *([f"vs-{self.against}"] if self.against else []),
                 self.scenario or "default", f"s{self.seed}", *([knobs] if knobs else [])]
        return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts))[:96]


@dataclass
class RunResult:
    """One finished run as a hypothesis sees it: its label, seed, report and folder, or why it failed."""

    label: str
    seed: int
    name: str
    report: dict[str, Any] | None
    run_dir: Path | None
    error: str | None = None


@dataclass
class Plan:
    """Every distinct run with the stage to run it to, and which runs each hypothesis label uses."""

    stages: dict[PlannedRun, str] = field(default_factory=dict)
    uses: dict[str, dict[str, list[PlannedRun]]] = field(default_factory=dict)


def sweep(seeds: tuple[int, ...], count: int | None) -> tuple[int, ...]:
    """A seed sweep resized to `count` seeds (the declared ones first, then the next integers); single seeds stay."""
    if count is None or len(seeds) < 2:
        return seeds
    extra = tuple(range(max(seeds) + 1, max(seeds) + 1 + max(0, count - len(seeds))))
    return (seeds + extra)[:count]


def needs_profile_above(spec: HypothesisSpec, profile: str) -> bool:
    """Whether the hypothesis needs a larger profile than the one chosen."""
    if spec.needs_profile is None or spec.needs_profile == profile:
        return False
    if spec.needs_profile in PROFILE_ORDER and profile in PROFILE_ORDER:
        return PROFILE_ORDER.index(profile) < PROFILE_ORDER.index(spec.needs_profile)
    return True


def targets(spec: HypothesisSpec, prediction: Prediction) -> list[str]:
    """The run labels a prediction reads: the named one, else every intervention (or the baseline alone)."""
    if prediction.intervention is not None:
        return [prediction.intervention]
    return [run.label for run in spec.interventions] or [BASELINE]


def reference(prediction: Prediction) -> str | None:
    """The label a comparison is made against (the baseline unless named); None for single-run kinds."""
    return (prediction.reference or BASELINE) if prediction.change in COMPARISONS else None


def stage_needed(spec: HypothesisSpec, label: str) -> str | None:
    """The request's stage, or with "all" the latest stage a prediction reads from this run (None: none reads it)."""
    request = spec.runs[label]
    if request.stage != "all" or spec.evaluate is not None:
        return request.stage
    read = [p.stage for p in spec.predictions if label in targets(spec, p) or reference(p) == label]
    return max(read, key=stage_index) if read else None


def _later(a: str, b: str) -> str:
    if "all" in (a, b):
        return "all"
    return max(a, b, key=stage_index)


def _resolve(request: RunRequest, options: LedgerOptions, registry: Registry, seed: int) -> PlannedRun:
    scenario = request.scenario or options.scenario
    if scenario is None and request.pipeline in registry.pipelines:
        scenario = registry.pipelines[request.pipeline].record.default_scenario
    return PlannedRun(pipeline=request.pipeline, against=request.against, scenario=scenario,
                      profile=request.profile or options.profile, knobs=_canonical(request.knobs),
                      against_knobs=_canonical(request.against_knobs), seed=seed)


def _canonical(knobs: Mapping[str, Any]) -> str:
    return json.dumps(dict(sorted(knobs.items())), default=str)


def plan(specs: list[HypothesisSpec], options: LedgerOptions, registry: Registry) -> Plan:
    """Resolve every request to concrete runs, one per seed, merged across hypotheses; unread runs are left out."""
    result = Plan()
    for spec in specs:
        labels: dict[str, list[PlannedRun]] = {}
        for label, request in spec.runs.items():
            stage = stage_needed(spec, label)
            labels[label] = []
            for seed in sweep(request.seeds, options.seeds) if stage else ():
                run = _resolve(request, options, registry, seed)
                result.stages[run] = _later(result.stages.get(run, stage), stage)
                labels[label].append(run)
        result.uses[spec.id] = labels
    return result


@dataclass
class Executed:
    """What running one planned run gave: its folder and report, or the error that stopped it."""

    name: str
    run_dir: Path
    report: dict[str, Any] | None
    error: str | None
    seconds: float


def execute_plan(planned: Plan, options: LedgerOptions, registry: Registry, folder: Path,
                 progress: Console) -> dict[PlannedRun, Executed]:
    """Run each distinct run once, each into `folder/runs/<name>`: as Dask tasks (a LocalCluster sized to the
    machine unless `options` names a scheduler or a worker count), or here in plan order with `sequential`."""
    runs = list(planned.stages.items())
    names = [run.folder_name(index) for index, (run, _) in enumerate(runs, start=1)]
    invocations = [_invocation(run, stage, folder / "runs" / name, options) for (run, stage), name in zip(runs, names)]
    labels = [f"{run.describe()} → {stage}" for run, stage in runs]
    with executor_for(options.scheduler, options.workers, sequential=options.sequential) as executor:
        finished = executor.run(invocations, labels, registry, progress)
    return {run: _executed(name, ran) for (run, _), name, ran in zip(runs, names, finished)}


def _invocation(run: PlannedRun, stage: str, run_dir: Path, options: LedgerOptions) -> Invocation:
    sides = {"a": run.pipeline, **({"b": run.against} if run.against else {})}
    overrides = {"a": json.loads(run.knobs), **({"b": json.loads(run.against_knobs)} if run.against else {})}
    return Invocation(sides=sides, scenario=run.scenario, profile=run.profile, seed=run.seed, stage=stage,
                      overrides=overrides, out=run_dir, formats=(), jobs=len(sides), use_cache=options.use_cache,
                      cache_dir=options.cache_dir, device=options.device, threads=options.threads,
                      plugins=options.plugins)


def _executed(name: str, ran: RunDone) -> Executed:
    """A finished run as the ledger keeps it: its report judged as stored, through the validator."""
    if ran.error is not None:
        return Executed(name, ran.run_dir, None, ran.error, ran.seconds)
    try:
        report = load_report(ran.run_dir).to_json()
    except HarnessError as exc:
        return Executed(name, ran.run_dir, None, f"{type(exc).__name__}: {exc}", ran.seconds)
    return Executed(name, ran.run_dir, report, None, ran.seconds)


def results_for(spec: HypothesisSpec, planned: Plan, done: Mapping[PlannedRun, Executed]) -> dict[str, list[RunResult]]:
    """The hypothesis's runs by label, one RunResult per seed."""
    return {
        label: [RunResult(label, run.seed, done[run].name, done[run].report, done[run].run_dir, done[run].error)
                for run in runs]
        for label, runs in planned.uses[spec.id].items()
    }


def observe(prediction: Prediction, result: RunResult) -> Observation:
    """What one run says about the prediction's check (or artifact) at its stage."""
    def seen(status: str, note: str, measured: Any = None, expected: Any = None) -> Observation:
        return Observation(result.label, result.seed, status, measured, expected, note)

    if result.report is None:
        return seen("error", result.error or "the run did not start")
    entry = next((s for s in result.report["stages"] if s["stage"] == prediction.stage), None)
    if entry is None:
        return seen("absent", f"the run has no stage {prediction.stage!r} (its pipeline lacks it, or it was not run)")
    sides = [prediction.side] if prediction.side in entry["sides"] else list(entry["sides"])
    for side in sides:
        info = entry["sides"][side]
        if info["status"] in ("error", "skipped"):
            return seen("error", f"{prediction.stage} {info['status']}: {info.get('error') or info.get('reason', '')}")
        if info["status"] == "absent":
            return seen("absent", info.get("reason", f"no stage {prediction.stage!r}"))
    if prediction.check.startswith(ARTIFACT_PREFIX):
        return _observe_artifact(prediction, result, seen)
    finding = next((f for f in entry["findings"] if f["check"] == prediction.check
                    and prediction.side in (None, f["side"])), None)
    if finding is None or finding["status"] not in ("pass", "fail"):
        return seen("n/a", finding["explanation"] if finding else f"{prediction.check} did not apply")
    root = finding["details"] if (prediction.field or "").startswith("details/") else finding["measured"]
    path = (prediction.field or "").removeprefix("details/")
    try:
        measured = _measure(prediction, _at(root, path))
    except Exception as exc:  # a missing field or a failing measure makes this reading not applicable
        return seen("n/a", f"{prediction.field or 'measure'}: {type(exc).__name__}: {exc}")
    return seen(finding["status"], finding["explanation"], measured, finding["expected"])


def _observe_artifact(prediction: Prediction, result: RunResult, seen: Callable[..., Observation]) -> Observation:
    name = prediction.check[len(ARTIFACT_PREFIX):]
    files = StageFiles(Path(result.run_dir) / (prediction.side or "a"), prediction.stage)
    record = files.read_record()
    if record is None or name not in record.get("artifacts", {}):
        return seen("n/a", f"stage {prediction.stage!r} stored no artifact {name!r}")
    try:
        measured = _measure(prediction, _at(files.load(record)[name], prediction.field or ""))
    except Exception as exc:  # as for findings: the reading is not applicable, and says why
        return seen("n/a", f"{prediction.field or 'measure'} of {name}: {type(exc).__name__}: {exc}")
    return seen("value", f"artifact {name} of stage {prediction.stage}", measured)


def _at(value: Any, path: str) -> Any:
    for part in filter(None, path.split("/")):
        value = value[int(part)] if isinstance(value, (list, tuple, np.ndarray)) else value[part]
    return value


def _measure(prediction: Prediction, value: Any) -> Any:
    return plain(prediction.measure(value) if prediction.measure else value, max_items=16)
