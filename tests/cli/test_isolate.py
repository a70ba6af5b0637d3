"""`harness diff --isolate` re-runs B's stage on A's inputs and says where each difference comes from:
introduced, inherited, compensating (two sign errors that cancel), or not applicable with the reason;
the transplanted runs are cached like stages."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.report import load_report

PLUGIN = Path(__file__).with_name("isolate_plugin.py")
PLANTED = Path(__file__).with_name("planted_faults.py")


@pytest.fixture
def diff(tmp_path: Path) -> Any:
    runner = CliRunner(env={"HARNESS_CACHE_DIR": str(tmp_path / "cache"), "HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1"})

    def run(a: str, b: str, *extra: str, out: str = "run", plugin: Path = PLUGIN) -> tuple[dict[str, Any], str]:
        folder = tmp_path / out
        result = runner.invoke(main, ["diff", "--a", a, "--b", b, "-p", str(plugin), "--out", str(folder), "--isolate",
                                      *extra], catch_exceptions=False)
        assert result.exit_code == 1, result.output
        return json.loads((folder / "report.json").read_text()), result.output

    return run


def isolation(report: dict[str, Any]) -> dict[str, str]:
    return {entry["stage"]: entry["isolation"]["status"] for entry in report["stages"] if entry.get("isolation")}


def test_two_cancelling_sign_errors_are_introduced_inherited_and_compensating(diff) -> None:
    report, output = diff("chain", "chain__compensated")
    assert isolation(report) == {"probe": "introduced", "simulate": "inherited", "group": "inherited",
                                 "normalize": "compensating"}
    normalize = next(e for e in report["stages"] if e["stage"] == "normalize")
    assert normalize["verdict"] == "equal"
    assert "X: B = -A" in normalize["isolation"]["reason"] and "introduced at probe" in normalize["isolation"]["reason"]
    assert [c["status"] for c in normalize["isolation"]["comparisons"]] == ["differs"]
    assert "normalize: compensating" in output


def test_a_single_sign_error_is_introduced_once_and_inherited_after(diff, tmp_path) -> None:
    report, _ = diff("chain", "chain__flip")
    assert isolation(report) == {"probe": "introduced", "simulate": "inherited", "group": "inherited",
                                 "normalize": "inherited", "scale": "inherited"}
    assert all("comes from probe" in e["isolation"]["reason"] for e in report["stages"][2:])
    assert sorted(p.name for p in (tmp_path / "run" / "isolate").glob("*.json")) == \
        ["group.json", "normalize.json", "scale.json", "simulate.json"]


def test_a_transplant_whose_input_b_renamed_is_not_applicable_and_says_why(diff) -> None:
    report, _ = diff("chain", "chain__renamed")
    group = next(e for e in report["stages"] if e["stage"] == "group")
    assert group["isolation"]["status"] == "not_applicable"
    assert group["isolation"]["reason"] == "input 'trace' of B's group is not produced upstream on side A"
    assert isolation(report) == {"group": "not_applicable"}


def test_a_rerun_serves_every_transplant_from_the_stage_cache(diff, tmp_path) -> None:
    first, _ = diff("chain", "chain__compensated", out="first")
    second, _ = diff("chain", "chain__compensated", out="second")
    transplants = {e["stage"]: e["isolation"]["transplant"] for e in second["stages"]
                   if e.get("isolation", {}).get("transplant")}
    assert set(transplants) == {"simulate", "group", "normalize"}
    assert {t["status"] for t in transplants.values()} == {"cached"}
    assert {e["stage"]: e["isolation"]["transplant"]["key"] for e in first["stages"]
            if e.get("isolation", {}).get("transplant")} == {s: t["key"] for s, t in transplants.items()}
    assert isolation(second) == isolation(first)


def test_the_isolation_record_survives_report_json_and_show(diff, tmp_path) -> None:
    diff("chain", "chain__compensated")
    report = load_report(tmp_path / "run")
    assert report.stage("normalize").isolation.status == "compensating"
    assert report.stage("config").isolation is None
    shown = CliRunner(env={"HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1"}).invoke(
        main, ["show", str(tmp_path / "run"), "--format", "markdown"], catch_exceptions=False)
    markdown = (tmp_path / "run" / "report.md").read_text()
    assert shown.exit_code in (0, 1) and "- group: inherited: " in markdown


def test_a_doubled_normalize_gain_is_introduced_at_normalize_and_inherited_by_scale(diff) -> None:
    report, _ = diff("sim_lines", "sim_lines__normalize", "--stage", "scale", plugin=PLANTED)
    found = isolation(report)
    assert found["normalize"] == "introduced" and found.get("scale") == "inherited", found
    assert set(found) == {"normalize", "scale"}
    assert "X.train: B = 2.000000 × A" in next(e for e in report["stages"] if e["stage"] == "normalize")["isolation"]["reason"]
