"""Geometric relations over the spatial axes: flips, transposes, x↔y swaps, fftshift, and integer or
sub-pixel shifts (bilinear with zero fill, the translation primitive of spec 1.4).

Shifts are found by phase correlation on a few frames, then fitted exactly: an integer shift on the
overlap, a sub-pixel one as the four bilinear weights of its neighbours, solved by least squares.
"""
from __future__ import annotations

import math

import numpy as np

from harness.relations.model import (
    Pair, exact_relation, Relation, leading_rows, least_squares, make, relative_residual, spatial_axes,
)

MIN_OVERLAP = 0.25
"""A shift must leave at least this fraction of each frame overlapping, or it explains too little."""
ESTIMATION_FRAMES = 4
"""Frames used for phase correlation and for choosing the sub-pixel base; all sampled frames verify."""
_AXIS_NAMES = ("y", "x")


def flip(pair: Pair) -> Relation | None:
    """B = A reversed along y, x or both (a 180° rotation)."""
    axes = spatial_axes(pair.a.shape)
    if axes is None:
        return None
    for chosen in ((axes[0],), (axes[1],), axes):
        names = " and ".join(_AXIS_NAMES[axes.index(ax)] for ax in chosen)
        found = exact_relation(pair, "flip", f"B = A flipped along {names}", np.flip(pair.a, chosen), axes=list(chosen))
        if found:
            return found
    return None


def transpose(pair: Pair) -> Relation | None:
    """B = A with its square spatial axes exchanged (image transposed)."""
    axes = spatial_axes(pair.a.shape)
    if axes is None or pair.a.shape[axes[0]] != pair.a.shape[axes[1]]:
        return None
    return exact_relation(pair, "transpose", f"B = A transposed (y ↔ x, axes {axes[0]} and {axes[1]})",
                  np.swapaxes(pair.a, *axes), axes=list(axes))


def swap_xy(pair: Pair) -> Relation | None:
    """B = A with the two entries of a length-2 coordinate axis exchanged ([x, y] stored as [y, x])."""
    shape = pair.a.shape
    for axis in (ax for ax in range(len(shape)) if shape[ax] == 2 and (ax > 0 or len(shape) == 1)):
        found = exact_relation(pair, "swap_xy", f"B = A with x and y swapped (axis {axis})", np.flip(pair.a, axis), axis=axis)
        if found:
            return found
    return None


def fftshift(pair: Pair) -> Relation | None:
    """B = fftshift(A) over the spatial axes."""
    axes = spatial_axes(pair.a.shape)
    if axes is None:
        return None
    return exact_relation(pair, "fftshift", "B = fftshift(A) over y and x", np.fft.fftshift(pair.a, axes), axes=list(axes))


def ifftshift(pair: Pair) -> Relation | None:
    """B = ifftshift(A) over the spatial axes; differs from fftshift only for odd sizes."""
    axes = spatial_axes(pair.a.shape)
    if axes is None or all(pair.a.shape[ax] % 2 == 0 for ax in axes):
        return None
    return exact_relation(pair, "ifftshift", "B = ifftshift(A) over y and x", np.fft.ifftshift(pair.a, axes), axes=list(axes))


def shift(pair: Pair) -> Relation | None:
    """B = A translated by (dy, dx) px (content moves by +d): integer first, then bilinear sub-pixel."""
    axes = spatial_axes(pair.a.shape)
    if axes is None:
        return None
    frames_a, frames_b = _frames(pair.a, axes), _frames(pair.b, axes)
    pick = leading_rows(len(frames_a), 1, ESTIMATION_FRAMES)
    peak, estimate = _phase_correlation(frames_a[pick], frames_b[pick])
    if peak != (0, 0):
        found = _integer_shift(pair, frames_a, frames_b, peak)
        if found:
            return found
    return _subpixel_shift(pair, frames_a, frames_b, peak, estimate, pick)


def _frames(x: np.ndarray, axes: tuple[int, int]) -> np.ndarray:
    """(F, H, W): every image of x, spatial axes last."""
    moved = np.moveaxis(x, axes, (-2, -1))
    return moved.reshape(-1, *moved.shape[-2:])


def _phase_correlation(frames_a: np.ndarray, frames_b: np.ndarray) -> tuple[tuple[int, int], tuple[float, float]]:
    """Signed integer peak of the phase correlation of B against A, and its parabolic sub-pixel estimate."""
    cross = np.sum(np.fft.fft2(frames_b) * np.conj(np.fft.fft2(frames_a)), axis=0)
    cross /= np.maximum(np.abs(cross), 1e-300)
    surface = np.real(np.fft.ifft2(cross))
    py, px = np.unravel_index(int(np.argmax(surface)), surface.shape)
    h, w = surface.shape
    refined = []
    for axis, p, size in ((0, py, h), (1, px, w)):
        idx = [(p - 1) % size, p, (p + 1) % size]
        lo, mid, hi = (surface[i, px] if axis == 0 else surface[py, i] for i in idx)
        curvature = lo - 2 * mid + hi
        refined.append(0.5 * (lo - hi) / curvature if curvature < 0 else 0.0)
    signed = (int(py) - h if py > h // 2 else int(py), int(px) - w if px > w // 2 else int(px))
    return signed, (signed[0] + refined[0], signed[1] + refined[1])


def _window(size: int, low: int, high: int) -> tuple[slice, int] | None:
    """B's index range whose source indices i − low − {0..high−low} all lie inside [0, size)."""
    start, stop = max(0, high), min(size, size + low)
    return (slice(start, stop), stop - start) if stop > start else None


def _integer_shift(pair: Pair, frames_a: np.ndarray, frames_b: np.ndarray, peak: tuple[int, int]) -> Relation | None:
    """B[y, x] = A[y − dy, x − dx] on the overlap (zero fill or wrap around beyond it: either fits)."""
    dy, dx = peak
    h, w = frames_a.shape[1:]
    wy, wx = _window(h, dy, dy), _window(w, dx, dx)
    if wy is None or wx is None or wy[1] * wx[1] < MIN_OVERLAP * h * w:
        return None
    sy, sx = wy[0], wx[0]
    predicted = frames_a[:, sy.start - dy : sy.stop - dy, sx.start - dx : sx.stop - dx]
    residual, tol = relative_residual(predicted, frames_b[:, sy, sx]), pair.tolerance()
    if residual > tol:
        return None
    overlap = wy[1] * wx[1] / (h * w)
    return make("shift", f"B = A shifted by (dy, dx) = ({dy}, {dx}) px", pair, residual, tol,
                dy=dy, dx=dx, overlap=overlap)


def _neighbours(frames: np.ndarray, base: tuple[int, int], windows: tuple[slice, slice]) -> list[np.ndarray]:
    """A at y − by − i, x − bx − j for i, j in {0, 1}, over B's window: the four bilinear sources."""
    (by, bx), (sy, sx) = base, windows
    return [frames[:, sy.start - by - i : sy.stop - by - i, sx.start - bx - j : sx.stop - bx - j]
            for i in (0, 1) for j in (0, 1)]


def _bilinear_fit(frames_a: np.ndarray, frames_b: np.ndarray, base: tuple[int, int]):
    """Fractions (fy, fx) in [0, 1] that best explain B from A's four neighbours at `base`, with windows."""
    h, w = frames_a.shape[1:]
    wy, wx = _window(h, base[0], base[0] + 1), _window(w, base[1], base[1] + 1)
    if wy is None or wx is None or wy[1] * wx[1] < MIN_OVERLAP * h * w:
        return None
    windows = (wy[0], wx[0])
    sources = _neighbours(frames_a, base, windows)
    target = frames_b[:, windows[0], windows[1]]
    if np.iscomplexobj(frames_a) or np.iscomplexobj(target):
        sources = [np.concatenate([s.real.reshape(-1), s.imag.reshape(-1)]) for s in sources]
        target = np.concatenate([np.real(target).reshape(-1), np.imag(target).reshape(-1)])
    weights = np.real(least_squares(sources, target))
    fy = float(np.clip(weights[2] + weights[3], 0, 1))
    fx = float(np.clip(weights[1] + weights[3], 0, 1))
    return fy, fx, windows


def _bilinear(frames_a: np.ndarray, base: tuple[int, int], fy: float, fx: float, windows: tuple[slice, slice]):
    """A translated by base + (fy, fx) over B's window: the spec's bilinear translation."""
    s00, s01, s10, s11 = _neighbours(frames_a, base, windows)
    return (1 - fy) * ((1 - fx) * s00 + fx * s01) + fy * ((1 - fx) * s10 + fx * s11)


def _subpixel_shift(pair: Pair, frames_a: np.ndarray, frames_b: np.ndarray, peak: tuple[int, int],
                    estimate: tuple[float, float], pick: np.ndarray) -> Relation | None:
    """Try the integer bases around the estimate on a few frames, keep the best, verify on all frames."""
    bases_y = sorted({math.floor(estimate[0]), peak[0] - 1, peak[0]})
    bases_x = sorted({math.floor(estimate[1]), peak[1] - 1, peak[1]})
    best = None
    for base in ((by, bx) for by in bases_y for bx in bases_x):
        fit = _bilinear_fit(frames_a[pick], frames_b[pick], base)
        if fit is None:
            continue
        fy, fx, windows = fit
        residual = relative_residual(_bilinear(frames_a[pick], base, fy, fx, windows), frames_b[pick][:, windows[0], windows[1]])
        if best is None or residual < best[0]:
            best = (residual, base, fy, fx, windows)
    if best is None:
        return None
    _, base, fy, fx, windows = best
    predicted = _bilinear(frames_a, base, fy, fx, windows)
    residual, tol = relative_residual(predicted, frames_b[:, windows[0], windows[1]]), pair.tolerance(4)
    if residual > tol:
        return None
    dy, dx = base[0] + fy, base[1] + fx
    if dy == round(dy) and dx == round(dx):
        dy, dx = int(round(dy)), int(round(dx))
        text = f"B = A shifted by (dy, dx) = ({dy}, {dx}) px"
    else:
        text = f"B = A shifted by (dy, dx) = ({dy:.3f}, {dx:.3f}) px, bilinear"
    return make("shift", text, pair, residual, tol, dy=dy, dx=dx)
