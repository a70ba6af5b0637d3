"""NumPy-level access to the model's own reassembly and re-extraction (checks O-6, O-7a, O-7b of spec 6.2).

These wrappers call exactly the TF functions the model layers call (`layers.reassemble`,
`layers.extract`), so a check on their output is a check on the model's code path.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from pipelines.physics.model.layers import central_mask, extract, reassemble


def _coords(coords_relative: np.ndarray, channels: int) -> tf.Tensor:
    coords = np.asarray(coords_relative, dtype=np.float32)
    if coords.ndim != 4 or coords.shape[1:3] != (1, 2) or coords.shape[3] != channels:
        raise ValueError(f"coords_relative must be (B,1,2,{channels}), got {coords.shape}")
    return tf.constant(coords)


def masked_patches(patches: np.ndarray) -> np.ndarray:
    """patches (B,N,N,C) times the central (N/2)x(N/2) mask: the object support the decoder produces (O-7a)."""
    patches = np.asarray(patches)
    return (patches * central_mask(patches.shape[1])[None, :, :, None]).astype(np.complex64)


def reassemble_patches(
    patches: np.ndarray,
    coords_relative: np.ndarray,
    padded_size: int,
    eps: float = 0.001,
    batching: str = "per_sample",
) -> tuple[np.ndarray, np.ndarray]:
    """Model reassembly (spec 3.10.1 step 6) of patches (B,N,N,C) with offsets (B,1,2,C).

    Channel c is translated by -coords_relative[c]. Returns (canvas (B,P,P) complex64, normaliser (B,P,P)
    float32 without eps). Canvas pixel [P/2 + dy, P/2 + dx] shows the object at (y_b + dy, x_b + dx).
    """
    patches = np.asarray(patches).astype(np.complex64)
    canvas, norm = reassemble(
        tf.constant(patches), _coords(coords_relative, patches.shape[3]), int(padded_size), float(eps), batching
    )
    return canvas.numpy()[..., 0], norm.numpy()[..., 0]


def extract_patches(canvas: np.ndarray, coords_relative: np.ndarray, size: int) -> np.ndarray:
    """Model re-extraction (spec 3.10.1 step 8): canvas (B,P,P) or (B,P,P,1) -> (B,N,N,C) complex64.

    Channel c is the canvas translated by +coords_relative[c], centre-cropped to `size`.
    """
    canvas = np.asarray(canvas).astype(np.complex64)
    if canvas.ndim == 3:
        canvas = canvas[..., None]
    coords = np.asarray(coords_relative)
    out = extract(tf.constant(canvas), _coords(coords, coords.shape[3]), int(size))
    return out.numpy()


def reextraction_coverage(coords_relative: np.ndarray, size: int, padded_size: int) -> np.ndarray:
    """(B,N,N,C) float32: the bilinear weight each re-extracted pixel draws from inside the P x P canvas.

    1 where a crop pixel maps fully inside the canvas, 0 where fully outside; 1 - coverage weighted by
    |P_model|^2 gives the content lost in re-extraction (check O-6).
    """
    coords = np.asarray(coords_relative)
    ones = np.ones((coords.shape[0], int(padded_size), int(padded_size), 1), dtype=np.complex64)
    return np.real(extract_patches(ones, coords, size)).astype(np.float32)
