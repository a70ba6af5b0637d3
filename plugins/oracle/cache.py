"""A file cache for the oracle's reconstruction, which costs seconds to minutes per side.

The key is the sha256 of every input array the oracle reads, the grid shape, the iteration count and
the oracle's code digest, so changed data or a changed engine never reuse a stale estimate. Files lie
under the stage cache folder (HARNESS_CACHE_DIR) in `oracle/`, each written atomically.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from harness.store import array_sha256, atomic_write_bytes, default_cache_dir
from plugins.oracle.engine import ITERATIONS, OracleResult, code_digest, reconstruct

__all__ = ["cache_path", "cached_reconstruction"]


def cache_path(diffraction: np.ndarray, probe: np.ndarray, positions: np.ndarray, shape: tuple[int, int],
               iterations: int = ITERATIONS) -> Path:
    """Where the reconstruction of these inputs is (or will be) cached."""
    digest = hashlib.sha256()
    for array in (diffraction, probe, positions):
        digest.update(array_sha256(np.ascontiguousarray(array)).encode())
    digest.update(f"{tuple(shape)}|{iterations}|{code_digest()}".encode())
    return default_cache_dir() / "oracle" / f"{digest.hexdigest()}.npz"


def cached_reconstruction(diffraction: np.ndarray, probe: np.ndarray, positions: np.ndarray,
                          shape: tuple[int, int], iterations: int = ITERATIONS) -> OracleResult:
    """The oracle's reconstruction of these inputs, computed once and then read from the cache."""
    path = cache_path(diffraction, probe, positions, shape, iterations)
    if path.is_file():
        with np.load(path, allow_pickle=False) as stored:
            return OracleResult(stored["object"], stored["coverage"])
    result = reconstruct(diffraction, probe, positions, shape, iterations)
    buffer = io.BytesIO()
    np.savez(buffer, object=result.object, coverage=result.coverage)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    return result
