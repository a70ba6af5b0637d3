"""Statistics records of arrays (spec 1.8): what reporters compare first, before tensors."""
from __future__ import annotations

from typing import Any

import numpy as np


_PERCENTILE_SAMPLE = 4_000_000
"""Percentiles of larger arrays use a regular stride of about this many values (exact below it)."""


def array_record(array: np.ndarray) -> dict[str, Any]:
    """shape, dtype, min, max, mean, std, n_nan, n_inf, n_total; complex arrays get |.| and angle."""
    array = np.asarray(array)
    record: dict[str, Any] = {"shape": list(array.shape), "dtype": str(array.dtype), "n_total": int(array.size)}
    if np.iscomplexobj(array):
        record["abs"] = _real_record(np.abs(array))
        record["angle"] = _real_record(np.angle(array))
        record["n_nan"] = record["abs"]["n_nan"]
        record["n_inf"] = record["abs"]["n_inf"]
    elif array.dtype.kind in "biuf":
        record.update(_real_record(array))
    return record


def _real_record(values: np.ndarray) -> dict[str, Any]:
    values = np.asarray(values)
    if values.dtype.kind == "f":
        nan = np.isnan(values)
        inf = np.isinf(values)
        finite = values[~(nan | inf)]
        n_nan, n_inf = int(nan.sum()), int(inf.sum())
    else:
        finite = values.astype(np.float64).ravel()
        n_nan = n_inf = 0
    out: dict[str, Any] = {"n_nan": n_nan, "n_inf": n_inf}
    if finite.size:
        finite64 = finite.astype(np.float64, copy=False).ravel()
        step = max(1, finite64.size // _PERCENTILE_SAMPLE)
        p01, p50, p99 = np.percentile(finite64[::step], [1, 50, 99])
        out.update(
            min=float(finite64.min()),
            max=float(finite64.max()),
            mean=float(finite64.mean()),
            std=float(finite64.std()),
            p01=float(p01),
            p50=float(p50),
            p99=float(p99),
        )
    return out
