"""Console format (rich): on a terminal, the stage table with a column per check category and the
first break per category highlighted; elsewhere (CI logs, pipes) a compact layout that fits the
console width (80 columns, or COLUMNS) without wrapping findings into narrow cells. Both end with
the findings of the first broken stage, the checks that did not apply, and the summary. When
GITHUB_STEP_SUMMARY names a file, the Markdown report is appended to it for the CI summary page."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness import ReporterSpec, hookimpl
from harness.rendering import fmt, truncate
from harness.report import Finding, Report, SideStatus, StageVerdict
from harness.report_text import (
    CATEGORY_COLUMNS,
    ISOLATION_HEADING,
    finding_text,
    first_finding_text,
    isolation_lines,
    note_sections,
    not_applicable,
    not_applicable_text,
    numbers,
    side_label,
    side_name,
    worst_first,
)
from plugins.reporters.markdown import render_markdown

VERDICT_STYLE = {"ok": "green", "equal": "green", "expected": "cyan", "differs": "yellow", "break": "bold red",
                 "error": "bold white on red", "skipped": "dim"}
SIDE_STYLE = {"ok": "green", "cached": "cyan", "error": "bold red", "skipped": "dim", "absent": "dim"}
FINDING_WIDTH = 90
"""Characters of the first finding shown in the terminal table; `harness show RUN --stage S` prints it whole."""
FINDING_LINES = 3
"""Lines a failing finding may take in the compact layout before it is cut."""


def side_cell(info: SideStatus | None) -> Text:
    """A side's status for one stage: ok / cached / error / skipped, with its time."""
    if info is None:
        return Text("?")
    return Text(side_label(info), style=SIDE_STYLE.get(info.status, ""))


def category_label(entry: StageVerdict, category: str) -> tuple[str, str]:
    """(text, style) for one category at one stage: pass, FAIL id, warn id, report id; blank when no check ran."""
    findings = [f for f in entry.findings if f.category == category and f.status != "n/a"]
    if not findings:
        return "", ""
    failing = [f for f in findings if f.status in ("fail", "error")]
    if not failing:
        return "pass", "green"
    worst = next((f for f in failing if f.breaks), failing[0])
    if worst.breaks:
        return f"FAIL {worst.check}", "bold red"
    if worst.report_only:
        return f"report {worst.check}", "magenta"
    return f"{worst.severity} {worst.check}", "yellow"


def _verdict_label(entry: StageVerdict) -> str:
    return entry.verdict if not entry.category else f"{entry.verdict} [{entry.category}]"


def _heading(report: Report) -> str:
    sides = " vs ".join(f"{s.upper()}={info.pipeline}" for s, info in report.sides.items())
    settings = report.settings
    return f"{sides}  ({settings.get('scenario')}, {settings.get('profile')}, seed {settings.get('seed')})"


def stage_table(report: Report) -> Table:
    """The terminal layout: one row per stage with the sides, verdict, categories and first finding."""
    sides = list(report.sides)
    first_break = report.first_break.stage if report.first_break else None
    first_by_category = {c: (report.categories.get(c).stage if report.categories.get(c) else None)
                         for c in CATEGORY_COLUMNS}
    table = Table(title=_heading(report))
    table.add_column("stage")
    for side in sides:
        table.add_column(side.upper())
    table.add_column("verdict")
    for category in CATEGORY_COLUMNS:
        table.add_column(category[:5] + ".")
    table.add_column("first finding", overflow="fold")
    for entry in report.stages:
        marker = "▶ " if entry.stage == first_break else ""
        cells = []
        for category in CATEGORY_COLUMNS:
            text, style = category_label(entry, category)
            cells.append(Text(text, style=style + (" reverse" if text and first_by_category[category] == entry.stage else "")))
        table.add_row(Text(marker + entry.stage, style="bold" if marker else ""),
                      *[side_cell(entry.sides.get(side)) for side in sides],
                      Text(_verdict_label(entry), style=VERDICT_STYLE.get(entry.verdict, "")), *cells,
                      Text(truncate(first_finding_text(entry), FINDING_WIDTH)), style="on grey23" if marker else "")
    return table


def compact_stage_lines(report: Report, width: int) -> list[Text]:
    """The non-terminal layout: aligned columns of short cells (status without times, which the progress log
    on standard error already gave; the category column names the breaking check), then each stage's first
    finding on its own line."""
    sides = list(report.sides)
    header = ["stage", *(s.upper() for s in sides), "verdict", *(c[:5] + "." for c in CATEGORY_COLUMNS)]
    rows = [[entry.stage, *(entry.sides[s].status if s in entry.sides else "?" for s in sides),
             entry.verdict, *(category_label(entry, c)[0] for c in CATEGORY_COLUMNS)]
            for entry in report.stages]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    first_break = report.first_break.stage if report.first_break else None
    lines = [Text(truncate(_heading(report), width), style="bold")]
    for row, entry in zip([header, *rows], [None, *report.stages]):
        text = "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
        marked = entry is not None and entry.stage == first_break
        style = "bold" if entry is None else VERDICT_STYLE.get(entry.verdict, "")
        lines.append(Text(truncate(("▶ " if marked else "  ") + text, width), style=style))
    stated = [(entry.stage, first_finding_text(entry)) for entry in report.stages if entry.first_finding]
    if stated:
        lines.append(Text("first finding per stage:", style="bold"))
        lines += [Text(truncate(f"  {stage}: {text}", width)) for stage, text in stated]
    return lines


def category_lines(report: Report) -> list[Text]:
    """Per category: where it first breaks, on which side, whether the other side passes, and why."""
    lines = []
    for category in CATEGORY_COLUMNS:
        first = report.categories.get(category)
        if first is None:
            lines.append(Text(f"{category}: no break", style="green"))
            continue
        other = {True: "; the other side passes there", False: "; the other side fails too", None: ""}[first.other_side_passes]
        label = f" [{first.known_break}]" if first.known_break else " [new break]"
        lines.append(Text(f"{category}: first break at {first.stage}: {first.check} on side {first.side}"
                          f"{other}: {first.explanation}{label}", style="bold red"))
    return lines


def _shown(findings: tuple[Finding, ...]) -> list[Finding]:
    return [f for f in findings if f.status not in ("pass", "n/a")]


def findings_table(entry: StageVerdict) -> Table:
    """Every failing or warning finding of one stage with measured, expected and tolerance."""
    table = Table(title=f"findings at {entry.stage}")
    for column in ("check", "side", "severity", "measured", "expected", "tolerance", "explanation"):
        table.add_column(column, overflow="fold")
    for f in _shown(entry.findings):
        severity = f.severity + (" (report only)" if f.report_only else "")
        label = f" [{f.known_break}]" if f.known_break else ""
        table.add_row(*(Text(v) for v in (f.check, side_name(f.side), severity, fmt(f.measured, 40),
                                          fmt(f.expected, 40), fmt(f.tolerance, 40), f.explanation + label)))
    return table


def finding_lines(entry: StageVerdict, width: int) -> list[Text]:
    """The compact form of `findings_table`: each finding wrapped to the width, at most FINDING_LINES lines."""
    lines = [Text(f"findings at {entry.stage}:", style="bold")]
    for f in worst_first(_shown(entry.findings)):
        text = f"{f.status}{' (report only)' if f.report_only else ''} {finding_text(f)}; {numbers(f)}"
        lines += [Text(line, style="red" if f.breaks else "") for line in _wrap(text, width, "  ", "    ")]
    return lines


def not_applicable_lines(report: Report, width: int) -> list[Text]:
    """One line per side naming the checks that did not apply (`harness show RUN --stage S` says why)."""
    return [Text(truncate(f"not applicable on {side_name(side)}: " + ", ".join(not_applicable_text(f) for f in found),
                          width), style="dim")
            for side, found in not_applicable(report).items()]


def append_step_summary(report: Report, run_dir: Path) -> None:
    """Append the Markdown report to $GITHUB_STEP_SUMMARY, so a CI run shows the table on its summary page."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(render_markdown(report, run_dir) + "\n")


def render_console(report: Report, run_dir: Path, console: Console) -> None:
    """Print warnings, the stages, per-category first breaks, the first break's findings and the summary."""
    width = console.width
    for warning in report.warnings:
        console.print(Text(truncate(f"warning: {warning}", width), style="yellow"), soft_wrap=True)
    compact = not console.is_terminal
    lines: list[Text | Table] = [stage_table(report)] if not compact else compact_stage_lines(report, width)
    isolated = isolation_lines(report)
    if isolated:
        lines += [Text(f"{ISOLATION_HEADING}:", style="bold"), *(Text(f"  {line}") for line in isolated)]
    for heading, notes in note_sections(report):
        lines += [Text(f"{heading}:", style="bold"), *(Text(f"  {line}") for line in notes)]
    if any(entry.findings for entry in report.stages):
        lines += category_lines(report)
    broken = report.first_break
    if broken is not None:
        lines += finding_lines(broken, width) if compact else [findings_table(broken)]
    lines += not_applicable_lines(report, width)
    for side, info in report.sides.items():
        if info.fatal:
            lines.append(Text(f"side {side.upper()} failed before running stages: {info.fatal.get('error')}", style="red"))
    code = report.exit_code
    style = "green" if code == 0 else ("yellow" if code == 1 else "red")
    if compact:  # the folder on its own line, so a long path never cuts the summary
        lines += [Text(f"{report.summary}  (exit {code})", style=style), Text(f"report in {run_dir}")]
    else:
        lines.append(Text(f"{report.summary}  (exit {code}; report in {run_dir})", style=style))
    for line in lines:
        for part in (wrap_text(line, width) if compact and isinstance(line, Text) else [line]):
            console.print(part, soft_wrap=compact)
    append_step_summary(report, run_dir)


def wrap_text(line: Text, width: int) -> list[Text]:
    """A styled line wrapped to the width with an indent, at most FINDING_LINES lines (the last one cut)."""
    return [Text(part, style=line.style) for part in _wrap(line.plain, width, "", "    ")]


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    wrapped = textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest) or [""]
    if len(wrapped) > FINDING_LINES:
        wrapped = [*wrapped[: FINDING_LINES - 1], truncate(wrapped[FINDING_LINES - 1] + " …", width)]
    return wrapped


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("console", render_console, "stage table by category with the first break highlighted",
                         default=True)]
