"""dose_legacy stages probe, object, scan and split against spec 3.2-3.4 and 3.6."""
from __future__ import annotations

import numpy as np
import pytest

from pipelines.physics.custom_probe import FIXTURE_NPZ, probe_npz_bytes

K_IDEAL, K_CUSTOM = 2.125787, 2.046376
REL = 1e-5


@pytest.mark.parametrize("scenario, k, norm_study, norm_tip", [("gs2_ideal", K_IDEAL, 0.431825, 0.917969),
                                                             ("gs1_custom", K_CUSTOM, 0.537682, 1.100300)])
def test_study_era_probe_is_k_times_the_tip_probe(legacy_run, scenario, k, norm_study, norm_tip):
    study, tip = legacy_run(scenario, until="probe"), legacy_run(scenario, until="probe", era="tip")
    np.testing.assert_allclose(study["probe"], k * tip["probe"], rtol=2e-6, atol=1e-12)
    np.testing.assert_array_equal(study["probe_raw"], tip["probe_raw"])
    assert float(study["probe_norm_factor"]) == pytest.approx(norm_study, rel=REL)
    assert float(tip["probe_norm_factor"]) == pytest.approx(norm_tip, rel=REL)


def test_probe_artifacts_have_spec_dtypes_mask_and_source(legacy_run):
    run = legacy_run("gs2_ideal", until="probe")
    assert run["probe"].dtype == run["probe_raw"].dtype == np.complex64 and run["probe"].shape == (64, 64)
    assert run["probe_mask"].dtype == np.bool_ and run["probe_mask"].sum() == 812
    assert run["probe_norm_factor"].dtype == np.float64 and run["probe_source"] == "ideal"
    tip = legacy_run("gs2_ideal", until="probe", era="tip")["probe"]
    assert np.abs(tip * run["probe_mask"]).mean() == pytest.approx(0.1, rel=1e-6)
    assert np.sqrt(np.sum(np.abs(run["probe"]).astype(np.float64) ** 2)) == pytest.approx(42.5592, rel=REL)


def test_coupled_lowpass_reproduces_the_probe_report_artefact(legacy_run):
    run = legacy_run("gs2_ideal", until="probe", era="tip", ideal_probe_lowpass="coupled")
    assert float(run["probe_norm_factor"]) == pytest.approx(0.009766, rel=1e-4)
    assert np.sqrt(np.sum(np.abs(run["probe"]).astype(np.float64) ** 2)) == pytest.approx(102.77, rel=1e-4)


def test_custom_probe_loads_the_fixture_or_a_probe_file(legacy_run, tmp_path):
    fixture = legacy_run("gs2_custom", until="probe")
    assert fixture["probe_source"] == "custom_synth_v1"
    path = tmp_path / "probe.npz"
    path.write_bytes(FIXTURE_NPZ.read_bytes())
    from_file = legacy_run("gs2_custom", until="probe", probe_source=f"file:{path}")
    assert from_file["probe_source"] == f"file:{path}"
    np.testing.assert_array_equal(from_file["probe"], fixture["probe"])
    path.write_bytes(probe_npz_bytes(np.conj(fixture["probe_raw"])))
    other = legacy_run("gs1_custom", until="probe", probe_source=f"file:{path}")
    np.testing.assert_array_equal(other["probe_raw"], np.conj(fixture["probe_raw"]))


def test_objects_are_sequential_seed_1_and_seed_2_images_with_roles(legacy_run):
    run = legacy_run("gs2_ideal", until="object")
    objects = run["object"]
    assert objects.shape == (2, 392, 392) and objects.dtype == np.complex64
    assert run["object_role"].tolist() == ["train", "test"]
    assert objects[0, 0, 0].real == pytest.approx(2.212333, abs=1e-6)
    assert objects[1, 0, 0].real == pytest.approx(1.774285, abs=1e-6)
    assert np.all(objects.imag == 0)
    full = legacy_run("gs2_ideal", profile="full", until="object")
    assert full["object_role"].tolist() == ["train", "train", "test", "test"]
    stats = [(np.abs(image).min(), np.abs(image).max(), np.abs(image).mean()) for image in full["object"]]
    np.testing.assert_allclose(stats, [(0.5648, 4.7775, 2.6561), (0.8396, 4.7613, 2.6787),
                                       (0.7350, 4.9371, 2.7521), (0.9520, 4.8751, 2.8071)], atol=5e-5)


def test_other_run_seed_draws_other_objects(legacy_run):
    assert not np.array_equal(legacy_run("gs2_ideal", until="object", run_seed=43)["object"],
                              legacy_run("gs2_ideal", until="object")["object"])


@pytest.mark.parametrize("scenario, profile, n_train, n_test", [
    ("gs2_ideal", "smoke", 64, 121), ("gs1_ideal", "smoke", 64, 121), ("gs2_ideal", "stable", 784, 1089),
    ("gs2_ideal", "full", 2 * 6724, 2 * 1089), ("gs1_ideal", "full", 2 * 6889, 2 * 1089)])
def test_scan_counts_per_profile(legacy_run, scenario, profile, n_train, n_test):
    run = legacy_run(scenario, profile=profile, until="scan")
    channels = 4 if scenario.startswith("gs2") else 1
    assert run["positions"].shape == ((n_train + n_test) * channels, 2)
    assert run["legacy_region_origin"].shape == (n_train + n_test, 2)


def test_scan_positions_are_crop_centres_train_first_with_image_indices(legacy_run):
    run = legacy_run("gs2_ideal", until="scan")
    positions, image_index, origins = run["positions"], run["image_index"], run["legacy_region_origin"]
    assert positions.dtype == np.float64 and image_index.dtype == origins.dtype == np.int64
    assert image_index.tolist() == [0] * 256 + [1] * 484
    # region 1 of the train image (stride 46): top-left (0, 46); its channels at +4 px steps, [x, y] = corner + 32
    np.testing.assert_array_equal(origins[:2], [[0, 0], [0, 46]])
    np.testing.assert_array_equal(positions[4:8], [[78, 32], [82, 32], [78, 36], [82, 36]])
    np.testing.assert_array_equal(origins[64 + 12], [32, 32])  # test stride 32, 11 regions per row
    assert positions[256:, 1].max() == 10 * 32 + 4 + 32


def test_split_follows_image_roles(legacy_run):
    run = legacy_run("gs1_ideal", until="split")
    np.testing.assert_array_equal(run["train_idx"], np.arange(64))
    np.testing.assert_array_equal(run["test_idx"], np.arange(64, 185))
    assert run["train_idx"].dtype == run["test_idx"].dtype == np.int64

