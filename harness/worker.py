"""One side of a run: the process entry that executes a pipeline's stages in canonical order.

Each side runs in its own spawned process with its own plugin manager, so module-level state of a
pipeline (the legacy global dictionary) can never leak into the other side. Events (stage start,
done, cached, error, progress, log lines) go back to the host through a queue.
"""
from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from harness.context import Progress
from harness.errors import StageContractError, StorageError, Terminated, storage_error
from harness.execution import SideSetup, call_stage
from harness.knobs import knobs_read_by
from harness.manager import PluginOptions
from harness.checking import stored_device_findings
from harness.conventions import resolve_conventions
from harness.records import CheckInput, PipelineSpec, StageSpec
from harness.store import StageCache, StageFiles, code_hash, stage_key

Emit = Callable[[dict[str, Any]], None]
ISOLATE_DIR = "isolate"
"""Folder of a run where transplanted stages (`harness diff --isolate`) store their outputs."""


@dataclass(frozen=True)
class SideJob:
    """Everything a worker needs to run one side; plain values only, so it pickles under spawn."""

    side: str
    pipeline: str
    scenario: str
    profile: str
    run_seed: int
    stages: tuple[str, ...]
    run_dir: str
    knob_overrides: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    threads: tuple[int, int] = (2, 2)
    plugins: PluginOptions = PluginOptions()
    cache_dir: str | None = None
    use_cache: bool = True
    data: tuple[str, str, str] | None = None
    """With --data: (base pipeline, data file, format); `pipeline` is then the base's data variant."""

    @property
    def side_dir(self) -> Path:
        return Path(self.run_dir) / self.side

    @property
    def context_side(self) -> str:
        """The side a stage's context names (a transplant runs as the side whose code it is)."""
        return self.side


@dataclass(frozen=True)
class TransplantJob(SideJob):
    """Stages of one side's pipeline run on another side's stored inputs, into `<run>/isolate/`.

    `sources` maps each stage to its inputs: name → (the source side's producing stage, checksum).
    """

    source: str = "a"
    as_side: str = "b"
    sources: Mapping[str, Mapping[str, tuple[str, str]]] = field(default_factory=dict)

    @property
    def side_dir(self) -> Path:
        return Path(self.run_dir) / ISOLATE_DIR

    @property
    def context_side(self) -> str:
        return self.as_side


class _EventHandler(logging.Handler):
    """Forwards a stage's log records to the host as events."""

    def __init__(self, emit: Emit, side: str):
        super().__init__()
        self._emit = emit
        self._side = side

    def emit(self, record: logging.LogRecord) -> None:
        self._emit({"type": "log", "side": self._side, "level": record.levelname, "message": record.getMessage()})


def side_logger(side: str, emit: Emit) -> logging.Logger:
    logger = logging.getLogger(f"harness.side.{side}")
    logger.handlers[:] = [_EventHandler(emit, side)]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


@dataclass
class _SideEnv:
    """What every stage of one job shares: its side setup (plugins, pipeline, knobs, device), code hash, cache
    and log."""

    job: SideJob
    emit: Emit
    setup: SideSetup
    code: str
    cache: StageCache | None
    log: logging.Logger
    owner_codes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, job: SideJob, emit: Emit) -> "_SideEnv":
        setup = SideSetup.build(job.pipeline, job.knob_overrides, job.device, job.threads, job.plugins, job.data)
        for warning in setup.registry.loaded.warnings:
            emit({"type": "log", "side": job.side, "level": "WARNING", "message": warning})
        return cls(job, emit, setup, code_hash(setup.pipeline),
                   StageCache(Path(job.cache_dir)) if job.cache_dir else None, side_logger(job.side, emit))

    @property
    def pipeline(self):
        return self.setup.pipeline

    @property
    def knobs(self) -> dict[str, Any]:
        return self.setup.knobs

    @property
    def meta(self) -> dict[str, Any]:
        """The identity every stage record of this job starts with."""
        job = self.job
        return {"side": job.side, "pipeline": job.pipeline, "scenario": job.scenario, "profile": job.profile,
                "run_seed": job.run_seed, "knobs": self.knobs}

    def device_checks(self, stage: str, artifacts: dict[str, Any]) -> dict[str, Any]:
        """Findings of the checks that run where the stage ran (`CheckSpec.device`), on its inputs and outputs, for
        the stage record; none for a transplant, whose outputs are compared, not judged."""
        if isinstance(self.job, TransplantJob):
            return {}
        job = self.job
        inp = CheckInput(side=job.side, pipeline=job.pipeline, scenario=job.scenario, profile=job.profile,
                         knobs=self.knobs, artifacts=artifacts,
                         conventions=resolve_conventions(self.pipeline, self.knobs))
        return stored_device_findings(self.setup.registry, stage, inp)

    def stage_owner(self, stage: StageSpec) -> PipelineSpec:
        """The earliest pipeline this stage is inherited from unchanged (the pipeline itself when it is its own):
        a derived pipeline keys the stages it did not replace as its base does, so they share the base's cache."""
        owner = self.pipeline
        pipelines = self.setup.registry.pipelines
        while owner.base in pipelines and pipelines[owner.base].record.stage(stage.name) is stage:
            owner = pipelines[owner.base].record
        return owner

    def owner_code(self, owner: PipelineSpec) -> str:
        """The code hash of the pipeline that owns a stage (this job's own hash for its own stages)."""
        if owner is self.pipeline:
            return self.code
        return self.owner_codes.setdefault(owner.name, code_hash(owner))

    def key(self, stage: StageSpec, upstream: dict[str, str]) -> str:
        """The stage's cache key, given what identifies each of its inputs (an upstream key or a content checksum)."""
        job = self.job
        environment = {"device": job.device, "threads": list(job.threads)} if stage.device else {}
        owner = self.stage_owner(stage)
        return stage_key(pipeline=owner.name, code=self.owner_code(owner), scenario=job.scenario, profile=job.profile,
                         run_seed=job.run_seed, stage=stage.name, knobs=knobs_read_by(self.pipeline, stage.name, self.knobs),
                         upstream=upstream, environment=environment)


@dataclass
class _StageResult:
    """How one stage ended: cached, ok, error, or uncached (a cache-only pass that would have to compute)."""

    status: str
    record: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None


def _run_stage(env: _SideEnv, stage: StageSpec, key: str, files: StageFiles,
               inputs: Callable[[], dict[str, Any]], cache_only: bool) -> _StageResult:
    """One stage: serve it from the cache, or compute, store and cache it; emit its events either way."""
    job, emit, log, cache = env.job, env.emit, env.log, env.cache
    hit = cache.lookup(key, stage.name) if (cache and job.use_cache) else None
    if hit is not None and hit[0].is_intact(hit[1]):
        files.link_from(hit[0])
        emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "cached", "key": key,
              "seconds": hit[1].get("seconds", 0.0)})
        return _StageResult("cached", hit[1])
    if cache_only:
        return _StageResult("uncached")
    if hit is not None:
        log.warning(f"cached artifacts of stage {stage.name!r} failed their checksum; recomputing")
    emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "running"})
    ctx = env.setup.context(
        stage, side=job.context_side, scenario=job.scenario, profile=job.profile, run_seed=job.run_seed, log=log,
        progress=Progress(lambda fields, s=stage.name: emit({"type": "progress", "side": job.side, "stage": s, **fields})),
    )
    hook = env.setup.registry.pm.hook
    started = time.perf_counter()
    peak_before = _peak_rss_mb()
    try:
        stage_inputs = inputs()
        outputs, seconds = call_stage(env.setup.registry, ctx, stage, stage_inputs, started)
        peak_after = _peak_rss_mb()
        checked = env.device_checks(stage.name, {**stage_inputs, **outputs})
        record = _store(files, outputs, {**env.meta, **checked, "status": "ok", "key": key, "code": env.code,
                                         "stage_knobs": knobs_read_by(env.pipeline, stage.name, env.knobs),
                                         "seeds": dict(ctx.seeds_used), "seconds": seconds,
                                         "peak_rss_mb": peak_after, "peak_rss_growth_mb": peak_after - peak_before,
                                         "device": env.setup.device.record()})
    except Exception as exc:
        seconds = time.perf_counter() - started
        text = traceback.format_exc()
        try:
            hook.harness_on_stage_error(ctx=ctx, stage=stage, error=exc, traceback=text)
        finally:
            _record_failure(files, {**env.meta, "status": "error", "key": key, "seconds": seconds,
                                    "error": f"{type(exc).__name__}: {exc}", "traceback": text})
        emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "error", "seconds": seconds,
              "error": f"{type(exc).__name__}: {exc}", "traceback": text, "storage": isinstance(exc, StorageError)})
        return _StageResult("error")
    if cache is not None:
        _fill_cache(cache.files(key, stage.name), files, log)
    emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "ok", "key": key, "seconds": seconds})
    return _StageResult("ok", record, outputs)


def run_side(job: SideJob, emit: Emit, cache_only: bool = False) -> bool:
    """Run the requested stages of one side, using and filling the cache, and emit events.

    With `cache_only`, stop (returning False) at the first stage that would have to compute: the
    host uses this to serve a fully cached side without starting a worker process.
    """
    env = _SideEnv.load(job, emit)
    pipeline = env.pipeline
    values: dict[str, Any] = {}
    where: dict[str, tuple[StageFiles, dict[str, Any]]] = {}
    keys: dict[str, str] = {}
    failed: str | None = None

    def artifact(name: str) -> Any:
        if name not in values:
            files, record = where[name]
            values.update(files.load(record, [name]))
        return values[name]

    for stage in pipeline.stages:
        if stage.name not in job.stages:
            continue
        files = StageFiles(job.side_dir, stage.name)
        if failed is not None:
            reason = f"skipped because stage {failed!r} failed"
            _record_failure(files, {**env.meta, "status": "skipped", "reason": reason})
            emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "skipped", "reason": reason})
            continue
        key = keys[stage.name] = env.key(stage, {name: keys[pipeline.producer_of(name)] for name in stage.inputs})
        result = _run_stage(env, stage, key, files, lambda s=stage: {name: artifact(name) for name in s.inputs},
                            cache_only)
        if result.status == "uncached":
            return False
        if result.status == "error":
            failed = stage.name
            continue
        for name in stage.outputs:
            where[name] = (files, result.record)
        if result.outputs is not None:
            values.update(result.outputs)
            _forget_unneeded(values, pipeline, stage.name, job.stages)
    return True


def run_transplants(job: TransplantJob, emit: Emit, cache_only: bool = False) -> bool:
    """Run each of `job.stages` of this pipeline on the inputs stored by another side (see harness.isolate).

    The cache key names each input by its content checksum instead of an upstream stage key, so a
    transplant is reused whenever the same code meets the same inputs.
    """
    env = _SideEnv.load(job, emit)
    source = Path(job.run_dir) / job.source
    for name in job.stages:
        stage = env.pipeline.stage(name)
        inputs = job.sources[name]
        key = env.key(stage, {artifact: f"content:{checksum}" for artifact, (_, checksum) in inputs.items()})
        result = _run_stage(env, stage, key, StageFiles(job.side_dir, name),
                            lambda s=inputs: load_artifacts(source, s), cache_only)
        if result.status == "uncached":
            return False
    return True


def load_artifacts(folder: Path, sources: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """Artifacts stored in a side folder, by name → (producing stage, checksum); a changed artifact is refused."""
    values: dict[str, Any] = {}
    for name, (producer, checksum) in sources.items():
        files = StageFiles(folder, producer)
        record = files.read_record() or {}
        if record.get("artifacts", {}).get(name, {}).get("sha256") != checksum:
            raise StageContractError(f"input {name!r} in {files.json} changed since it was compared; run the diff again")
        values.update(files.load(record, [name]))
    return values


def run_job(job: SideJob, emit: Emit, cache_only: bool = False) -> bool:
    """Run a job of either kind: a side of a run, or transplanted stages."""
    runner = run_transplants if isinstance(job, TransplantJob) else run_side
    return runner(job, emit, cache_only)


def _store(files: StageFiles, outputs: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Write a stage's artifacts; a failing disk is the user's to fix, not the stage's fault."""
    try:
        return files.write(outputs, meta)
    except OSError as exc:
        raise storage_error(exc, "write", "free disk space or choose another --out", files.folder) from None


def _record_failure(files: StageFiles, meta: dict[str, Any]) -> None:
    """Record a failed stage when the disk allows; the host hears of it through its event either way."""
    try:
        files.write_failure(meta)
    except OSError:
        pass


def _fill_cache(entry: StageFiles, files: StageFiles, log: logging.Logger) -> None:
    """Link a computed stage into the cache; a cache that cannot take it costs only reuse, so warn."""
    try:
        entry.link_from(files)
    except OSError as exc:
        log.warning(f"stage {files.stage!r} was not cached: {exc.strerror or exc} ({exc.filename}); later runs recompute it")


def _peak_rss_mb() -> float:
    """The worker's peak resident memory so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _forget_unneeded(values: dict[str, Any], pipeline: Any, done: str, stages: tuple[str, ...]) -> None:
    """Drop in-memory artifacts no later stage reads (they stay on disk), bounding a side's memory."""
    names = [s.name for s in pipeline.stages]
    later = {name for s in pipeline.stages[names.index(done) + 1:] if s.name in stages for name in s.inputs}
    for name in [n for n in values if n not in later]:
        del values[name]


@contextlib.contextmanager
def native_stderr_to(side_dir: Path) -> Iterator[None]:
    """Meanwhile, send this process's file-descriptor-level stderr (TensorFlow's C++ log lines) to
    <side_dir>/worker.log, and put it back after (a Dask worker runs other tasks next).

    Everything the user needs arrives as events; the native noise stays available in the run folder.
    """
    side_dir.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    handle = os.open(side_dir / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(handle, 2)
    os.close(handle)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def raise_on_sigterm() -> None:
    """Turn SIGTERM into a `Terminated` exception, so `finally` blocks remove temporary files."""
    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, handler)


def worker_main(job: SideJob, queue: Any) -> None:
    """Process entry under the spawn start method: run the side, report a fatal error, say goodbye, and leave
    without the interpreter's teardown (unloading TensorFlow took seconds the host spent waiting to join)."""
    raise_on_sigterm()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_to(job.side_dir):
        try:
            run_reporting(job, queue.put)
        finally:
            queue.put({"type": "exit", "side": job.side})
            queue.close()
            queue.join_thread()  # every event is in the pipe; the files were written and renamed by then
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)


def run_reporting(job: SideJob, emit: Emit) -> None:
    """Run the job; an error outside any stage becomes a `fatal` event instead of escaping (the host, or a
    sweep's Dask task, decides the exit code from the events)."""
    try:
        run_job(job, emit)
    except OSError as exc:  # the run folder or the cache failed under it: the user's to fix
        emit({"type": "fatal", "side": job.side, "storage": True, "traceback": traceback.format_exc(),
              "error": f"StorageError: {storage_error(exc, 'use', 'check the path is writable and the disk has space')}"})
    except BaseException as exc:  # reported to the host, which decides the exit code
        emit({"type": "fatal", "side": job.side, "error": f"{type(exc).__name__}: {exc}",
              "traceback": traceback.format_exc()})
