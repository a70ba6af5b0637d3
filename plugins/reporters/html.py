"""HTML format: one self-contained `report.html` that puts the whole diff on one screen.

Left column: the banner with the first break (element id `first-break`), the first failure of each
category with the knob that explains it, the knob differences, the stage × category table, and the
findings and comparisons of the stage to look at first, then stage errors. Right column: the
figures, embedded as base64 PNG data URIs. CSS is inline and nothing is fetched, so the file can
be mailed, attached to an issue or opened offline.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Iterable

from rich.console import Console
from rich.text import Text

from harness import ReporterSpec, hookimpl
from harness import report_text as words
from harness.rendering import fmt, tail
from harness.report import Report, SideStatus
from harness.store import atomic_write_bytes
from plugins.reporters.figures import FIGURES, figure_notes, render_figures

STYLE = """
:root { --fail: #c62828; --error: #8e0000; --warn: #b26a00; --info: #1565c0; --pass: #2e7d32; --muted: #6b6b6b; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1d; background: #f4f5f7; }
header { padding: 10px 18px; color: #fff; background: #37474f; }
header.exit-0 { background: #2e7d32; } header.exit-1 { background: #8a4b00; } header.exit-3 { background: #8e0000; }
header h1 { margin: 0; font-size: 18px; } header p { margin: 2px 0 0; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 14px; padding: 12px 18px; }
@media (min-width: 1100px) { main { height: calc(100vh - 64px); } main > div { overflow: auto; } }
@media (max-width: 1099px) { main { grid-template-columns: 1fr; } }
section { background: #fff; border-radius: 6px; padding: 8px 12px; margin-bottom: 12px; box-shadow: 0 1px 2px #0002;
          overflow-x: auto; }
h2 { font-size: 14px; margin: 2px 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #fafafa; font-weight: 600; }
td { overflow-wrap: break-word; } td.value { overflow-wrap: anywhere; min-width: 5em; } td.finding { min-width: 12em; } .stage-name { white-space: nowrap; }
tr.focus td { background: #fff3e0; } tr.focus .stage-name::before { content: "▶ "; color: var(--fail); }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
pre { white-space: pre-wrap; background: #f7f7f7; padding: 6px; margin: 4px 0; }
.fail { color: var(--fail); font-weight: 700; } .error { color: var(--error); font-weight: 700; }
.nowrap { white-space: nowrap; }
.warn { color: var(--warn); } .info { color: var(--info); } .pass { color: var(--pass); } .none { color: var(--muted); }
.verdict-break, .verdict-error { color: var(--fail); font-weight: 700; } .verdict-differs { color: var(--warn); font-weight: 600; }
.verdict-equal, .verdict-ok { color: var(--pass); } .verdict-expected { color: var(--info); } .verdict-skipped { color: var(--muted); }
#first-break { border-left: 6px solid var(--muted); font-size: 14px; }
#first-break.break { border-color: var(--fail); background: #ffebee; }
#first-break.error { border-color: var(--error); background: #ffebee; }
#first-break.differs { border-color: var(--warn); background: #fff8e1; }
#first-break.clean { border-color: var(--pass); background: #e8f5e9; }
#first-break dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
#first-break dt { color: var(--muted); } #first-break dd { margin: 0; }
.stage-name { font-weight: 700; font-family: ui-monospace, monospace; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 8px; }
.card { border: 1px solid #e3e3e3; border-radius: 5px; padding: 6px 8px; }
.card.failing { border-color: var(--fail); background: #fff5f5; }
figure { margin: 0 0 12px; background: #fff; padding: 6px; border-radius: 6px; box-shadow: 0 1px 2px #0002; }
figure img { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
ul.notes { color: var(--muted); margin: 0; padding-left: 18px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: Iterable[str], rows: Iterable[tuple[list[tuple[str, str]], str]]) -> str:
    """Rows of (cells as (escaped html, css class), row class)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(f'<tr class="{row_class}">' + "".join(f'<td class="{cls}">{cell}</td>' for cell, cls in cells)
                   + "</tr>" for cells, row_class in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(heading: str, body: str, **attributes: str) -> str:
    extra = "".join(f' {key.rstrip("_")}="{_e(value)}"' for key, value in attributes.items())
    return f"<section{extra}><h2>{_e(heading)}</h2>{body}</section>"


def first_break_html(report: Report) -> str:
    """The banner section with id `first-break`: where and why the first break happened, or that none did."""
    entry = report.first_break
    if entry is not None:
        finding = entry.first_finding
        check = getattr(finding, "check", "")
        items = [("stage", f'<span class="stage-name">{_e(entry.stage)}</span>'),
                 ("category", _e(entry.category or "")),
                 ("check", _e(check)),
                 ("side", _e(words.side_name(getattr(finding, "side", "")))),
                 ("knob label", _e(words.knob_label(report, getattr(finding, "known_break", None)))),
                 ("explanation", _e(getattr(finding, "explanation", "")))]
        body = "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"
        return _section("First break", body, id="first-break", class_="break")
    focus = words.focus_stage(report)
    if focus is None:
        return _section("First break", "<p>No break: no stage broke, errored or differed.</p>",
                        id="first-break", class_="clean")
    heading, entry = focus
    body = (f'<p>No break. {_e(heading)} at <span class="stage-name">{_e(entry.stage)}</span>: '
            f"{_e(words.first_finding_text(entry))}</p>")
    return _section("First break", body, id="first-break", class_=entry.verdict)


def _category_cards(report: Report) -> str:
    cards = []
    for category in words.category_columns(report):
        info = report.categories.get(category)
        if info is None:
            cards.append(f'<div class="card"><b>{_e(category)}</b><br><span class="pass">no failure</span></div>')
            continue
        passes = info.other_side_passes
        other = "" if passes is None else ("other side passes" if passes else "other side fails too")
        cards.append(
            f'<div class="card failing"><b>{_e(category)}</b>: <span class="fail">{_e(info.check)}</span> at '
            f'<span class="stage-name">{_e(info.stage)}</span> on {_e(words.side_name(info.side))}'
            f"{'; ' + _e(other) if other else ''}<br>{_e(words.knob_label(report, info.known_break))}<br>"
            f'<span class="none">{_e(info.explanation)}</span></div>')
    return _section("First failure per category", f'<div class="cards">{"".join(cards)}</div>')


def _run_table(report: Report) -> str:
    settings = report.settings
    sides = list(report.sides)
    rows = [([(_e(k), ""), (_e(fmt(settings.get(k))), "")], "") for k in ("scenario", "profile", "seed")]
    if settings.get("command"):
        rows.append(([("command", ""), (f"<code>{_e(' '.join(map(str, settings['command'])))}</code>", "")], ""))
    body = _table(["setting", "value"], rows)
    if report.knob_differences:
        body += _table(["knob", *(s.upper() for s in sides)],
                       [([(f"<code>{_e(name)}</code>", ""), *((_e(fmt(values.get(s))), "") for s in sides)], "")
                        for name, values in report.knob_differences.items()])
    elif len(sides) == 2:
        body += "<p>No knob differs between the sides.</p>"
    return _section("Run and knob differences", body)


def side_cell(info: SideStatus | None) -> tuple[str, str]:
    """A side's status at a stage; its time (or skip reason) is the tooltip, keeping the table narrow."""
    if info is None:
        return "?", "nowrap"
    detail = f"{info.seconds:.2f} s" if info.seconds is not None else (info.reason or "")
    return f'<span title="{_e(detail)}">{_e(info.status)}</span>', "nowrap"


def _stage_table(report: Report) -> str:
    sides = list(report.sides)
    columns = words.category_columns(report)
    first_break = report.first_break.stage if report.first_break else None
    rows = []
    for entry in report.stages:
        verdict = entry.verdict + (f" [{entry.category}]" if entry.category else "")
        cells = [(f'<span class="stage-name">{_e(entry.stage)}</span>', "")]
        cells += [side_cell(entry.sides.get(s)) for s in sides]
        cells.append((_e(verdict), f"verdict-{entry.verdict}"))
        cells += [(_e(cell.text), cell.kind.replace("n/a", "none")) for cell in (words.category_cell(entry, c) for c in columns)]
        cells.append((_e(words.first_finding_text(entry)), "finding"))
        rows.append((cells, "focus" if entry.stage == first_break else ""))
    return _section("Stages × categories",
                    _table(["stage", *(s.upper() for s in sides), "verdict", *columns, "first finding"], rows))


def _focus(report: Report) -> str:
    focus = words.focus_stage(report)
    if focus is None:
        return ""
    heading, entry = focus
    findings = [f for f in words.worst_first(entry.findings) if f.status != "n/a"]
    body = ""
    if findings:
        body += _table(["check", "side", "status", "measured", "expected", "tolerance", "explanation"], [
            ([(_e(f.check), "nowrap"), (_e(words.side_name(f.side)), ""),
              (_e(f.status + (" (report only)" if f.report_only else "")), f.kind),
              (_e(fmt(f.measured)), "value"), (_e(fmt(f.expected)), "value"), (_e(fmt(f.tolerance)), "value"),
              (_e(f.explanation) + (f"<br><i>{_e(f.known_break)}</i>" if f.known_break else ""), "")],
             "") for f in findings])
    else:
        body += "<p>No check ran at this stage.</p>"
    if entry.comparisons:
        body += "<h2>Comparisons</h2>" + _table(["artifact", "status", "summary"], [
            ([(f"<code>{_e(c.artifact)}</code>", ""), (_e(c.status), f"verdict-{c.status}"),
              (_e(c.reason or c.summary), "")], "") for c in entry.comparisons])
    return _section(f"{heading}: {entry.stage} — findings", body)


def _isolation(report: Report) -> str:
    found = words.isolation_lines(report)
    if not found:
        return ""
    items = "".join(f"<li>{_e(line)}</li>" for line in found)
    return _section(words.ISOLATION_HEADING, f'<ul class="notes">{items}</ul>', id="isolation")


def _notes(report: Report) -> str:
    """The noise-floor scores, nondeterministic stages and check verdicts (ORACLE-1's data or network), as listed."""
    return "".join(_section(heading[:1].upper() + heading[1:], '<ul class="notes">'
                            + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>")
                   for heading, lines in words.note_sections(report))


def _not_applicable(report: Report) -> str:
    found = words.not_applicable(report)
    if not found:
        return ""
    items = "".join(f"<li><b>{_e(words.side_name(side))}</b>: {_e('; '.join(words.not_applicable_text(f) for f in findings))}</li>"
                    for side, findings in found.items())
    return _section("Checks that did not apply", f'<ul class="notes">{items}</ul>', id="not-applicable")


def _errors(report: Report) -> str:
    found = words.stage_errors(report)
    if not found:
        return ""
    parts = []
    for stage, side, error, traceback in found:
        pipeline = report.sides[side].pipeline if side in report.sides else ""
        trace = f"<details><summary>traceback</summary><pre>{_e(tail(traceback))}</pre></details>" if traceback else ""
        parts.append(f'<p><span class="error">{_e(stage)} on {_e(side.upper())} ({_e(pipeline)})</span>: '
                     f"{_e(error)}</p>{trace}")
    return _section("Stage errors", "".join(parts))


def _figures(report: Report, run_dir: Path) -> str:
    rendered = render_figures(report, run_dir)
    parts = []
    for spec in FIGURES:
        if spec.name in rendered:
            data = base64.b64encode(rendered[spec.name].read_bytes()).decode("ascii")
            parts.append(f'<figure id="figure-{_e(spec.name)}"><img alt="{_e(spec.title)}" '
                         f'src="data:image/png;base64,{data}"><figcaption>{_e(spec.title)}</figcaption></figure>')
    notes = figure_notes(report, run_dir, rendered)
    if notes:
        parts.append('<section><h2>Figures not drawn</h2><ul class="notes">'
                     + "".join(f"<li>{_e(note)}</li>" for note in notes.values()) + "</ul></section>")
    return "".join(parts)


def render_html(report: Report, run_dir: Path) -> str:
    """The whole report as one HTML document with the figures embedded."""
    settings = report.settings
    code = report.exit_code
    meta = " · ".join(_e(fmt(settings.get(k))) for k in ("scenario", "profile") if settings.get(k))
    meta += f" · seed {_e(settings.get('seed'))}" if "seed" in settings else ""
    warnings = "".join(f"<li>{_e(w)}</li>" for w in report.warnings)
    left = "".join([first_break_html(report), _category_cards(report), _stage_table(report), _isolation(report),
                    _notes(report), _focus(report),
                    _not_applicable(report), _errors(report), _run_table(report),
                    _section("Warnings", f"<ul>{warnings}</ul>") if warnings else ""])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(words.title(report))}</title><style>{STYLE}</style></head><body>"
            f'<header class="exit-{_e(code)}"><h1>{_e(words.title(report))}</h1>'
            f"<p>{meta} · {_e(report.created)}</p>"
            f"<p><b>{_e(report.summary)}</b> (exit code {_e(code)})</p></header>"
            f'<main><div class="report">{left}</div><div class="figures">{_figures(report, Path(run_dir))}</div></main>'
            "</body></html>\n")


def write_html(report: Report, run_dir: Path, console: Console) -> None:
    """Write `report.html` atomically and print its path."""
    path = Path(run_dir) / "report.html"
    atomic_write_bytes(path, render_html(report, run_dir).encode("utf-8"))
    console.print(Text(f"html report: {path}"))


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("html", write_html, "report.html: one self-contained page with the first break, "
                                             "stage × category table, findings and embedded figures")]
