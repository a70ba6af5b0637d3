"""sim_lines stages config..scale reproduce the spec's numbers (sections 3.1-3.9, 4.2, 5.2, 9)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def mean_energy(x: np.ndarray) -> float:
    """Mean over patterns (and channels of a grouped array) of the summed squared amplitude."""
    return float(np.mean(np.sum(x.astype(np.float64) ** 2, axis=(1, 2))))


@pytest.mark.parametrize("scenario, n, e_all, s_sim, e_train, e_test", [
    ("gs1_ideal", 512, 3108.08, 567.22, 3208.30, 3007.86),
    ("gs2_ideal", 1024, 3192.00, 559.72, 3388.03, 2995.98),
    ("gs1_custom", 512, 14222.9, 265.16, 14670.9, 13775.0),
    ("gs2_custom", 1024, 14500.3, 262.61, 15330.3, 13670.2),
])
def test_smoke_simulation_exit_energies_and_photon_scale(harness_run, scenario, n, e_all, s_sim, e_train, e_test):
    run = harness_run("sim_lines", scenario, stage="split")
    energy = run["exit_energy"]
    assert energy.shape == (n,)
    assert np.isclose(energy.mean(), e_all, rtol=1e-4)
    assert np.isclose(float(run["s_sim"]), s_sim, rtol=1e-4)
    assert np.isclose(energy[run["train_idx"]].mean(), e_train, rtol=1e-4)
    assert np.isclose(energy[run["test_idx"]].mean(), e_test, rtol=1e-4)
    photons = float(run["s_sim"]) ** 2 * mean_energy(run["diffraction"]) / 1e9
    assert abs(photons - 1) < 1e-3


def test_positions_first_draws_and_split_ranges_at_512(harness_run):
    run = harness_run("sim_lines", "gs1_ideal", stage="split")
    positions = run["positions"]
    np.testing.assert_allclose(positions[:3, 0], [149.3289, 363.6657, 282.3017], atol=5e-5)
    np.testing.assert_allclose(positions[:3, 1], [356.9750, 332.1758, 26.8213], atol=5e-5)
    train_y, test_y = positions[run["train_idx"], 1], positions[run["test_idx"], 1]
    assert len(train_y) == len(test_y) == 256
    assert train_y.max() <= test_y.min()
    np.testing.assert_allclose([train_y.min(), train_y.max(), test_y.min(), test_y.max()],
                               [11.72, 186.31, 187.09, 381.89], atol=5e-3)
    assert np.all(np.diff(train_y) >= 0), "within a split the order is ascending y"


def test_group_shapes_zero_mean_and_sign(harness_run):
    run = harness_run("sim_lines", "gs2_ideal", stage="group")
    for split in ("train", "infer"):
        assert run[f"diffraction_grouped.{split}"].shape == (64, 64, 64, 4)
        assert run[f"Y_obj_grouped.{split}"].dtype == np.complex64
        assert run[f"coords_relative.{split}"].shape == (64, 1, 2, 4)
        assert run[f"nn_indices.{split}"].dtype == np.int64
        relative = run[f"coords_relative.{split}"]
        assert np.abs(relative.mean(axis=3)).max() < 1e-9
        np.testing.assert_allclose(relative, run[f"coords_offsets.{split}"] - run[f"coords_nn.{split}"], atol=1e-12)
    diffraction, train_idx = run["diffraction"], run["train_idx"]
    nn = run["nn_indices.train"]
    np.testing.assert_array_equal(run["diffraction_grouped.train"][5, :, :, 2], diffraction[train_idx][nn[5, 2]])
    assert run["config_trace.group"] == []
    flipped = harness_run("sim_lines", "gs2_ideal", stage="group", knobs={"local_offset_sign": "+1"})
    np.testing.assert_allclose(flipped["coords_relative.train"],
                               flipped["coords_nn.train"] - flipped["coords_offsets.train"], atol=1e-12)
    assert np.abs(flipped["coords_relative.train"]).max() > 1


def test_grouping_errors_are_the_originals_messages(harness_run):
    run = harness_run("sim_lines", "gs2_custom", stage="normalize", knobs={"neighbor_count": "1"})
    assert run.stages["group"]["status"] == "error"
    assert "K=1 must be >= C=4 (need at least C neighbors to form a group)" in run.error("group")
    assert run.stages["normalize"]["status"] == "skipped"


def test_normalize_target_1024_and_gains(harness_run):
    run = harness_run("sim_lines", "gs1_ideal", profile="stable", stage="scale")
    for split in ("train", "infer"):
        x = run[f"X.{split}"]
        assert x.dtype == np.float32
        assert np.isclose(mean_energy(x), 1024.0, rtol=1e-4)
        raw = run[f"diffraction_grouped.{split}"]
        assert np.isclose(float(run[f"gain.{split}"]), 32 / np.sqrt(mean_energy(raw)), rtol=1e-9)
    assert np.isclose(float(run["gain.train"]), 0.5650, atol=5e-5)
    assert run["config_trace.normalize"] == [["normalize", "N", 64], ["normalize", "nphotons", 1e9]]


def test_closed_form_scale_and_bookkeeping_gs1_stable(harness_run):
    run = harness_run("sim_lines", "gs1_ideal", profile="stable", stage="scale")
    assert run["intensity_scale"].dtype == np.float32 and float(run["intensity_scale"]) == 988.2117919921875
    assert np.float32(np.exp(run["log_scale_init"])) == np.float32(988.211669921875)
    assert abs(float(run["count_ratio_nominal"]) - 1) < 1e-6
    assert np.isclose(float(run["count_ratio_true"]), 0.9688, atol=1e-4)
    assert np.isclose(float(run["expected_scale"]), float(run["gain.infer"]), rtol=2e-7)  # s_m / exp(L) = 1 + 1.2e-7
    assert 0.55 < float(run["expected_scale"]) < 0.60


def test_dataset_raw_scale_reproduces_d4f_for_gs1_and_sums_channels_for_gs2(harness_run):
    gs1 = harness_run("sim_lines", "gs1_ideal", profile="stable", stage="scale", knobs={"intensity_scale": "dataset_raw"})
    assert np.isclose(float(gs1["intensity_scale"]), 558.29, atol=0.01)
    assert np.isclose(float(gs1["count_ratio_nominal"]), 1024 / 3208.30, rtol=1e-4)
    raw = harness_run("sim_lines", "gs2_ideal", stage="scale", knobs={"intensity_scale": "dataset_raw"})
    per_pattern = harness_run("sim_lines", "gs2_ideal", stage="scale", knobs={"intensity_scale": "dataset_raw_pp"})
    assert np.isclose(float(raw["intensity_scale"]) * 2, float(per_pattern["intensity_scale"]), rtol=1e-6)
    assert 0.07 < float(raw["count_ratio_nominal"]) < 0.085
    assert np.isclose(float(raw["expected_scale"]), float(per_pattern["expected_scale"]), rtol=1e-12)


def test_config_bridge_off_leaves_stale_probe_values_for_ideal_scenarios(harness_run):
    on = harness_run("sim_lines", "gs2_ideal", stage="scale")
    off = harness_run("sim_lines", "gs2_ideal", stage="scale", knobs={"config_bridge": "off"})
    assert off["sl_store.group"]["probe_scale"] == 4.0 and off["sl_store.group"]["probe.big"] is True
    assert off["config_trace.scale"] == on["config_trace.scale"], "the original's scale stage reads only N and nphotons"
    assert np.isclose(float(off["expected_scale"]), 0.4 * float(on["expected_scale"]), rtol=1e-12)
    all_off = harness_run("sim_lines", "gs2_ideal", stage="group", knobs={"config_bridge": "off_all"})
    assert all_off["diffraction_grouped.train"].shape == (64, 64, 64, 1)
    assert all_off["config_trace.group"] == [["group", "gridsize", 1]]
    custom = harness_run("sim_lines", "gs2_custom", stage="scale", knobs={"config_bridge": "off"})
    assert custom["sl_store.group"]["probe_scale"] == 4.0


def test_normalize_nphotons_applies_the_photon_scale_twice(harness_run):
    run = harness_run("sim_lines", "gs2_ideal", stage="scale", knobs={"normalize": "nphotons"})
    assert np.isclose(mean_energy(run["X.train"]), 1e9, rtol=1e-4)
    assert np.isclose(float(run["count_ratio_nominal"]), 1e9 / 1024 * 1.0, rtol=1e-3)


def test_canvas_c1_grows_the_jitter_to_hold_global_offsets(harness_run):
    run = harness_run("sim_lines", "gs2_ideal", stage="group", knobs={"canvas": "c1"})
    offsets = np.abs(run["coords_offsets.train"]).max()
    required = int(np.ceil(64 + 2 * offsets))
    required += (required - 64) % 2
    assert run["sl_store.group"]["max_position_jitter"] == required - 68
    assert run["sl_store.group"]["max_position_jitter"] > 700


def test_every_stage_is_bitwise_reproducible_for_a_seed(harness_run):
    def hashes(run):
        out = {}
        for path in sorted((run.run_dir / "a").glob("*.json")):
            record = json.loads(path.read_text())
            out.update({f"{record['stage']}/{k}": v["sha256"] for k, v in record.get("artifacts", {}).items()})
        return out

    first = hashes(harness_run("sim_lines", "gs2_custom", stage="scale"))
    second = hashes(harness_run("sim_lines", "gs2_custom", stage="scale"))
    assert first == second and len(first) > 30
    other = hashes(harness_run("sim_lines", "gs2_custom", stage="scale", seed=7))
    assert other["simulate/diffraction"] != first["simulate/diffraction"]
    assert other["probe/probe"] == first["probe/probe"]


def test_custom_probe_knob_reads_a_user_file(harness_run, tmp_path):
    probe = np.load(Path(__file__).parents[3] / "fixtures" / "probes" / "custom_synth_v1.npz")["probeGuess"]
    path = tmp_path / "my_probe.npz"
    np.savez(path, probeGuess=probe * 2)
    run = harness_run("sim_lines", "gs1_custom", stage="probe", knobs={"probe_source": f"file:{path}"})
    np.testing.assert_array_equal(run["probe_raw"], probe * 2)
    assert np.isclose(float(run["probe_norm_factor"]), 2 * 1.100300, rtol=1e-5)
    missing = harness_run("sim_lines", "gs1_custom", stage="probe", knobs={"probe_source": "file:/nope.npz"})
    assert "knob probe_source: probe file /nope.npz does not exist" in missing.error("probe")
