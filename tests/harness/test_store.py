"""Artifact store: atomic writes, checksums, value capture and the stage key recipe."""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness import PipelineSpec, StageSpec
from harness.errors import StageContractError
from harness.store import StageFiles, array_sha256, capture_outputs, stage_key


def test_stage_files_round_trip_every_value_kind(tmp_path):
    files = StageFiles(tmp_path, "scale")
    outputs = capture_outputs("scale", ("s", "arr", "cfg", "text", "weights"), {
        "s": np.float32(988.2117919921875),
        "arr": np.arange(6, dtype=np.complex64).reshape(2, 3),
        "cfg": {"N": 64, "gains": [0.5, np.float64(0.25)]},
        "text": "ideal",
        "weights": [np.ones((2, 2), np.float32), np.zeros(3, np.float32)],
    })
    record = files.write(outputs, {"status": "ok", "key": "k"})
    assert files.is_intact(record)
    loaded = files.load(files.read_record())
    assert loaded["s"].dtype == np.float32 and loaded["s"] == np.float32(988.2117919921875)
    np.testing.assert_array_equal(loaded["arr"], outputs["arr"])
    assert loaded["cfg"] == {"N": 64, "gains": [0.5, 0.25]}
    assert loaded["text"] == "ideal"
    assert [w.shape for w in loaded["weights"]] == [(2, 2), (3,)]
    assert record["artifacts"]["arr"]["sha256"] == array_sha256(outputs["arr"])
    assert record["artifacts"]["arr"]["abs"]["max"] == 5.0
    assert not list(tmp_path.glob(".*tmp*")), "no temporary files may be left behind"


def test_truncated_npz_fails_its_checksum(tmp_path):
    files = StageFiles(tmp_path, "probe")
    record = files.write(capture_outputs("probe", ("p",), {"p": np.ones(1000)}), {"status": "ok"})
    data = files.npz.read_bytes()
    files.npz.write_bytes(data[: len(data) // 2])
    assert not files.is_intact(record)


def test_outputs_must_match_the_declared_names():
    with pytest.raises(StageContractError, match=r"stage 'probe': missing outputs \['probe_mask'\]"):
        capture_outputs("probe", ("probe", "probe_mask"), {"probe": np.ones(2)})
    with pytest.raises(StageContractError, match=r"undeclared outputs \['extra'\]"):
        capture_outputs("probe", ("probe",), {"probe": np.ones(2), "extra": 1})
    with pytest.raises(StageContractError, match="expected a mapping"):
        capture_outputs("probe", ("probe",), [1, 2])
    with pytest.raises(StageContractError, match="cannot be stored"):
        capture_outputs("probe", ("probe",), {"probe": object()})


def test_captured_views_are_copied_and_owned_arrays_are_not_duplicated():
    source = np.zeros((3, 3))
    made = np.ones(4)
    captured = capture_outputs("s", ("view", "made"), {"view": source[0], "made": made})
    source[0, 0] = 1.0
    assert captured["view"][0] == 0.0, "a view of state the stage keeps must not change the artifact"
    assert captured["made"] is made, "an array the stage created is stored without a second copy"


def test_captured_arrays_have_the_memory_order_they_are_loaded_in(tmp_path):
    # A transposed result owns its memory but is in neither C nor Fortran order; einsum over it rounds
    # differently than over the C-ordered array the store gives back, so a later stage would get other
    # bits from a cache hit or a replay than in the run that computed it.
    rng = np.random.default_rng(0)
    permuted = rng.random((8, 4, 64, 64), dtype=np.float32).transpose(0, 2, 3, 1).copy(order="K")
    fortran = np.asfortranarray(rng.random((5, 3)))
    outputs = capture_outputs("group", ("permuted", "fortran", "listed"),
                              {"permuted": permuted, "fortran": fortran, "listed": [permuted]})
    files = StageFiles(tmp_path, "group")
    loaded = files.load(files.write(outputs, {"status": "ok"}))
    for name in ("permuted", "fortran"):
        assert outputs[name].strides == loaded[name].strides
    assert outputs["listed"][0].strides == loaded["listed"][0].strides
    assert outputs["fortran"] is fortran
    energy = lambda a: np.einsum("bxyc,bxyc->bc", a, a, dtype=np.float64).mean()  # noqa: E731
    assert energy(outputs["permuted"]).tobytes() == energy(loaded["permuted"]).tobytes()


def test_stage_key_changes_with_each_ingredient_and_ignores_order():
    base = dict(pipeline="p", code="c", scenario="s", profile="smoke", run_seed=42, stage="probe",
                knobs={"a": 1, "b": 2}, upstream={"config": "k1"})
    key = stage_key(**base)
    assert stage_key(**{**base, "knobs": {"b": 2, "a": 1}}) == key
    for change in ({"run_seed": 43}, {"scenario": "t"}, {"knobs": {"a": 1, "b": 3}}, {"upstream": {"config": "k2"}},
                   {"code": "d"}, {"profile": "stable"}):
        assert stage_key(**{**base, **change}) != key


def test_json_records_are_valid_json_with_library_versions(tmp_path):
    files = StageFiles(tmp_path, "config")
    files.write(capture_outputs("config", ("config",), {"config": {"N": 64}}), {"status": "ok"})
    record = json.loads(files.json.read_text())
    assert record["versions"]["numpy"] == np.__version__
    assert record["npz_sha256"] is None and not files.npz.exists()


def test_code_files_cover_the_harness_modules_stages_depend_on():
    from harness.store import code_files

    spec = PipelineSpec(name="p", stages=(StageSpec("config", lambda ctx: {}, outputs=()),))
    names = {path.name for path in code_files(spec) if path.parent.name == "harness"}
    assert {"seeding.py", "context.py", "device.py", "store.py"} <= names


def test_stage_key_changes_with_the_numpy_scipy_and_tensorflow_versions(monkeypatch):
    import harness.store as store

    base = dict(pipeline="p", code="c", scenario="s", profile="smoke", run_seed=42, stage="probe", knobs={}, upstream={})
    installed = store.library_versions_in_key()
    assert set(installed) == {"python", "numpy", "scipy", "tensorflow"} and installed["numpy"] == np.__version__
    key = stage_key(**base)
    for library in ("numpy", "scipy", "tensorflow"):
        monkeypatch.setattr(store, "library_versions_in_key", lambda lib=library: {**installed, lib: "0.0.1"})
        assert stage_key(**base) != key, library


def test_rename_onto_the_same_file_leaves_no_temporary(tmp_path):
    import harness.store as store

    source = StageFiles(tmp_path / "cache", "config")
    source.write(capture_outputs("config", ("config",), {"config": {"N": 64}}), {"status": "ok"})
    target = StageFiles(tmp_path / "run", "config")
    target.link_from(source)
    source.link_from(target)  # the cache entry already is the run's file: nothing to rename, nothing left over
    store._link_atomically(source.json, target.json)  # renaming onto a link of the same file does nothing (POSIX)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["config.json"]
