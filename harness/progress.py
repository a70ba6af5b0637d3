"""Progress of running sides: a live rich table on a terminal, plain log lines otherwise."""
from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

STATUS_STYLE = {"running": "yellow", "ok": "green", "cached": "cyan", "error": "bold red", "skipped": "dim"}


class PlainProgress:
    """One log line per event, for CI logs and pipes."""

    def __init__(self, console: Console):
        self.console = console
        self._last_progress: dict[str, float] = {}

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __call__(self, event: dict[str, Any]) -> None:
        side = event.get("side", "")
        kind = event["type"]
        if kind == "start":
            self.console.print(f"[{side}] {event['pipeline']}: started", highlight=False, markup=False, soft_wrap=True)
        elif kind == "stage" and event["status"] != "running":
            extra = f" in {event['seconds']:.2f}s" if "seconds" in event else ""
            reason = f": {event.get('error') or event.get('reason')}" if event["status"] in ("error", "skipped") else ""
            self.console.print(f"[{side}] {event['stage']}: {event['status']}{extra}{reason}", highlight=False, markup=False, soft_wrap=True)
        elif kind == "progress":
            now = time.monotonic()
            if now - self._last_progress.get(side, 0.0) >= 1.0 or _is_final(event):
                self._last_progress[side] = now
                self.console.print(f"[{side}] {event['stage']}: {_fields(event)}", highlight=False, markup=False, soft_wrap=True)
        elif kind in ("log",):
            self.console.print(f"[{side}] {event['level'].lower()}: {event['message']}", highlight=False, markup=False, soft_wrap=True)
        elif kind == "fatal":
            self.console.print(f"[{side}] failed: {event['error']}", highlight=False, markup=False, soft_wrap=True)


class LiveProgress:
    """A live table: per side the pipeline, current stage, stages done and the latest progress fields."""

    def __init__(self, console: Console, sides: dict[str, str], stages: tuple[str, ...]):
        self.console = console
        self.stages = stages
        self.rows = {side: {"pipeline": p, "stage": "starting", "status": "", "done": 0, "fields": "", "t0": time.monotonic()}
                     for side, p in sides.items()}
        self.live = Live(self._table(), console=console, refresh_per_second=8, transient=False)

    def __enter__(self) -> "LiveProgress":
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.update(self._table())
        self.live.__exit__(*exc)

    def __call__(self, event: dict[str, Any]) -> None:
        side = event.get("side")
        row = self.rows.get(side)
        kind = event["type"]
        if row is None:
            return
        if kind == "stage":
            row["stage"], row["status"] = event["stage"], event["status"]
            if event["status"] != "running":
                row["done"] += 1
                row["fields"] = ""
        elif kind == "progress":
            row["fields"] = _fields(event)
        elif kind == "log" and event["level"] in ("WARNING", "ERROR"):
            self.console.print(f"[{side}] {event['message']}", highlight=False, markup=False, soft_wrap=True)
        elif kind == "fatal":
            row["status"], row["fields"] = "error", event["error"]
        elif kind == "exit" and row["status"] not in ("error",):
            row["status"] = "finished"
        self.live.update(self._table())

    def _table(self) -> Table:
        table = Table(title="harness", expand=False)
        for column in ("side", "pipeline", "stage", "status", "done", "elapsed", "progress"):
            table.add_column(column)
        for side, row in self.rows.items():
            style = STATUS_STYLE.get(row["status"], "")
            table.add_row(side.upper(), row["pipeline"], row["stage"], f"[{style}]{row['status']}[/]" if style else row["status"],
                          f"{row['done']}/{len(self.stages)}", f"{time.monotonic() - row['t0']:.1f}s", row["fields"])
        return table


def _fields(event: dict[str, Any]) -> str:
    parts = []
    for key, value in event.items():
        if key in ("type", "side", "stage"):
            continue
        parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
    return ", ".join(parts)


def _is_final(event: dict[str, Any]) -> bool:
    return "epoch" in event and "epochs" in event and event["epoch"] == event["epochs"]


def make_progress(console: Console, sides: dict[str, str], stages: tuple[str, ...]) -> PlainProgress | LiveProgress:
    """Live display on a terminal, log lines when output goes to a file or a CI log."""
    if console.is_terminal:
        return LiveProgress(console, sides, stages)
    return PlainProgress(console)
