"""A fault planted at one stage of a one-file variant is the first break, at that stage, in its category:
against its base and against the other reference pipeline. These tests start TensorFlow in workers for
the stitch fault; all runs share one stage cache."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main

PLUGIN = Path(__file__).with_name("planted_faults.py")
OTHER = {"sim_lines": "dose_legacy", "dose_legacy": "sim_lines"}
FAULTS = {"probe": ("probe", "normalization"), "simulate": ("simulate", "normalization"),
          "group": ("group", "offsets"), "normalize": ("normalize", "normalization"),
          "scale": ("scale", "normalization"), "infer": ("infer", "amplitude"), "stitch": ("stitch", "offsets")}


@pytest.fixture(scope="module")
def diff(tmp_path_factory) -> Any:
    root = tmp_path_factory.mktemp("planted")
    runner = CliRunner(env={"HARNESS_CACHE_DIR": str(root / "cache"), "HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1"})

    def run(a: str, b: str, stage: str) -> tuple[int, dict[str, Any], str]:
        out = root / f"{a}-{b}-{stage}"
        result = runner.invoke(main, ["diff", "--a", a, "--b", b, "--stage", stage, "-p", str(PLUGIN), "--out", str(out)],
                               catch_exceptions=False)
        return result.exit_code, json.loads((out / "report.json").read_text()), result.output

    return run


@pytest.mark.parametrize("base", ["sim_lines", "dose_legacy"])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("against", ["base", "other"])
def test_a_planted_fault_is_the_first_break_at_its_stage_in_its_category(diff, base, fault, against) -> None:
    stage, category = FAULTS[fault]
    a = base if against == "base" else OTHER[base]
    code, report, output = diff(a, f"{base}__{fault}", stage)
    assert code == 1, output
    first = report["first_break"]
    assert (first["stage"], first["category"]) == (stage, category), (first, output)
    finding = report["categories"][category]
    assert finding["stage"] == stage and finding["side"] in ("b", "cross") and finding["known_break"] is None
    earlier = [e for e in report["stages"] if e["stage"] != stage]
    assert all(e["verdict"] == ("equal" if against == "base" else "expected") for e in earlier), \
        [(e["stage"], e["verdict"]) for e in earlier]


@pytest.mark.parametrize("fault, stage, category, words", [
    ("normalize", "normalize", "normalization", "X.train: B = 2.000000 × A"),
    ("scan", "scan", "offsets", "positions: B = A with x and y swapped"),
])
def test_the_relation_behind_an_undeclared_difference_is_the_explanation(diff, fault, stage, category, words) -> None:
    code, report, output = diff("sim_lines", f"sim_lines__{fault}", stage)
    assert code == 1, output
    first = report["categories"][category]
    assert first["stage"] == stage and first["check"].startswith("relation:"), first
    assert first["explanation"].startswith(words), first["explanation"]


def test_a_variant_is_listed_with_its_base(tmp_path) -> None:
    result = CliRunner(env={"HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "200"}).invoke(
        main, ["list", "pipelines", "-p", str(PLUGIN), "--format", "markdown"], catch_exceptions=False)
    assert "| sim_lines__normalize | sim_lines |" in result.output
    assert "| dose_legacy__stitch | dose_legacy |" in result.output


@pytest.mark.parametrize("pipeline", ["sim_lines", "dose_legacy"])
@pytest.mark.parametrize("seed", ["1", "2", "3"])
def test_a_reference_pipeline_against_itself_has_no_break_on_other_seeds(tmp_path, pipeline, seed) -> None:
    runner = CliRunner(env={"HARNESS_CACHE_DIR": str(tmp_path / "cache"), "HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1"})
    result = runner.invoke(main, ["diff", "--a", pipeline, "--b", pipeline, "--seed", seed, "--stage", "scale",
                                  "--no-cache", "--out", str(tmp_path / "self")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "self" / "report.json").read_text())
    assert report["first_break"] is None and all(e["verdict"] == "equal" for e in report["stages"])
    failing = [f["check"] for e in report["stages"] for f in e["findings"]
               if f["status"] in ("fail", "error") and f["severity"] == "error" and not f["report_only"]]
    assert failing == [], failing
