"""Loss terms of spec 3.10.2 and the deviance of 3.10.4.

`LossConfig` is importable without TensorFlow; the TF functions import it on first use. All TF loss
functions return scalars: the reduction each original applied is part of the term's definition.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from harness.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import tensorflow as tf

NLL_FORMS = ("keras_mean", "tfp_sum")
LABEL_CHUNK = 1024  # groups per translation call when building the realspace label


@dataclass(frozen=True)
class LossConfig:
    """Weights and NLL form of the compiled objective (spec 3.10.2; knobs S9, S12, L2).

    total = realspace_weight * realspace + mae_weight * amp_mae + nll_weight * nll, with
    realspace = tv_weight * TV + realspace_mae_weight * complex MAE.
    """

    nll_form: str = "keras_mean"
    nll_weight: float = 1.0
    mae_weight: float = 0.0
    realspace_weight: float = 0.0
    realspace_mae_weight: float = 0.0
    tv_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.nll_form not in NLL_FORMS:
            raise UsageError(f"nll_form must be one of {', '.join(NLL_FORMS)}, got {self.nll_form!r}")
        for name in ("nll_weight", "mae_weight", "realspace_weight", "realspace_mae_weight", "tv_weight"):
            if not getattr(self, name) >= 0:
                raise UsageError(f"{name} must be >= 0, got {getattr(self, name)}")

    @property
    def needs_realspace_label(self) -> bool:
        """Whether the realspace term reads the label (only its complex-MAE part does)."""
        return self.realspace_mae_weight > 0


def poisson_nll_keras_mean(counts: "tf.Tensor", rate: "tf.Tensor") -> "tf.Tensor":
    """sim_lines NLL: mean over all elements of lambda - k*ln(lambda) (spec 3.10.2, S9 default).

    This is tf.nn.log_poisson_loss(k, ln lambda, compute_full_loss=False) under the Keras mean
    reduction. No epsilon inside the log: a zero rate gives a non-finite loss, which is a finding.
    """
    import tensorflow as tf

    return tf.reduce_mean(rate - counts * tf.math.log(rate))


def poisson_nll_tfp_sum(counts: "tf.Tensor", rate: "tf.Tensor") -> "tf.Tensor":
    """dose_legacy NLL: per sample sum over (x, y, c) of lambda - k ln lambda + lgamma(k+1), batch mean.

    This is the negative log-probability of an Independent Poisson over the last three axes (spec
    3.10.2). Its gradient is N^2*C times that of the keras_mean form.
    """
    import tensorflow as tf

    per_element = rate - counts * tf.math.log(rate) + tf.math.lgamma(counts + 1.0)
    return tf.reduce_mean(tf.reduce_sum(per_element, axis=[1, 2, 3]))


def poisson_nll(counts: "tf.Tensor", rate: "tf.Tensor", form: str) -> "tf.Tensor":
    """The NLL of the named form ('keras_mean' | 'tfp_sum')."""
    if form == "keras_mean":
        return poisson_nll_keras_mean(counts, rate)
    if form == "tfp_sum":
        return poisson_nll_tfp_sum(counts, rate)
    raise UsageError(f"nll_form must be one of {', '.join(NLL_FORMS)}, got {form!r}")


def amplitude_mae(target: "tf.Tensor", predicted: "tf.Tensor") -> "tf.Tensor":
    """mean |s_m*X - pred_amp_scaled| over all elements (spec 3.10.2)."""
    import tensorflow as tf

    return tf.reduce_mean(tf.abs(target - predicted))


def total_variation(images: "tf.Tensor") -> "tf.Tensor":
    """Anisotropic TV of a complex (B, H, W, C) stack: per sample the sum of |neighbour differences| of
    the real and the imaginary parts along rows and columns, averaged over the batch."""
    import tensorflow as tf

    total = 0.0
    for part in (tf.math.real(images), tf.math.imag(images)):
        rows = tf.reduce_sum(tf.abs(part[:, 1:, :, :] - part[:, :-1, :, :]), axis=[1, 2, 3])
        cols = tf.reduce_sum(tf.abs(part[:, :, 1:, :] - part[:, :, :-1, :]), axis=[1, 2, 3])
        total = total + rows + cols
    return tf.reduce_mean(total)


def complex_mae(target: "tf.Tensor", predicted: "tf.Tensor") -> "tf.Tensor":
    """MAE of the real parts plus MAE of the imaginary parts (spec 3.10.2 'complex MAE')."""
    import tensorflow as tf

    difference = predicted - tf.cast(target, predicted.dtype)
    return tf.reduce_mean(tf.abs(tf.math.real(difference))) + tf.reduce_mean(tf.abs(tf.math.imag(difference)))


def realspace_loss(
    predicted: "tf.Tensor",
    label: "tf.Tensor | None",
    config: LossConfig,
    probe_big: bool,
) -> "tf.Tensor":
    """tv_weight*TV + realspace_mae_weight*complex MAE on trimmed_obj (spec 3.10.2).

    The prediction is masked to the central N/2 when probe.big is False. A part whose weight is 0
    contributes exactly 0, so the label is needed only when realspace_mae_weight > 0.
    """
    import tensorflow as tf

    from pipelines.physics.model.layers import central_mask

    if not probe_big:
        mask = central_mask(int(predicted.shape[1]))[None, :, :, None].astype(np.complex64)
        predicted = predicted * tf.constant(mask)
    term = tf.constant(0.0, tf.float32)
    if config.tv_weight > 0:
        term = term + config.tv_weight * total_variation(predicted)
    if config.realspace_mae_weight > 0:
        if label is None:
            raise UsageError("realspace_mae_weight > 0 needs the realspace label (Y_obj_grouped)")
        term = term + config.realspace_mae_weight * complex_mae(label, predicted)
    return term


def weighted_total(terms: dict[str, "tf.Tensor"], config: LossConfig) -> "tf.Tensor":
    """realspace_weight*realspace + mae_weight*amp_mae + nll_weight*nll: the compiled weighted list."""
    return (
        config.realspace_weight * terms["realspace"]
        + config.mae_weight * terms["amp_mae"]
        + config.nll_weight * terms["nll"]
    )


def realspace_label(y_obj_grouped: np.ndarray, coords_relative: np.ndarray) -> np.ndarray:
    """centre_channels(Y, coords)[..., :1]: channel 0 translated by -coords_relative[0] (spec 3.10.2).

    Runs the model's own TF translation. Returns (B, N, N, 1) complex64.
    """
    import tensorflow as tf

    from pipelines.physics.model.layers import translate_images

    objects = np.asarray(y_obj_grouped)[..., 0].astype(np.complex64)
    offsets = np.asarray(coords_relative, dtype=np.float32)[:, 0, :, 0]
    out = np.empty(objects.shape + (1,), dtype=np.complex64)
    for start in range(0, objects.shape[0], LABEL_CHUNK):
        stop = start + LABEL_CHUNK
        shifted = translate_images(tf.constant(objects[start:stop]), -offsets[start:stop, 0], -offsets[start:stop, 1])
        out[start:stop, ..., 0] = shifted.numpy()
    return out


def deviance_per_pixel(counts: np.ndarray, rate: np.ndarray) -> float:
    """Mean over pixels of the Poisson deviance 2[k ln(k/lambda) - (k - lambda)], k ln(k/lambda) = 0 at k = 0.

    Computed in float64 (spec 3.10.4); the one loss number comparable across the two NLL forms.
    """
    k = np.asarray(counts, dtype=np.float64)
    lam = np.asarray(rate, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(k > 0, k * np.log(np.where(k > 0, k, 1.0) / lam), 0.0)
    return float(np.mean(2.0 * (log_term - (k - lam))))
