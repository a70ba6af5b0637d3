"""Console format (rich): the stage table with the first break highlighted, then a summary line."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness import ReporterSpec, hookimpl

VERDICT_STYLE = {
    "ok": "green",
    "equal": "green",
    "expected": "cyan",
    "differs": "yellow",
    "break": "bold red",
    "error": "bold white on red",
    "skipped": "dim",
}
SIDE_STYLE = {"ok": "green", "cached": "cyan", "error": "bold red", "skipped": "dim", "absent": "dim"}


def side_cell(info: dict[str, Any]) -> Text:
    """A side's status for one stage: ok / cached / error / skipped, with its time."""
    status = info.get("status", "?")
    label = status
    if status in ("ok", "cached") and "seconds" in info:
        label = f"{status} {info['seconds']:.2f}s"
    return Text(label, style=SIDE_STYLE.get(status, ""))


def finding_text(entry: dict[str, Any]) -> str:
    """The first finding of a stage in one line: check or artifact, and what it says."""
    first = entry.get("first_finding")
    if not first:
        return ""
    if "check" in first:
        label = f" [{first['known_break']}]" if first.get("known_break") else ""
        return f"{first['check']} ({first['side']}): {first['explanation']}{label}"
    if "artifact" in first:
        return f"{first['artifact']}: {first['explanation']}"
    return f"{first.get('side', '')}: {first.get('explanation', '')}"


def stage_table(report: dict[str, Any]) -> Table:
    sides = list(report["sides"])
    first_break = (report.get("first_break") or {}).get("stage")
    title = " vs ".join(f"{s.upper()}={report['sides'][s]['pipeline']}" for s in sides)
    settings = report["settings"]
    table = Table(title=f"{title}  ({settings['scenario']}, {settings['profile']}, seed {settings['seed']})")
    table.add_column("stage")
    for side in sides:
        table.add_column(side.upper())
    table.add_column("verdict")
    table.add_column("first finding", overflow="fold")
    for entry in report["stages"]:
        verdict = entry["verdict"]
        label = verdict if not entry.get("category") else f"{verdict} [{entry['category']}]"
        marker = "▶ " if entry["stage"] == first_break else ""
        style = "on grey23" if entry["stage"] == first_break else ""
        table.add_row(
            Text(marker + entry["stage"], style="bold" if marker else ""),
            *[side_cell(entry["sides"][side]) for side in sides],
            Text(label, style=VERDICT_STYLE.get(verdict, "")),
            Text(finding_text(entry)),
            style=style,
        )
    return table


def render_console(report: dict[str, Any], run_dir: Path, console: Console) -> None:
    """Print the stage table, any stage errors with their last traceback line, and the summary."""
    for warning in report.get("warnings", []):
        console.print(Text(f"warning: {warning}", style="yellow"))
    console.print(stage_table(report))
    for side, info in report["sides"].items():
        if info.get("fatal"):
            console.print(Text(f"side {side.upper()} failed before running stages: {info['fatal']['error']}", style="red"))
    code = report["exit_code"]
    style = "green" if code == 0 else ("yellow" if code == 1 else "red")
    console.print(Text(f"{report['summary']}  (exit {code}; report in {run_dir})", style=style))


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("console", render_console, "stage table with the first break highlighted", default=True)]
