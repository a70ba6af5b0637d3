"""The words every report renderer uses for the typed report's records: labels, cells and headlines.

Console, Markdown, HTML and JUnit say the same things about a stage; they take them from here, so
a reporter imports the model and these helpers, never another reporter.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.rendering import fmt
from harness.report import Finding, Report, SideStatus, StageVerdict

CATEGORY_COLUMNS = ("normalization", "offsets", "amplitude")
CELL_ORDER = ("fail", "error", "warn", "info", "pass")
CELL_WORD = {"fail": "FAIL", "error": "error", "warn": "warn", "info": "info", "pass": "pass", "n/a": "—"}


@dataclass(frozen=True)
class Cell:
    """How one category fared at one stage: kind (fail, error, warn, info, pass, n/a) and its text."""

    kind: str
    text: str


def side_name(side: str | None) -> str:
    """`A`, `B`, or `cross` for a cross-side check."""
    return "cross" if side == "cross" else (side or "").upper()


def side_label(info: SideStatus) -> str:
    """A side's status at a stage with its time: `ok 0.12s`, `error`, `skipped`."""
    if info.usable and info.seconds is not None:
        return f"{info.status} {info.seconds:.2f}s"
    return info.status


def title(report: Report) -> str:
    sides = " vs ".join(f"{side.upper()} {info.pipeline}" for side, info in report.sides.items())
    return f"harness {report.kind}: {sides}"


def finding_text(finding: Finding) -> str:
    """`check (side): explanation [known break]` in one line."""
    label = f" [{finding.known_break}]" if finding.known_break else ""
    return f"{finding.check} ({side_name(finding.side)}): {finding.explanation}{label}"


def first_finding_text(entry: StageVerdict) -> str:
    """The stage's first finding in one line (empty when the stage is equal)."""
    first = entry.first_finding
    if first is None:
        return ""
    if isinstance(first, Finding):
        return finding_text(first)
    if first.artifact is not None:
        return f"{first.artifact}: {first.explanation}"
    return f"{side_name(first.side)}: {first.explanation}"


ISOLATION_HEADING = "Isolation (B's stage re-run on A's inputs)"


def isolation_lines(report: Report) -> list[str]:
    """`stage: introduced: why [transplant cached]`, one per stage `harness diff --isolate` placed."""
    lines = []
    for entry in report.stages:
        found = entry.isolation
        if found is not None:
            run = f" [transplant {found.transplant.status}]" if found.transplant else ""
            lines.append(f"{entry.stage}: {found.status.replace('_', ' ')}: {found.reason}{run}")
    return lines


NOISE_HEADING = "against the noise floor"
NONDETERMINISM_HEADING = "nondeterministic stages (two runs on the same seed differ)"


def noise_lines(report: Report) -> list[str]:
    """One line per stage scored against `--noise`: its largest |z|, inside or outside the floor, and how many of
    its scores are outside; then each other check outside the floor (with the smallest tolerance the floor supports)."""
    lines = []
    for entry in report.stages:
        loudest = entry.loudest_noise
        if loudest is None:
            continue
        outside = sum(not score.inside for score in entry.noise)
        where = f"{outside} of {len(entry.noise)} outside" if outside else "every difference inside the floor"
        lines.append(f"{entry.stage}: largest {loudest.text}; {where}")
        lines += [f"  {score.text}" for score in entry.noise
                  if score.subject == "check" and not score.inside and score is not loudest]
    return lines


def nondeterminism_lines(report: Report) -> list[str]:
    """`stage: A: first differing artifact X`, one per stage `--check-determinism` found differing; or one line
    saying every stage was reproduced bit for bit."""
    if not report.settings.get("check_determinism"):
        return []
    lines, first = [], {}
    for entry in report.stages:
        parts = []
        for side, artifact in entry.nondeterministic.items():
            since = f" (its inputs already differed: {first[side]})" if side in first else ""
            parts.append(f"{side_name(side)}: first differing artifact {artifact}{since}")
            first.setdefault(side, entry.stage)
        if parts:
            lines.append(f"{entry.stage}: " + ", ".join(parts))
    return lines or ["none: every stage's artifacts were identical on the second run"]


VERDICT_HEADING = "check verdicts"


def verdict_lines(report: Report) -> list[str]:
    """`check (side): explanation`, one per finding that states a verdict (`Finding.verdict`), whatever its severity:
    an info check such as ORACLE-1 says what a failure means, which the category cells never show."""
    return [finding_text(f) + (" (report only)" if f.report_only else "")
            for entry in report.stages for f in entry.findings if f.verdict is not None]


def note_sections(report: Report) -> list[tuple[str, list[str]]]:
    """The noise-floor, determinism and check-verdict notes of a report, as (heading, lines), for reporters to print
    as they are."""
    floor = report.settings.get("noise")
    heading = f"{NOISE_HEADING} {floor['floor']} (inside: |z| below {floor['z_limit']:g})" if floor else NOISE_HEADING
    sections = [(heading, noise_lines(report)), (NONDETERMINISM_HEADING, nondeterminism_lines(report)),
                (VERDICT_HEADING, verdict_lines(report))]
    return [(title, lines) for title, lines in sections if lines]


def numbers(finding: Finding) -> str:
    """`measured …, expected …, tolerance …` of a finding."""
    return (f"measured {fmt(finding.measured)}, expected {fmt(finding.expected)}, "
            f"tolerance {fmt(finding.tolerance)}")


def knob_label(report: Report, known_break: str | None) -> str:
    """The knob that explains a failure: its known-break label, else the knobs that differ between the sides."""
    if known_break:
        return known_break
    if report.knob_differences:
        parts = [f"{name} ({', '.join(f'{side.upper()} {fmt(value)}' for side, value in values.items())})"
                 for name, values in report.knob_differences.items()]
        return "not a known break; knobs differ: " + "; ".join(parts)
    return "not a known break; same knobs on both sides" if len(report.sides) == 2 else "not a known break"


def focus_stage(report: Report) -> tuple[str, StageVerdict] | None:
    """The stage a reader should look at first: the first break, else the first error, else the first difference."""
    for verdict, heading in (("break", "First break"), ("error", "First stage error"), ("differs", "First difference")):
        entry = next((s for s in report.stages if s.verdict == verdict), None)
        if entry is not None:
            return heading, entry
    return None


def stage_errors(report: Report) -> list[tuple[str, str, str, str | None]]:
    """(stage, side, error, traceback) for each side's fatal error and every stage a side failed to compute."""
    found = [("(setup)", side, str(info.fatal.get("error", "")), info.fatal.get("traceback"))
             for side, info in report.sides.items() if info.fatal]
    for entry in report.stages:
        for side, status in entry.sides.items():
            if status.status == "error":
                found.append((entry.stage, side, status.error or "", status.traceback))
    return found


def category_columns(report: Report) -> tuple[str, ...]:
    """The three invariant categories, plus `other` when some finding belongs to it."""
    used = any(f.category == "other" for entry in report.stages for f in entry.findings)
    return CATEGORY_COLUMNS + (("other",) if used else ())


def category_cell(entry: StageVerdict, category: str) -> Cell:
    """The worst outcome of a category's checks at one stage, naming the checks and sides behind it."""
    by_kind: dict[str, dict[str, list[str]]] = {}
    for finding in entry.findings:
        if finding.category != category or finding.kind == "n/a":
            continue
        sides = by_kind.setdefault(finding.kind, {}).setdefault(finding.check, [])
        if side_name(finding.side) not in sides:
            sides.append(side_name(finding.side))
    for kind in CELL_ORDER:
        if kind in by_kind:
            if kind == "pass":
                return Cell("pass", "pass")
            checks = ", ".join(f"{check} {','.join(sides)}" for check, sides in by_kind[kind].items())
            return Cell(kind, f"{CELL_WORD[kind]} ({checks})")
    return Cell("n/a", CELL_WORD["n/a"])


def worst_first(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered fail, error, warn, info, pass, not applicable (stable within each kind)."""
    rank = {kind: i for i, kind in enumerate((*CELL_ORDER, "n/a"))}
    return sorted(findings, key=lambda f: rank[f.kind])


def not_applicable(report: Report) -> dict[str, list[Finding]]:
    """Per side (and `cross`), the checks that did not apply anywhere in the run, in stage order."""
    found = {side: [f for entry in report.stages for f in entry.not_applicable(side)] for side in [*report.sides, "cross"]}
    return {side: findings for side, findings in found.items() if findings}


def not_applicable_text(finding: Finding) -> str:
    """`check@stage (why)` for a check that did not apply (ids that already name their stage keep it once)."""
    label = finding.check if "@" in finding.check else f"{finding.check}@{finding.stage}"
    return f"{label} ({finding.explanation.removeprefix('not applicable: ')})"
