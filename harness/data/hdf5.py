"""ptychodus's HDF5 product layout plus the patterns, in one file.

Product datasets (ptychodus field names): `probe` (modes..., N, N) complex with attributes
`pixel_width_m`, `pixel_height_m`; `probe_position_indexes` (n,); `probe_position_x_m`,
`probe_position_y_m` (n,) in metres; `object` (layers..., H, W) complex with `center_x_m`,
`center_y_m`, `pixel_width_m`, `pixel_height_m`; root attribute `probe_photon_count` (the dose).
Products carry no patterns: as in the pty-chi file pair, they are `dp` (n, N, N) counts. A position
in pixels is (x_m - origin_m) / pixel_m with origin_m = center_m - W/2 * pixel_m (the object's
pixel 0); with no object, origin_m = 0.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.dataset import Dataset, pattern_stack, refuse, validated
from harness.store import file_sha256, temporary_name

EXPORT_PIXEL_M = 2.0**-27
"""Pixel size written on export (~7.45 nm): the harness has no physical scale, and a power of two makes
metres-to-pixels exact, so the round trip is bit for bit."""
REQUIRED = ("dp", "probe", "probe_position_x_m", "probe_position_y_m")


def _h5py() -> Any:
    import h5py  # imported on use: only HDF5 files need it

    return h5py


def read(path: Path) -> Dataset:
    """The file as a validated Dataset; a missing dataset lists the ones found."""
    with _h5py().File(path, "r") as handle:
        found = sorted(handle.keys())
        missing = [name for name in REQUIRED if name not in handle]
        if missing:
            raise refuse(path, missing[0], f"missing; found datasets: {', '.join(found) or '(none)'}")
        notes: list[str] = []
        x_m = np.asarray(handle["probe_position_x_m"][()], dtype=np.float64).reshape(-1)
        y_m = np.asarray(handle["probe_position_y_m"][()], dtype=np.float64).reshape(-1)
        if x_m.shape != y_m.shape:
            raise refuse(path, "probe_position_y_m", f"{y_m.size} values but probe_position_x_m has {x_m.size}")
        probe = _first_mode(np.asarray(handle["probe"][()]), notes, "probe")
        obj, origin, pixel = _object_frame(path, handle, notes)
        if pixel is None:
            pixel = _pixel_size(path, handle["probe"], "probe")
        positions = np.stack([(x_m - origin[0]) / pixel[0], (y_m - origin[1]) / pixel[1]], axis=1)
        counts, note = pattern_stack(path, "dp", np.asarray(handle["dp"][()]), len(positions))
        nphotons = handle.attrs.get("probe_photon_count")
    notes.extend([note] if note else [])
    counts = np.asarray(counts, dtype=np.float64)
    if counts.size and float(counts.min()) < 0:
        raise refuse(path, "dp", f"{int(np.count_nonzero(counts < 0))} negative counts (min {float(counts.min()):.4g})")
    amplitude = np.sqrt(counts)
    validated(path, {"probe": "probe", "positions": "probe_position_x_m", "diffraction": "dp", "object": "object"},
              probe, positions, amplitude, obj)
    return Dataset(probe=probe, positions=positions, amplitude=amplitude, object=obj,
                   nphotons=None if nphotons is None else float(nphotons), source=str(path), sha256=file_sha256(path),
                   format="hdf5", notes=tuple(notes))


def _first_mode(array: np.ndarray, notes: list[str], field: str) -> np.ndarray:
    """The (H, W) image of a (..., H, W) stack of modes or layers; more than one is reported."""
    if array.ndim > 2:
        stacked = int(np.prod(array.shape[:-2]))
        if stacked > 1:
            notes.append(f"{field}: used the first of {stacked} modes/layers")
        array = array.reshape(-1, *array.shape[-2:])[0]
    return array.astype(np.complex64)


def _pixel_size(path: Path, dataset: Any, field: str) -> tuple[float, float]:
    try:
        return float(dataset.attrs["pixel_width_m"]), float(dataset.attrs["pixel_height_m"])
    except KeyError as exc:
        raise refuse(path, f"{field} attribute {exc.args[0]}", "missing; it converts metres to pixels") from None


def _object_frame(path: Path, handle: Any, notes: list[str]) -> tuple[np.ndarray | None, tuple[float, float], tuple[float, float] | None]:
    """The object (ground truth), the metres of its pixel 0 and its pixel size; no object: origin 0."""
    if "object" not in handle:
        return None, (0.0, 0.0), None
    dataset = handle["object"]
    obj = _first_mode(np.asarray(dataset[()]), notes, "object")
    pixel = _pixel_size(path, dataset, "object")
    center = (float(dataset.attrs.get("center_x_m", 0.0)), float(dataset.attrs.get("center_y_m", 0.0)))
    height, width = obj.shape
    return obj, (center[0] - width / 2 * pixel[0], center[1] - height / 2 * pixel[1]), pixel


def write(probe: np.ndarray, positions: np.ndarray, amplitude: np.ndarray, obj: np.ndarray | None,
          nphotons: float, path: Path) -> None:
    """Write the product layout and `dp` counts atomically (temporary name, then rename)."""
    h5py = _h5py()
    tmp = temporary_name(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with h5py.File(tmp, "w") as handle:
            handle.attrs["probe_photon_count"] = float(nphotons)
            handle.create_dataset("dp", data=np.square(np.asarray(amplitude, dtype=np.float64)), compression="gzip")
            probe_set = handle.create_dataset("probe", data=np.asarray(probe, dtype=np.complex64)[None, None])
            probe_set.attrs.update(pixel_width_m=EXPORT_PIXEL_M, pixel_height_m=EXPORT_PIXEL_M)
            handle.create_dataset("probe_position_indexes", data=np.arange(len(positions), dtype=np.int64))
            handle.create_dataset("probe_position_x_m", data=positions[:, 0] * EXPORT_PIXEL_M)
            handle.create_dataset("probe_position_y_m", data=positions[:, 1] * EXPORT_PIXEL_M)
            if obj is not None:
                height, width = obj.shape
                obj_set = handle.create_dataset("object", data=np.asarray(obj, dtype=np.complex64)[None])
                obj_set.attrs.update(pixel_width_m=EXPORT_PIXEL_M, pixel_height_m=EXPORT_PIXEL_M,
                                     center_x_m=width / 2 * EXPORT_PIXEL_M, center_y_m=height / 2 * EXPORT_PIXEL_M)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
