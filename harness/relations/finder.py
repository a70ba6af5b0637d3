"""The ladder: the simplest relation that explains B from A, trying cheap exact relations first.

Order (simplest wins): non-finite values introduced, equal, sign, conjugate, flip, transpose, x↔y swap,
fftshift, ifftshift, factor, phase, affine, integer shift, sub-pixel shift, row permutation, subset,
superset, resampled, none. Arrays of different shapes try an axis transpose, subset and superset,
and resampled. Scalars try equal, sign, conjugate, factor and phase.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import numpy as np

from harness.relations import geometry, rows, values
from harness.relations.model import Pair, Relation, fmt, make
from harness.relations.roles import role_for

_IMAGE_CHECKS: tuple[Callable[[Pair], Relation | None], ...] = (
    geometry.flip, geometry.transpose, geometry.fftshift, geometry.ifftshift,
)
"""Exact relations of images; coordinates and index arrays skip them (and the shift)."""


def find_relation(name: str, a: Any, b: Any) -> Relation:
    """The simplest relation B = f(A) within the tolerance of the data's precision, or kind "none".

    `name` is the artifact's name: coordinates and index arrays (spec 2.2) are not images, so they skip
    the image relations (flips, fftshift, shifts) and try the x↔y swap instead."""
    if _is_scalar(a) and _is_scalar(b):
        return _scalar_relation(np.atleast_1d(np.asarray(a)), np.atleast_1d(np.asarray(b)))
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind not in "biufc" or b.dtype.kind not in "biufc":
        return make("none", f"not numeric ({a.dtype} vs {b.dtype})", residual=math.nan)
    if a.shape != b.shape:
        return _reshaped_relation(a, b)
    if a.size == 0:
        return make("equal", "B = A (both empty)")
    image = role_for(name) not in ("coordinates", "indices")
    return _same_shape_relation(a, b, image)


def _same_shape_relation(a: np.ndarray, b: np.ndarray, image: bool) -> Relation:
    pair = Pair.sample(a, b)
    checks = [values.nonfinite, *values.EXACT]
    checks += [*_IMAGE_CHECKS, geometry.swap_xy] if image else [geometry.swap_xy]
    checks += [*values.FITTED] + ([geometry.shift] if image else [])
    for check in checks:
        found = check(pair)
        if found:
            return found
    for row_check in (rows.permutation, rows.resampled):
        found = row_check(a, b)
        if found:
            return found
    k, c, residual = values.affine_fit(pair)
    text = f"no simple relation (the best affine fit, B ≈ {fmt(k)} × A + {fmt(c)}, leaves residual {residual:.2g})"
    return Relation("none", {"affine_k": k, "affine_c": c}, residual, pair.tolerance(2), text)


def _reshaped_relation(a: np.ndarray, b: np.ndarray) -> Relation:
    found = _axes_transpose(a, b) or rows.subset(a, b) or rows.superset(a, b) or rows.resampled(a, b)
    if found:
        return found
    return make("none", f"no simple relation (shape {tuple(a.shape)} vs {tuple(b.shape)})", residual=math.nan)


def _axes_transpose(a: np.ndarray, b: np.ndarray) -> Relation | None:
    """B = A with its axes permuted (shapes permuted accordingly), checked on B's sampled rows."""
    if a.ndim != b.ndim or sorted(a.shape) != sorted(b.shape):
        return None
    for order in itertools.permutations(range(a.ndim)):
        if tuple(a.shape[i] for i in order) != b.shape or order == tuple(range(a.ndim)):
            continue
        pair = Pair.sample(np.transpose(a, order), b)
        if values.equal(pair):
            return make("transpose", f"B = A with axes transposed to {order}", pair, pair.residual(pair.a),
                        pair.tolerance(), axes=list(order))
    return None


def _scalar_relation(a: np.ndarray, b: np.ndarray) -> Relation:
    if a.dtype.kind not in "biufc" or b.dtype.kind not in "biufc":
        same = a.tolist() == b.tolist()
        return make("equal" if same else "none", "B = A" if same else f"{a[0]!r} vs {b[0]!r}", residual=0.0 if same else math.nan)
    pair = Pair.sample(a, b)
    for check in (values.nonfinite, *values.SCALAR):
        found = check(pair)
        if found:
            return found
    return make("none", f"no simple relation ({a[0]!r} vs {b[0]!r})", residual=math.nan)


def _is_scalar(value: Any) -> bool:
    return np.ndim(value) == 0 and not isinstance(value, (dict, list, tuple, str, bytes))
