"""Custom Keras layers of the PINN (spec 3.10.1) and the TF sampling core they share.

Every translation in the model is the primitive T of spec 1.4: output pixel (x, y) is the bilinear sample
of the input at (x - t_x, y - t_y), each neighbour outside the array counting 0, so content moves by +t.
It is implemented here with vectorised gathers. Because a translation shifts every pixel by the same
amount, the integer part of the sample position is a per-image offset and the fractional part a per-image
weight; the 2-D bilinear sample then factors exactly into a row pass and a column pass, each of which
gathers two neighbouring rows (columns) per output row (column). Reassembly, re-extraction and the
realspace label all reduce to this one `resample` routine with different output sizes and start offsets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

# Below this many patches per batch the collapse knob (S5) keeps per-sample canvases (spec 5.2).
COLLAPSE_MIN_PATCHES = 64


# ---------------------------------------------------------------------------------------------
# Constant masks (numpy, float32)
# ---------------------------------------------------------------------------------------------


def central_mask(n: int) -> np.ndarray:
    """The central (n/2)x(n/2) ones mask of an n x n array, rows/cols [n/4, 3n/4) (spec 3.10.1 steps 4, 6)."""
    mask = np.zeros((n, n), dtype=np.float32)
    mask[n // 4 : n // 4 + n // 2, n // 4 : n // 4 + n // 2] = 1.0
    return mask


def probe_disk_mask(n: int) -> np.ndarray:
    """The r < n/4 probe mask on centred indices i - n//2 + 0.5 (spec 3.2.2; 812 px at n = 64)."""
    centred = np.arange(n, dtype=np.float64) - n // 2 + 0.5
    radius = np.sqrt(centred[:, None] ** 2 + centred[None, :] ** 2)
    return (radius < n // 4).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Sampling core (pure TF functions; the layers and the numpy-level helpers all call these)
# ---------------------------------------------------------------------------------------------


def _axis_taps(start: tf.Tensor, out_len: int, in_len: int) -> tuple[tf.Tensor, ...]:
    """Neighbour rows and weights of a 1-D bilinear resampling of M images with in_len rows each.

    Output index i of image m samples input coordinate start[m] + i. Returns the flat row indices
    m*in_len + r of the two neighbours (r clipped into range) and their weights, zero for a neighbour
    outside [0, in_len): that is the per-neighbour zero fill of spec 1.4.
    """
    base = tf.floor(start)
    frac = start - base
    first = tf.cast(base, tf.int32)[:, None] + tf.range(out_len, dtype=tf.int32)[None, :]
    second = first + 1
    weight_first = (1.0 - frac)[:, None] * tf.cast((first >= 0) & (first < in_len), start.dtype)
    weight_second = frac[:, None] * tf.cast((second >= 0) & (second < in_len), start.dtype)
    offset = (tf.range(tf.shape(start)[0], dtype=tf.int32) * in_len)[:, None]
    return (
        tf.clip_by_value(first, 0, in_len - 1) + offset,
        tf.clip_by_value(second, 0, in_len - 1) + offset,
        weight_first,
        weight_second,
    )


def _resample_rows(images: tf.Tensor, start: tf.Tensor, out_rows: int) -> tf.Tensor:
    """(M, H, W) -> (M, out_rows, W): row i of image m is the bilinear sample at row start[m] + i."""
    height, width = int(images.shape[1]), int(images.shape[2])
    first, second, weight_first, weight_second = _axis_taps(start, out_rows, height)
    flat = tf.reshape(images, [-1, width])  # row m*H + r; a plain gather keeps the gradient small
    return (
        tf.gather(flat, first) * weight_first[:, :, None]
        + tf.gather(flat, second) * weight_second[:, :, None]
    )


def resample(
    images: tf.Tensor,
    row_start: tf.Tensor,
    col_start: tf.Tensor,
    out_rows: int,
    out_cols: int,
) -> tf.Tensor:
    """Bilinear resampling of a float stack `images` (M, H, W) onto an (out_rows, out_cols) grid.

    Output pixel [m, i, j] is the bilinear sample of images[m] at (row_start[m] + i, col_start[m] + j),
    neighbours outside the H x W array counting 0 (spec 1.4). Exact for integer starts. Implemented as
    a row pass and a column pass of vectorised gathers (the bilinear weights factor exactly).
    """
    rows = _resample_rows(images, row_start, out_rows)
    cols = _resample_rows(tf.transpose(rows, [0, 2, 1]), col_start, out_cols)
    return tf.transpose(cols, [0, 2, 1])


def _resample_complex(
    images: tf.Tensor, row_start: tf.Tensor, col_start: tf.Tensor, out_rows: int, out_cols: int
) -> tf.Tensor:
    """`resample` of a complex stack: real and imaginary parts with identical weights (spec 1.4)."""
    stacked = tf.concat([tf.math.real(images), tf.math.imag(images)], axis=0)
    rows2 = tf.concat([row_start, row_start], axis=0)
    cols2 = tf.concat([col_start, col_start], axis=0)
    out = resample(stacked, rows2, cols2, out_rows, out_cols)
    real, imag = tf.split(out, 2, axis=0)
    return tf.complex(real, imag)


def _channels_to_flat(images: tf.Tensor) -> tf.Tensor:
    """(B, H, W, C) -> (B*C, H, W), flat index b*C + c (spec 1.3)."""
    height, width = int(images.shape[1]), int(images.shape[2])
    return tf.reshape(tf.transpose(images, [0, 3, 1, 2]), [-1, height, width])


def _flat_to_channels(flat: tf.Tensor, channels: int) -> tf.Tensor:
    """(B*C, H, W) -> (B, H, W, C), inverse of `_channels_to_flat`."""
    height, width = int(flat.shape[1]), int(flat.shape[2])
    return tf.transpose(tf.reshape(flat, [-1, channels, height, width]), [0, 2, 3, 1])


def _flat_offsets(positions: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(B, 1, 2, C) offsets [x; y] -> flat (B*C,) x and y vectors, index b*C + c (spec 1.2, 1.3)."""
    positions = tf.cast(positions, tf.float32)
    return tf.reshape(positions[:, 0, 0, :], [-1]), tf.reshape(positions[:, 0, 1, :], [-1])


def translate_images(images: tf.Tensor, shift_x: tf.Tensor, shift_y: tf.Tensor) -> tf.Tensor:
    """T(img, t) of spec 1.4 on a stack (M, H, W), real or complex: content moves by +t, zero fill."""
    height, width = int(images.shape[1]), int(images.shape[2])
    shift_x = tf.cast(shift_x, tf.float32)
    shift_y = tf.cast(shift_y, tf.float32)
    if images.dtype.is_complex:
        return _resample_complex(images, -shift_y, -shift_x, height, width)
    return resample(images, -shift_y, -shift_x, height, width)


def divide_by_normaliser(numerator: tf.Tensor, normaliser: tf.Tensor, eps: float) -> tf.Tensor:
    """numerator / (normaliser + eps) (spec 3.10.1 step 6; knob S15).

    With eps > 0 this is the plain quotient. With eps = 0 a pixel that no patch reaches (zero numerator
    and zero normaliser) stays 0, while a pixel with content but no mask coverage (the probe.big border)
    becomes +-inf: exactly the "border-only pixels non-finite" of S15. Gradients never pass through the
    non-finite branch.
    """
    if eps > 0:
        return numerator / (normaliser + eps)
    covered = normaliser > 0
    safe = tf.where(covered, normaliser, tf.ones_like(normaliser))
    uncovered = tf.where(
        tf.equal(numerator, 0.0), tf.zeros_like(numerator), tf.stop_gradient(numerator / normaliser)
    )
    return tf.where(covered, numerator / safe, uncovered)


def reassemble(
    objects: tf.Tensor,
    positions: tf.Tensor,
    padded_size: int,
    eps: float,
    batching: str,
) -> tuple[tf.Tensor, tf.Tensor]:
    """In-model reassembly of spec 3.10.1 step 6: (B, N, N, C) complex -> canvas (B, P, P, 1) complex.

    Each channel is zero-padded centred to P and translated by -coords_relative[c]; channels are summed
    and divided (real and imaginary parts alike) by the same sum of the central ones mask, plus eps.
    `batching='collapse'` (knob S5) sums numerator and normaliser over all B*C patches when B*C >= 64 and
    gives every sample that one canvas. Returns (canvas, normaliser), the normaliser without eps.
    """
    size = int(objects.shape[1])
    channels = int(objects.shape[3])
    margin = (padded_size - size) // 2
    flat = _channels_to_flat(objects)
    off_x, off_y = _flat_offsets(positions)
    count = tf.shape(flat)[0]
    mask = tf.broadcast_to(tf.constant(central_mask(size)), tf.stack([count, size, size]))
    # Output canvas pixel R samples padded pixel R + off (translation by -off), i.e. patch pixel R + off - margin.
    stacked = tf.concat([tf.math.real(flat), tf.math.imag(flat), mask], axis=0)
    row_start = tf.tile(off_y - margin, [3])
    col_start = tf.tile(off_x - margin, [3])
    sampled = resample(stacked, row_start, col_start, padded_size, padded_size)
    sampled = tf.reshape(sampled, [3, -1, channels, padded_size, padded_size])
    summed = tf.reduce_sum(sampled, axis=2)  # (3, B, P, P): real, imag, normaliser
    if batching == "collapse":
        batch = tf.shape(summed)[1]
        pooled = tf.broadcast_to(tf.reduce_sum(summed, axis=1, keepdims=True), tf.shape(summed))
        summed = tf.where(batch * channels >= COLLAPSE_MIN_PATCHES, pooled, summed)
    real, imag, norm = summed[0], summed[1], summed[2]
    canvas = tf.complex(divide_by_normaliser(real, norm, eps), divide_by_normaliser(imag, norm, eps))
    return canvas[..., None], norm[..., None]


def extract(canvas: tf.Tensor, positions: tf.Tensor, size: int) -> tf.Tensor:
    """Re-extraction of spec 3.10.1 step 8: canvas (B, P, P, 1) complex -> (B, N, N, C) complex.

    Channel c is the canvas translated by +coords_relative[c] (zero fill inside P x P), centre-cropped to N.
    """
    padded = int(canvas.shape[1])
    channels = int(positions.shape[3])
    margin = (padded - size) // 2
    off_x, off_y = _flat_offsets(positions)
    repeated = tf.repeat(canvas[..., 0], channels, axis=0)  # (B*C, P, P), index b*C + c
    # Crop pixel v is canvas pixel v + margin, which samples the canvas at v + margin - off.
    flat = _resample_complex(repeated, margin - off_y, margin - off_x, size, size)
    return _flat_to_channels(flat, channels)


def far_field_amplitude(waves: tf.Tensor) -> tf.Tensor:
    """F of spec 1.5 per channel: sqrt(fftshift(|DFT2(psi)|^2 / N^2)), (B, N, N, C) complex -> float32."""
    size = int(waves.shape[1])
    spectrum = tf.signal.fft2d(tf.transpose(tf.cast(waves, tf.complex64), [0, 3, 1, 2]))
    power = (tf.square(tf.math.real(spectrum)) + tf.square(tf.math.imag(spectrum))) / float(size * size)
    amplitude = tf.sqrt(tf.signal.fftshift(power, axes=(-2, -1)))
    return tf.transpose(amplitude, [0, 2, 3, 1])


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogScale:
    """The one log-scale L shared by the scaler and its inverse (spec 3.10.1 steps 1, 11).

    L is a constant, never a weight: both originals leave it at log_scale_init, and it is not counted in
    param_count. `factor` is exp(L) evaluated in float32 (988.211669921875 for the closed form, spec 1.7).
    """

    value: float

    @property
    def factor(self) -> float:
        return float(np.exp(np.float32(self.value)))


class IntensityScaler(keras.layers.Layer):
    """x / exp(L) (forward) or exp(L) * x (inverse), with the shared constant L (spec 3.10.1 steps 1, 11)."""

    def __init__(self, log_scale: LogScale, inverse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log_scale = log_scale
        self.inverse = inverse

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        factor = tf.constant(self.log_scale.factor, dtype=inputs.dtype)
        return inputs * factor if self.inverse else inputs / factor

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "log_scale": self.log_scale.value, "inverse": self.inverse}


class ScaledTanh(keras.layers.Layer):
    """pi * tanh(x), the phase activation (spec 3.10.1 step 4)."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return math.pi * tf.tanh(inputs)


class BorderMask(keras.layers.Layer):
    """Multiply by (1 - central mask), keeping only the border of the probe.big branch (spec 3.10.1 step 4)."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        border = 1.0 - central_mask(int(inputs.shape[1]))
        return inputs * tf.constant(border[None, :, :, None], dtype=inputs.dtype)


class CombineComplex(keras.layers.Layer):
    """Object from amplitude and phase maps: polar A*exp(i*phi) or rect A + i*phi (spec 3.10.1 step 5, S2).

    An amplitude with one channel is broadcast to all C phase channels (legacy, knob S17).
    """

    def __init__(self, mode: str = "polar", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in ("polar", "rect"):
            raise ValueError(f"combine must be 'polar' or 'rect', got {mode!r}")
        self.mode = mode

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        amplitude, phase = inputs
        amplitude = tf.broadcast_to(amplitude, tf.shape(phase))
        if self.mode == "polar":
            return tf.complex(amplitude * tf.cos(phase), amplitude * tf.sin(phase))
        return tf.complex(amplitude, phase)

    def compute_output_spec(self, inputs: list[Any]) -> keras.KerasTensor:
        return keras.KerasTensor(inputs[1].shape, dtype="complex64")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


class ReassemblePatches(keras.layers.Layer):
    """[object (B,N,N,C) complex, coords_relative (B,1,2,C)] -> canvas (B,P,P,1) complex (spec 3.10.1 step 6)."""

    def __init__(self, padded_size: int, eps: float = 0.001, batching: str = "per_sample", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if batching not in ("per_sample", "collapse"):
            raise ValueError(f"reassembly_batching must be 'per_sample' or 'collapse', got {batching!r}")
        self.padded_size = int(padded_size)
        self.eps = float(eps)
        self.batching = batching

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        objects, positions = inputs
        canvas, _ = reassemble(objects, positions, self.padded_size, self.eps, self.batching)
        return canvas

    def compute_output_spec(self, inputs: list[Any]) -> keras.KerasTensor:
        batch = inputs[0].shape[0]
        return keras.KerasTensor((batch, self.padded_size, self.padded_size, 1), dtype="complex64")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "padded_size": self.padded_size,
            "eps": self.eps,
            "batching": self.batching,
        }


class TrimCentre(keras.layers.Layer):
    """Central N x N of the P x P canvas, offset (P - N)/2 -> trimmed_obj (spec 3.10.1 step 7)."""

    def __init__(self, size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, canvas: tf.Tensor) -> tf.Tensor:
        margin = (int(canvas.shape[1]) - self.size) // 2
        return canvas[:, margin : margin + self.size, margin : margin + self.size, :]

    def compute_output_spec(self, canvas: Any) -> keras.KerasTensor:
        return keras.KerasTensor((canvas.shape[0], self.size, self.size, canvas.shape[3]), dtype=canvas.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


class ExtractPatches(keras.layers.Layer):
    """[canvas (B,P,P,1), coords_relative (B,1,2,C)] -> (B,N,N,C): translate by +offset, crop (step 8)."""

    def __init__(self, size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        canvas, positions = inputs
        return extract(canvas, positions, self.size)

    def compute_output_spec(self, inputs: list[Any]) -> keras.KerasTensor:
        canvas, positions = inputs
        return keras.KerasTensor((canvas.shape[0], self.size, self.size, positions.shape[3]), dtype="complex64")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


class ProbeIllumination(keras.layers.Layer):
    """Multiply patches by the non-trainable probe (1,N,N,1), and by the r<16 mask if probe.mask (step 9).

    The probe is a non-trainable complex64 weight, so it counts as the N*N non-trainable parameters of
    the model summary (4,096 at N = 64).
    """

    def __init__(self, probe: np.ndarray, use_mask: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._probe_value = np.asarray(probe, dtype=np.complex64).reshape(1, probe.shape[0], probe.shape[1], 1)
        self.use_mask = bool(use_mask)
        size = self._probe_value.shape[1]
        self.probe = self.add_weight(
            shape=(1, size, size, 1), dtype="complex64", initializer="zeros", trainable=False, name="probe"
        )
        self.probe.assign(self._probe_value)
        self._mask = probe_disk_mask(size)[None, :, :, None] if self.use_mask else None

    def call(self, patches: tf.Tensor) -> tf.Tensor:
        lit = patches * tf.cast(self.probe, patches.dtype)
        if self._mask is not None:
            lit = lit * tf.constant(self._mask.astype(np.complex64))
        return lit

    def compute_output_spec(self, patches: Any) -> keras.KerasTensor:
        return keras.KerasTensor(patches.shape, dtype="complex64")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_mask": self.use_mask}


class FarField(keras.layers.Layer):
    """Predicted diffraction amplitude F(psi) per channel, float32 (spec 1.5, 3.10.1 step 10)."""

    def call(self, waves: tf.Tensor) -> tf.Tensor:
        return far_field_amplitude(waves)

    def compute_output_spec(self, waves: Any) -> keras.KerasTensor:
        return keras.KerasTensor(waves.shape, dtype="float32")


class Square(keras.layers.Layer):
    """Elementwise square: pred_intensity = pred_amp_scaled^2, the Poisson rate (spec 3.10.1 step 11)."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.square(inputs)


class Translate(keras.layers.Layer):
    """[images (B,H,W,C), shifts (B,1,2,C)] -> T(images, shifts) channel by channel (spec 1.4)."""

    def __init__(self, sign: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sign = float(sign)

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        images, positions = inputs
        off_x, off_y = _flat_offsets(positions)
        flat = translate_images(_channels_to_flat(images), self.sign * off_x, self.sign * off_y)
        return _flat_to_channels(flat, int(images.shape[3]))

    def compute_output_spec(self, inputs: list[Any]) -> keras.KerasTensor:
        return keras.KerasTensor(inputs[0].shape, dtype=inputs[0].dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sign": self.sign}
