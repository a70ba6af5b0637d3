"""Statistics records of arrays (spec 1.8): what reporters compare first, before tensors.

Large arrays are reduced in chunks along their first axis, so a record never needs more than a
chunk's worth of temporaries (the full legacy profile stores arrays of several GiB). min, max,
mean, std and the non-finite counts are exact; the percentiles p01, p50 and p99 of an array with
more than `_PERCENTILE_SAMPLE` values are those of a deterministic regular-stride subsample of
about that many values (the same array always gives the same record), which is what made
summaries the slowest part of a diff.
"""
from __future__ import annotations

import weakref
from typing import Any, Mapping

import numpy as np

_PERCENTILE_SAMPLE = 65_536
"""Percentiles of larger arrays use a regular stride giving at least this many values (exact below it)."""
_CHUNK_VALUES = 8_000_000
"""Values reduced at a time."""


_STORED: dict[int, tuple["weakref.ref[np.ndarray]", dict[str, Any]]] = {}
"""Records of arrays read from a stage file, by the array's id while that array lives (see `remember_stored`)."""
NOT_RECORD_KEYS = ("kind", "sha256")
"""Keys of a stored artifact entry that are not part of its statistics record."""


def remember_stored(array: np.ndarray, entry: Mapping[str, Any]) -> None:
    """Note the record stored with an array just read from its stage file, so comparing it does not recompute
    what the worker computed when it wrote the file (the same function, and the cache key covers its code)."""
    key = id(array)
    _STORED[key] = (weakref.ref(array, lambda _, key=key: _STORED.pop(key, None)),
                    {name: value for name, value in entry.items() if name not in NOT_RECORD_KEYS})


def array_record(array: np.ndarray) -> dict[str, Any]:
    """shape, dtype, min, max, mean, std, n_nan, n_inf, n_total; complex arrays get |.| and angle."""
    stored = _STORED.get(id(array))
    if stored is not None and stored[0]() is array:
        return dict(stored[1])
    array = np.asarray(array)
    record: dict[str, Any] = {"shape": list(array.shape), "dtype": str(array.dtype), "n_total": int(array.size)}
    if np.iscomplexobj(array):
        record["abs"] = _real_record(array, np.abs)
        record["angle"] = _real_record(array, np.angle)
        record["n_nan"] = record["abs"]["n_nan"]
        record["n_inf"] = record["abs"]["n_inf"]
    elif array.dtype.kind in "biuf":
        record.update(_real_record(array, None))
    return record


def _chunks(array: np.ndarray):
    flat = array.reshape(-1) if array.flags.c_contiguous else np.ravel(array)
    step = max(1, _CHUNK_VALUES)
    for start in range(0, flat.size, step):
        yield flat[start : start + step]


def _real_record(array: np.ndarray, transform: Any) -> dict[str, Any]:
    """min, max, mean, std over finite values (float64 accumulation), non-finite counts, percentiles."""
    count = n_nan = n_inf = 0
    total = total_sq = 0.0
    low, high = np.inf, -np.inf
    for chunk in _chunks(array):
        values = (transform(chunk) if transform else chunk).astype(np.float64, copy=False)
        if values.dtype.kind == "f":
            finite = np.isfinite(values)
            if not finite.all():  # the usual all-finite chunk skips the masking copies
                nan = int(np.isnan(values).sum())
                n_nan += nan
                n_inf += values.size - int(finite.sum()) - nan
                values = values[finite]
        if values.size:
            count += values.size
            total += float(values.sum())
            total_sq += float(np.dot(values, values))
            low, high = min(low, float(values.min())), max(high, float(values.max()))
    out: dict[str, Any] = {"n_nan": n_nan, "n_inf": n_inf}
    if count:
        mean = total / count
        sample = np.ravel(array)[:: max(1, array.size // _PERCENTILE_SAMPLE)]
        sample = (transform(sample) if transform else sample).astype(np.float64)
        sample = sample[np.isfinite(sample)]
        p01, p50, p99 = np.percentile(sample, [1, 50, 99]) if sample.size else (np.nan,) * 3
        out.update(min=low, max=high, mean=mean, std=float(np.sqrt(max(0.0, total_sq / count - mean * mean))),
                   p01=float(p01), p50=float(p50), p99=float(p99))
    return out
