"""Console format (rich): the stage table with a column per check category, the first break per
category highlighted, then the findings of the first broken stage with measured, expected and tolerance."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness import ReporterSpec, hookimpl
from plugins.reporters.markdown import first_finding_text

CATEGORIES = ("normalization", "offsets", "amplitude")
VERDICT_STYLE = {
    "ok": "green",
    "equal": "green",
    "expected": "cyan",
    "differs": "yellow",
    "break": "bold red",
    "error": "bold white on red",
    "skipped": "dim",
}
FINDING_WIDTH = 90
"""Characters of the first finding shown in the table; `harness show RUN --stage S` prints it whole."""
SIDE_STYLE = {"ok": "green", "cached": "cyan", "error": "bold red", "skipped": "dim", "absent": "dim"}


def side_cell(info: dict[str, Any]) -> Text:
    """A side's status for one stage: ok / cached / error / skipped, with its time."""
    status = info.get("status", "?")
    label = status
    if status in ("ok", "cached") and "seconds" in info:
        label = f"{status} {info['seconds']:.2f}s"
    return Text(label, style=SIDE_STYLE.get(status, ""))


def category_cell(entry: dict[str, Any], category: str, first_of_category: bool) -> Text:
    """pass / FAIL id / warn id / report id for one category of one stage; blank when no check ran."""
    findings = [f for f in entry["findings"] if f["category"] == category and f["status"] != "n/a"]
    if not findings:
        return Text("")
    failing = [f for f in findings if f["status"] in ("fail", "error")]
    if not failing:
        return Text("pass", style="green")
    worst = next((f for f in failing if f["severity"] == "error" and not f["report_only"]), failing[0])
    if worst["severity"] == "error" and not worst["report_only"]:
        label, style = f"FAIL {worst['check']}", "bold red"
    elif worst["report_only"]:
        label, style = f"report {worst['check']}", "magenta"
    else:
        label, style = f"{worst['severity']} {worst['check']}", "yellow"
    if first_of_category:
        style += " reverse"
    return Text(label, style=style)


def stage_table(report: dict[str, Any]) -> Table:
    sides = list(report["sides"])
    first_break = (report.get("first_break") or {}).get("stage")
    first_by_category = {c: (report["categories"].get(c) or {}).get("stage") for c in CATEGORIES}
    title = " vs ".join(f"{s.upper()}={report['sides'][s]['pipeline']}" for s in sides)
    settings = report["settings"]
    table = Table(title=f"{title}  ({settings['scenario']}, {settings['profile']}, seed {settings['seed']})")
    table.add_column("stage")
    for side in sides:
        table.add_column(side.upper())
    table.add_column("verdict")
    for category in CATEGORIES:
        table.add_column(category[:5] + ".")
    table.add_column("first finding", overflow="fold")
    for entry in report["stages"]:
        verdict = entry["verdict"]
        label = verdict if not entry.get("category") else f"{verdict} [{entry['category']}]"
        marker = "▶ " if entry["stage"] == first_break else ""
        table.add_row(
            Text(marker + entry["stage"], style="bold" if marker else ""),
            *[side_cell(entry["sides"][side]) for side in sides],
            Text(label, style=VERDICT_STYLE.get(verdict, "")),
            *[category_cell(entry, c, first_by_category[c] == entry["stage"]) for c in CATEGORIES],
            Text(_clip(first_finding_text(entry), FINDING_WIDTH)),
            style="on grey23" if marker else "",
        )
    return table


def category_lines(report: dict[str, Any]) -> list[Text]:
    """Per category: where it first breaks, on which side, whether the other side passes, and why."""
    lines = []
    for category in CATEGORIES:
        first = report["categories"].get(category)
        if first is None:
            lines.append(Text(f"{category}: no break", style="green"))
            continue
        other = {True: "; the other side passes there", False: "; the other side fails too", None: ""}[first["other_side_passes"]]
        label = f" [{first['known_break']}]" if first.get("known_break") else " [new break]"
        lines.append(Text(f"{category}: first break at {first['stage']}: {first['check']} on side {first['side']}"
                          f"{other}: {first['explanation']}{label}", style="bold red"))
    return lines


def findings_table(entry: dict[str, Any]) -> Table:
    """Every failing or warning finding of one stage with measured, expected and tolerance."""
    table = Table(title=f"findings at {entry['stage']}")
    for column in ("check", "side", "severity", "measured", "expected", "tolerance", "explanation"):
        table.add_column(column, overflow="fold")
    for finding in entry["findings"]:
        if finding["status"] in ("pass", "n/a"):
            continue
        severity = finding["severity"] + (" (report only)" if finding["report_only"] else "")
        label = f" [{finding['known_break']}]" if finding.get("known_break") else ""
        table.add_row(*(Text(str(v)) for v in (finding["check"], finding["side"], severity, _short(finding["measured"]),
                                               _short(finding["expected"]), _short(finding["tolerance"]),
                                               finding["explanation"] + label)))
    return table


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def render_console(report: dict[str, Any], run_dir: Path, console: Console) -> None:
    """Print warnings, the stage table, per-category first breaks, the first break's findings and the summary."""
    for warning in report.get("warnings", []):
        console.print(Text(f"warning: {warning}", style="yellow"))
    console.print(stage_table(report))
    if any(entry["findings"] for entry in report["stages"]):
        for line in category_lines(report):
            console.print(line)
    broken = next((e for e in report["stages"] if e["stage"] == (report.get("first_break") or {}).get("stage")), None)
    if broken is not None:
        console.print(findings_table(broken))
    for side, info in report["sides"].items():
        if info.get("fatal"):
            console.print(Text(f"side {side.upper()} failed before running stages: {info['fatal']['error']}", style="red"))
    code = report["exit_code"]
    style = "green" if code == 0 else ("yellow" if code == 1 else "red")
    console.print(Text(f"{report['summary']}  (exit {code}; report in {run_dir})", style=style))


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("console", render_console, "stage table by category with the first break highlighted", default=True)]
