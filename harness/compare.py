"""Comparators and the tolerance model: how one artifact on side A is compared with side B.

Equal-shape arrays are compared element-wise in the style of numpy.testing (max abs and rel error,
where, and the smallest atol and rtol that would pass); different-shape arrays by their
statistics; scalars by value; dicts key by key (configs).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal

import numpy as np

from harness.rendering import plain, truncate
from harness.summary import array_record

Status = Literal["equal", "differs", "expected", "not_comparable"]
DEFAULT_TOLERANCE: tuple[float, float] = (1e-6, 1e-12)
"""(rtol, atol) used when a stage declares no tolerance for an artifact."""


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing one artifact across the two sides (a record of the typed report)."""

    artifact: str
    status: Status
    kind: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Its report.json form."""
        return asdict(self)


Comparator = Callable[[str, Any, Any, tuple[float, float]], Comparison]


def is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.ndim > 0


def compare_equal_shape_arrays(name: str, a: np.ndarray, b: np.ndarray, tolerance: tuple[float, float]) -> Comparison:
    """Element-wise: |a - b| <= atol + rtol·|b|, NaN equal to NaN; report where the worst error is."""
    rtol, atol = tolerance
    if a.dtype.kind in "USO" or b.dtype.kind in "USO":
        equal = bool(np.array_equal(a, b))
        return Comparison(name, "equal" if equal else "differs", "array", "identical" if equal else "text values differ")
    x = a.astype(np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(b) else np.float64)
    y = b.astype(x.dtype)
    nan_x, nan_y = np.isnan(x), np.isnan(y)
    nan_mismatch = int(np.count_nonzero(nan_x != nan_y))
    both = ~(nan_x | nan_y)
    diff = np.where(both, np.abs(x - y), 0.0)
    ref = np.where(both, np.abs(y), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(ref > 0, diff / ref, np.where(diff > 0, np.inf, 0.0))
    flat = int(np.argmax(diff)) if diff.size else 0
    max_abs = float(diff.reshape(-1)[flat]) if diff.size else 0.0
    max_rel = float(rel.max()) if rel.size else 0.0
    needed_atol = float(np.max(diff - rtol * ref)) if diff.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        over = diff - atol
        needed_rtol_values = np.where(over > 0, np.where(ref > 0, over / ref, np.inf), 0.0)
    needed_rtol = float(needed_rtol_values.max()) if diff.size else 0.0
    passed = nan_mismatch == 0 and bool(np.all(diff <= atol + rtol * ref))
    index = [int(i) for i in np.unravel_index(flat, a.shape)] if a.size else []
    details = {
        "shape": list(a.shape),
        "dtype_a": str(a.dtype),
        "dtype_b": str(b.dtype),
        "max_abs": max_abs,
        "max_rel": max_rel,
        "where": index,
        "rtol": rtol,
        "atol": atol,
        "atol_to_pass": max(0.0, needed_atol),
        "rtol_to_pass": max(0.0, needed_rtol),
        "mismatched": int(np.count_nonzero(diff > atol + rtol * ref)) + nan_mismatch,
        "n_total": int(a.size),
        "nan_mismatch": nan_mismatch,
    }
    if passed:
        summary = "identical" if max_abs == 0 and nan_mismatch == 0 else f"equal within rtol {rtol:g} (max abs {max_abs:.3g})"
        return Comparison(name, "equal", "array", summary, details)
    summary = (
        f"{details['mismatched']}/{a.size} differ; max abs {max_abs:.4g} at {tuple(index)}, max rel {max_rel:.4g}; "
        f"would pass at atol {details['atol_to_pass']:.3g} or rtol {details['rtol_to_pass']:.3g}"
    )
    details["stats_a"] = array_record(a)
    details["stats_b"] = array_record(b)
    return Comparison(name, "differs", "array", summary, details)


def compare_array_statistics(name: str, a: np.ndarray, b: np.ndarray, tolerance: tuple[float, float]) -> Comparison:
    """Different shapes: compare the statistics records (min, max, mean, std, percentiles, non-finite)."""
    sa, sb = array_record(a), array_record(b)
    pa, pb = (sa.get("abs", sa), sb.get("abs", sb))
    parts = [f"shape {tuple(a.shape)} vs {tuple(b.shape)}"]
    for key in ("mean", "std", "max"):
        if key in pa and key in pb:
            parts.append(f"{key} {pa[key]:.4g} vs {pb[key]:.4g}")
    return Comparison(name, "not_comparable", "array_stats", "; ".join(parts), {"stats_a": sa, "stats_b": sb})


def compare_scalars(name: str, a: Any, b: Any, tolerance: tuple[float, float]) -> Comparison:
    """Numbers within |a - b| <= atol + rtol·|b|; anything else by equality."""
    rtol, atol = tolerance
    if _is_number(a) and _is_number(b):
        x, y = complex(a) if isinstance(a, complex) else float(a), complex(b) if isinstance(b, complex) else float(b)
        if _isnan(x) and _isnan(y):
            return Comparison(name, "equal", "scalar", "both NaN", {"a": plain(a), "b": plain(b)})
        diff = abs(x - y)
        rel = diff / abs(y) if abs(y) > 0 else (math.inf if diff > 0 else 0.0)
        details = {"a": plain(a), "b": plain(b), "abs": diff, "rel": rel, "rtol": rtol, "atol": atol}
        if diff <= atol + rtol * abs(y):
            return Comparison(name, "equal", "scalar", "identical" if diff == 0 else f"equal within rtol {rtol:g}", details)
        return Comparison(name, "differs", "scalar", f"{_fmt(a)} vs {_fmt(b)} (rel {rel:.3g})", details)
    equal = plain(a) == plain(b)
    return Comparison(
        name, "equal" if equal else "differs", "value", "identical" if equal else f"{_fmt(a)} vs {_fmt(b)}",
        {"a": plain(a), "b": plain(b)},
    )


def compare_mappings(name: str, a: dict, b: dict, tolerance: tuple[float, float]) -> Comparison:
    """Key by key: keys only on one side and leaves that differ (recursing into nested dicts)."""
    differing: dict[str, Any] = {}
    only_a = sorted(set(a) - set(b), key=str)
    only_b = sorted(set(b) - set(a), key=str)
    for key in sorted(set(a) & set(b), key=str):
        inner = compare_values(f"{name}.{key}", a[key], b[key], tolerance)
        if inner.status != "equal":
            differing[str(key)] = {"a": _plain_short(a[key]), "b": _plain_short(b[key]), "summary": inner.summary}
    details = {"only_a": [str(k) for k in only_a], "only_b": [str(k) for k in only_b], "differing": differing}
    if not (only_a or only_b or differing):
        return Comparison(name, "equal", "dict", "identical keys and values", details)
    parts = []
    if differing:
        keys = list(differing)
        parts.append(f"{len(keys)} keys differ ({', '.join(keys[:6])}{', ...' if len(keys) > 6 else ''})")
    if only_a:
        parts.append(f"only in A: {', '.join(map(str, only_a[:4]))}")
    if only_b:
        parts.append(f"only in B: {', '.join(map(str, only_b[:4]))}")
    return Comparison(name, "differs", "dict", "; ".join(parts), details)


def compare_sequences(name: str, a: list | tuple, b: list | tuple, tolerance: tuple[float, float]) -> Comparison:
    """Lists element by element (lengths first); lists of arrays (weights) compare each array."""
    if len(a) != len(b):
        return Comparison(name, "differs", "list", f"length {len(a)} vs {len(b)}", {"len_a": len(a), "len_b": len(b)})
    for index, (x, y) in enumerate(zip(a, b)):
        inner = compare_values(f"{name}[{index}]", x, y, tolerance)
        if inner.status != "equal":
            return Comparison(name, "differs", "list", f"item {index}: {inner.summary}", {"first_difference": index})
    return Comparison(name, "equal", "list", f"{len(a)} items identical within tolerance", {"length": len(a)})


def compare_values(name: str, a: Any, b: Any, tolerance: tuple[float, float] = DEFAULT_TOLERANCE) -> Comparison:
    """The built-in choice of comparator by value type."""
    return default_comparator(a, b)(name, a, b, tolerance)


def default_comparator(a: Any, b: Any) -> Comparator:
    """Pick the comparator for a pair of values by their types."""
    if is_array(a) and is_array(b):
        return compare_equal_shape_arrays if a.shape == b.shape else compare_array_statistics
    if isinstance(a, dict) and isinstance(b, dict):
        return compare_mappings
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return compare_sequences
    return compare_scalars


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iufc"
    return isinstance(value, (int, float, complex, np.number))


def _isnan(value: complex | float) -> bool:
    return bool(np.isnan(value))


def _plain_short(value: Any) -> Any:
    """A dict leaf as the report shows it: arrays of more than 8 values by shape, long values cut."""
    short = plain(value, max_items=8)
    return truncate(short, 200) if isinstance(short, (list, dict)) and len(str(short)) > 200 else short


def _fmt(value: Any) -> str:
    value = plain(value)
    return f"{value:.6g}" if isinstance(value, float) else truncate(repr(value), 60)
