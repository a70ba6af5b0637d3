"""The custom_synth_v1 generator, its shipped fixture and the probe-file loader (spec 3.2.5, knob X2)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.physics.custom_probe import (
    FIXTURE_JSON,
    FIXTURE_NPZ,
    custom_probe_statistics,
    custom_synth_v1,
    load_probe_file,
    main,
    probe_npz_bytes,
    write_fixture,
)

REL = 1e-4


def test_custom_synth_v1_statistics_at_probe_scale_4():
    stats = custom_probe_statistics(custom_synth_v1())
    raw = stats["raw"]
    assert raw["max"] == pytest.approx(4.1499, rel=REL)
    assert raw["mean"] == pytest.approx(0.32178, rel=REL)
    assert raw["std"] == pytest.approx(0.66015, rel=REL)
    assert raw["l2"] == pytest.approx(47.0015, rel=REL)
    assert raw["masked_mean"] == pytest.approx(0.275075, rel=1e-6)
    ps4 = stats["normalized_ps4"]
    assert ps4["norm_factor"] == pytest.approx(1.100300, rel=1e-6)
    assert ps4["max"] == pytest.approx(3.7716, rel=REL)
    assert ps4["mean"] == pytest.approx(0.29244, rel=REL)
    assert ps4["std"] == pytest.approx(0.59998, rel=REL)
    assert ps4["min"] == pytest.approx(3.19e-5, abs=1e-6)
    assert ps4["l2"] == pytest.approx(42.717, rel=REL)
    assert ps4["energy"] == pytest.approx(1824.7, rel=REL)
    ps10 = stats["normalized_ps10"]
    assert ps10["norm_factor"] == pytest.approx(2.750750, rel=REL)
    assert ps10["max"] == pytest.approx(1.5086, rel=REL)
    assert ps10["l2"] == pytest.approx(17.087, rel=REL)
    assert stats["normalized_ps4_study_era"]["norm_factor"] == pytest.approx(0.537682, rel=1e-5)


def test_custom_synth_v1_shape_statistics():
    stats = custom_probe_statistics(custom_synth_v1())
    assert stats["intensity_centroid_row_col"] == pytest.approx([31.307, 31.600], abs=5e-4)
    assert stats["argmax_row_col"] == [38, 36]
    assert stats["fraction_abs_outside_mask"] == pytest.approx(0.1451, abs=5e-5)
    assert stats["fraction_energy_outside_mask"] == pytest.approx(0.0416, abs=5e-5)
    assert stats["energy_ratio_to_ideal_ps10"] == pytest.approx(4.5525, abs=5e-5)
    assert stats["asymmetry_lr_ud_transpose"] == pytest.approx([0.32, 0.55, 0.30], abs=5e-3)


def test_custom_synth_v1_dtype_and_pupil_peak():
    probe = custom_synth_v1()
    assert probe.dtype == np.complex64 and probe.shape == (64, 64)
    k = np.arange(64) - 32
    r = np.hypot(k[None, :], k[:, None])
    pupil = 0.5 * (np.tanh((r - 0.18 * 23.92) / 4.54) - np.tanh((r - 23.92) / 4.54))
    assert pupil.max() == pytest.approx(0.97376, abs=5e-6)
    assert r.flat[np.argmax(pupil)] == pytest.approx(14.1, abs=0.05)


def test_custom_fixture_regenerates_identical_bytes(tmp_path):
    npz_path, json_path = write_fixture(tmp_path)
    assert npz_path.read_bytes() == FIXTURE_NPZ.read_bytes()
    assert json_path.read_text(encoding="utf-8") == FIXTURE_JSON.read_text(encoding="utf-8")
    assert probe_npz_bytes(custom_synth_v1()) == npz_path.read_bytes()


def test_shipped_fixture_loads_and_matches_sidecar():
    probe = load_probe_file(FIXTURE_NPZ)
    np.testing.assert_array_equal(probe, custom_synth_v1())
    sidecar = json.loads(FIXTURE_JSON.read_text(encoding="utf-8"))
    assert sidecar["key"] == "probeGuess" and sidecar["shape"] == [64, 64] and sidecar["dtype"] == "complex64"
    assert sidecar["statistics"] == custom_probe_statistics(probe)


def test_cli_write_regenerates_fixture(tmp_path, capsys):
    assert main(["--write", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / FIXTURE_NPZ.name).read_bytes() == FIXTURE_NPZ.read_bytes()
    assert str(tmp_path) in capsys.readouterr().out
    assert main([]) == 1


@pytest.mark.parametrize(
    "arrays,message",
    [
        ({"other": np.zeros((64, 64), np.complex64)}, "has no key 'probeGuess'"),
        ({"probeGuess": np.zeros((32, 64), np.complex64)}, "has shape (32, 64)"),
        ({"probeGuess": np.zeros((64, 64), np.float32)}, "expected a complex dtype"),
        ({"probeGuess": np.full((64, 64), np.nan, np.complex64)}, "non-finite"),
    ],
)
def test_load_probe_file_rejects_bad_files(tmp_path, arrays, message):
    path = tmp_path / "probe.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_probe_file(path)


def test_load_probe_file_missing_and_pickled(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_probe_file(tmp_path / "absent.npz")
    path = tmp_path / "pickled.npz"
    np.savez(path, probeGuess=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        load_probe_file(path)


def test_load_probe_file_accepts_complex128(tmp_path):
    path = tmp_path / "probe.npz"
    probe = (np.arange(64 * 64).reshape(64, 64) * (1 + 1j)).astype(np.complex128)
    np.savez(path, probeGuess=probe)
    loaded = load_probe_file(path)
    assert loaded.dtype == np.complex64
    np.testing.assert_allclose(loaded, probe, rtol=1e-7)
