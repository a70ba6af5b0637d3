"""Drives the sides of a run: one spawned worker process per side, both at once by default.

The host only orchestrates: it starts workers, relays their events to the progress display and
collects, per side and stage, the status the workers reported. Artifacts stay on disk.
"""
from __future__ import annotations

import multiprocessing
import queue as queue_module
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.worker import SideJob, run_side, worker_main

Listener = Callable[[dict[str, Any]], None]


@dataclass
class SideOutcome:
    """What a worker reported: per stage its status, timing and error, plus any fatal error."""

    job: SideJob
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    fatal: dict[str, Any] | None = None

    @property
    def errored(self) -> bool:
        return self.fatal is not None or any(s["status"] == "error" for s in self.stages.values())


def run_jobs(jobs: list[SideJob], parallel: int, listener: Listener) -> dict[str, SideOutcome]:
    """Run each job in its own spawned process, at most `parallel` at a time; relay every event."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    outcomes = {job.side: SideOutcome(job) for job in jobs}
    pending = [job for job in jobs if not _served_from_cache(job, outcomes, listener)]
    running: dict[str, Any] = {}
    while pending or running:
        while pending and len(running) < max(1, parallel):
            job = pending.pop(0)
            process = context.Process(target=worker_main, args=(job, events), name=f"harness-{job.side}", daemon=True)
            process.start()
            running[job.side] = process
            listener({"type": "start", "side": job.side, "pipeline": job.pipeline})
        try:
            event = events.get(timeout=0.5)
        except queue_module.Empty:
            for side, process in list(running.items()):
                if not process.is_alive():
                    _drain(events, outcomes, running, listener)
                    if side in running:
                        outcomes[side].fatal = outcomes[side].fatal or {
                            "error": f"worker process exited with code {process.exitcode} without reporting",
                            "traceback": "",
                        }
                        listener({"type": "exit", "side": side})
                        running.pop(side)
            continue
        _record(event, outcomes, running, listener)
    return outcomes


def _served_from_cache(job: SideJob, outcomes: dict[str, SideOutcome], listener: Listener) -> bool:
    """Serve a side whose every stage is a valid cache hit in this process, without a worker."""
    if not (job.use_cache and job.cache_dir):
        return False
    buffered: list[dict[str, Any]] = []
    try:
        complete = run_side(job, buffered.append, cache_only=True)
    except Exception:  # anything unusual is left to the worker, which reports it properly
        return False
    if not complete:
        return False
    for event in [{"type": "start", "side": job.side, "pipeline": job.pipeline}, *buffered, {"type": "exit", "side": job.side}]:
        _record(event, outcomes, {}, listener)
    return True


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
        outcome.fatal = {"error": event["error"], "traceback": event["traceback"]}
    elif kind == "exit":
        process = running.pop(side, None)
        if process is not None:
            process.join(timeout=10)
    listener(event)
