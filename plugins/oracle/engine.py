"""The oracle's reconstruction: PtyLab's ePIE with the side's own probe held fixed.

Why an outside engine: when both pipelines reconstruct badly, a reconstruction that shares no code
with the PINN tells whether the data (diffraction, probe, positions) can be inverted at all. PtyLab
is used through its public API only (ExperimentalData from an HDF5 file, Params, Reconstruction,
Engines.ePIE); importing this module without PtyLab raises ImportError (the extra `oracle`).

Conventions bridged here (spec 2.2 and 1.5): `diffraction` holds amplitudes A = |fftshift(DFT2(ψ))|/N,
so A² is PtyLab's centred, orthonormal Fraunhofer intensity; `positions` are [x, y] object pixels of
each patch centre, a patch covering (y − N/2 … y + N/2 − 1, x − N/2 …); PtyLab takes [row, col]
encoder positions in metres relative to the centre of its object array, rounded to whole pixels.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import PtyLab
from PtyLab import Engines

ITERATIONS = 30
BETA_OBJECT = 0.9
WAVELENGTH = 1e-9
DISTANCE = 1.0
DETECTOR_PIXEL = 1e-4

__all__ = ["ITERATIONS", "OracleResult", "code_digest", "illuminated", "reconstruct"]


@dataclass(frozen=True)
class OracleResult:
    """The oracle's object estimate on the object's pixel grid and the pixels its scan illuminated."""

    object: np.ndarray
    coverage: np.ndarray


def code_digest() -> str:
    """sha256 of this module and PtyLab's version: a cached reconstruction is stale when either changes."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(str(getattr(PtyLab, "__version__", "unknown")).encode())
    return digest.hexdigest()


def illuminated(probe: np.ndarray, positions: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Σ|P|² over the scan at whole-pixel positions, scaled to a peak of 1: the oracle's coverage map."""
    n = probe.shape[-1]
    pad = n
    total = np.zeros((shape[0] + 2 * pad, shape[1] + 2 * pad))
    power = np.abs(probe).astype(np.float64) ** 2
    for row, col in np.rint(positions[:, ::-1]).astype(np.int64) - n // 2 + pad:
        total[row : row + n, col : col + n] += power
    total = total[pad : pad + shape[0], pad : pad + shape[1]]
    peak = total.max()
    return total / peak if peak > 0 else total


def reconstruct(diffraction: np.ndarray, probe: np.ndarray, positions: np.ndarray, shape: tuple[int, int],
                iterations: int = ITERATIONS) -> OracleResult:
    """Object estimate (shape, complex64) from amplitudes (n, N, N), a known probe and [x, y] positions.

    Deterministic: the object starts at ones, the probe is the side's and is not updated, the scan
    runs in the stored order (PtyLab's `sequential`), and the iteration count is fixed.
    """
    n = probe.shape[-1]
    pad = n // 2 + 2
    size = max(shape) + 2 * pad
    size += size % 2
    object_pixel = WAVELENGTH * DISTANCE / (n * DETECTOR_PIXEL)
    encoder = (np.asarray(positions, dtype=np.float64)[:, ::-1] + pad - size // 2) * object_pixel
    intensities = np.asarray(diffraction, dtype=np.float64) ** 2
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "oracle.hdf5"
        with h5py.File(path, "w") as handle:
            handle["ptychogram"] = intensities.astype(np.float32)
            handle["encoder"] = encoder
            handle["wavelength"] = WAVELENGTH
            handle["dxd"] = DETECTOR_PIXEL
            handle["zo"] = DISTANCE
        estimate = _run_epie(path, np.asarray(probe), size, iterations)
    crop = estimate[pad : pad + shape[0], pad : pad + shape[1]].astype(np.complex64)
    return OracleResult(crop, illuminated(np.asarray(probe), np.asarray(positions, dtype=np.float64), shape))


def _run_epie(path: Path, probe: np.ndarray, size: int, iterations: int) -> np.ndarray:
    """PtyLab's ePIE on the HDF5 data set, its console output and progress bar silenced."""
    for name in ("ExperimentalData", "Reconstruction", "Params", "ePIE", "BaseEngine"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        data = PtyLab.ExperimentalData(str(path), "CPM")
        params = PtyLab.Params()
        params.positionOrder = "sequential"
        params.propagatorType = "Fraunhofer"
        params.gpuSwitch = False
        reconstruction = PtyLab.Reconstruction(data, params)
        reconstruction.No = size
        reconstruction.copyAttributesFromExperiment(data)
        reconstruction.computeParameters()
        reconstruction.initializeSettings()
        reconstruction.initializeObjectProbe()
        reconstruction.probe = probe.astype(np.complex64).reshape(reconstruction.probe.shape)
        reconstruction.object = np.ones_like(reconstruction.object)
        engine = Engines.ePIE(reconstruction, data, params, PtyLab.DummyMonitor())
        engine.numIterations = iterations
        engine.betaProbe = 0.0
        engine.betaObject = BETA_OBJECT
        engine.reconstruct()
    return np.asarray(reconstruction.object).reshape(size, size)
