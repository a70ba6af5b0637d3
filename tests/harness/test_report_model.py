"""The typed report model: the one break rule, stage verdicts, the JSON round trip, validation errors
that name the field, `harness show` on damaged reports, and the documented example reporter."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from harness import (
    REPORT_SCHEMA,
    Comparison,
    Finding,
    Lead,
    Report,
    ReportError,
    SideInfo,
    SideStatus,
    StageVerdict,
    load_report,
)
from harness.diff import finding_from_check
from harness.report import write_report

ROOT = Path(__file__).resolve().parents[2]


def finding(check: str = "N-1", status: str = "pass", severity: str = "error", side: str = "a",
            report_only: bool = False, **extra) -> Finding:
    return Finding(check=check, category=extra.pop("category", "normalization"), severity=severity, side=side,
                   stage=extra.pop("stage", "probe"), status=status, explanation=extra.pop("explanation", "why"),
                   report_only=report_only, **extra)


OK = {"a": SideStatus("ok", 0.5, key="k1"), "b": SideStatus("cached", 0.25, key="k2")}


@pytest.mark.parametrize("status, severity, report_only, breaks", [
    ("pass", "error", False, False),
    ("fail", "error", False, True),
    ("fail", "error", True, False),
    ("fail", "warn", False, False),
    ("fail", "info", False, False),
    ("error", "warn", True, True),
    ("n/a", "error", False, False),
])
def test_the_one_break_rule(status, severity, report_only, breaks):
    assert finding(status=status, severity=severity, report_only=report_only).breaks is breaks


def test_finding_kinds_sort_for_display():
    kinds = [finding(status="fail").kind, finding(status="error").kind, finding(status="fail", severity="warn").kind,
             finding(status="fail", severity="info").kind, finding(status="pass").kind, finding(status="n/a").kind,
             finding(status="fail", report_only=True).kind]
    assert kinds == ["fail", "error", "warn", "info", "pass", "n/a", "warn"]


def test_stage_verdict_is_the_worst_finding():
    differs = (Comparison("x", "differs", "array", "1/4 differ"),)
    expected = (Comparison("y", "expected", "scalar", "3 vs 4", reason="by design"),)
    decide = StageVerdict.decide
    assert decide("probe", OK, (), (finding(),), {}).verdict == "equal"
    assert decide("probe", {"a": OK["a"]}, (), (), {}).verdict == "ok"
    seen = decide("probe", OK, expected, (), {})
    assert (seen.verdict, seen.first_finding) == ("expected", Lead("by design", artifact="y"))
    assert decide("probe", OK, differs + expected, (), {}).first_finding == Lead("1/4 differ", artifact="x")
    warned = decide("probe", OK, differs, (finding(status="fail", severity="warn"),), {})
    assert warned.verdict == "differs"
    broken = decide("probe", OK, differs, (finding(status="fail", check="N-2"),), {})
    assert (broken.verdict, broken.category, broken.first_finding.check) == ("break", "normalization", "N-2")
    raised = decide("probe", OK, (), (finding(status="error", category="offsets"),), {})
    assert (raised.verdict, raised.category) == ("break", "other")
    skipped = decide("probe", {**OK, "b": SideStatus("skipped", reason="train failed")}, differs, (), {})
    assert skipped.verdict == "skipped"
    failed = {**OK, "b": SideStatus("error", 0.1, error="ValueError: boom", traceback="tb")}
    errored = decide("probe", failed, differs, (finding(status="fail"),), {})
    assert (errored.verdict, errored.first_finding) == ("error", Lead("ValueError: boom", side="b"))


def sample_report() -> Report:
    """A diff with a known break at probe, a not-applicable check, a difference and a stage error."""
    probe = StageVerdict.decide("probe", OK, (Comparison("probe", "differs", "array", "max 1.1", {"max_abs": 1.1}),),
                                (finding(status="fail", measured={"ratio": 2.1}, expected=1.0, tolerance=1e-6,
                                         known_break="known break of dose_legacy era=study", details={"n": [1, 2]}),
                                 finding(side="b"),
                                 finding("N-9", "n/a", explanation="not applicable: missing artifact 'X.train'")),
                                {"a": ("probe_mask",), "b": ()})
    scale = StageVerdict.decide("scale", OK, (Comparison("s", "differs", "scalar", "988 vs 273"),), (), {})
    train = StageVerdict.decide("train", {"a": OK["a"], "b": SideStatus("error", 2.0, "k3", error="boom",
                                                                        traceback="Traceback\nValueError: boom")},
                                (), (finding("O-9", "error", category="offsets", stage="train", traceback="KeyError"),), {})
    return Report(kind="diff", created="2026-01-20T10:18:00+00:00",
                  settings={"scenario": "gs2_ideal", "profile": "smoke", "seed": 42},
                  sides={"a": SideInfo("dose_legacy", {"era": "study"}), "b": SideInfo("sim_lines", {}, {"x": 1})},
                  stages=(probe, scale, train), knob_differences={"era": {"a": "study", "b": "(absent)"}},
                  warnings=("plugin x skipped",))


def test_derived_fields_come_from_the_stages():
    report = sample_report()
    assert report.first_break.stage == "probe" and report.first_difference.stage == "probe"
    assert report.exit_code == 3 and report.errored
    normalization = report.categories["normalization"]
    assert (normalization.stage, normalization.check, normalization.side) == ("probe", "N-1", "a")
    assert normalization.other_side_passes is True
    assert report.categories["amplitude"] is None and report.categories["offsets"].stage == "train"
    assert report.summary == ("first break at probe [normalization] (known break of dose_legacy era=study); "
                              "stages: 1 differs, 1 break, 1 error")
    assert [f.check for f in report.stage("probe").not_applicable("a")] == ["N-9"]


def test_json_round_trip_is_exact_and_keeps_not_applicable_findings():
    report = sample_report()
    data = json.loads(json.dumps(report.to_json()))
    assert data["schema_version"] == REPORT_SCHEMA
    assert data["stages"][0]["findings"][2]["status"] == "n/a"
    assert data["first_break"]["finding"]["check"] == "N-1" and data["exit_code"] == 3
    assert data["stages"][2]["first_finding"] == {"side": "b", "explanation": "boom"}
    assert data["stages"][1]["first_finding"] == {"artifact": "s", "explanation": "988 vs 273"}
    back = Report.from_json(data)
    assert back == report
    assert back.to_json() == data


def test_checking_dicts_become_findings_unchanged():
    raw = {"check": "A-3", "category": "amplitude", "severity": "warn", "side": "b", "stage": "scale",
           "report_only": False, "status": "fail", "measured": 0.9, "expected": 0.5, "tolerance": 0.1,
           "explanation": "cap", "known_break": None, "details": {"share": 0.9}}
    assert finding_from_check(raw).to_json() == raw
    na = {**raw, "status": "n/a", "measured": None, "explanation": "not applicable: gs1"}
    del na["details"]
    assert finding_from_check(na).to_json() == {**na, "details": {}}


def damaged(path: str, value=None, delete: bool = False) -> dict:
    """The sample report's JSON with one field (a dotted path, list indices as numbers) changed or removed."""
    data = copy.deepcopy(sample_report().to_json())
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    holder = data
    for part in parents:
        holder = holder[part]
    if delete:
        del holder[last]
    else:
        holder[last] = value
    return data


@pytest.mark.parametrize("path, value, delete, message", [
    ("stages.0.findings.1.status", None, True, "report.stages[0].findings[1].status: missing"),
    ("stages.0.findings.0.status", "maybe", False, "report.stages[0].findings[0].status: 'maybe' is not one of pass"),
    ("stages.2.sides.b.seconds", "fast", False, "report.stages[2].sides.b.seconds: expected a number, got str"),
    ("stages.1.verdict", "fine", False, "report.stages[1].verdict: 'fine' is not one of ok"),
    ("sides.a.pipeline", None, True, "report.sides.a.pipeline: missing"),
    ("stages", {}, False, "report.stages: expected a list, got dict"),
    ("stages.0.comparisons.0", [], False, "report.stages[0].comparisons[0]: expected a JSON object, got list"),
    ("schema_version", 1, False, "report.schema_version is 1, this harness reads version 2"),
])
def test_validation_names_the_field(path, value, delete, message):
    with pytest.raises(ReportError) as caught:
        Report.from_json(damaged(path, value, delete))
    assert message in str(caught.value)


def test_write_and_load_through_the_one_serializer(tmp_path):
    report = sample_report()
    write_report(tmp_path, report)
    assert load_report(tmp_path) == report
    (tmp_path / "report.json").write_text('{"schema_version": 2, "stages": [')
    with pytest.raises(ReportError, match="is not valid JSON"):
        load_report(tmp_path)


def test_show_refuses_a_damaged_or_old_report_in_one_line(harness_cli, sample_plugin):
    assert harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "r1").exit_code == 0
    stored = json.loads(Path("r1/report.json").read_text())
    for name, data in (("old", {**stored, "schema_version": 1}),
                       ("bad", {**stored, "stages": [{**stored["stages"][0], "verdict": 3}]})):
        Path(name).mkdir()
        Path(name, "report.json").write_text(json.dumps(data))
        shown = harness_cli("show", name)
        assert shown.exit_code == 2, shown.output
        assert len(shown.stderr.strip().splitlines()) == 1, shown.stderr
    assert "schema_version is 1" in harness_cli("show", "old").stderr
    assert "report.stages[0].verdict: expected a string, got int" in harness_cli("show", "bad").stderr


def test_the_documented_example_reporter_runs(harness_cli, sample_plugin, tmp_path):
    text = (ROOT / "docs" / "reporters.md").read_text()
    code = re.search(r"```python\n(\"\"\"breaks_csv.*?)```", text, re.S).group(1)
    plugin = tmp_path / "breaks_csv.py"
    plugin.write_text(code)
    ran = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "-p", str(plugin),
                      "--out", "d1", "--format", "breaks_csv")
    assert "first break:" in ran.stdout and "reporter" not in ran.output, ran.output
    rows = Path("d1/breaks.csv").read_text().splitlines()
    assert rows[0] == "stage,check,side,status,breaks,measured,expected,explanation"
    (Path("d1") / "breaks.csv").unlink()
    shown = harness_cli("show", "d1", "-p", sample_plugin, "-p", str(plugin), "--format", "breaks_csv")
    assert shown.exit_code == ran.exit_code and Path("d1/breaks.csv").read_text().splitlines() == rows


def test_an_isolation_record_round_trips_and_a_bad_status_names_the_field():
    from dataclasses import replace

    from harness.report import Isolation

    report = sample_report()
    moved = Isolation("introduced", "B's probe on A's inputs differs", (Comparison("s", "differs", "array", "1/4 differ"),),
                      SideStatus("cached", 0.1, key="k3"))
    report = replace(report, stages=(replace(report.stages[0], isolation=moved), *report.stages[1:]))
    data = json.loads(json.dumps(report.to_json()))
    assert "isolation" not in data["stages"][1]
    assert Report.from_json(data) == report
    data["stages"][0]["isolation"]["status"] = "guessed"
    with pytest.raises(ReportError, match=r"report.stages\[0\].isolation.status: 'guessed' is not one of introduced"):
        Report.from_json(data)
