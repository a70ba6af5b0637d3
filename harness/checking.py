"""Evaluating registered checks on one stage's artifacts: which checks apply, their findings, known breaks.

The diff asks this module for a stage's findings; the report model decides what they mean.
"""
from __future__ import annotations

import traceback
from typing import Any, Mapping

from harness.manager import Registry
from harness.errors import NotApplicable
from harness.records import CheckInput, CheckResult, CheckSpec


def run_checks(registry: Registry, stage: str, inputs: Mapping[str, CheckInput], profile: str) -> list[dict[str, Any]]:
    """Findings of every check registered at `stage`: per side on each input, cross checks on both."""
    findings: list[dict[str, Any]] = []
    for registered in registry.checks.values():
        check: CheckSpec = registered.record
        if check.stage != stage:
            continue
        if check.cross:
            if len(inputs) == 2:
                a, b = inputs.values()
                if _applies(check, a.pipeline) or _applies(check, b.pipeline):
                    findings.extend(evaluate(check, "cross", (a, b), profile))
            continue
        for side, inp in inputs.items():
            if _applies(check, inp.pipeline):
                findings.extend(evaluate(check, side, (inp,), profile))
    return findings


def _applies(check: CheckSpec, pipeline: str) -> bool:
    return check.pipelines is None or pipeline in check.pipelines


def evaluate(check: CheckSpec, side: str, args: tuple[CheckInput, ...], profile: str) -> list[dict[str, Any]]:
    """One check on one side (or both, for a cross check) as finding dicts; none when it does not apply."""
    base = {"check": check.id, "category": check.category, "severity": check.severity, "side": side,
            "stage": check.stage, "report_only": profile in check.report_only_in}
    try:
        result = check.func(*args)
    except KeyError as exc:
        return [{**base, "status": "n/a", "measured": None, "expected": None, "tolerance": check.tolerance,
                 "explanation": f"not applicable: missing artifact {exc}", "known_break": None}]
    except NotApplicable as exc:
        return [{**base, "status": "n/a", "measured": None, "expected": None, "tolerance": check.tolerance,
                 "explanation": f"not applicable: {exc}", "known_break": None}]
    except Exception as exc:
        return [{**base, "status": "error", "measured": None, "expected": None, "tolerance": check.tolerance,
                 "explanation": f"check raised {type(exc).__name__}: {exc}", "known_break": None,
                 "traceback": traceback.format_exc()}]
    if result is None:
        return []
    if not isinstance(result, CheckResult):
        return [{**base, "status": "error", "measured": None, "expected": None, "tolerance": check.tolerance,
                 "explanation": f"check returned {type(result).__name__}, not CheckResult", "known_break": None}]
    known = None if result.passed else known_break_label(check, args)
    base["report_only"] = base["report_only"] or bool(result.details.get("report_only", False))
    return [{**base, "status": "pass" if result.passed else "fail", "measured": result.measured,
             "expected": result.expected, "tolerance": result.tolerance, "explanation": result.explanation,
             "known_break": known, "details": dict(result.details)}]


def known_break_label(check: CheckSpec, args: tuple[CheckInput, ...]) -> str | None:
    """Label a failure with the knob value the check lists as a known break, if a side has one."""
    for inp in args:
        for knob, values in check.known_breaks.items():
            if knob in inp.knobs and _matches(inp.knobs[knob], values):
                return f"known break of {inp.pipeline} {knob}={_text(inp.knobs[knob])}"
    return None


def _matches(value: Any, values: tuple[Any, ...]) -> bool:
    return any(_text(value) == _text(candidate) for candidate in values)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)
