"""`harness run dose_legacy --stage scale` end to end through the CLI, its worker process and the store."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.scenarios import SCENARIO_NAMES


def stage_record(run_dir: str, stage: str) -> dict:
    return json.loads((Path(run_dir) / "a" / f"{stage}.json").read_text())


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_cli_runs_every_scenario_to_scale_on_smoke(harness_cli, scenario):
    result = harness_cli("run", "dose_legacy", "--stage", "scale", "--scenario", scenario, "--out", "r")
    assert result.exit_code == 0, result.output
    report = json.loads(Path("r/report.json").read_text())
    assert [entry["sides"]["a"]["status"] for entry in report["stages"]] == ["ok"] * 9
    group = stage_record("r", "group")["artifacts"]
    channels = 4 if scenario.startswith("gs2") else 1
    assert group["diffraction_grouped.train"]["shape"] == [64, 64, 64, channels]
    assert group["diffraction_grouped.infer"]["shape"] == [121, 64, 64, channels]
    assert stage_record("r", "group")["seeds"] == {"shuffle.train": 0}
    assert list(stage_record("r", "simulate")["seeds"]) == ["noise"]
    assert stage_record("r", "object")["seeds"] == {"object.train": 1, "object.test": 2}


def test_cli_runs_the_stable_profile(harness_cli):
    result = harness_cli("run", "dose_legacy", "--stage", "scale", "--profile", "stable", "--out", "s")
    assert result.exit_code == 0, result.output
    group = stage_record("s", "group")["artifacts"]
    assert group["nn_indices.train"]["shape"] == [784, 4] and group["nn_indices.infer"]["shape"] == [1089, 4]
    assert stage_record("s", "scale")["stage_knobs"] == {"era": "study"}


def test_cli_rejects_a_bad_knob_value_with_the_valid_forms(harness_cli):
    result = harness_cli("run", "dose_legacy", "--stage", "probe", "--set", "probe_source=run1084", "--out", "b")
    assert result.exit_code == 2
    assert "custom_synth_v1" in result.output and "file:PATH" in result.output
