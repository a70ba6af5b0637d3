"""Which format a data file is in, and reading or writing a Dataset in either.

NPZ files start with the zip signature, HDF5 files with the HDF5 signature; `--data-format` forces one.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from harness.data import hdf5, npz
from harness.data.dataset import Dataset, DataError

READERS: dict[str, Callable[[Path], Dataset]] = {"npz": npz.read, "hdf5": hdf5.read}
WRITERS = {"npz": npz.write, "hdf5": hdf5.write}
FORMAT_CHOICES = ("auto", *READERS)
SIGNATURES = {b"PK\x03\x04": "npz", b"\x89HDF\r\n\x1a\n": "hdf5"}
SUFFIXES = {".npz": "npz", ".h5": "hdf5", ".hdf5": "hdf5"}


def detect(path: Path) -> str:
    """The format from the file's first bytes; unknown content names the formats understood."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise DataError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    for signature, name in SIGNATURES.items():
        if head.startswith(signature):
            return name
    raise DataError(f"cannot tell the format of {path.name}: neither NPZ nor HDF5 (use --data-format npz|hdf5)")


def read_dataset(path: Path | str, data_format: str = "auto") -> Dataset:
    """Read and validate a data file; every refusal is one DataError line naming the field."""
    path = Path(path)
    chosen = detect(path) if data_format == "auto" else data_format
    if chosen not in READERS:
        raise DataError(f"unknown data format {data_format!r}; valid formats: {', '.join(FORMAT_CHOICES)}")
    try:
        return READERS[chosen](path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:  # a damaged or foreign file
        raise DataError(f"cannot read {path.name} as {chosen}: {exc}") from None


def format_for(path: Path, data_format: str) -> str:
    """The format to write: the one named, else the one the suffix says (.npz, .h5, .hdf5)."""
    if data_format != "auto":
        return data_format
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise DataError(f"cannot tell which format to write from {path.name!r}: use a .npz, .h5 or .hdf5 name "
                        f"or --format npz|hdf5") from None


def write_dataset(path: Path, data_format: str, *, probe: np.ndarray, positions: np.ndarray, amplitude: np.ndarray,
                  obj: np.ndarray | None, nphotons: float) -> str:
    """Write the data in the chosen format (atomically); return the format written."""
    chosen = format_for(path, data_format)
    WRITERS[chosen](probe, positions, amplitude, obj, nphotons, path)
    return chosen
