"""`--data` for dose_legacy: the file's patterns in the legacy conventions, beside sim_lines on the same patterns."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.data.formats import read_dataset, write_dataset
from harness.store import StageFiles
from pipelines.physics.forward import exit_energy, photon_scale
from pipelines.physics.normalization import legacy_object_norm
from pipelines.physics.patches import integer_crops
from pipelines.physics.probe import normalize_probe_study_era, probe_mask
from pipelines.scenarios import scenario

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data"
LATER = ("split", "group", "normalize", "scale")


def stored(run: str, side: str, stage: str, *names: str) -> dict[str, Any]:
    files = StageFiles(Path(run) / side, stage)
    return files.load(files.read_record(), names)


def report(run: str) -> dict[str, Any]:
    return json.loads((Path(run) / "report.json").read_text())


def findings(run: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["side"], f["check"]): f for stage in report(run)["stages"] for f in stage["findings"]}


def artifact_hashes(run: str, stage: str) -> dict[str, str]:
    record = json.loads((Path(run) / "a" / f"{stage}.json").read_text())
    return {name: info["sha256"] for name, info in record["artifacts"].items()}


def test_both_pipelines_read_the_same_patterns_in_their_own_conventions(harness_cli):
    data = read_dataset(FIXTURES / "lines.npz")
    result = harness_cli("diff", "--a", "dose_legacy", "--b", "sim_lines", "--data", FIXTURES / "lines.npz",
                         "--stage", "scale", "--out", "d", "--format", "json")
    assert result.exit_code == 1, result.output  # breaks, none an error: see the findings below
    assert all(info["status"] == "ok" for stage in report("d")["stages"] for info in stage["sides"].values())
    manifest = json.loads(Path("d/manifest.json").read_text())
    assert manifest["sides"] == {"a": "dose_legacy@data", "b": "sim_lines@data"}
    assert (manifest["knobs"]["a"]["grouping"], manifest["knobs"]["a"]["stitch"]) == ("nongrid_legacy", "position")

    split_b = stored("d", "b", "split", "train_idx", "test_idx")
    order = np.concatenate([split_b["train_idx"], split_b["test_idx"]])  # sim_lines' train half, then test half
    scan = stored("d", "a", "scan", "positions", "image_index")
    np.testing.assert_array_equal(scan["positions"], data.positions[order])
    np.testing.assert_array_equal(scan["image_index"], np.repeat([0, 1], [split_b["train_idx"].size,
                                                                          split_b["test_idx"].size]))
    split_a = stored("d", "a", "split", "train_idx", "test_idx")
    np.testing.assert_array_equal(order[split_a["test_idx"]], split_b["test_idx"])  # the same region reconstructed
    obj = stored("d", "a", "object", "object", "object_role")
    assert obj["object_role"].tolist() == ["train", "test"]
    np.testing.assert_array_equal(obj["object"], np.stack([data.object, data.object]).astype(np.complex64))

    sim = stored("d", "a", "simulate", "s_sim", "object_norm", "diffraction", "exit_energy")
    config = stored("d", "a", "config", "config")["config"]
    probe, _ = normalize_probe_study_era(data.probe, scenario("gs2_ideal").probe_scale, probe_mask(64))
    train = data.positions[split_b["train_idx"]]
    crops = integer_crops(data.object[None], np.zeros(len(train), dtype=np.int64),
                          np.rint(train[:, ::-1] - 32).astype(np.int64))
    norm = legacy_object_norm(crops, 1)
    np.testing.assert_array_equal(sim["object_norm"], [norm, norm])  # one scale: the file's test patterns share it
    s_sim = photon_scale(config["nphotons"], float(exit_energy(crops / norm, probe).mean()))
    assert float(sim["s_sim"]) == pytest.approx(s_sim, rel=1e-12)
    np.testing.assert_array_equal(sim["diffraction"], (data.amplitude[order] / float(sim["s_sim"])).astype(np.float32))
    assert config["data_source"] == "file:lines.npz" and config["data_sha256"] == data.sha256
    assert (config["nimgs_train"], config["nimgs_test"], config["size"]) == (1, 1, 128)

    found = findings("d")
    assert found[("a", "O-2")]["known_break"] == "known break of dose_legacy@data grouping=nongrid_legacy"
    assert found[("a", "O-4@scan")]["explanation"] == ("not applicable: the positions come from lines.npz, "
                                                        "not the scenario's scan")
    assert found[("a", "N-6t")]["explanation"] == ("not applicable: the counts of lines.npz are measured, "
                                                    "not simulated from the dose")
    assert stored("d", "a", "normalize", "gain.train")["gain.train"] == 1.0  # the legacy identity


def test_without_ground_truth_the_patterns_stay_sqrt_counts(harness_cli):
    data = read_dataset(FIXTURES / "lines_legacy.npz")
    result = harness_cli("run", "dose_legacy", "--data", FIXTURES / "lines_legacy.npz", "--stage", "scale",
                         "--out", "r", "--format", "json")
    assert result.exit_code == 1, result.output  # the known break of the legacy KD-tree grouping only
    breaks = {(f["check"], f["known_break"]) for f in findings("r").values() if f["status"] == "fail"}
    assert breaks == {(check, "known break of dose_legacy@data grouping=nongrid_legacy") for check in ("O-2", "O-3")}
    reasons = {check: f["explanation"] for (_, check), f in findings("r").items() if f["status"] == "n/a"}
    for check in ("N-6", "N-8", "N-9"):
        assert reasons[check] == "not applicable: no ground truth in lines_legacy.npz", check
    sim = stored("r", "a", "simulate", "s_sim", "object_norm", "diffraction")
    assert float(sim["s_sim"]) == 1.0
    np.testing.assert_array_equal(sim["object_norm"], [1.0, 1.0])
    positions = stored("r", "a", "scan", "positions")["positions"]
    order = [int(np.flatnonzero((data.positions == p).all(axis=1))[0]) for p in positions]
    np.testing.assert_array_equal(sim["diffraction"], data.amplitude[order].astype(np.float32))


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_a_data_run_on_its_exported_data_reproduces_the_later_stages(harness_cli, suffix):
    args = ("--stage", "scale", "--format", "json")
    assert harness_cli("run", "dose_legacy", "--data", FIXTURES / "lines.npz", "--out", "r", *args).exit_code == 1
    exported = harness_cli("export", "r", "--to", f"r{suffix}")
    assert exported.output.startswith(f"wrote r{suffix} ({'npz' if suffix == '.npz' else 'hdf5'}, 60 patterns)")
    assert harness_cli("run", "dose_legacy", "--data", f"r{suffix}", "--out", "again", *args).exit_code == 1
    for stage in ("object", "scan", "simulate", "split", "group", "scale"):
        assert artifact_hashes("again", stage) == artifact_hashes("r", stage), stage


def test_a_simulated_run_exports_its_test_image(harness_cli):
    assert harness_cli("run", "dose_legacy", "--stage", "simulate", "--out", "sim").exit_code == 0
    exported = harness_cli("export", "sim", "--to", "test.npz")
    assert exported.exit_code == 0, exported.output
    assert exported.output == ("wrote test.npz (npz, 484 patterns); only the patterns of object image 1, the one "
                               "reconstructed (1 other images hold other objects)\n")
    written = read_dataset("test.npz")
    obj = stored("sim", "a", "object", "object")["object"]
    scan = stored("sim", "a", "scan", "positions", "image_index")
    sim = stored("sim", "a", "simulate", "diffraction", "s_sim")
    test = scan["image_index"] == 1
    np.testing.assert_array_equal(written.object, obj[1])
    np.testing.assert_array_equal(written.positions, scan["positions"][test])
    np.testing.assert_array_equal(written.amplitude, sim["diffraction"][test].astype(np.float64) * float(sim["s_sim"]))
    assert harness_cli("run", "dose_legacy", "--data", "test.npz", "--stage", "simulate", "--out", "back").exit_code == 1


def test_knobs_that_need_a_grid_and_patches_outside_the_object_are_refused(harness_cli, tmp_path):
    result = harness_cli("run", "dose_legacy", "--data", FIXTURES / "lines.npz", "--set", "grouping=grid", "--out", "r")
    assert (result.exit_code, result.output) == (2, "error: invalid value 'grid' for knob 'grouping'; valid values: "
                                                    "nongrid_legacy\n")
    data = read_dataset(FIXTURES / "lines.npz")
    positions = data.positions.copy()
    positions[:3, 0] = 20.0
    write_dataset(tmp_path / "edge.npz", "auto", probe=data.probe, positions=positions, amplitude=data.amplitude,
                  obj=data.object, nphotons=1e9)
    result = harness_cli("diff", "--a", "dose_legacy", "--b", "sim_lines", "--data", "edge.npz", "--out", "d")
    assert (result.exit_code, result.output) == (2, "error: cannot use edge.npz: positions: 3 of 60 patterns reach "
                                                    "outside the 128x128 object; dose_legacy cuts every 64x64 patch "
                                                    "from inside it\n")
    assert not Path("r").exists() and not Path("d").exists()
