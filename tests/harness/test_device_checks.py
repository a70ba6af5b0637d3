"""Checks that run in the worker (`CheckSpec.device`): stored with their stage, read back by the host."""
from __future__ import annotations

from typing import Any

from harness.checking import DEVICE_CHECKS_CODE, DEVICE_FINDINGS, device_checks_code, run_checks, stored_device_findings
from harness.manager import PluginOptions, Registry, load_plugins
from harness.records import CheckInput, CheckResult, CheckSpec
from harness import hookimpl


def positive(inp: CheckInput) -> CheckResult:
    value = float(inp.artifacts["value"])
    return CheckResult(value, "> 0", 0, value > 0, f"value {value:g}")


CHECK = CheckSpec("D-1", "amplitude", "infer", "error", positive, requires=("value",), device=True)


class Plugin:
    @hookimpl
    def harness_register_checks(self) -> list[CheckSpec]:
        return [CHECK]


class StoredSide(dict):
    """Artifacts of a side plus the stage records a worker would have stored."""

    def __init__(self, records: dict[str, dict[str, Any]]):
        super().__init__()
        self.records = records

    def stage_record(self, stage: str) -> dict[str, Any] | None:
        return self.records.get(stage)


def registry() -> Registry:
    loaded = load_plugins(PluginOptions(autoload=False))
    loaded.pm.register(Plugin(), name="device-check")
    return Registry(loaded)


def side(artifacts: Any) -> CheckInput:
    return CheckInput(side="b", pipeline="p", scenario="s", profile="smoke", knobs={}, artifacts=artifacts)


def test_the_worker_evaluates_device_checks_of_its_stage_and_stores_findings_with_their_code() -> None:
    stored = stored_device_findings(registry(), "infer", side({"value": -2.0}))
    assert [f["status"] for f in stored[DEVICE_FINDINGS] if f["check"] == "D-1"] == ["fail"]
    a10 = next(f for f in stored[DEVICE_FINDINGS] if f["check"] == "A-10")
    assert a10["status"] == "n/a" and "missing artifact model_config" in a10["explanation"]
    assert stored[DEVICE_CHECKS_CODE]["D-1"] == device_checks_code([CHECK])
    assert stored_device_findings(registry(), "stitch", side({"value": -2.0})) == {}


def test_the_host_reads_the_stored_finding_instead_of_running_the_check() -> None:
    stored = stored_device_findings(registry(), "infer", side({"value": -2.0}))
    findings = run_checks(registry(), "infer", {"b": side(StoredSide({"infer": stored}))}, "smoke")
    mine = [f for f in findings if f["check"] == "D-1"]
    assert [(f["status"], f["side"], f["explanation"]) for f in mine] == [("fail", "b", "value -2")]


def test_a_missing_or_stale_stored_finding_is_not_applicable_and_says_why() -> None:
    none = run_checks(registry(), "infer", {"b": side(StoredSide({}))}, "smoke")
    assert "stored no result" in next(f for f in none if f["check"] == "D-1")["explanation"]
    stored = stored_device_findings(registry(), "infer", side({"value": 1.0}))
    stale = {**stored, DEVICE_CHECKS_CODE: {"D-1": "0" * 16}}
    findings = run_checks(registry(), "infer", {"b": side(StoredSide({"infer": stale}))}, "smoke")
    assert "older version of this check" in next(f for f in findings if f["check"] == "D-1")["explanation"]
