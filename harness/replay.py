"""`harness replay`: run one stored stage again in this process, from its stored inputs, and compare.

The stage gets what it got in its run: the same plugins (the run's `-p` list), knobs, scenario,
profile, run seed (so the same streams), device and thread counts, built by the worker's own code
(`harness.execution`). Inputs are read from the side's stored artifacts with their checksums proven;
nothing is written anywhere unless the caller asks for the fresh outputs to be stored elsewhere.
"""
from __future__ import annotations

import json
import os
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Mapping

from harness.compare import DEFAULT_TOLERANCE, compare_values
from harness.context import Progress
from harness.errors import StorageError, UsageError, storage_error
from harness.execution import SideSetup, call_stage
from harness.knobs import effective_knobs, knobs_read_by
from harness.manager import PluginOptions
from harness.records import PipelineSpec, StageSpec
from harness.stages import STAGES
from harness.store import StageFiles, artifact_sha256, code_hash, to_jsonable
from harness.verify import load_intact
from harness.worker import Emit, side_logger

Outcome = Literal["identical", "within tolerance", "differs"]
REPLAYABLE = ("ok", "error")
"""Stage statuses a run folder can replay: computed (outputs to compare with) or raised (to debug)."""


@dataclass(frozen=True)
class StoredRun:
    """What a run folder records about how it ran: its settings, and each side's pipeline."""

    run_dir: Path
    settings: dict[str, Any]
    sides: dict[str, str]
    knobs: dict[str, dict[str, Any]]

    @classmethod
    def open(cls, run_dir: Path) -> "StoredRun":
        """Read manifest.json (else report.json); a folder with neither is a usage error."""
        for name in ("manifest.json", "report.json"):
            try:
                data = json.loads((Path(run_dir) / name).read_text())
            except (OSError, ValueError):
                continue
            sides = {side: entry if isinstance(entry, str) else entry["pipeline"] for side, entry in data["sides"].items()}
            knobs = data.get("knobs") or {side: entry.get("knobs", {}) for side, entry in data["sides"].items()}
            return cls(Path(run_dir), data["settings"], sides, knobs)
        raise UsageError(f"{str(run_dir)!r} holds no readable manifest.json or report.json; "
                         "is it a run folder written by harness run or diff?")

    def plugin_options(self) -> PluginOptions:
        """The run's `-p` plugins; a relative plugin file is found from the folder the run started in."""
        recorded = self.settings.get("plugins", {})
        cwd = Path(self.settings.get("cwd", "."))
        extra = tuple(str(cwd / spec) if _is_relative_file(spec) and (cwd / spec).is_file() else spec
                      for spec in recorded.get("extra", []))
        return PluginOptions(extra=extra, blocked=tuple(recorded.get("blocked", [])))

    def record(self, side: str, stage: str) -> dict[str, Any] | None:
        return StageFiles(self.run_dir / side, stage).read_record()

    def replayable_stages(self, side: str) -> list[str]:
        """Stages of `side` whose record says they ran (computed or raised), in canonical order."""
        return [stage for stage in STAGES if (self.record(side, stage) or {}).get("status") in REPLAYABLE]


def _is_relative_file(spec: str) -> bool:
    return (spec.endswith(".py") or os.sep in spec) and not os.path.isabs(spec)


@dataclass
class ReplayPlan:
    """One stage ready to run: its side's setup, the stored record and the loaded, proven inputs."""

    run: StoredRun
    side: str
    stage: StageSpec
    setup: SideSetup
    record: dict[str, Any]
    inputs: dict[str, Any]
    producers: dict[str, str]
    stored: dict[str, Any]

    @property
    def scenario(self) -> str:
        return self.record.get("scenario", self.run.settings["scenario"])

    @property
    def profile(self) -> str:
        return self.record.get("profile", self.run.settings["profile"])

    @property
    def run_seed(self) -> int:
        return int(self.record.get("run_seed", self.run.settings["seed"]))

def plan_replay(run_dir: Path, side: str | None, stage: str) -> ReplayPlan:
    """Validate the side and stage, rebuild the side as it ran and load the stage's stored inputs."""
    run = StoredRun.open(run_dir)
    side = _choose_side(run, side)
    record = run.record(side, stage)
    if (record or {}).get("status") not in REPLAYABLE:
        stored = ", ".join(run.replayable_stages(side)) or "(none)"
        raise UsageError(f"stage {stage!r} is not stored for side {side} of {run_dir}; stages stored: {stored}")
    settings = run.settings
    setup = SideSetup.build(run.sides[side], {}, settings.get("device", "auto"),
                            tuple(settings.get("threads", (2, 2))), run.plugin_options())
    knobs = record.get("knobs", run.knobs.get(side, {}))
    setup = replace(setup, knobs=effective_knobs(setup.pipeline, stored_overrides(setup.pipeline, knobs)))
    spec = next((s for s in setup.pipeline.stages if s.name == stage), None)
    if spec is None:
        raise UsageError(f"pipeline {setup.pipeline.name!r} no longer has a stage {stage!r}; "
                         f"its stages: {', '.join(s.name for s in setup.pipeline.stages)}")
    producers = {name: _producer(setup.pipeline, name, stage) for name in spec.inputs}
    inputs = load_inputs(run.run_dir / side, stage, producers)
    return ReplayPlan(run, side, spec, setup, record, inputs, producers, stored_outputs(run.run_dir / side, stage, record))


def stored_outputs(side_dir: Path, stage: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs the run stored for the stage (checksums proven), read before the stage runs; none when it raised."""
    if record.get("status") != "ok":
        return {}
    files = StageFiles(side_dir, stage)
    return load_intact(files, record, record.get("artifacts", {}), f"stored output of stage {stage!r}")


def _choose_side(run: StoredRun, side: str | None) -> str:
    if side is None and len(run.sides) == 1:
        return next(iter(run.sides))
    if side not in run.sides:
        given = "no --side given" if side is None else f"unknown side {side!r}"
        raise UsageError(f"{given} for {run.run_dir}; sides: {', '.join(f'{s} ({p})' for s, p in run.sides.items())}")
    return side


def stored_overrides(pipeline: PipelineSpec, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The stored effective knobs that differ from the defaults (defaults keep their exact Python type)."""
    def same(a: Any, b: Any) -> bool:
        return json.dumps(a, default=to_jsonable, sort_keys=True) == json.dumps(b, default=to_jsonable, sort_keys=True)

    return {name: value for name, value in stored.items()
            if name not in pipeline.knobs or not same(value, pipeline.knobs[name].default)}


def _producer(pipeline: PipelineSpec, artifact: str, stage: str) -> str:
    producer = pipeline.producer_of(artifact)
    if producer is None:
        raise UsageError(f"input {artifact!r} of stage {stage!r} is produced by no stage of pipeline {pipeline.name!r}")
    return producer


def load_inputs(side_dir: Path, stage: str, producers: Mapping[str, str]) -> dict[str, Any]:
    """Each input from its producing stage's stored files, checksums proven; a gap raises naming it."""
    inputs: dict[str, Any] = {}
    for producer in dict.fromkeys(producers.values()):
        names = [name for name, source in producers.items() if source == producer]
        files = StageFiles(side_dir, producer)
        record = files.read_record()
        what = f"input {', '.join(map(repr, names))} of stage {stage!r} (stored by stage {producer!r})"
        if record is None or record.get("status") != "ok":
            state = "missing" if record is None else f"a record of status {record.get('status')!r}"
            raise StorageError(f"{what} is not stored: {files.json} is {state}; run the stages up to {stage!r} again")
        inputs.update(load_intact(files, record, names, what))
    return inputs


@dataclass(frozen=True)
class OutputCheck:
    """One fresh output against the stored one."""

    name: str
    outcome: Outcome
    summary: str


@dataclass(frozen=True)
class ReplayResult:
    """The fresh outputs, how each compares with the stored one, and what else changed since the run."""

    outputs: dict[str, Any]
    checks: tuple[OutputCheck, ...]
    seconds: float
    seeds: dict[str, int]
    stored_seeds: dict[str, int]
    code: str
    stored_code: str | None
    stored_error: str | None
    record: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """0 every output identical or within tolerance; 1 one differs (or the run's stage had raised)."""
        return 1 if self.stored_error or any(c.outcome == "differs" for c in self.checks) else 0


def replay_stage(plan: ReplayPlan, emit: Emit) -> ReplayResult:
    """Call the stage as the worker does (hooks, wrappers, capture) and compare with the stored outputs.

    An exception in the stage goes through `harness_on_stage_error` and is raised again unchanged,
    so the caller can show its traceback or debug it.
    """
    registry, stage = plan.setup.registry, plan.stage
    for warning in registry.loaded.warnings:
        emit({"type": "log", "side": plan.side, "level": "WARNING", "message": warning})
    ctx = plan.setup.context(stage, side=plan.side, scenario=plan.scenario, profile=plan.profile, run_seed=plan.run_seed,
                             log=side_logger(plan.side, emit),
                             progress=Progress(lambda fields: emit({"type": "progress", "side": plan.side, "stage": stage.name, **fields})))
    try:
        outputs, seconds = call_stage(registry, ctx, stage, plan.inputs)
    except Exception as exc:
        registry.pm.hook.harness_on_stage_error(ctx=ctx, stage=stage, error=exc, traceback=traceback.format_exc())
        raise
    stored = plan.stored
    stored_sums = {name: info.get("sha256") for name, info in plan.record.get("artifacts", {}).items()}
    checks = tuple(check_output(name, outputs.get(name, _ABSENT), stored.get(name, _ABSENT), stored_sums.get(name),
                                stage.tolerances.get(name, DEFAULT_TOLERANCE))
                   for name in dict.fromkeys([*outputs, *stored]))
    stored_error = plan.record.get("error") if plan.record.get("status") == "error" else None
    code = code_hash(plan.setup.pipeline)
    record = {**{key: plan.record.get(key) for key in ("side", "pipeline", "scenario", "profile", "run_seed", "knobs")},
              "status": "ok", "code": code, "stage_knobs": knobs_read_by(plan.setup.pipeline, stage.name, plan.setup.knobs),
              "seeds": dict(ctx.seeds_used), "seconds": seconds, "device": plan.setup.device.record(),
              "replay_of": str(StageFiles(plan.run.run_dir / plan.side, stage.name).json)}
    return ReplayResult(outputs, checks, seconds, dict(ctx.seeds_used), dict(plan.record.get("seeds", {})), code,
                        plan.record.get("code"), stored_error, record)


_ABSENT = object()
"""Stands for an output present on one side only (the stage's declared outputs changed since the run)."""


def check_output(name: str, fresh: Any, stored: Any, stored_sha256: str | None, tolerance: tuple[float, float]) -> OutputCheck:
    """Identical when the fresh output has the stored checksum; else the comparator under the stage's tolerance."""
    if stored is _ABSENT or fresh is _ABSENT:
        return OutputCheck(name, "differs", "not stored by the run" if stored is _ABSENT else "no longer returned by the stage")
    if artifact_sha256(fresh) == stored_sha256:
        return OutputCheck(name, "identical", "same checksum as stored")
    comparison = compare_values(name, fresh, stored, tolerance)
    if comparison.status != "equal":
        return OutputCheck(name, "differs", comparison.summary)
    if comparison.summary in ("identical", "identical keys and values"):
        return OutputCheck(name, "within tolerance", f"equal values in different bytes ({_kind(fresh)} vs {_kind(stored)})")
    return OutputCheck(name, "within tolerance", comparison.summary)


def _kind(value: Any) -> str:
    return str(getattr(value, "dtype", type(value).__name__))


def check_out_dir(out_dir: Path, run_dir: Path) -> None:
    """Refuse, before anything runs, an --out folder inside the run folder: replay never changes a run."""
    out, run = Path(out_dir).resolve(), Path(run_dir).resolve()
    if out == run or run in out.parents:
        raise UsageError(f"--out {out_dir} is inside the run folder {run_dir}; replay never writes there, choose another folder")


def write_fresh_outputs(out_dir: Path, plan: ReplayPlan, result: ReplayResult) -> StageFiles:
    """Store the fresh outputs as `<out>/<stage>.npz|json` (atomic, the store's format); never into the run folder."""
    check_out_dir(out_dir, plan.run.run_dir)
    files = StageFiles(Path(out_dir), plan.stage.name)
    try:
        files.write(result.outputs, result.record)
    except OSError as exc:
        raise storage_error(exc, "write", "choose a writable --out", files.folder) from None
    return files

