"""`--data` and `harness export` end to end on sim_lines up to scale (no TensorFlow)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data"
LATER = ("split", "group", "normalize", "scale")


def artifact_hashes(run_dir: str, stage: str) -> dict[str, str]:
    record = json.loads((Path(run_dir) / "a" / f"{stage}.json").read_text())
    return {name: info["sha256"] for name, info in record["artifacts"].items()}


def findings(run_dir: str) -> list[dict]:
    report = json.loads((Path(run_dir) / "report.json").read_text())
    return [finding for stage in report["stages"] for finding in stage["findings"]]


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_a_run_on_its_exported_data_reproduces_the_later_stages(harness_cli, suffix):
    assert harness_cli("run", "sim_lines", "--stage", "scale", "--out", "smoke", "--format", "json").exit_code == 0
    exported = harness_cli("export", "smoke", "--side", "a", "--stage", "simulate", "--to", f"smoke{suffix}")
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith(f"wrote smoke{suffix} (")
    again = harness_cli("run", "sim_lines", "--stage", "scale", "--data", f"smoke{suffix}", "--out", "again",
                        "--format", "json")
    assert again.exit_code == 0, again.output
    for stage in LATER:
        assert artifact_hashes("again", stage) == artifact_hashes("smoke", stage), stage
    for name in ("Y_obj", "s_sim", "diffraction", "exit_energy", "sl_store.simulate"):
        assert artifact_hashes("again", "simulate")[name] == artifact_hashes("smoke", "simulate")[name], name


def test_checks_needing_ground_truth_are_not_applicable_without_an_object(harness_cli):
    result = harness_cli("run", "sim_lines", "--stage", "scale", "--data", FIXTURES / "lines_legacy.npz",
                         "--out", "r", "--format", "json")
    assert result.exit_code == 0, result.output
    reasons = {f["check"]: f["explanation"] for f in findings("r") if f["status"] == "n/a"}
    assert reasons["N-5c"] == "not applicable: no ground truth in lines_legacy.npz"
    assert reasons["N-2"] == "not applicable: the probe comes from lines_legacy.npz, not the scenario"
    manifest = json.loads(Path("r/manifest.json").read_text())
    assert manifest["sides"] == {"a": "sim_lines@data"}
    assert manifest["knobs"]["a"]["data"] == f"file:{FIXTURES / 'lines_legacy.npz'}"


def test_the_cache_keys_a_run_by_the_file_content(harness_cli, tmp_path):
    data = tmp_path / "mine.npz"
    shutil.copy(FIXTURES / "lines.npz", data)
    assert harness_cli("run", "sim_lines", "--stage", "simulate", "--data", data, "--out", "r1").exit_code == 0
    assert harness_cli("run", "sim_lines", "--stage", "simulate", "--data", data, "--out", "r2").exit_code == 0
    key = lambda run: json.loads(Path(run, "a", "simulate.json").read_text())["key"]  # noqa: E731
    assert key("r1") == key("r2")
    shutil.copy(FIXTURES / "lines_legacy.npz", data)  # same path, other bytes
    assert harness_cli("run", "sim_lines", "--stage", "simulate", "--data", data, "--out", "r3").exit_code == 0
    assert key("r3") != key("r1")


def test_a_bad_file_is_refused_with_one_line_before_anything_runs(harness_cli, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = harness_cli("run", "sim_lines", "--data", bad, "--out", "r")
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot read bad.npz as npz: ") and result.output.count("\n") == 1
    assert not Path("r").exists()


def test_data_for_a_pipeline_without_a_converter_is_refused(harness_cli, sample_plugin):
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--data", FIXTURES / "lines.npz")
    assert result.exit_code == 2
    assert result.output == ("error: --data is not supported for pipeline 'wave_a' yet; pipelines that take "
                             "data: dose_legacy, sim_lines\n")


def test_export_refuses_a_stage_before_simulate(harness_cli):
    assert harness_cli("run", "sim_lines", "--stage", "simulate", "--out", "r").exit_code == 0
    result = harness_cli("export", "r", "--stage", "scan", "--to", "x.npz")
    assert result.exit_code == 2
    assert result.output == "error: stage 'scan' has no patterns yet; export simulate or a later stage\n"
    result = harness_cli("export", "r", "--side", "b", "--to", "x.npz")
    assert result.output == "error: r has no side 'b' (a run folder holds a/ and, for a diff, b/)\n"
