"""JUnit format: `junit.xml` in the run folder, so CI systems show breaks as failed tests.

One testsuite per side (each stage as that side saw it, and each of that side's check findings)
and one `cross` suite for a diff (each stage's cross-side verdict, and each cross-side finding).
Breaks and differences are failures, stage errors and checks that raised are errors, skipped
stages and not-applicable checks are skipped; a failed warn/info check passes with its note in
system-out, since JUnit has no warning outcome.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Mapping

from rich.console import Console
from rich.text import Text

from harness import ReporterSpec, hookimpl
from harness.store import atomic_write_bytes
from harness.rendering import fmt
from harness.report import Finding, Report, SideInfo
from harness.report_text import first_finding_text, knob_label, numbers, side_name

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold (terminal escapes in tracebacks, NULs); they are dropped."""


def clean(text: Any) -> str:
    return NOT_XML.sub("", str(text))


class Suite:
    """A testsuite element that keeps its counts as testcases are added."""

    def __init__(self, parent: ET.Element, name: str, timestamp: str, properties: Mapping[str, Any]):
        self.element = ET.SubElement(parent, "testsuite", name=clean(name), timestamp=timestamp)
        if properties:
            holder = ET.SubElement(self.element, "properties")
            for key, value in properties.items():
                ET.SubElement(holder, "property", name=clean(key), value=clean(fmt(value, width=500)))
        self.counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        self.seconds = 0.0

    def case(self, classname: str, name: str, seconds: float = 0.0, outcome: str | None = None,
             message: str = "", text: str = "", out: str = "", kind: str = "") -> None:
        """Add a testcase; `outcome` is failure, error, skipped or None (passed); `kind` types a failure or error."""
        case = ET.SubElement(self.element, "testcase", classname=clean(classname), name=clean(name),
                             time=f"{seconds:.3f}")
        if outcome is not None:
            node = ET.SubElement(case, outcome, message=clean(message))
            if outcome != "skipped":
                node.set("type", kind or outcome)
                node.text = clean(text or message)
            self.counts["skipped" if outcome == "skipped" else outcome + "s"] += 1
        if out:
            ET.SubElement(case, "system-out").text = clean(out)
        self.counts["tests"] += 1
        self.seconds += seconds

    def close(self) -> None:
        for key, value in self.counts.items():
            self.element.set(key, str(value))
        self.element.set("time", f"{self.seconds:.3f}")


def _finding_case(suite: Suite, report: Report, classname: str, finding: Finding) -> None:
    name = f"{finding.check} [{finding.category}] at {finding.stage}"
    explanation = finding.explanation
    kind = finding.kind
    if kind == "n/a":
        suite.case(classname, name, outcome="skipped", message=explanation)
    elif kind == "error":
        suite.case(classname, name, outcome="error", message=explanation, text=finding.traceback or explanation,
                   kind="check error")
    elif finding.breaks:
        label = knob_label(report, finding.known_break)
        suite.case(classname, name, outcome="failure", message=f"{explanation} ({label})",
                   text=f"{explanation}\n{numbers(finding)}\n{label}", kind="break")
    elif kind in ("warn", "info"):
        only = " (report only)" if finding.report_only else ""
        suite.case(classname, name, out=f"{kind}{only}: {explanation}\n{numbers(finding)}")
    else:
        suite.case(classname, name, out=numbers(finding))


def _side_suite(root: ET.Element, report: Report, side: str, info: SideInfo) -> Suite:
    """Each stage as this side ran it, then its own findings."""
    properties = {"pipeline": info.pipeline, **{f"knob.{k}": v for k, v in info.knob_overrides.items()}}
    suite = Suite(root, f"{side.upper()} {info.pipeline}", report.created, properties)
    classname = f"{side}.{info.pipeline}"
    if info.fatal:
        error = str(info.fatal.get("error", ""))
        suite.case(classname, "setup", outcome="error", message=error, text=info.fatal.get("traceback") or error,
                   kind="setup error")
    for entry in report.stages:
        status = entry.sides.get(side)
        seconds = (status.seconds if status else None) or 0.0
        own = [f for f in entry.findings if f.side == side]
        broken = [f for f in own if f.breaks]
        name = f"stage {entry.stage}"
        if status is not None and status.status == "error":
            suite.case(classname, name, seconds, "error", status.error or "", status.traceback or "", kind="stage error")
        elif status is not None and status.status in ("skipped", "absent"):
            suite.case(classname, name, seconds, "skipped", status.reason or status.status)
        elif broken:
            checks = ", ".join(f"{f.check} [{f.category}]" for f in broken)
            suite.case(classname, name, seconds, "failure", f"break at {entry.stage}: {checks}",
                       "\n".join(f"{f.check}: {f.explanation}" for f in broken), kind="break")
        else:
            suite.case(classname, name, seconds)
        for finding in own:
            _finding_case(suite, report, f"{classname}.{entry.stage}", finding)
    suite.close()
    return suite


def _cross_suite(root: ET.Element, report: Report) -> Suite:
    """Each stage's verdict across the two sides, then the cross-side findings."""
    differences = {f"knob_difference.{name}": ", ".join(f"{side_name(s)} {fmt(v)}" for s, v in values.items())
                   for name, values in report.knob_differences.items()}
    suite = Suite(root, "cross", report.created, differences)
    for entry in report.stages:
        stage, verdict = entry.stage, entry.verdict
        seconds = sum(s.seconds or 0.0 for s in entry.sides.values())
        summary = first_finding_text(entry)
        if verdict == "error":
            suite.case("cross", f"stage {stage}", seconds, "error", summary, kind="stage error")
        elif verdict == "skipped":
            reasons = "; ".join(f"{side_name(s)}: {i.reason or i.status}" for s, i in entry.sides.items()
                                if i.status in ("skipped", "absent"))
            suite.case("cross", f"stage {stage}", seconds, "skipped", reasons)
        elif verdict in ("break", "differs"):
            details = [f"{c.artifact}: {c.status}: {c.reason or c.summary}"
                       for c in entry.comparisons if c.status != "equal"]
            suite.case("cross", f"stage {stage}", seconds, "failure", f"{verdict} at {stage}: {summary}",
                       "\n".join([summary, *details]), kind="break" if verdict == "break" else "difference")
        else:
            suite.case("cross", f"stage {stage}", seconds, out=verdict)
        for finding in entry.findings:
            if finding.side == "cross":
                _finding_case(suite, report, f"cross.{stage}", finding)
    suite.close()
    return suite


def render_junit(report: Report) -> bytes:
    """The report as a JUnit XML document."""
    settings = report.settings
    root = ET.Element("testsuites", name=f"harness {report.kind} {settings.get('scenario', '')} "
                                         f"{settings.get('profile', '')} seed {settings.get('seed', '')}".strip())
    suites = [_side_suite(root, report, side, info) for side, info in report.sides.items()]
    if len(report.sides) == 2:
        suites.append(_cross_suite(root, report))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(s.counts[key] for s in suites)))
    root.set("time", f"{sum(s.seconds for s in suites):.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(report: Report, run_dir: Path, console: Console) -> None:
    """Write `junit.xml` atomically and print its path."""
    path = Path(run_dir) / "junit.xml"
    atomic_write_bytes(path, render_junit(report))
    console.print(Text(f"junit report: {path}"))


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("junit", write_junit, "junit.xml: a testsuite per side plus cross; breaks and "
                                               "differences fail, stage errors error, skips skip")]
