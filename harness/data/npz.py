"""PtychoPINN's NPZ layout, read without ever unpickling and written atomically.

Keys: `diff3d` (or `diffraction`) amplitudes sqrt(counts) as (n, H, W) (older files: (H, W, n));
`xcoords`, `ycoords` (or their `_start` variants) in object pixels; `probeGuess` (N, N) complex;
`objectGuess` (H, W) complex, the ground truth when present; `scan_index` (n,). The harness adds
`nphotons`, the declared dose, so a file it exports runs again with the same photon budget.
"""
from __future__ import annotations

import io
from pathlib import Path
import numpy as np

from harness.data.dataset import Dataset, pattern_stack, refuse, validated
from harness.store import atomic_write_bytes, file_sha256

DIFFRACTION_KEYS = ("diff3d", "diffraction")
POSITION_KEYS = (("xcoords", "ycoords"), ("xcoords_start", "ycoords_start"))


def read_arrays(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every entry that loads without unpickling, and a note per pickled entry skipped."""
    arrays: dict[str, np.ndarray] = {}
    notes: list[str] = []
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            try:
                arrays[key] = data[key]
            except ValueError:  # an object array: loading it would unpickle
                notes.append(f"skipped pickled entry {key}")
    return arrays, notes


def read(path: Path) -> Dataset:
    """The file as a validated Dataset; a missing key lists the keys found."""
    arrays, notes = read_arrays(path)
    found = ", ".join(sorted(arrays)) or "(none)"
    diffraction_key = next((key for key in DIFFRACTION_KEYS if key in arrays), None)
    if diffraction_key is None:
        raise refuse(path, "diffraction", f"no {' or '.join(DIFFRACTION_KEYS)} key; found keys: {found}")
    coords = next((pair for pair in POSITION_KEYS if all(key in arrays for key in pair)), None)
    if coords is None:
        raise refuse(path, "positions", f"no xcoords/ycoords (or xcoords_start/ycoords_start) keys; found keys: {found}")
    if coords != POSITION_KEYS[0]:
        notes.append(f"positions read from {coords[0]}, {coords[1]} (no xcoords, ycoords)")
    if "probeGuess" not in arrays:
        raise refuse(path, "probeGuess", f"missing; found keys: {found}")
    x, y = (np.asarray(arrays[key], dtype=np.float64).reshape(-1) for key in coords)
    if x.shape != y.shape:
        raise refuse(path, coords[1], f"{y.size} values but {coords[0]} has {x.size}")
    positions = np.stack([x, y], axis=1)
    patterns, note = pattern_stack(path, diffraction_key, np.asarray(arrays[diffraction_key]), len(positions))
    notes.extend([note] if note else [])
    amplitude = np.asarray(patterns, dtype=np.float64)
    probe = np.asarray(arrays["probeGuess"]).astype(np.complex64)
    obj = arrays.get("objectGuess")
    obj = None if obj is None or obj.ndim != 2 else obj.astype(np.complex64)
    validated(path, {"probe": "probeGuess", "positions": coords[0], "diffraction": diffraction_key,
                     "object": "objectGuess"}, probe, positions, amplitude, obj)
    nphotons = float(arrays["nphotons"]) if "nphotons" in arrays else None
    return Dataset(probe=probe, positions=positions, amplitude=amplitude, object=obj, nphotons=nphotons,
                   source=str(path), sha256=file_sha256(path), format="npz", notes=tuple(notes))


def write(probe: np.ndarray, positions: np.ndarray, amplitude: np.ndarray, obj: np.ndarray | None,
          nphotons: float, path: Path) -> None:
    """Write the PtychoPINN keys atomically; amplitudes sqrt(counts) in float64, so they convert back exactly."""
    arrays = {
        "diff3d": np.asarray(amplitude, dtype=np.float64),
        "xcoords": positions[:, 0].copy(), "ycoords": positions[:, 1].copy(),
        "xcoords_start": positions[:, 0].copy(), "ycoords_start": positions[:, 1].copy(),
        "probeGuess": np.asarray(probe, dtype=np.complex64),
        "scan_index": np.zeros(len(positions), dtype=np.int64),
        "nphotons": np.float64(nphotons),
    }
    if obj is not None:
        arrays["objectGuess"] = np.asarray(obj, dtype=np.complex64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
