"""Drives the sides of a run: one spawned worker process per side, both at once by default.

The host only orchestrates: it starts workers, relays their events to the progress display and
collects, per side and stage, the status the workers reported. Artifacts stay on disk. Every worker
has ended, and been waited for, when `run_jobs` returns or raises.
"""
from __future__ import annotations

import multiprocessing
import queue as queue_module
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.errors import Interrupted, Terminated
from harness.store import remove_temporaries
from harness.worker import SideJob, run_job, worker_main

Listener = Callable[[dict[str, Any]], None]

STOP_GRACE_SECONDS = 10.0
"""How long a worker asked to stop may take to clean up before it is killed."""


@dataclass
class SideOutcome:
    """What a worker reported: per stage its status, timing and error, plus any fatal error."""

    job: SideJob
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    fatal: dict[str, Any] | None = None

    @property
    def errored(self) -> bool:
        return self.fatal is not None or any(s["status"] == "error" for s in self.stages.values())

    @property
    def completed(self) -> list[str]:
        """Stages computed or served from the cache, in the order they finished."""
        return [name for name, s in self.stages.items() if s["status"] in ("ok", "cached")]

    @property
    def storage_error(self) -> str | None:
        """The first failure to write or read a file on this side (the user's to fix), if any."""
        failures = [s for s in [*self.stages.values(), self.fatal or {}] if s.get("storage")]
        return failures[0]["error"].removeprefix("StorageError: ") if failures else None


Watcher = Callable[[dict[str, "SideOutcome"], int], None]
"""Called after each event with the outcomes so far and the number of workers still running."""


def run_jobs(jobs: list[SideJob], parallel: int, listener: Listener, watcher: Watcher | None = None) -> dict[str, SideOutcome]:
    """Run each job in its own spawned process, at most `parallel` at a time; relay every event (and show
    the outcomes so far to `watcher`, which may start on the host's share of the work).

    On Ctrl-C or SIGTERM the workers are stopped and waited for, and `Interrupted` says which
    stages completed (they are in the cache, so the same command resumes from there).
    """
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    outcomes = {job.side: SideOutcome(job) for job in jobs}
    started: dict[str, Any] = {}
    try:
        _run(jobs, parallel, listener, context, events, outcomes, started, watcher or (lambda *_: None))
    except KeyboardInterrupt as exc:
        raise interrupted(outcomes, exc) from None
    finally:
        _stop(started)
        _remove_leftovers(jobs, started)
        events.close()
        events.join_thread()
    return outcomes


def _run(jobs: list[SideJob], parallel: int, listener: Listener, context: Any, events: Any,
         outcomes: dict[str, SideOutcome], started: dict[str, Any], watcher: Watcher) -> None:
    """The event loop: start workers as slots free up, relay events, notice workers that died silently."""
    pending = [job for job in jobs if not _served_from_cache(job, outcomes, listener)]
    running: dict[str, Any] = {}
    while pending or running:
        while pending and len(running) < max(1, parallel):
            job = pending.pop(0)
            process = context.Process(target=worker_main, args=(job, events), name=f"harness-{job.side}", daemon=True)
            process.start()
            running[job.side] = started[job.side] = process
            listener({"type": "start", "side": job.side, "pipeline": job.pipeline})
        try:
            event = events.get(timeout=0.5)
        except queue_module.Empty:
            _notice_silent_exits(events, outcomes, running, listener)
            continue
        _record(event, outcomes, running, listener)
        watcher(outcomes, len(running) + len(pending))


def _notice_silent_exits(events: Any, outcomes: dict[str, SideOutcome], running: dict[str, Any], listener: Listener) -> None:
    """A worker that ended without saying goodbye gets a fatal error in its outcome."""
    for side, process in list(running.items()):
        if not process.is_alive():
            _drain(events, outcomes, running, listener)
            if side in running:
                outcomes[side].fatal = outcomes[side].fatal or {
                    "error": f"worker process exited with code {process.exitcode} without reporting",
                    "traceback": "",
                }
                listener({"type": "exit", "side": side})
                running.pop(side).join()


def _stop(started: dict[str, Any]) -> None:
    """Ask every live worker to stop (SIGTERM, which it turns into cleanup), then wait for it; kill the stuck."""
    for process in started.values():
        if process.is_alive():
            process.terminate()
    for process in started.values():
        process.join(STOP_GRACE_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()


def _remove_leftovers(jobs: list[SideJob], started: dict[str, Any]) -> None:
    """Temporary files of a worker that was killed before it could remove them."""
    for job in jobs:
        process = started.get(job.side)
        if process is not None and process.pid is not None:
            remove_temporaries(job.side_dir, process.pid)


def interrupted(outcomes: dict[str, SideOutcome], exc: KeyboardInterrupt) -> Interrupted:
    """The one line an interrupted run ends with: what completed and how to resume."""
    signal_name, code = ("SIGTERM", 143) if isinstance(exc, Terminated) else ("Ctrl-C", 130)
    done = "; ".join(f"{side}: {', '.join(o.completed) or 'none'}" for side, o in outcomes.items())
    return Interrupted(f"interrupted by {signal_name}; stages completed: {done}; "
                       "run the same command again to resume from the cache", code)


def _served_from_cache(job: SideJob, outcomes: dict[str, SideOutcome], listener: Listener) -> bool:
    """Serve a side whose every stage is a valid cache hit in this process, without a worker."""
    if not (job.use_cache and job.cache_dir):
        return False
    buffered: list[dict[str, Any]] = []
    try:
        complete = run_job(job, buffered.append, cache_only=True)
    except Exception:  # anything unusual is left to the worker, which reports it properly
        return False
    if not complete:
        return False
    record_events(job, buffered, outcomes, listener)
    return True


def record_events(job: SideJob, events: list[dict[str, Any]], outcomes: dict[str, SideOutcome], listener: Listener) -> None:
    """Record the events of a side that ran elsewhere (here from the cache, or on a Dask worker) as if relayed live."""
    for event in [{"type": "start", "side": job.side, "pipeline": job.pipeline}, *events, {"type": "exit", "side": job.side}]:
        _record(event, outcomes, {}, listener)


def _drain(events: Any, outcomes: dict[str, SideOutcome], running: dict[str, Any], listener: Listener) -> None:
    """Relay what a finished worker left in the queue before deciding it died silently."""
    while True:
        try:
            event = events.get(timeout=0.2)
        except queue_module.Empty:
            return
        _record(event, outcomes, running, listener)


def _record(event: dict[str, Any], outcomes: dict[str, SideOutcome], running: dict[str, Any], listener: Listener) -> None:
    side = event.get("side")
    outcome = outcomes.get(side)
    kind = event["type"]
    if kind == "stage" and outcome is not None:
        outcome.stages[event["stage"]] = {k: v for k, v in event.items() if k not in ("type", "side")}
    elif kind == "fatal" and outcome is not None:
        outcome.fatal = {"error": event["error"], "traceback": event["traceback"], "storage": event.get("storage", False)}
    elif kind == "exit":
        process = running.pop(side, None)
        if process is not None:
            process.join()
    listener(event)
