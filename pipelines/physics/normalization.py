"""Data normalisation (spec 3.8), intensity scales and scale bookkeeping (3.9), legacy object norm (3.5.2)."""
from __future__ import annotations

import numpy as np


def mean_pattern_energy(grouped: np.ndarray) -> float:
    """mean over b and c of sum_xy d^2 for (B, N, N, C) data, float64 (spec 3.8)."""
    per_channel = np.einsum("bxyc,bxyc->bc", grouped, grouped, dtype=np.float64)
    return float(per_channel.mean())


def mean_group_energy(grouped: np.ndarray) -> float:
    """mean over b of sum_{x,y,c} d^2, summed over the C channels, float64 (spec 3.9 dataset_raw)."""
    return float(np.einsum("bxyc,bxyc->b", grouped, grouped, dtype=np.float64).mean())


def normalize_data(grouped: np.ndarray, n: int = 64) -> tuple[np.ndarray, float]:
    """`normalize_data` (spec 3.8): g = sqrt((N/2)^2 / mean_bc sum_xy d^2); returns (g*d float32, g)."""
    gain = float(np.sqrt((n / 2) ** 2 / mean_pattern_energy(grouped)))
    return (gain * grouped.astype(np.float64)).astype(np.float32), gain


def normalize_data_nphotons(grouped: np.ndarray, nphotons: float) -> tuple[np.ndarray, float]:
    """Knob S8 variant: g = sqrt(nphotons / mean_bc sum_xy d^2), the photon scale applied twice (D4e)."""
    gain = float(np.sqrt(np.float64(nphotons) / mean_pattern_energy(grouped)))
    return (gain * grouped.astype(np.float64)).astype(np.float32), gain


def closed_form_intensity_scale(nphotons: float, n: int = 64) -> np.float32:
    """s_m = float32(sqrt(nphotons)) / (N/2) as float32: 988.2117919921875 at 1e9, N 64 (spec 1.7, 3.9)."""
    return np.float32(np.float32(np.sqrt(np.float64(nphotons))) / np.float32(n / 2))


def dataset_raw_intensity_scale(grouped_raw: np.ndarray, nphotons: float) -> np.float32:
    """Knob S1 dataset_raw: sqrt(nphotons / mean_b sum_{x,y,c} raw^2), channel-summed (D4f), float32."""
    return np.float32(np.sqrt(np.float64(nphotons) / mean_group_energy(grouped_raw)))


def dataset_raw_pp_intensity_scale(grouped_raw: np.ndarray, nphotons: float) -> np.float32:
    """Knob S1 dataset_raw_pp: sqrt(nphotons / mean_bc sum_xy raw^2), per pattern (D4a/D5), float32."""
    return np.float32(np.sqrt(np.float64(nphotons) / mean_pattern_energy(grouped_raw)))


def log_scale_init(intensity_scale: float) -> np.float32:
    """Initial IntensityScaler log scale ln(s_m) as float32 (spec 3.9); exp of it at 1e9 is 988.211669921875."""
    return np.float32(np.log(np.float64(intensity_scale)))


def count_ratio_nominal(intensity_scale: float, x_train: np.ndarray, nphotons: float) -> float:
    """N-9: s_m^2 * mean_bc sum_xy X^2 / nphotons on the train grouping (spec 3.9)."""
    return float(np.float64(intensity_scale) ** 2 * mean_pattern_energy(x_train) / np.float64(nphotons))


def count_ratio_true(intensity_scale: float, gain: float, s_sim: float) -> float:
    """N-10: model counts / simulated counts = s_m^2 g^2 / s_sim^2 (spec 3.9); legacy gain is 1."""
    return float((np.float64(intensity_scale) * np.float64(gain) / np.float64(s_sim)) ** 2)


def expected_scale(
    object_norm_infer: float,
    gain_infer: float,
    intensity_scale: float,
    log_scale: float,
    probe_scale_model: float,
    probe_scale_sim: float,
) -> float:
    """A-1 ratio reconstruction/truth (spec 3.9): (1/norm) * g * (s_m / exp(L)) * (ps_model / ps_sim)."""
    scaler_ratio = np.float64(intensity_scale) / np.exp(np.float64(log_scale))
    return float(gain_infer / object_norm_infer * scaler_ratio * probe_scale_model / probe_scale_sim)


def group_max_amplitude(patches: np.ndarray, channels: int) -> np.ndarray:
    """Per group, max |Y_obj| over its N x N x C raw patches; patches (B*C, N, N) in group order, float64 (B,)."""
    per_group = np.abs(patches).reshape(patches.shape[0] // channels, -1)
    return per_group.max(axis=1).astype(np.float64)


def legacy_object_norm(patches: np.ndarray, channels: int) -> float:
    """norm_Y_I = mean over the set's groups of the group's max raw amplitude (spec 3.5.2 step 2)."""
    return float(group_max_amplitude(patches, channels).mean())
