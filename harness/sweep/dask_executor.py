"""Runs on Dask distributed: each side-run is one task, executed by `harness.worker.run_side` in a worker.

A `LocalCluster` sized to the machine is started by default (`--workers N` sizes it); `--scheduler ADDRESS`
uses an existing cluster. When the workers share the file system with this host (the default) a task
writes its stage files straight into the run folder and uses the shared stage cache; without it
(`shared_fs=False`) a task runs in a temporary folder of its worker and returns the side's files by
value, which this host writes into the run folder. Either way the reports are built here, with the same
`harness.session.finish` a single run uses, so a sweep's results are those of the same runs done one by one.

A task whose worker dies is run again by the scheduler (and a task that raises is retried `RETRIES` times);
every stage's outputs depend only on the job (its seed, knobs and code), never on which worker ran it.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from rich.console import Console

from harness.errors import HarnessError, UsageError
from harness.manager import Registry
from harness.runner import SideOutcome, record_events
from harness.session import Invocation, PreparedRun, finish, prepare
from harness.store import atomic_write_bytes
from harness.sweep.executors import RunDone, failed_run
from harness.sweep.progress import TaskProgress
from harness.worker import SideJob, native_stderr_to, run_reporting

RETRIES = 2
"""Extra attempts for a task that raised (a task whose worker died is rescheduled by Dask itself)."""
TOPIC = "harness-sweep-task"
"""Dask event topic on which each task announces every attempt it starts (so retries are shown live)."""
TASK_THREADS = (1, 1)
"""TensorFlow threads per side when the user chose auto: each Dask worker runs one task on one core."""


def side_task(job: SideJob, by_value: bool, label: str) -> dict[str, Any]:
    """The Dask task: run one side up to its last stage; return its events (and, by value, its files).

    Runs in a Dask worker process. By value, the side runs in a temporary folder without the stage cache
    (this worker may not see the host's paths) and every file it wrote comes back as bytes. TensorFlow's
    native log lines go to the side's worker.log, as in a spawned worker, not to the user's terminal.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _announce(label)
    events: list[dict[str, Any]] = []
    if not by_value:
        with native_stderr_to(job.side_dir):
            run_reporting(job, events.append)
        return {"events": events, "files": None}
    with tempfile.TemporaryDirectory(prefix="harness-sweep-") as tmp:
        local = replace(job, run_dir=tmp, cache_dir=None, use_cache=False)
        with native_stderr_to(local.side_dir):
            run_reporting(local, events.append)
        files = {str(path.relative_to(local.side_dir)): path.read_bytes()
                 for path in sorted(local.side_dir.rglob("*")) if path.is_file()}
    return {"events": events, "files": files}


def _announce(label: str) -> None:
    """Tell the host (through a Dask event) that an attempt of this task started, and where."""
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(TOPIC, {"label": label, "worker": worker.address, "pid": os.getpid()})


@dataclass
class _Pending:
    """A run whose sides are out as tasks: what it needs to be finished when the last one is back."""

    prepared: PreparedRun
    started: float
    outcomes: dict[str, SideOutcome] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.outcomes) == len(self.prepared.jobs)


class DaskExecutor:
    """Executes runs as Dask tasks, one per side-run; see the module docstring."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None, shared_fs: bool = True):
        if scheduler is not None and workers is not None:
            raise UsageError("give --scheduler (an existing cluster) or --workers (a local one), not both")
        if workers is not None and workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        self.scheduler, self.workers, self.shared_fs = scheduler, workers, shared_fs
        self.client: Any = None
        self.cluster: Any = None

    def __enter__(self) -> "DaskExecutor":
        from distributed import Client, LocalCluster

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # inherited by the workers LocalCluster starts
        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler, timeout="20s")
            except OSError as exc:
                raise UsageError(f"--scheduler {self.scheduler}: cannot connect ({exc})") from None
            return self
        self.cluster = LocalCluster(n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1,
                                    processes=True, dashboard_address=None, silence_logs=logging.ERROR)
        self.client = Client(self.cluster)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    @property
    def description(self) -> str:
        """Where the tasks run, in words."""
        workers = len(self.client.scheduler_info().get("workers", {})) if self.client else 0
        where = self.scheduler or "a LocalCluster"
        return f"Dask on {where} ({workers} workers{'' if self.shared_fs else ', results by value'})"

    def run(self, invocations: Sequence[Invocation], labels: Sequence[str], registry: Registry,
            progress: Console) -> list[RunDone]:
        done: dict[int, RunDone] = {}
        pending: dict[int, _Pending] = {}
        for index, inv in enumerate(invocations):
            started = time.perf_counter()
            try:
                pending[index] = _Pending(prepare(replace(inv, threads=inv.threads or TASK_THREADS), registry, progress),
                                          started)
            except HarnessError as exc:
                done[index] = failed_run(inv, exc, started)
        futures = self._submit(pending, labels)
        from distributed import as_completed

        with TaskProgress(progress, len(futures), self.description) as shown:
            self.client.subscribe_topic(TOPIC, shown.attempt_started)
            try:
                for future in as_completed(futures):
                    index, job, label = futures[future]
                    events = self._collect(future, job, label, shown)
                    run = pending[index]
                    run.outcomes[job.side] = SideOutcome(job)
                    record_events(job, events, run.outcomes, lambda event: None)
                    if run.complete:
                        done[index] = self._finish(run, registry, progress)
            finally:
                self.client.unsubscribe_topic(TOPIC)
        return [done[index] for index in range(len(invocations))]

    def _submit(self, pending: dict[int, _Pending], labels: Sequence[str]) -> dict[Any, tuple[int, SideJob, str]]:
        """One task per side of every run, keyed uniquely for this sweep (Dask must not merge equal jobs)."""
        batch = uuid.uuid4().hex[:8]
        futures = {}
        for index, run in pending.items():
            for job in run.prepared.jobs:
                label = f"{labels[index]} [{job.side}]"
                future = self.client.submit(side_task, job, not self.shared_fs, label, retries=RETRIES, pure=False,
                                            key=f"harness-side-{batch}-{index}-{job.side}")
                futures[future] = (index, job, label)
        return futures

    def _collect(self, future: Any, job: SideJob, label: str, shown: TaskProgress) -> list[dict[str, Any]]:
        """The task's events, its files written into the run folder when they came back by value; a task that
        failed every attempt becomes a fatal error of its side (the run's report then says exit 3)."""
        try:
            result = future.result()
        except Exception as exc:  # KilledWorker or an error outside the harness's own reporting
            shown.failed(label, f"{type(exc).__name__}: {exc}")
            return [{"type": "fatal", "side": job.side, "error": f"Dask task failed: {type(exc).__name__}: {exc}",
                     "traceback": ""}]
        for relative, data in (result["files"] or {}).items():
            atomic_write_bytes(job.side_dir / relative, data)
        shown.done(label, result["events"])
        return result["events"]

    @staticmethod
    def _finish(run: _Pending, registry: Registry, progress: Console) -> RunDone:
        """Build and store the run's report here on the host, sides in the order the run names them."""
        prepared = run.prepared
        outcomes = {job.side: run.outcomes[job.side] for job in prepared.jobs}
        try:
            report, _ = finish(prepared, outcomes, registry, progress, progress)
        except HarnessError as exc:
            return failed_run(prepared.inv, exc, run.started)
        return RunDone(prepared.run_dir, report, None, time.perf_counter() - run.started)
