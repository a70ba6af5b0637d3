"""Markdown format: `report.md` in the run folder, to paste into an issue or a lab notebook.

It reads top-down like a bug report: what was run, which knobs differ, the stage × category table,
the first break of each category with the knob that explains it, the findings of the first broken
stage with their numbers, stage errors, and links to the figures. The small helpers that classify
findings and label breaks are public because the HTML format shows the same things.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from rich.console import Console
from rich.text import Text

from harness import ReporterSpec, hookimpl
from harness.store import atomic_write_bytes
from plugins.reporters.figures import FIGURES, figure_notes, stored_figures

CATEGORY_COLUMNS = ("normalization", "offsets", "amplitude")
CELL_ORDER = ("fail", "error", "warn", "info", "pass")
CELL_WORD = {"fail": "FAIL", "error": "error", "warn": "warn", "info": "info", "pass": "pass", "none": "—"}
TRACEBACK_LINES = 15


@dataclass(frozen=True)
class Cell:
    """How one category fared at one stage: kind (fail, error, warn, info, pass, none) and its text."""

    kind: str
    text: str


def breaks(finding: Mapping[str, Any]) -> bool:
    """Whether a finding breaks its stage: a check that raised, or a failed error-severity check not report-only."""
    if finding.get("status") == "error":
        return True
    return finding.get("status") == "fail" and finding.get("severity") == "error" and not finding.get("report_only")


def finding_kind(finding: Mapping[str, Any]) -> str:
    """fail / error / warn / info / pass / none for one finding (none: not applicable)."""
    status = finding.get("status")
    if status == "error":
        return "error"
    if status == "fail":
        if breaks(finding):
            return "fail"
        return "info" if finding.get("severity") == "info" else "warn"
    return "pass" if status == "pass" else "none"


def worst_first(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings ordered fail, error, warn, info, pass, not applicable (stable within each kind)."""
    rank = {kind: i for i, kind in enumerate((*CELL_ORDER, "none"))}
    return sorted(findings, key=lambda f: rank[finding_kind(f)])


def side_name(side: str) -> str:
    return side if side == "cross" else side.upper()


def category_columns(report: Mapping[str, Any]) -> tuple[str, ...]:
    """The three invariant categories, plus `other` when some finding belongs to it."""
    used = any(f.get("category") == "other" for entry in report.get("stages", []) for f in entry.get("findings", []))
    return CATEGORY_COLUMNS + (("other",) if used else ())


def category_cell(entry: Mapping[str, Any], category: str) -> Cell:
    """The worst outcome of a category's checks at one stage, naming the checks and sides behind it."""
    by_kind: dict[str, dict[str, list[str]]] = {}
    for finding in entry.get("findings", []):
        kind = finding_kind(finding)
        if finding.get("category") != category or kind == "none":
            continue
        sides = by_kind.setdefault(kind, {}).setdefault(finding["check"], [])
        if side_name(finding["side"]) not in sides:
            sides.append(side_name(finding["side"]))
    for kind in CELL_ORDER:
        if kind in by_kind:
            if kind == "pass":
                return Cell("pass", "pass")
            checks = ", ".join(f"{check} {','.join(sides)}" for check, sides in by_kind[kind].items())
            return Cell(kind, f"{CELL_WORD[kind]} ({checks})")
    return Cell("none", CELL_WORD["none"])


def knob_label(report: Mapping[str, Any], known_break: str | None) -> str:
    """The knob that explains a failure: its known-break label, else the knobs that differ between the sides."""
    if known_break:
        return known_break
    differences = report.get("knob_differences") or {}
    if differences:
        parts = [f"{name} ({', '.join(f'{side.upper()} {fmt(value)}' for side, value in values.items())})"
                 for name, values in differences.items()]
        return "not a known break; knobs differ: " + "; ".join(parts)
    return "not a known break; same knobs on both sides" if len(report.get("sides", {})) == 2 else "not a known break"


def focus_stage(report: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The stage a reader should look at first: the first break, else the first error, else the first difference."""
    stages = report.get("stages", [])
    for verdicts, heading in ((("break",), "First break"), (("error",), "First stage error"),
                              (("differs",), "First difference")):
        entry = next((s for s in stages if s["verdict"] in verdicts), None)
        if entry is not None:
            return heading, entry
    return None


def fmt(value: Any, width: int = 80) -> str:
    """A measured/expected/tolerance value in a few characters."""
    if value is None:
        return "—"
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    text = json.dumps(value, default=str, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def side_status(info: Mapping[str, Any]) -> str:
    """A side's status at a stage with its time: `ok 0.12s`, `error`, `skipped`."""
    status = info.get("status", "?")
    if status in ("ok", "cached") and isinstance(info.get("seconds"), (int, float)):
        return f"{status} {info['seconds']:.2f}s"
    return status


def first_finding_text(entry: Mapping[str, Any]) -> str:
    """The stage's first finding in one line."""
    first = entry.get("first_finding")
    if not first:
        return ""
    if "check" in first:
        label = f" [{first['known_break']}]" if first.get("known_break") else ""
        return f"{first['check']} ({side_name(first['side'])}): {first['explanation']}{label}"
    if "artifact" in first:
        return f"{first['artifact']}: {first['explanation']}"
    return f"{side_name(first.get('side', ''))}: {first.get('explanation', '')}"


def title(report: Mapping[str, Any]) -> str:
    sides = " vs ".join(f"{side.upper()} {info.get('pipeline', '?')}" for side, info in report.get("sides", {}).items())
    return f"harness {report.get('kind', 'diff')}: {sides}"


def stage_errors(report: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(stage, side, status record) for every stage a side failed to compute, and each side's fatal error."""
    found = [("(setup)", side, info["fatal"]) for side, info in report.get("sides", {}).items() if info.get("fatal")]
    for entry in report.get("stages", []):
        for side, info in entry.get("sides", {}).items():
            if info.get("status") == "error":
                found.append((entry["stage"], side, info))
    return found


def tail(text: str, lines: int = TRACEBACK_LINES) -> str:
    kept = (text or "").rstrip().splitlines()
    return "\n".join((["…"] if len(kept) > lines else []) + kept[-lines:])


# ---------------------------------------------------------------- Markdown


def _inline(text: Any) -> str:
    """Text safe in a Markdown line: `<` would open an HTML tag that renderers drop."""
    return str(text).replace("<", "&lt;")


def _cell(text: Any) -> str:
    return _inline(text).replace("|", "\\|").replace("\n", " ").strip() or " "


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(header), "|" + "---|" * len(header), *(_row(r) for r in rows), ""]


def _header(report: Mapping[str, Any]) -> list[str]:
    settings = report.get("settings", {})
    lines = [f"# {title(report)}", "", f"> **{report.get('summary', '')}** (exit code {report.get('exit_code', '?')})", ""]
    rows = [[f"side {side.upper()}", f"`{info.get('pipeline', '?')}`"] for side, info in report.get("sides", {}).items()]
    rows += [[key, fmt(settings.get(key))] for key in ("scenario", "profile", "seed")]
    stages = settings.get("stages_run") or [e["stage"] for e in report.get("stages", [])]
    if stages:
        rows.append(["stages", f"{stages[0]} → {stages[-1]}"])
    if report.get("created"):
        rows.append(["created", report["created"]])
    if settings.get("command"):
        rows.append(["command", "`" + " ".join(str(c) for c in settings["command"]) + "`"])
    lines += _table(["run", ""], rows)
    differences = report.get("knob_differences") or {}
    lines.append("## Knob differences")
    lines.append("")
    sides = list(report.get("sides", {}))
    if differences:
        lines += _table(["knob", *(s.upper() for s in sides)],
                        [[f"`{name}`", *(fmt(values.get(s)) for s in sides)] for name, values in differences.items()])
    else:
        lines += [_single_side_knobs(report) if len(sides) == 1 else "none: both sides ran with the same knobs", ""]
    return lines


def _single_side_knobs(report: Mapping[str, Any]) -> str:
    overrides = next(iter(report["sides"].values())).get("knob_overrides") or {}
    if not overrides:
        return "single-side run with default knobs"
    return "single-side run; knobs set: " + ", ".join(f"`{k}={fmt(v)}`" for k, v in overrides.items())


def _stage_table(report: Mapping[str, Any]) -> list[str]:
    sides = list(report.get("sides", {}))
    columns = category_columns(report)
    first_break = (report.get("first_break") or {}).get("stage")
    rows = []
    for entry in report.get("stages", []):
        marker = f"**▶ {entry['stage']}**" if entry["stage"] == first_break else entry["stage"]
        verdict = entry["verdict"] + (f" [{entry['category']}]" if entry.get("category") else "")
        rows.append([marker, *(side_status(entry["sides"].get(s, {})) for s in sides), verdict,
                     *(category_cell(entry, c).text for c in columns), first_finding_text(entry)])
    return ["## Stages", "", *_table(["stage", *(s.upper() for s in sides), "verdict", *columns, "first finding"], rows)]


def _categories(report: Mapping[str, Any]) -> list[str]:
    rows = []
    for category in category_columns(report):
        info = (report.get("categories") or {}).get(category)
        if info is None:
            rows.append([category, "—", "—", "—", "—", "no failure", ""])
            continue
        passes = info.get("other_side_passes")
        rows.append([category, info["stage"], info["check"], side_name(info["side"]),
                     "—" if passes is None else ("passes" if passes else "fails too"),
                     knob_label(report, info.get("known_break")), info.get("explanation", "")])
    return ["## First break per category", "",
            *_table(["category", "stage", "check", "side", "other side", "knob label", "explanation"], rows)]


def _focus(report: Mapping[str, Any]) -> list[str]:
    focus = focus_stage(report)
    if focus is None:
        return ["## Findings", "", "No stage broke, errored or differed.", ""]
    heading, entry = focus
    category = f" [{entry['category']}]" if entry.get("category") else ""
    lines = [f"## {heading}: `{entry['stage']}`{category}", ""]
    findings = worst_first(entry.get("findings", []))
    if findings:
        lines += _table(["check", "side", "status", "severity", "measured", "expected", "tolerance", "explanation"],
                        [[f["check"], side_name(f["side"]), f["status"] + (" (report only)" if f.get("report_only") else ""),
                          f.get("severity", ""), fmt(f.get("measured")), fmt(f.get("expected")), fmt(f.get("tolerance")),
                          f.get("explanation", "") + (f" [{f['known_break']}]" if f.get("known_break") else "")]
                         for f in findings])
    else:
        lines += ["No check ran at this stage.", ""]
    notable = [c for c in entry.get("comparisons", []) if c.get("status") != "equal"]
    if notable:
        lines += ["Comparisons that are not equal:", ""]
        lines += _table(["artifact", "status", "summary"],
                        [[f"`{c['artifact']}`", c["status"], c.get("reason") or c.get("summary", "")] for c in notable])
    return lines


def _errors(report: Mapping[str, Any]) -> list[str]:
    found = stage_errors(report)
    if not found:
        return []
    lines = ["## Stage errors", ""]
    for stage, side, info in found:
        pipeline = report["sides"].get(side, {}).get("pipeline", "")
        lines += [f"### `{stage}` on {side.upper()} ({pipeline})", "", _inline(info.get("error", "")), ""]
        if info.get("traceback"):
            lines += ["```text", tail(info["traceback"]), "```", ""]
    return lines


def _figures(report: Mapping[str, Any], run_dir: Path) -> list[str]:
    stored = stored_figures(run_dir)
    notes = figure_notes(report, run_dir, stored)
    titles = {spec.name: spec.title for spec in FIGURES}
    lines = ["## Figures", ""]
    lines += [f"- [{titles[name]}]({path.relative_to(run_dir).as_posix()})" for name, path in stored.items()]
    lines += [f"- {_inline(note)}" for note in notes.values()]
    return [*lines, ""]


def render_markdown(report: Mapping[str, Any], run_dir: Path) -> str:
    """The whole report as Markdown text."""
    lines = [*_header(report), *_stage_table(report), *_categories(report), *_focus(report), *_errors(report),
             *_figures(report, Path(run_dir))]
    if report.get("warnings"):
        lines += ["## Warnings", "", *(f"- {_inline(w)}" for w in report["warnings"]), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(report: dict[str, Any], run_dir: Path, console: Console) -> None:
    """Write `report.md` atomically and print its path."""
    path = Path(run_dir) / "report.md"
    atomic_write_bytes(path, render_markdown(report, run_dir).encode())
    console.print(Text(f"markdown report: {path}"))


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("markdown", write_markdown, "report.md: header, stage × category table, first breaks, "
                                                      "findings and figure links, for issues and notebooks")]
