"""How many runs are executed: an executor takes invocations and gives back, per run, its report or error.

Two implementations share this interface: `SequentialExecutor` (in this process, one run after another,
each side in its own spawned worker: what `harness diff` does) and `harness.sweep.dask_executor.DaskExecutor`
(each side-run a task on Dask distributed). `harness sweep` and `harness hypotheses run` both pick one with
`executor_for`, so a ledger's runs can go to a cluster without changing what they compute.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from rich.console import Console

from harness.errors import HarnessError
from harness.manager import Registry
from harness.report import Report
from harness.session import Invocation, execute


@dataclass
class RunDone:
    """One executed run: its folder and report (with exit code), or the error that stopped it."""

    run_dir: Path
    report: Report | None
    error: str | None
    seconds: float

    @property
    def exit_code(self) -> int | None:
        return self.report.exit_code if self.report is not None else None


class Executor(Protocol):
    """Runs invocations (each a `harness run` or `harness diff` with its own folder) and reports each one."""

    def __enter__(self) -> "Executor": ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, invocations: Sequence[Invocation], labels: Sequence[str], registry: Registry,
            progress: Console) -> list[RunDone]:
        """Every invocation's outcome, in the order given; `labels` say in words what each run is."""
        ...


def failed_run(inv: Invocation, exc: HarnessError, started: float) -> RunDone:
    """A run stopped by a harness error (a failing stage is not one: its report says so)."""
    return RunDone(Path(inv.out), None, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)


class SequentialExecutor:
    """One run after another in this process (each side still in its own spawned worker): today's behaviour."""

    def __enter__(self) -> "SequentialExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, invocations: Sequence[Invocation], labels: Sequence[str], registry: Registry,
            progress: Console) -> list[RunDone]:
        done = []
        for index, (inv, label) in enumerate(zip(invocations, labels), start=1):
            progress.print(f"[bold]run {index}/{len(invocations)}[/bold]: {label}", highlight=False)
            started = time.perf_counter()
            try:
                report, _ = execute(inv, registry, progress, progress)
            except HarnessError as exc:
                done.append(failed_run(inv, exc, started))
                continue
            done.append(RunDone(Path(inv.out), report, None, time.perf_counter() - started))
        return done


def executor_for(scheduler: str | None, workers: int | None, shared_fs: bool = True,
                 sequential: bool = False) -> Executor:
    """Sequential unless Dask is asked for (`--scheduler` or `--workers`), or by default for a sweep
    (`sequential=False` with neither given means a LocalCluster sized to the machine)."""
    if sequential:
        return SequentialExecutor()
    from harness.sweep.dask_executor import DaskExecutor  # Dask is imported only when it is used

    return DaskExecutor(scheduler=scheduler, workers=workers, shared_fs=shared_fs)
