"""Live progress of a sweep's tasks: a bar of tasks finished, and one line per task done, failed or retried."""
from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class TaskProgress:
    """Fed by `as_completed` (done, failed) and by the tasks' start events (a second start is a retry)."""

    def __init__(self, console: Console, total: int, where: str):
        self.console = console
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=console, transient=False)
        self._bar = self._progress.add_task("side-runs", total=total)
        console.print(f"{total} side-runs on {where}", highlight=False)

    def __enter__(self) -> "TaskProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def attempt_started(self, event: tuple[float, dict[str, Any]]) -> None:
        """A task started an attempt on a worker (called from Dask's event thread)."""
        _, message = event
        with self._lock:
            self._attempts[message["label"]] += 1
            attempt = self._attempts[message["label"]]
        if attempt > 1:
            self._line(f"retried {message['label']}: attempt {attempt} on {message['worker']}", "yellow")

    def done(self, label: str, events: list[dict[str, Any]]) -> None:
        stages = [e for e in events if e.get("type") == "stage" and e.get("status") != "running"]
        errors = [e for e in stages if e["status"] == "error"] + [e for e in events if e.get("type") == "fatal"]
        cached = sum(1 for e in stages if e["status"] == "cached")
        state = "error" if errors else "done"
        self._line(f"{state} {label}: {len(stages)} stages ({cached} cached)", "red" if errors else "green")
        self._progress.advance(self._bar)

    def failed(self, label: str, error: str) -> None:
        self._line(f"failed {label}: {error}", "bold red")
        self._progress.advance(self._bar)

    @property
    def retried(self) -> dict[str, int]:
        """Labels of tasks that needed more than one attempt, with their attempt counts."""
        with self._lock:
            return {label: n for label, n in self._attempts.items() if n > 1}

    def _line(self, text: str, style: str) -> None:
        self._progress.console.print(text, style=style, highlight=False, markup=False)
