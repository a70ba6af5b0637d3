"""Evaluating registered checks on one stage's artifacts: which checks apply, their findings, known breaks.

The diff asks this module for a stage's findings; the report model decides what they mean.
"""
from __future__ import annotations

import hashlib
import inspect
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from harness.manager import Registry
from harness.artifacts import layout_mismatch
from harness.conventions import resolve_conventions
from harness.errors import NotApplicable
from harness.records import CheckInput, CheckResult, CheckSpec, knob_text


def run_checks(registry: Registry, stage: str, inputs: Mapping[str, CheckInput], profile: str) -> list[dict[str, Any]]:
    """Findings of every check registered at `stage`: per side on each input, cross checks on both.

    Each side's declared conventions are evaluated for its knobs first; a check whose artifacts or
    conventions a side lacks gets a "not applicable" finding that names what is missing.
    """
    sides = {side: with_conventions(registry, inp) for side, inp in inputs.items()}
    findings: list[dict[str, Any]] = []
    for registered in registry.checks.values():
        check: CheckSpec = registered.record
        if check.stage != stage:
            continue
        if check.device:
            findings.extend(finding for inp in sides.values() for finding in device_findings(check, inp))
            continue
        if check.cross:
            if len(sides) == 2:
                findings.extend(evaluate(check, "cross", tuple(sides.values()), profile))
            continue
        for side, inp in sides.items():
            if check.pipelines is None or inp.pipeline in check.pipelines:
                findings.extend(evaluate(check, side, (inp,), profile))
    return findings


DEVICE_FINDINGS = "device_findings"
"""Stage-record field holding the findings of the checks that ran in the worker (`CheckSpec.device`)."""
DEVICE_CHECKS_CODE = "device_checks_code"
"""Stage-record field: check id → digest of its code when it ran, so a later edit is noticed."""


def stored_device_findings(registry: Registry, stage: str, inp: CheckInput) -> dict[str, Any]:
    """Evaluate, in the worker, the device checks of `stage` on its inputs and outputs; the fields the stage
    record stores (its findings and the digest of the checks' code)."""
    checks = [r.record for r in registry.checks.values() if r.record.device and r.record.stage == stage]
    if not checks:
        return {}
    findings = [finding for check in checks for finding in evaluate(check, inp.side, (inp,), inp.profile)]
    return {DEVICE_FINDINGS: findings, DEVICE_CHECKS_CODE: {check.id: device_checks_code([check]) for check in checks}}


def device_checks_code(checks: list[CheckSpec]) -> str:
    """Digest of the source files that define these checks."""
    digest = hashlib.sha256()
    for path in sorted({inspect.getsourcefile(check.func) or "" for check in checks}):
        digest.update(Path(path).read_bytes() if path and Path(path).is_file() else path.encode())
    return digest.hexdigest()[:16]


def device_findings(check: CheckSpec, inp: CheckInput) -> list[dict[str, Any]]:
    """A device check's finding as the worker stored it with its stage (it needs the stage's device and TensorFlow,
    which the host does not load); not applicable when the record holds none or an older version of the check."""
    base = {"check": check.id, "category": check.category, "severity": check.severity, "side": inp.side,
            "stage": check.stage, "report_only": inp.profile in check.report_only_in}
    reader = getattr(inp.artifacts, "stage_record", None)
    record = reader(check.stage) if reader else None
    stored = [f for f in (record or {}).get(DEVICE_FINDINGS, []) if f.get("check") == check.id]
    if not stored:
        return [not_applicable(base, check, "the worker stored no result for this check with the stage")]
    if (record.get(DEVICE_CHECKS_CODE) or {}).get(check.id) != device_checks_code([check]):
        return [not_applicable(base, check, "the stage was stored by an older version of this check; "
                                            "run again with --no-cache to judge it")]
    return [{**finding, "side": inp.side} for finding in stored]


def with_conventions(registry: Registry, inp: CheckInput) -> CheckInput:
    """The input with its pipeline's conventions evaluated for its knobs (kept when already given)."""
    if inp.conventions or inp.pipeline not in registry.pipelines:
        return inp
    return replace(inp, conventions=resolve_conventions(registry.pipeline(inp.pipeline), inp.knobs))


def missing_inputs(check: CheckSpec, args: tuple[CheckInput, ...]) -> str | None:
    """Why a check cannot run on these sides: the first artifact or convention one of them lacks."""
    for inp in args:
        label = f" on side {inp.side}" if len(args) > 1 else ""
        excused = inp.conventions.get("not_applicable") or {}
        held = [name for name in (check.id, *check.requires) if name in excused]
        if held:
            return excused[held[0]] + label
        absent = [name for name in check.requires if name not in inp.artifacts]
        if absent:
            return f"missing artifact {', '.join(absent)}{label}"
        for name in check.requires:
            mismatch = layout_mismatch(name, inp.artifacts[name])
            if mismatch:
                return mismatch + label
        undeclared = [name for name in check.conventions if name not in inp.conventions]
        if undeclared:
            return f"convention {', '.join(undeclared)} undeclared by {inp.pipeline}{label}"
    return None


def evaluate(check: CheckSpec, side: str, args: tuple[CheckInput, ...], profile: str) -> list[dict[str, Any]]:
    """One check on one side (or both, for a cross check) as finding dicts; none when it does not apply."""
    base = {"check": check.id, "category": check.category, "severity": check.severity, "side": side,
            "stage": check.stage, "report_only": profile in check.report_only_in}
    missing = missing_inputs(check, args)
    if missing is not None:
        return [not_applicable(base, check, missing)]
    try:
        result = check.func(*args)
    except KeyError as exc:
        return [not_applicable(base, check, f"missing artifact or field {exc}")]
    except NotApplicable as exc:
        return [not_applicable(base, check, str(exc))]
    except Exception as exc:
        return [{**base, "status": "error", "measured": None, "expected": None, "tolerance": check.tolerance,
                 "explanation": f"check raised {type(exc).__name__}: {exc}", "known_break": None,
                 "traceback": traceback.format_exc()}]
    if result is None:
        return [not_applicable(base, check, "the check found nothing to judge here (it gave no reason)")]
    if not isinstance(result, CheckResult):
        return [{**base, "status": "error", "measured": None, "expected": None, "tolerance": check.tolerance,
                 "explanation": f"check returned {type(result).__name__}, not CheckResult", "known_break": None}]
    known = None if result.passed else known_break_label(check, args)
    base["report_only"] = base["report_only"] or bool(result.details.get("report_only", False))
    return [{**base, "status": "pass" if result.passed else "fail", "measured": result.measured,
             "expected": result.expected, "tolerance": result.tolerance, "explanation": result.explanation,
             "known_break": known, "details": dict(result.details)}]


def not_applicable(base: dict[str, Any], check: CheckSpec, reason: str) -> dict[str, Any]:
    """A finding saying the check did not run here, and why."""
    return {**base, "status": "n/a", "measured": None, "expected": None, "tolerance": check.tolerance,
            "explanation": f"not applicable: {reason}", "known_break": None}


def known_break_label(check: CheckSpec, args: tuple[CheckInput, ...]) -> str | None:
    """Label a failure with the knob value the check lists as a known break, if a side has one."""
    for inp in args:
        for knob, values in check.known_breaks.items():
            if knob in inp.knobs and _matches(inp.knobs[knob], values):
                return f"known break of {inp.pipeline} {knob}={knob_text(inp.knobs[knob])}"
    return None


def _matches(value: Any, values: tuple[Any, ...]) -> bool:
    return any(knob_text(value) == knob_text(candidate) for candidate in values)
