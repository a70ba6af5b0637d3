"""The `Dataset` record a data file becomes, and the checks that refuse a file with one line naming the field.

The originals' readers accept NaNs, negative counts and mismatched lengths silently; the harness says
so before any stage runs. Amplitudes are kept as sqrt(counts) in float64, so that converting them
into a pipeline's convention (sqrt(counts)/s_sim in float32) and back is exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import UsageError

PATTERN_SIZE = 64
"""N of both reference pipelines (spec 1.1): a probe or pattern of another size cannot run."""


class DataError(UsageError):
    """A data file the harness refuses; the message names the file, the field and what was found."""


@dataclass(frozen=True)
class Dataset:
    """Probe, scan and patterns of one file, in the harness's frame (spec 1.2, 2.2).

    `amplitude` holds sqrt(counts) (n, N, N) float64; `positions` (n, 2) [x, y] pixels of `object`
    when there is one; `nphotons` the dose the file declares (None: use the measured mean counts).
    """

    probe: np.ndarray
    positions: np.ndarray
    amplitude: np.ndarray
    object: np.ndarray | None
    nphotons: float | None
    source: str
    sha256: str
    format: str
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return int(self.amplitude.shape[0])

    @property
    def has_ground_truth(self) -> bool:
        return self.object is not None

    @property
    def name(self) -> str:
        return Path(self.source).name

    @property
    def object_size(self) -> int:
        """The object's side; without ground truth, one that holds every pattern: the scan's extent plus N."""
        if self.object is not None:
            return int(self.object.shape[-1])
        return int(np.ceil(self.positions.max())) + PATTERN_SIZE

    def photon_count(self) -> float:
        """The declared dose, else the measured mean of the counts summed over each pattern."""
        if self.nphotons is not None:
            return float(self.nphotons)
        return float(np.mean(np.sum(np.square(self.amplitude), axis=(1, 2))))


def refuse(path: Path | str, field: str, problem: str) -> DataError:
    """The one-line refusal: which file, which field, what is wrong."""
    return DataError(f"cannot use {Path(path).name}: {field}: {problem}")


def pattern_stack(path: Path | str, field: str, array: np.ndarray, count: int | None) -> tuple[np.ndarray, str | None]:
    """Patterns as (n, H, W): the legacy (H, W, n) order is detected, converted and reported in a note."""
    if array.ndim != 3:
        raise refuse(path, field, f"expected a stack of patterns (n, H, W), found shape {array.shape}")
    a, b, c = array.shape
    standard, legacy = b == c, a == b
    if standard and legacy and count is not None:
        standard = a == count or c != count
    if legacy and not standard:
        return np.moveaxis(array, -1, 0), (f"{field} stored as (H, W, n) = {array.shape} (legacy axis order); "
                                           f"converted to (n, H, W)")
    if not standard:
        raise refuse(path, field, f"patterns must be square, as (n, H, W) or (H, W, n); found shape {array.shape}")
    if legacy:
        return array, f"{field} of shape {array.shape}: axis order ambiguous, read as (n, H, W)"
    return array, None


def validated(path: Path | str, fields: dict[str, str], probe: np.ndarray, positions: np.ndarray,
              amplitude: np.ndarray, obj: np.ndarray | None) -> None:
    """Refuse what no pipeline can run on; `fields` maps probe/positions/diffraction/object to the file's names."""
    n = amplitude.shape[0]
    if positions.shape != (n, 2):
        raise refuse(path, fields["positions"], f"{positions.shape[0]} positions but {n} patterns in "
                     f"{fields['diffraction']}: the lengths must be equal")
    size = amplitude.shape[-1]
    if size != PATTERN_SIZE:
        raise refuse(path, fields["diffraction"], f"patterns are {size}x{size}; the pipelines run at "
                     f"{PATTERN_SIZE}x{PATTERN_SIZE}")
    if probe.shape != (size, size):
        raise refuse(path, fields["probe"], f"probe of shape {probe.shape} does not match the {size}x{size} patterns")
    for field, array in ((fields["diffraction"], amplitude), (fields["positions"], positions), (fields["probe"], probe)):
        bad = np.size(array) - int(np.count_nonzero(np.isfinite(array)))
        if bad:
            raise refuse(path, field, f"{bad} non-finite values (NaN or inf)")
    if obj is not None and not np.all(np.isfinite(obj)):
        raise refuse(path, fields["object"], "non-finite values (NaN or inf)")
    if amplitude.size and float(amplitude.min()) < 0:
        negative = int(np.count_nonzero(amplitude < 0))
        raise refuse(path, fields["diffraction"], f"{negative} negative values (min {float(amplitude.min()):.4g}): "
                     f"counts cannot be negative")
