"""The "lines" amplitude object generator shared by both pipelines (spec 3.3.1)."""
from __future__ import annotations

import numpy as np
from skimage.draw import line

OBJECT_SIZE = 392
N_LINES = 400
BLUR_TERMS = ((1.0, 1.0), (5.0, 2.0), (10.0, 5.0))


def line_endpoints(rs: np.random.RandomState, canvas_side: int, n_lines: int = N_LINES) -> np.ndarray:
    """Draw (r0, c0, r1, c1) per line as int(side * uniform()), in that order (spec 3.3.1 step 2).

    One array draw consumes the MT19937 stream exactly like 4 * n_lines scalar draws.
    """
    uniforms = rs.uniform(size=(n_lines, 4))
    return np.floor(canvas_side * uniforms).astype(np.int64)


def lines_canvas(endpoints: np.ndarray, canvas_side: int) -> np.ndarray:
    """Rasterise lines (Bresenham, inclusive endpoints, skimage.draw.line) onto a zero float64 canvas."""
    canvas = np.zeros((canvas_side, canvas_side), dtype=np.float64)
    for r0, c0, r1, c1 in endpoints:
        rows, cols = line(int(r0), int(c0), int(r1), int(c1))
        canvas[rows, cols] = 1.0
    return canvas


def lines_object(rs: np.random.RandomState, size: int = OBJECT_SIZE) -> np.ndarray:
    """One lines object: 400 lines on a 2S canvas, G1 + 2 G5 + 5 G10 blur, centre crop S, complex64 (3.3.1)."""
    from scipy.ndimage import gaussian_filter  # lazy: the host imports this module on every command

    side = 2 * size
    canvas = lines_canvas(line_endpoints(rs, side), side)
    image = sum(
        weight * gaussian_filter(canvas, sigma=sigma, mode="reflect", truncate=4.0) for sigma, weight in BLUR_TERMS
    )
    start = size // 2
    return image[start : start + size, start : start + size].astype(np.complex64)


def lines_objects(rs: np.random.RandomState, count: int, size: int = OBJECT_SIZE) -> np.ndarray:
    """`count` lines objects drawn sequentially from one stream, no reseeding (spec 3.3.2): (count, S, S)."""
    return np.stack([lines_object(rs, size) for _ in range(count)])
