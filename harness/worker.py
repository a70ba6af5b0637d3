"""One side of a run: the process entry that executes a pipeline's stages in canonical order.

Each side runs in its own spawned process with its own plugin manager, so module-level state of a
pipeline (the legacy global dictionary) can never leak into the other side. Events (stage start,
done, cached, error, progress, log lines) go back to the host through a queue.
"""
from __future__ import annotations

import logging
import os
import resource
import signal
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.context import Progress, StageContext, StageKnobs
from harness.data.variant import install
from harness.device import DeviceHandle
from harness.errors import StorageError, Terminated, storage_error
from harness.knobs import effective_knobs, knobs_read_by
from harness.manager import PluginOptions, Registry, load_plugins
from harness.store import StageCache, StageFiles, capture_outputs, code_hash, stage_key

Emit = Callable[[dict[str, Any]], None]


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


def run_side(job: SideJob, emit: Emit, cache_only: bool = False) -> bool:
    """Run the requested stages of one side, using and filling the cache, and emit events.

    With `cache_only`, stop (returning False) at the first stage that would have to compute: the
    host uses this to serve a fully cached side without starting a worker process.
    """
    registry = Registry(load_plugins(job.plugins))
    for warning in registry.loaded.warnings:
        emit({"type": "log", "side": job.side, "level": "WARNING", "message": warning})
    if job.data is not None:
        install(registry, *job.data)
    pipeline = registry.pipeline(job.pipeline)
    knobs = effective_knobs(pipeline, job.knob_overrides)
    declared = {name: knob.stages for name, knob in pipeline.knobs.items()}
    code = code_hash(pipeline)
    cache = StageCache(Path(job.cache_dir)) if job.cache_dir else None
    device = DeviceHandle(job.device, *job.threads)
    log = side_logger(job.side, emit)
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
        base = {"side": job.side, "pipeline": job.pipeline, "scenario": job.scenario, "profile": job.profile,
                "run_seed": job.run_seed, "knobs": knobs}
        if failed is not None:
            reason = f"skipped because stage {failed!r} failed"
            _record_failure(files, {**base, "status": "skipped", "reason": reason})
            emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "skipped", "reason": reason})
            continue
        stage_knobs = knobs_read_by(pipeline, stage.name, knobs)
        upstream = {name: keys[pipeline.producer_of(name)] for name in stage.inputs}
        environment = {"device": job.device, "threads": list(job.threads)} if stage.device else {}
        key = stage_key(pipeline=job.pipeline, code=code, scenario=job.scenario, profile=job.profile,
                        run_seed=job.run_seed, stage=stage.name, knobs=stage_knobs, upstream=upstream,
                        environment=environment)
        keys[stage.name] = key
        hit = cache.lookup(key, stage.name) if (cache and job.use_cache) else None
        if hit is not None and hit[0].is_intact(hit[1]):
            files.link_from(hit[0])
            for name in stage.outputs:
                where[name] = (files, hit[1])
            emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "cached", "key": key,
                  "seconds": hit[1].get("seconds", 0.0)})
            continue
        if cache_only:
            return False
        if hit is not None:
            log.warning(f"cached artifacts of stage {stage.name!r} failed their checksum; recomputing")
        emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "running"})
        ctx = StageContext(
            pipeline=job.pipeline, stage=stage.name, side=job.side, scenario=job.scenario, profile=job.profile,
            run_seed=job.run_seed, knobs=StageKnobs(knobs, declared, stage.name), device=device, log=log,
            progress=Progress(lambda fields, s=stage.name: emit({"type": "progress", "side": job.side, "stage": s, **fields})),
        )
        started = time.perf_counter()
        peak_before = _peak_rss_mb()
        try:
            inputs = {name: artifact(name) for name in stage.inputs}
            registry.pm.hook.harness_before_stage_run(ctx=ctx, stage=stage)
            outputs = capture_outputs(stage.name, stage.outputs,
                                      registry.pm.hook.harness_run_stage(ctx=ctx, stage=stage, inputs=inputs))
            seconds = time.perf_counter() - started
            registry.pm.hook.harness_after_stage_run(ctx=ctx, stage=stage, outputs=outputs, seconds=seconds)
            peak_after = _peak_rss_mb()
            record = _store(files, outputs, {**base, "status": "ok", "key": key, "code": code, "stage_knobs": stage_knobs,
                                           "seeds": dict(ctx.seeds_used), "seconds": seconds,
                                           "peak_rss_mb": peak_after, "peak_rss_growth_mb": peak_after - peak_before,
                                           "device": device.record()})
        except Exception as exc:
            seconds = time.perf_counter() - started
            text = traceback.format_exc()
            try:
                registry.pm.hook.harness_on_stage_error(ctx=ctx, stage=stage, error=exc, traceback=text)
            finally:
                _record_failure(files, {**base, "status": "error", "key": key, "seconds": seconds,
                                        "error": f"{type(exc).__name__}: {exc}", "traceback": text})
            failed = stage.name
            emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "error", "seconds": seconds,
                  "error": f"{type(exc).__name__}: {exc}", "traceback": text, "storage": isinstance(exc, StorageError)})
            continue
        values.update(outputs)
        for name in stage.outputs:
            where[name] = (files, record)
        _forget_unneeded(values, pipeline, stage.name, job.stages)
        if cache is not None:
            _fill_cache(cache.files(key, stage.name), files, log)
        emit({"type": "stage", "side": job.side, "stage": stage.name, "status": "ok", "key": key, "seconds": seconds})
    return True


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


def _capture_native_stderr(side_dir: Path) -> None:
    """Send this process's file-descriptor-level stderr (TensorFlow's C++ log lines) to worker.log.

    Everything the user needs arrives as events; the native noise stays available in the run folder.
    """
    side_dir.mkdir(parents=True, exist_ok=True)
    handle = os.open(side_dir / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(handle, 2)
    os.close(handle)


def raise_on_sigterm() -> None:
    """Turn SIGTERM into a `Terminated` exception, so `finally` blocks remove temporary files."""
    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, handler)


def worker_main(job: SideJob, queue: Any) -> None:
    """Process entry under the spawn start method: run the side, report a fatal error, say goodbye."""
    raise_on_sigterm()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _capture_native_stderr(job.side_dir)
    try:
        run_side(job, queue.put)
    except OSError as exc:  # the run folder or the cache failed under it: the user's to fix
        queue.put({"type": "fatal", "side": job.side, "storage": True, "traceback": traceback.format_exc(),
                   "error": f"StorageError: {storage_error(exc, 'use', 'check the path is writable and the disk has space')}"})
    except BaseException as exc:  # reported to the host, which decides the exit code
        queue.put({"type": "fatal", "side": job.side, "error": f"{type(exc).__name__}: {exc}",
                   "traceback": traceback.format_exc()})
    finally:
        queue.put({"type": "exit", "side": job.side})
