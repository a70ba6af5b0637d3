"""The translation primitive T(img, t) of spec 1.4: bilinear, zero fill, content moves by +t."""
from __future__ import annotations

import numpy as np


def bilinear_sample(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample `image[..., H, W]` at fractional (rows, cols); neighbours outside the array count 0.

    `rows` and `cols` broadcast against each other; leading axes of `image` must broadcast with
    them too (use image[k] per image, or pass stacks with matching leading shape). Complex images
    interpolate real and imaginary parts with identical weights (the interpolation is linear).
    """
    height, width = image.shape[-2:]
    r0 = np.floor(rows).astype(np.int64)
    c0 = np.floor(cols).astype(np.int64)
    fr = (rows - r0).astype(np.float64)
    fc = (cols - c0).astype(np.float64)
    out = None
    for dr, wr in ((0, 1.0 - fr), (1, fr)):
        for dc, wc in ((0, 1.0 - fc), (1, fc)):
            rr = r0 + dr
            cc = c0 + dc
            inside = (rr >= 0) & (rr < height) & (cc >= 0) & (cc < width)
            values = image[..., np.clip(rr, 0, height - 1), np.clip(cc, 0, width - 1)]
            term = np.where(inside, values, 0) * (wr * wc)
            out = term if out is None else out + term
    return out


def translate(image: np.ndarray, shift_xy: tuple[float, float] | np.ndarray) -> np.ndarray:
    """T(image, t): output pixel (x, y) is the bilinear sample of `image` at (x - t_x, y - t_y).

    `image` is (H, W) or a stack (..., H, W); `shift_xy` is [t_x, t_y], or (..., 2) matching the
    stack's leading shape. Integer shifts are exact. The dtype of `image` is kept.
    """
    image = np.asarray(image)
    shift = np.asarray(shift_xy, dtype=np.float64)
    height, width = image.shape[-2:]
    rows = np.arange(height, dtype=np.float64)[:, None]
    cols = np.arange(width, dtype=np.float64)[None, :]
    if shift.ndim == 1:
        out = bilinear_sample(image, rows - shift[1], cols - shift[0])
        return out.astype(image.dtype, copy=False)
    lead = image.shape[:-2]
    flat_images = image.reshape((-1, height, width))
    flat_shifts = np.broadcast_to(shift, lead + (2,)).reshape((-1, 2))
    out = np.empty_like(flat_images)
    for index, (t_x, t_y) in enumerate(flat_shifts):
        out[index] = bilinear_sample(flat_images[index], rows - t_y, cols - t_x)
    return out.reshape(image.shape)
