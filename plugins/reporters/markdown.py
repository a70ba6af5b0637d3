"""Markdown format: `report.md` in the run folder, to paste into an issue or a lab notebook.

It reads top-down like a bug report: what was run, which knobs differ, the stage × category table,
the first break of each category with the knob that explains it, the findings of the first broken
stage with their numbers, the checks that did not apply, stage errors, and links to the figures.
It renders the typed report (`harness.report`) with the shared words of `harness.report_text`.
"""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text

from harness import ReporterSpec, hookimpl
from harness.rendering import fmt, markdown_cell, markdown_inline, tail
from harness.report import Report
from harness.report_text import (
    ISOLATION_HEADING,
    category_cell,
    category_columns,
    first_finding_text,
    focus_stage,
    isolation_lines,
    note_sections,
    knob_label,
    not_applicable,
    not_applicable_text,
    side_label,
    side_name,
    stage_errors,
    title,
    worst_first,
)
from harness.store import atomic_write_bytes
from plugins.reporters.figures import FIGURES, figure_notes, stored_figures


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(markdown_cell(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    return [_row(header), "|" + "---|" * len(header), *(_row(r) for r in rows), ""]


def _header(report: Report) -> list[str]:
    settings = report.settings
    lines = [f"# {title(report)}", "", f"> **{report.summary}** (exit code {report.exit_code})", ""]
    rows = [[f"side {side.upper()}", f"`{info.pipeline}`"] for side, info in report.sides.items()]
    rows += [[key, fmt(settings.get(key))] for key in ("scenario", "profile", "seed")]
    stages = settings.get("stages_run") or [e.stage for e in report.stages]
    if stages:
        rows.append(["stages", f"{stages[0]} → {stages[-1]}"])
    if report.created:
        rows.append(["created", report.created])
    if settings.get("command"):
        rows.append(["command", "`" + " ".join(str(c) for c in settings["command"]) + "`"])
    lines += _table(["run", ""], rows)
    lines += ["## Knob differences", ""]
    sides = list(report.sides)
    if report.knob_differences:
        lines += _table(["knob", *(s.upper() for s in sides)],
                        [[f"`{name}`", *(fmt(values.get(s)) for s in sides)]
                         for name, values in report.knob_differences.items()])
    else:
        lines += [_single_side_knobs(report) if len(sides) == 1 else "none: both sides ran with the same knobs", ""]
    return lines


def _single_side_knobs(report: Report) -> str:
    overrides = next(iter(report.sides.values())).knob_overrides
    if not overrides:
        return "single-side run with default knobs"
    return "single-side run; knobs set: " + ", ".join(f"`{k}={fmt(v)}`" for k, v in overrides.items())


def stage_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the stage × category table (also what the console prints for CI summaries)."""
    sides = list(report.sides)
    columns = category_columns(report)
    first_break = report.first_break.stage if report.first_break else None
    rows = []
    for entry in report.stages:
        marker = f"**▶ {entry.stage}**" if entry.stage == first_break else entry.stage
        verdict = entry.verdict + (f" [{entry.category}]" if entry.category else "")
        rows.append([marker, *(side_label(entry.sides[s]) if s in entry.sides else "?" for s in sides), verdict,
                     *(category_cell(entry, c).text for c in columns), first_finding_text(entry)])
    return ["stage", *(s.upper() for s in sides), "verdict", *columns, "first finding"], rows


def _stage_table(report: Report) -> list[str]:
    return ["## Stages", "", *_table(*stage_rows(report))]


def _categories(report: Report) -> list[str]:
    rows = []
    for category in category_columns(report):
        info = report.categories.get(category)
        if info is None:
            rows.append([category, "—", "—", "—", "—", "no failure", ""])
            continue
        passes = info.other_side_passes
        rows.append([category, info.stage, info.check, side_name(info.side),
                     "—" if passes is None else ("passes" if passes else "fails too"),
                     knob_label(report, info.known_break), info.explanation])
    return ["## First break per category", "",
            *_table(["category", "stage", "check", "side", "other side", "knob label", "explanation"], rows)]


def _focus(report: Report) -> list[str]:
    focus = focus_stage(report)
    if focus is None:
        return ["## Findings", "", "No stage broke, errored or differed.", ""]
    heading, entry = focus
    category = f" [{entry.category}]" if entry.category else ""
    lines = [f"## {heading}: `{entry.stage}`{category}", ""]
    findings = [f for f in worst_first(entry.findings) if f.status != "n/a"]
    if findings:
        lines += _table(["check", "side", "status", "severity", "measured", "expected", "tolerance", "explanation"],
                        [[f.check, side_name(f.side), f.status + (" (report only)" if f.report_only else ""),
                          f.severity, fmt(f.measured), fmt(f.expected), fmt(f.tolerance),
                          f.explanation + (f" [{f.known_break}]" if f.known_break else "")]
                         for f in findings])
    else:
        lines += ["No check ran at this stage.", ""]
    notable = [c for c in entry.comparisons if c.status != "equal"]
    if notable:
        lines += ["Comparisons that are not equal:", ""]
        lines += _table(["artifact", "status", "summary"],
                        [[f"`{c.artifact}`", c.status, c.reason or c.summary] for c in notable])
    return lines


def _isolation(report: Report) -> list[str]:
    found = isolation_lines(report)
    if not found:
        return []
    return [f"## {ISOLATION_HEADING}", "",
            *(f"- {markdown_inline(line)}" for line in found), ""]


def _notes(report: Report) -> list[str]:
    return [line for heading, notes in note_sections(report)
            for line in (f"## {markdown_inline(heading)}", "", *(f"- {markdown_inline(n.strip())}" for n in notes), "")]


def _not_applicable(report: Report) -> list[str]:
    found = not_applicable(report)
    if not found:
        return []
    return ["## Checks that did not apply", "",
            *(f"- **{side_name(side)}**: " + "; ".join(markdown_inline(not_applicable_text(f)) for f in findings)
              for side, findings in found.items()), ""]


def _errors(report: Report) -> list[str]:
    found = stage_errors(report)
    if not found:
        return []
    lines = ["## Stage errors", ""]
    for stage, side, error, traceback in found:
        pipeline = report.sides[side].pipeline if side in report.sides else ""
        lines += [f"### `{stage}` on {side.upper()} ({pipeline})", "", markdown_inline(error), ""]
        if traceback:
            lines += ["```text", tail(traceback), "```", ""]
    return lines


def _figures(report: Report, run_dir: Path) -> list[str]:
    stored = stored_figures(run_dir)
    notes = figure_notes(report, run_dir, stored)
    titles = {spec.name: spec.title for spec in FIGURES}
    lines = ["## Figures", ""]
    lines += [f"- [{titles[name]}]({path.relative_to(run_dir).as_posix()})" for name, path in stored.items()]
    lines += [f"- {markdown_inline(note)}" for note in notes.values()]
    return [*lines, ""]


def render_markdown(report: Report, run_dir: Path) -> str:
    """The whole report as Markdown text."""
    lines = [*_header(report), *_stage_table(report), *_categories(report), *_isolation(report), *_notes(report), *_focus(report),
             *_not_applicable(report), *_errors(report), *_figures(report, Path(run_dir))]
    if report.warnings:
        lines += ["## Warnings", "", *(f"- {markdown_inline(w)}" for w in report.warnings), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(report: Report, run_dir: Path, console: Console) -> None:
    """Write `report.md` atomically and print its path."""
    path = Path(run_dir) / "report.md"
    atomic_write_bytes(path, render_markdown(report, run_dir).encode())
    console.print(Text(f"markdown report: {path}"))


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("markdown", write_markdown, "report.md: header, stage × category table, first breaks, "
                                                      "findings and figure links, for issues and notebooks")]
