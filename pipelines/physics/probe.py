"""The ideal disk probe, the r < N/4 mask and the two probe normalisations (spec 3.2.1-3.2.3)."""
from __future__ import annotations

import numpy as np

DEFAULT_PROBE_SCALE = 0.7
PROBE_FLOOR = 1e-9


def lowpass_window(n: int, default_probe_scale: float = DEFAULT_PROBE_SCALE) -> np.ndarray:
    """Symmetric Gaussian window L of length n with sigma n/(s*pi^2), peak 1 (spec 3.2.1 step 1)."""
    sigma = n / (default_probe_scale * np.pi**2)
    centred = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    window = np.exp(-0.5 * (centred / sigma) ** 2)
    return window / window.max()


def ideal_disk(n: int = 64, default_probe_scale: float = DEFAULT_PROBE_SCALE) -> np.ndarray:
    """Boolean disk L[r]*L[c] > 0.5 (spec 3.2.1 step 2): 376 pixels at N 64 and scale 0.7."""
    window = lowpass_window(n, default_probe_scale)
    return np.outer(window, window) > 0.5


def ideal_probe_raw(n: int = 64, default_probe_scale: float = DEFAULT_PROBE_SCALE) -> np.ndarray:
    """Unnormalised ideal probe: blurred disk + 1e-9, phase 0, complex64 (spec 3.2.1).

    `default_probe_scale` = probe_scale reproduces knob X1 "coupled" (a 4-pixel disk).
    """
    disk = ideal_disk(n, default_probe_scale).astype(np.float64)
    from scipy.ndimage import gaussian_filter  # lazy: the host imports this module on every command

    blurred = gaussian_filter(disk, sigma=1.0, mode="reflect", truncate=4.0) + PROBE_FLOOR
    return blurred.astype(np.complex64)


def probe_mask(n: int = 64) -> np.ndarray:
    """Disk sqrt(x^2+y^2) < n//4 on centred indices i - n//2 + 0.5 (spec 3.2.2): 812 px at N 64."""
    centred = np.arange(n, dtype=np.float64) - n // 2 + 0.5
    radius = np.hypot(centred[:, None], centred[None, :])
    return radius < n // 4


def normalize_probe(
    probe_raw: np.ndarray, probe_scale: float, mask: np.ndarray
) -> tuple[np.ndarray, float]:
    """Tip / sim_lines normalisation (spec 3.2.3): norm = ps * mean|mask*P_raw|, P = P_raw/norm.

    Returns (P complex64, norm float). Afterwards mean|mask*P| = 1/probe_scale.
    """
    magnitude = np.abs(probe_raw.astype(np.complex128)) * mask
    norm = float(probe_scale * magnitude.mean())
    return (probe_raw.astype(np.complex128) / norm).astype(np.complex64), norm


def normalize_probe_study_era(
    probe_raw: np.ndarray, probe_scale: float, mask: np.ndarray
) -> tuple[np.ndarray, float]:
    """Study-era normalisation (spec 3.2.3): the (N,N,1,1) x (N,N,1) broadcast mean.

    norm = ps * (1/N^3) * sum_j m_j * sum_l |P_raw[j, l]|, m_j = mask pixels in column j.
    Returns (P complex64, norm float); 0.431825 for the ideal probe at ps 10.
    """
    n = probe_raw.shape[0]
    column_counts = mask.sum(axis=0, dtype=np.float64)
    row_sums = np.abs(probe_raw.astype(np.complex128)).sum(axis=1)
    norm = float(probe_scale * np.dot(column_counts, row_sums) / n**3)
    return (probe_raw.astype(np.complex128) / norm).astype(np.complex64), norm
