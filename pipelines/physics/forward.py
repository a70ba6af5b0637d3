"""Forward model: far field F (spec 1.5), exit energy and photon scale, Poisson observation (1.6, 3.5.1)."""
from __future__ import annotations

import numpy as np

SIM_CHUNK = 64  # patterns per step: bounds the float64 temporaries and keeps them in cache


def far_field(psi: np.ndarray) -> np.ndarray:
    """A = sqrt(fftshift(|DFT2(psi)|^2 / N^2)) over the last two axes, no pre-shift, no padding (1.5).

    Works on one wave or a stack; complex64 in gives float32 out.
    """
    import scipy.fft  # lazy: every command's host imports the pipelines, and scipy.fft costs it 0.26 s

    n = psi.shape[-1]
    spectrum = scipy.fft.fft2(psi, axes=(-2, -1))
    return scipy.fft.fftshift(np.abs(spectrum), axes=(-2, -1)) / np.asarray(n, dtype=spectrum.real.dtype)


def exit_energy(y_norm: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Per pattern sum_xy |Y_norm * P|^2 in float64 (spec 3.5.1 step 1): (k,) for a (k, N, N) stack."""
    probe_power = np.abs(probe.astype(np.complex128)) ** 2
    energy = np.empty(y_norm.shape[0], dtype=np.float64)
    for start in range(0, y_norm.shape[0], SIM_CHUNK):
        magnitude = np.abs(y_norm[start : start + SIM_CHUNK]).astype(np.float64)
        energy[start : start + magnitude.shape[0]] = np.einsum("kij,ij->k", magnitude * magnitude, probe_power)
    return energy


def photon_scale(nphotons: float, mean_exit_energy: float) -> float:
    """s_sim = sqrt(nphotons / E), one float64 per data set (spec 3.5.1 step 2)."""
    return float(np.sqrt(np.float64(nphotons) / np.float64(mean_exit_energy)))


def poisson_observe(clean: np.ndarray, s_sim: float, rng: np.random.Generator) -> np.ndarray:
    """sqrt(Poisson((s_sim * A0)^2)) / s_sim as float32; draws `rng.poisson` on float64 in C order (9.2)."""
    expected_counts = np.square(s_sim * clean.astype(np.float64))
    counts = rng.poisson(expected_counts)
    return (np.sqrt(counts) / s_sim).astype(np.float32)


def simulate_diffraction(
    y_norm: np.ndarray, probe: np.ndarray, s_sim: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Illuminate, propagate and observe a (k, N, N) patch stack (spec 3.5.1 steps 3-6).

    Returns (diffraction, diffraction_clean), both float32 (k, N, N); A0 = F(Y_norm * P). Chunked;
    the Poisson draws are those of one `rng.poisson` call over the whole stack in C order.
    """
    probe64 = probe.astype(np.complex64)
    clean = np.empty(y_norm.shape, dtype=np.float32)
    observed = np.empty(y_norm.shape, dtype=np.float32)
    for start in range(0, y_norm.shape[0], SIM_CHUNK):
        stop = min(start + SIM_CHUNK, y_norm.shape[0])
        clean[start:stop] = far_field(y_norm[start:stop].astype(np.complex64) * probe64)
        observed[start:stop] = poisson_observe(clean[start:stop], s_sim, rng)
    return observed, clean
