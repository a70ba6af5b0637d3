"""Row relations along the leading axis (B reorders, keeps some of, or extends A's rows) and the
distributional one (B is a fresh draw from A's distribution: another random stream).

Rows are matched by a fingerprint of a fixed stride of their values, then sampled matches are
verified on whole rows, so the cost is one small pass over the leading axis.
"""
from __future__ import annotations

from collections import defaultdict, deque

import numpy as np

from harness.relations.model import Relation, leading_rows, make

FINGERPRINT_VALUES = 64
"""Values per row (fixed stride) that identify it."""
VERIFIED_ROWS = 32
"""Matched rows compared in full."""
DISTRIBUTION_VALUES = 3989
"""Values per side (a prime count, so the stride does not lock onto one pixel of every image) for KS."""
KS_P_MIN = 0.01
"""Claim "resampled" only when KS cannot reject one distribution at this level (and moments agree): true
redraws are called "none" about 1% of the time, never the reverse for clearly different distributions."""
MOMENT_SIGMAS = 4.0
"""Means and standard deviations must agree within this many standard errors."""


def permutation(a: np.ndarray, b: np.ndarray) -> Relation | None:
    """Same shape, B's rows are A's rows in another order."""
    match = _match_rows(a, b)
    if match is None or len(match) != len(a):
        return None
    moved = int(np.count_nonzero(match != np.arange(len(match))))
    if moved == 0:
        return None
    params = {"rows_moved": moved, "n_rows": len(match)}
    if len(match) <= 16:
        params["order"] = match.tolist()
    return make("permutation", f"B reorders A's rows: {moved} of {len(match)} moved", **params)


def subset(a: np.ndarray, b: np.ndarray) -> Relation | None:
    """B has fewer rows, each one of A's."""
    found = _contained(a, b)
    if found is None:
        return None
    return make("subset", f"B keeps {len(b)} of A's {len(a)} rows ({found})", kept=len(b), n_rows_a=len(a),
                in_order=found == "in order")


def superset(a: np.ndarray, b: np.ndarray) -> Relation | None:
    """B has more rows, among them every one of A's."""
    found = _contained(b, a)
    if found is None:
        return None
    return make("superset", f"B has all {len(a)} of A's rows ({found}) plus {len(b) - len(a)} more",
                added=len(b) - len(a), n_rows_a=len(a), in_order=found == "in order")


def _contained(large: np.ndarray, small: np.ndarray) -> str | None:
    """"in order" or "reordered" when every row of `small` is a distinct row of the longer `large`."""
    if len(small) >= len(large) or large.shape[1:] != small.shape[1:]:
        return None
    match = _match_rows(large, small)
    if match is None:
        return None
    return "in order" if bool(np.all(np.diff(match) > 0)) else "reordered"


def resampled(a: np.ndarray, b: np.ndarray) -> Relation | None:
    """B's values look like another draw from A's distribution: two-sample KS on a fixed-stride sample
    does not reject at KS_P_MIN, and means and standard deviations agree within MOMENT_SIGMAS errors."""
    x, y = _distribution_sample(a), _distribution_sample(b)
    if min(x.size, y.size) < 100:
        return None
    sx, sy = float(x.std()), float(y.std())
    if sx == 0 or sy == 0:
        return None
    mean_error = np.sqrt(sx**2 / x.size + sy**2 / y.size)
    std_error = np.sqrt(sx**2 / (2 * x.size) + sy**2 / (2 * y.size))
    if abs(x.mean() - y.mean()) > MOMENT_SIGMAS * mean_error or abs(sx - sy) > MOMENT_SIGMAS * std_error:
        return None
    from scipy import stats  # imported here: scipy.stats costs ~0.9 s, and most diffs never need it

    p_value = float(stats.ks_2samp(x, y).pvalue)
    if p_value < KS_P_MIN:
        return None
    text = (f"B looks like a fresh draw from A's distribution (KS p = {p_value:.2g}; "
            f"mean {x.mean():.4g} vs {y.mean():.4g}, std {sx:.4g} vs {sy:.4g})")
    return make("resampled", text, p_value=p_value, mean_a=float(x.mean()), mean_b=float(y.mean()), std_a=sx, std_b=sy)


def _fingerprints(x: np.ndarray) -> list[bytes]:
    """One bytes key per row: a fixed stride of its values as float64 (so dtypes do not matter)."""
    flat = x.reshape(len(x), -1)
    step = max(1, flat.shape[1] // FINGERPRINT_VALUES)
    keys = np.ascontiguousarray(flat[:, ::step][:, :FINGERPRINT_VALUES], dtype=np.complex128 if np.iscomplexobj(x) else np.float64)
    return [row.tobytes() for row in keys]


def _match_rows(source: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """For each target row, a distinct source row equal to it (the same index when possible), or None."""
    if source.ndim == 0 or target.ndim == 0 or source.shape[1:] != target.shape[1:] or len(target) == 0:
        return None
    keys_s, keys_t = _fingerprints(source), _fingerprints(target)
    match = np.full(len(keys_t), -1, dtype=np.int64)
    same = [i for i in range(min(len(keys_s), len(keys_t))) if keys_s[i] == keys_t[i]]
    match[same] = same
    taken = set(same)
    pools: dict[bytes, deque[int]] = defaultdict(deque)
    for i, key in enumerate(keys_s):
        if i not in taken:
            pools[key].append(i)
    for i in np.flatnonzero(match < 0):
        pool = pools.get(keys_t[i])
        if not pool:
            return None
        match[i] = pool.popleft()
    checked = leading_rows(len(match), 1, VERIFIED_ROWS)
    if not np.array_equal(source[match[checked]], target[checked], equal_nan=source.dtype.kind in "fc"):
        return None
    return match


def _distribution_sample(x: np.ndarray) -> np.ndarray:
    """Finite values (magnitudes for complex) at DISTRIBUTION_VALUES evenly spaced flat positions."""
    positions = np.unique(np.linspace(0, x.size - 1, min(x.size, DISTRIBUTION_VALUES)).round().astype(np.int64))
    values = np.asarray(x).ravel()[positions] if x.flags.c_contiguous else x.flat[positions]
    values = np.abs(values) if np.iscomplexobj(values) else values.astype(np.float64)
    return values[np.isfinite(values)]
