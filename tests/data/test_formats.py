"""Data files in: NPZ and HDF5 read back what was written, the legacy layout is converted, bad files are refused."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from harness.data.dataset import DataError
from harness.data.formats import read_dataset, write_dataset

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "data"


@pytest.fixture(scope="module")
def reference():
    return read_dataset(FIXTURES / "lines.npz")


def rewrite_npz(path: Path, **changes) -> Path:
    """A copy of the NPZ fixture with entries replaced (None removes one)."""
    with np.load(FIXTURES / "lines.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays.update(changes)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_round_trip_gives_back_the_same_arrays(tmp_path, reference, suffix):
    target = tmp_path / f"copy{suffix}"
    written = write_dataset(target, "auto", probe=reference.probe, positions=reference.positions,
                            amplitude=reference.amplitude, obj=reference.object, nphotons=1e9)
    back = read_dataset(target)
    assert written == back.format == {".npz": "npz", ".h5": "hdf5"}[suffix]
    np.testing.assert_array_equal(back.positions, reference.positions)
    np.testing.assert_array_equal(back.probe, reference.probe)
    np.testing.assert_array_equal(back.object, reference.object)
    # what a pipeline stores: float32 amplitudes over the photon scale, identical bit for bit
    np.testing.assert_array_equal((back.amplitude / 3.7).astype(np.float32), (reference.amplitude / 3.7).astype(np.float32))
    assert back.nphotons == 1e9 and back.notes == ()


def test_hdf5_fixture_holds_the_npz_fixture_data(reference):
    h5 = read_dataset(FIXTURES / "lines.h5")
    np.testing.assert_array_equal(h5.positions, reference.positions)
    np.testing.assert_allclose(h5.amplitude, reference.amplitude, rtol=1e-15)


def test_legacy_axis_order_and_pickled_entries_are_converted_and_reported(reference):
    legacy = read_dataset(FIXTURES / "lines_legacy.npz")
    assert legacy.amplitude.shape == (60, 64, 64) and legacy.count == 60
    np.testing.assert_array_equal(legacy.amplitude, reference.amplitude.astype(np.float32))
    assert "skipped pickled entry objectGuess" in legacy.notes
    assert "skipped pickled entry _metadata" in legacy.notes
    assert any("positions read from xcoords_start" in note for note in legacy.notes)
    assert not legacy.has_ground_truth


def test_legacy_axis_order_is_detected_when_the_count_differs_from_the_size(tmp_path, reference):
    stack = np.moveaxis(reference.amplitude[:40], 0, -1)
    path = rewrite_npz(tmp_path / "hwn.npz", diff3d=stack, xcoords=reference.positions[:40, 0],
                       ycoords=reference.positions[:40, 1], xcoords_start=None, ycoords_start=None)
    data = read_dataset(path)
    assert data.amplitude.shape == (40, 64, 64)
    np.testing.assert_array_equal(data.amplitude, reference.amplitude[:40])
    assert data.notes == ("diff3d stored as (H, W, n) = (64, 64, 40) (legacy axis order); converted to (n, H, W)",)


def test_negative_counts_are_refused(tmp_path, reference):
    amplitude = reference.amplitude.copy()
    amplitude[3, 0, 0] = -0.5
    with pytest.raises(DataError, match=r"^cannot use neg.npz: diff3d: 1 negative values \(min -0.5\): counts cannot be negative$"):
        read_dataset(rewrite_npz(tmp_path / "neg.npz", diff3d=amplitude))


def test_non_finite_counts_are_refused(tmp_path, reference):
    amplitude = reference.amplitude.copy()
    amplitude[0, :2, 0] = np.nan
    with pytest.raises(DataError, match=r"^cannot use nan.npz: diff3d: 2 non-finite values \(NaN or inf\)$"):
        read_dataset(rewrite_npz(tmp_path / "nan.npz", diff3d=amplitude))


def test_positions_and_patterns_of_different_lengths_are_refused(tmp_path, reference):
    path = rewrite_npz(tmp_path / "short.npz", xcoords=reference.positions[:50, 0], ycoords=reference.positions[:50, 1])
    with pytest.raises(DataError, match=r"^cannot use short.npz: xcoords: 50 positions but 60 patterns in diff3d: "
                                        r"the lengths must be equal$"):
        read_dataset(path)


def test_a_probe_of_the_wrong_size_is_refused(tmp_path):
    path = rewrite_npz(tmp_path / "probe.npz", probeGuess=np.ones((32, 32), np.complex64))
    with pytest.raises(DataError, match=r"^cannot use probe.npz: probeGuess: probe of shape \(32, 32\) does not "
                                        r"match the 64x64 patterns$"):
        read_dataset(path)


def test_missing_keys_are_refused_with_the_keys_found(tmp_path):
    path = rewrite_npz(tmp_path / "nodiff.npz", diff3d=None)
    with pytest.raises(DataError, match=r"^cannot use nodiff.npz: diffraction: no diff3d or diffraction key; found keys: "
                                        r"nphotons, objectGuess, probeGuess, scan_index, xcoords, xcoords_start, "
                                        r"ycoords, ycoords_start$"):
        read_dataset(path)


def test_hdf5_refusals_name_the_dataset(tmp_path, reference):
    import h5py

    path = tmp_path / "bad.h5"
    write_dataset(path, "auto", probe=reference.probe, positions=reference.positions,
                  amplitude=reference.amplitude, obj=None, nphotons=1e9)
    with h5py.File(path, "r+") as handle:
        handle["dp"][0, 0, 0] = -4.0
    with pytest.raises(DataError, match=r"^cannot use bad.h5: dp: 1 negative counts \(min -4\)$"):
        read_dataset(path)
    with h5py.File(path, "r+") as handle:
        del handle["dp"]
    with pytest.raises(DataError, match=r"^cannot use bad.h5: dp: missing; found datasets: probe, "
                                        r"probe_position_indexes, probe_position_x_m, probe_position_y_m$"):
        read_dataset(path)


def test_a_file_of_neither_format_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(DataError, match=r"^cannot tell the format of notes.txt: neither NPZ nor HDF5"):
        read_dataset(path)
