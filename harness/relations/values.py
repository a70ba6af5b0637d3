"""Value relations: B follows from A element by element (equal, −A, conj A, k·A, e^{iφ}·A, k·A + c),
and non-finite values that one side introduced. Each returns a Relation when it fits, else None."""
from __future__ import annotations

from typing import Callable

import numpy as np

from harness.relations.model import Pair, Relation, exact_relation, fmt, least_squares, make

ValueCheck = Callable[[Pair], "Relation | None"]


def nonfinite(pair: Pair) -> Relation | None:
    """NaN or Inf on one side where the other is finite: reported before anything else."""
    new_nan = int(np.count_nonzero(pair.nan_b & ~pair.nan_a))
    new_inf = int(np.count_nonzero(pair.inf_b & ~pair.inf_a))
    finite_a, finite_b = ~(pair.nan_a | pair.inf_a), ~(pair.nan_b | pair.inf_b)
    now_finite = int(np.count_nonzero(finite_b & ~finite_a))
    if new_nan == new_inf == now_finite == 0:
        return None
    parts = [f"{count} {what}" for count, what in ((new_nan, "NaN"), (new_inf, "Inf")) if count]
    text = f"B has {' and '.join(parts)} where A is finite" if parts else ""
    if now_finite:
        text += ("; " if text else "B ") + f"is finite at {now_finite} values where A is NaN or Inf"
    return make("nonfinite", text, pair, new_nan=new_nan, new_inf=new_inf, now_finite=now_finite)


def equal(pair: Pair) -> Relation | None:
    """B = A up to float rounding of the coarser dtype."""
    residual, tol = pair.residual(pair.a), pair.tolerance()
    if residual > tol:
        return None
    text = "B = A exactly" if residual == 0 else "B = A up to float rounding"
    return make("equal", text, pair, residual, tol)


def sign(pair: Pair) -> Relation | None:
    """B = −A."""
    return exact_relation(pair, "sign", "B = -A", -pair.a)


def conjugate(pair: Pair) -> Relation | None:
    """B = conj(A), for complex values."""
    if not np.iscomplexobj(pair.a) or not np.any(pair.a.imag):
        return None
    return exact_relation(pair, "conjugate", "B = conj(A)", np.conj(pair.a))


def factor(pair: Pair) -> Relation | None:
    """B = k·A with real k, k by least squares."""
    energy = float(np.vdot(pair.a, pair.a).real)
    if energy == 0:
        return None
    k = float(np.vdot(pair.a, pair.b).real) / energy
    residual, tol = pair.residual(k * pair.a), pair.tolerance()
    if residual > tol:
        return None
    return make("factor", f"B = {fmt(k)} × A", pair, residual, tol, k=k)


def phase(pair: Pair) -> Relation | None:
    """B = k·e^{iφ}·A for complex values (k = 1 for a pure constant phase), by least squares."""
    if not (np.iscomplexobj(pair.a) or np.iscomplexobj(pair.b)):
        return None
    energy = float(np.vdot(pair.a, pair.a).real)
    if energy == 0:
        return None
    multiplier = complex(np.vdot(pair.a, pair.b)) / energy
    residual, tol = pair.residual(multiplier * pair.a), pair.tolerance()
    if residual > tol:
        return None
    k, phi = abs(multiplier), float(np.angle(multiplier))
    if abs(k - 1) <= tol:
        return make("phase", f"B = exp({fmt(phi)} i) × A", pair, residual, tol, phase=phi, k=1.0)
    return make("phase", f"B = {fmt(k)} × exp({fmt(phi)} i) × A", pair, residual, tol, phase=phi, k=k)


def affine_fit(pair: Pair) -> tuple[complex | float, complex | float, float]:
    """k, c of B ≈ k·A + c by least squares (complex for complex values) and the residual it leaves."""
    k, c = least_squares([pair.a, np.ones_like(pair.a)], pair.b)
    if not np.iscomplexobj(pair.b):
        k, c = float(np.real(k)), float(np.real(c))
    return k, c, pair.residual(k * pair.a + c)


def affine(pair: Pair) -> Relation | None:
    """B = k·A + c, for at least three values (fewer always fit)."""
    if pair.a.size < 3:
        return None
    k, c, residual = affine_fit(pair)
    tol = pair.tolerance(2)
    if residual > tol:
        return None
    text = f"B = A + {fmt(c)}" if abs(k - 1) <= tol else f"B = {fmt(k)} × A + {fmt(c)}"
    return make("affine", text, pair, residual, tol, k=k, c=c)


EXACT: tuple[ValueCheck, ...] = (equal, sign, conjugate)
FITTED: tuple[ValueCheck, ...] = (factor, phase, affine)
SCALAR: tuple[ValueCheck, ...] = (equal, sign, conjugate, factor, phase)
