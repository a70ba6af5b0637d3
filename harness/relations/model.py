"""The relation record, the tolerance model and the deterministic sample the finder works on.

A relation says how B follows from A ("B = 2 × A", "B = A shifted by (0, 3) px"). Every check runs on a
`Pair`: both arrays as float64/complex128 over a fixed subsample of leading rows, so the finder's cost
is bounded by `SAMPLE_VALUES` and not by the artifact's size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS: tuple[str, ...] = (
    "equal", "sign", "conjugate", "flip", "transpose", "swap_xy", "fftshift", "ifftshift", "factor", "phase",
    "affine", "shift", "permutation", "subset", "superset", "resampled", "nonfinite", "none",
)
"""The fixed vocabulary of relation kinds, simplest first (the order of the ladder)."""

TOLERANCE_FACTOR = 16.0
"""tolerance = TOLERANCE_FACTOR · ε · √m: ε of the coarser dtype, m values combined per output value."""
SAMPLE_VALUES = 1 << 15
"""Arrays larger than this are checked on evenly spaced leading rows holding about this many values."""


@dataclass(frozen=True)
class Relation:
    """How B follows from A: `kind` from KINDS, its parameters, relative residual and the tolerance used."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    residual: float = 0.0
    tolerance: float = 0.0
    text: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"relation kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not (self.residual >= 0 or math.isnan(self.residual)):
            raise ValueError(f"relation residual must be >= 0, got {self.residual}")
        object.__setattr__(self, "params", dict(self.params))

    @property
    def found(self) -> bool:
        """True when a relation other than "none" explains B."""
        return self.kind != "none"


def precision(*dtypes: np.dtype) -> float:
    """ε of the coarsest floating dtype among those given; integers and bools count as exact (float64 ε)."""
    eps = [float(np.finfo(d).eps) for d in dtypes if np.dtype(d).kind in "fc"]
    return max(eps, default=float(np.finfo(np.float64).eps))


def tolerance(eps: float, combined: int = 1) -> float:
    """Relative residual allowed when each output value combines `combined` rounded input values."""
    return TOLERANCE_FACTOR * eps * math.sqrt(combined)


def spatial_axes(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """(y, x) axes of an image-like shape (spec 1.3): 1, 2 for (B, H, W, C); 3, 4 for the grid format
    (B, g, g, N, N, 1); the last two otherwise. None when they are too small to be an image."""
    if len(shape) < 2:
        return None
    axes = (1, 2) if len(shape) == 4 else (3, 4) if len(shape) == 6 else (len(shape) - 2, len(shape) - 1)
    return axes if min(shape[axes[0]], shape[axes[1]]) >= 4 else None


def leading_rows(n_rows: int, row_values: int, budget: int = SAMPLE_VALUES) -> np.ndarray:
    """Evenly spaced row indices (first and last included) holding about `budget` values; all rows if they fit."""
    keep = max(1, budget // max(1, row_values))
    if keep >= n_rows:
        return np.arange(n_rows)
    return np.unique(np.linspace(0, n_rows - 1, keep).round().astype(np.int64))


def as_numeric(x: np.ndarray) -> np.ndarray:
    """float64 (or complex128) copy in which the finder's arithmetic is exact enough."""
    return x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)


@dataclass(frozen=True)
class Pair:
    """A and B over the same leading rows (non-finite values zeroed), with the tolerances they call for."""

    a: np.ndarray
    b: np.ndarray
    eps: float
    rows_used: int
    rows_total: int
    nan_a: np.ndarray
    nan_b: np.ndarray
    inf_a: np.ndarray
    inf_b: np.ndarray

    sample_note: str = ""

    @classmethod
    def sample(cls, a: np.ndarray, b: np.ndarray) -> "Pair":
        """The same part of both, non-finite values zeroed: evenly spaced leading rows of large arrays, a
        central window of large single images (its size keeps the parity, so flips and transposes map it
        onto itself), or everything when small."""
        axes = spatial_axes(a.shape)
        rows_total = a.shape[0] if a.ndim else 1
        rows, note, part = None, "", (slice(None),) * a.ndim
        if a.ndim >= 2 and a.size > SAMPLE_VALUES and (axes is None or axes[0] != 0):
            rows = leading_rows(rows_total, a.size // max(1, rows_total))
            note, part = f"on {len(rows)} of {rows_total} rows", (rows,)
        elif a.ndim == 2 and a.size > SAMPLE_VALUES:
            side = int(np.sqrt(SAMPLE_VALUES))
            sides = [side - (size - side) % 2 for size in a.shape]
            part = tuple(slice((size - s) // 2, (size + s) // 2) for size, s in zip(a.shape, sides))
            note = f"on the central {sides[0]}×{sides[1]} window"
        sa, sb = as_numeric(a[part]), as_numeric(b[part])
        nan_a, nan_b, inf_a, inf_b = np.isnan(sa), np.isnan(sb), np.isinf(sa), np.isinf(sb)
        bad = nan_a | nan_b | inf_a | inf_b
        sa[bad] = 0
        sb[bad] = 0
        rows_used = len(rows) if rows is not None else rows_total
        return cls(sa, sb, precision(a.dtype, b.dtype), rows_used, rows_total, nan_a, nan_b, inf_a, inf_b, note)

    @property
    def sampled(self) -> bool:
        return bool(self.sample_note)

    def tolerance(self, combined: int = 1) -> float:
        return tolerance(self.eps, combined)

    def residual(self, predicted: np.ndarray, observed: np.ndarray | None = None) -> float:
        """max |B − predicted| / max(|B|, |predicted|): relative to the data's scale, not element-wise."""
        observed = self.b if observed is None else observed
        return relative_residual(predicted, observed)


def relative_residual(predicted: np.ndarray, observed: np.ndarray) -> float:
    """max |observed − predicted| relative to the larger of their max magnitudes (0 when both are zero)."""
    if observed.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(observed))), float(np.max(np.abs(predicted))))
    if scale == 0:
        return 0.0
    return float(np.max(np.abs(observed - predicted))) / scale


def make(kind: str, text: str, pair: Pair | None = None, residual: float = 0.0, tol: float = 0.0,
         **params: Any) -> Relation:
    """A relation whose text ends with its residual and, on a sample, how many rows it saw."""
    if residual > 0:
        text += f" (residual {residual:.2g})"
    if pair is not None and pair.sampled:
        params["sample"] = pair.sample_note
        text += f" [{pair.sample_note}]"
    return Relation(kind, params, residual, tol, text)


def fmt(value: complex | float) -> str:
    """A parameter as the texts show it: 6 decimals, complex as a + bj."""
    if isinstance(value, complex) or np.iscomplexobj(value):
        value = complex(value)
        return f"({value.real:.6g}{value.imag:+.6g}j)"
    return f"{float(value):.6f}" if 1e-3 <= abs(value) < 1e6 or value == 0 else f"{float(value):.6g}"


def least_squares(columns: list[np.ndarray], target: np.ndarray) -> np.ndarray:
    """Coefficients of the columns that best fit target, by the (tiny) normal equations: one pass over
    the data instead of an SVD of a tall matrix; lstsq only when the columns are degenerate."""
    design = np.stack([c.reshape(-1) for c in columns], axis=1)
    gram = design.conj().T @ design
    moment = design.conj().T @ target.reshape(-1)
    try:
        if np.linalg.cond(gram) < 1e12:
            return np.linalg.solve(gram, moment)
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(design, target.reshape(-1), rcond=None)[0]


def exact_relation(pair: Pair, kind: str, text: str, predicted: np.ndarray, **params: Any) -> Relation | None:
    """The relation `kind` when B equals `predicted` within one rounding of the coarser dtype, else None."""
    residual, tol = pair.residual(predicted), pair.tolerance()
    return make(kind, text, pair, residual, tol, **params) if residual <= tol else None
