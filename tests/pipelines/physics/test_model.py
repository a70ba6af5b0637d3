"""The PINN of spec 3.10: parameter counts, in-model reassembly (O-7a/O-7b), combine, losses, training.

One file so that TensorFlow is imported once; models are built sparingly and batches are tiny.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from harness.device import DeviceHandle  # noqa: E402
from harness.errors import UsageError  # noqa: E402
from pipelines.physics.model.build import (  # noqa: E402
    ModelConfig,
    ModelConfigError,
    build_model,
    intensity_scale_of,
    layer_shapes,
)
from pipelines.physics.model.loss import LossConfig, deviance_per_pixel  # noqa: E402
from pipelines.physics.translate import bilinear_sample, translate  # noqa: E402

N = 64
CLOSED_FORM_LOG_SCALE = math.log(988.2117919921875)

# (config keyword arguments, trainable parameters) for the ten rows of the spec 3.10.1 table.
STUDY = dict(decoder_widths=(256, 128), amp_head_channels=1, border_mask_on_big=False)
TIP = dict(decoder_widths=(128, 64), amp_head_channels=1)
IDEAL = dict(probe_big=False, probe_mask=True)
CUSTOM = dict(probe_big=True, probe_mask=False)
GS1 = dict(gridsize=1, padded_size=74)
GS2 = dict(gridsize=2, padded_size=78)
PARAMETER_TABLE = {
    "legacy study gs2 ideal": ({**STUDY, **IDEAL, **GS2}, 4_397_137),
    "legacy study gs1 ideal": ({**STUDY, **IDEAL, **GS1}, 4_392_058),
    "legacy tip gs2 ideal": ({**TIP, **IDEAL, **GS2}, 2_255_377),
    "legacy tip gs1 ideal": ({**TIP, **IDEAL, **GS1}, 2_252_026),
    "legacy tip gs2 custom": ({**TIP, **CUSTOM, **GS2}, 2_336_854),
    "legacy study gs2 custom": ({**STUDY, **CUSTOM, **GS2}, 4_478_614),
    "sim_lines gs1 ideal": ({**IDEAL, **GS1}, 2_252_026),
    "sim_lines gs2 ideal": ({**IDEAL, **GS2}, 2_257_000),
    "sim_lines gs1 custom": ({**CUSTOM, **GS1}, 2_331_772),
    "sim_lines gs2 custom": ({**CUSTOM, **GS2}, 2_340_208),
}


@pytest.fixture(scope="module")
def tf():
    """TensorFlow with op determinism on (spec 9.2 rule 5); imported once for the whole file."""
    import tensorflow

    tensorflow.config.experimental.enable_op_determinism()
    return tensorflow


@pytest.fixture(scope="module")
def probe() -> np.ndarray:
    """A smooth complex disk probe, max about 1, with a phase ramp so that its phase matters."""
    centred = np.arange(N) - N / 2 + 0.5
    radius = np.hypot(centred[:, None], centred[None, :])
    amplitude = 1.0 / (1.0 + np.exp((radius - 10.0) / 1.5))
    return (amplitude * np.exp(0.05j * centred[None, :])).astype(np.complex64)


def smooth_object(size: int = 300) -> np.ndarray:
    """Slowly varying complex test object: bilinear interpolation error stays far below 1e-3."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    amplitude = 1.0 + 0.3 * np.sin(2 * np.pi * xx / 90) * np.cos(2 * np.pi * yy / 110)
    return amplitude * np.exp(0.5j * np.sin(2 * np.pi * (xx + yy) / 120))


def striped_object(size: int = 300) -> np.ndarray:
    """Object with structure on a 7-13 px scale, so that a misplaced patch gives an O(1) error."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    return 1.0 + 0.8 * np.sin(2 * np.pi * xx / 13) * np.sin(2 * np.pi * yy / 7) + 0.3j * np.cos(2 * np.pi * xx / 9)


def patch_at(obj: np.ndarray, x0: float, y0: float) -> np.ndarray:
    """The N x N patch at position (x0, y0) of spec 1.2 rule 4 (bilinear), via the numpy reference."""
    v = np.arange(N, dtype=np.float64)[:, None]
    u = np.arange(N, dtype=np.float64)[None, :]
    return bilinear_sample(obj, y0 + v - N / 2 + 0 * u, x0 + u - N / 2 + 0 * v)


def grouped_patches(obj: np.ndarray, centres: np.ndarray, coords_relative: np.ndarray) -> np.ndarray:
    """(B, N, N, C) patches at positions centre - coords_relative (coords_relative = offsets - coords_nn)."""
    positions = centres[:, :, None] - coords_relative[:, 0]  # (B, 2, C), [x; y]
    groups = [[patch_at(obj, *positions[b, :, c]) for c in range(positions.shape[2])] for b in range(len(centres))]
    return np.stack([np.stack(group, -1) for group in groups])


def relative_rms(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.abs(estimate - truth) ** 2) / np.sum(np.abs(truth) ** 2)))


def o7a_error(obj: np.ndarray, centres: np.ndarray, canvas: np.ndarray, norm: np.ndarray) -> float:
    """O-7a: canvas pixel [P/2 + dy, P/2 + dx] against the object at (y_b + dy, x_b + dx) where norm >= 1."""
    size = canvas.shape[1]
    d = np.arange(size, dtype=np.float64) - size // 2
    estimates, truths = [], []
    for b, (x_b, y_b) in enumerate(centres):
        truth = bilinear_sample(obj, y_b + d[:, None] + 0 * d[None, :], x_b + d[None, :] + 0 * d[:, None])
        covered = norm[b] >= 1
        estimates.append(canvas[b][covered])
        truths.append(truth[covered])
    return relative_rms(np.concatenate(estimates), np.concatenate(truths))


# ---------------------------------------------------------------------------------------------
# Configuration (no TensorFlow)
# ---------------------------------------------------------------------------------------------


def test_config_rejects_odd_padding_and_bad_knobs():
    odd = ModelConfig(gridsize=2, padded_size=71)  # knob L4, jitter 3: fine to record, fails at train
    with pytest.raises(ModelConfigError, match="odd"):
        build_model(odd, np.ones((N, N), np.complex64), seed=1)
    assert issubclass(ModelConfigError, UsageError)
    with pytest.raises(ModelConfigError):
        ModelConfig(gridsize=2, padded_size=78, amp_head_channels=2)
    with pytest.raises(ModelConfigError):
        ModelConfig(combine="cartesian")
    with pytest.raises(UsageError):
        LossConfig(nll_form="poisson")
    assert ModelConfig(gridsize=2, padded_size=78).amp_head_channels == 4


def test_validation_split_and_nonfinite_epoch_helpers(tf):
    from pipelines.physics.model.training import first_nonfinite_epoch, validation_split_index

    assert validation_split_index(64) == 60 and validation_split_index(8) == 7
    assert first_nonfinite_epoch({"loss": [1.0, 2.0], "val_loss": [1.0, 3.0]}) is None
    assert first_nonfinite_epoch({"loss": [1.0, 2.0, math.nan], "val_loss": [1.0, math.inf, 0.0]}) == 2


def test_deviance_hand_values():
    k = np.array([0.0, 2.0, 3.0])
    lam = np.array([1.0, 2.0, 1.5])
    expected = np.mean([2.0 * (0.0 - (0.0 - 1.0)), 0.0, 2.0 * (3.0 * math.log(2.0) - 1.5)])
    assert deviance_per_pixel(k, lam) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Translation, reassembly and re-extraction (spec 1.4; O-7a, O-7b)
# ---------------------------------------------------------------------------------------------


def test_translation_matches_numpy_reference_and_moves_content_by_plus_t(tf):
    from pipelines.physics.model.layers import translate_images

    rng = np.random.default_rng(1)
    images = (rng.random((5, 20, 24)) + 1j * rng.random((5, 20, 24))).astype(np.complex64)
    shifts = rng.normal(size=(5, 2)) * 4
    out = translate_images(tf.constant(images), shifts[:, 0].astype(np.float32), shifts[:, 1].astype(np.float32))
    np.testing.assert_allclose(out.numpy(), translate(images, shifts), atol=1e-6)
    spot = np.zeros((1, 9, 9), np.float32)
    spot[0, 4, 4] = 1.0
    moved = translate_images(tf.constant(spot), np.array([2.0], np.float32), np.array([-1.0], np.float32)).numpy()
    assert moved[0, 3, 6] == 1.0  # x (column) +2, y (row) -1


def test_reassembly_round_trip_fractional_offsets(tf):
    """O-7a and O-7b with sub-pixel gs2 offsets on a smooth object: relative RMS <= 2e-3."""
    from pipelines.physics.model.reassembly import extract_patches, masked_patches, reassemble_patches

    rng = np.random.default_rng(2)
    centres = np.array([[150.3, 140.7], [120.0, 160.0], [170.25, 130.5]])
    rel = rng.uniform(-5, 5, size=(3, 2, 4))
    rel -= rel.mean(axis=2, keepdims=True)
    coords = rel[:, None]
    obj = smooth_object()
    patches = grouped_patches(obj, centres, coords)
    canvas, norm = reassemble_patches(masked_patches(patches), coords, padded_size=78)
    assert canvas.shape == (3, 78, 78) and canvas.dtype == np.complex64
    assert o7a_error(obj, centres, canvas, norm) <= 2e-3
    back = extract_patches(canvas, coords, N)
    centre = slice(N // 4, 3 * N // 4)
    assert relative_rms(back[:, centre, centre], patches[:, centre, centre]) <= 2e-3


def test_reassembly_sign_or_axis_error_is_order_one(tf):
    """Legacy +-2 px offsets on a structured object: exact path passes, flipped sign or swapped axes fail."""
    from pipelines.physics.model.reassembly import extract_patches, masked_patches, reassemble_patches

    table = np.array([[-2.0, 2.0, -2.0, 2.0], [-2.0, -2.0, 2.0, 2.0]])  # [x; y] per channel
    coords = np.broadcast_to(table, (2, 1, 2, 4)).copy()
    centres = np.array([[150.0, 140.0], [131.0, 162.0]])
    obj = striped_object()
    patches = masked_patches(grouped_patches(obj, centres, coords))
    canvas, norm = reassemble_patches(patches, coords, padded_size=78)
    assert o7a_error(obj, centres, canvas, norm) <= 2e-3
    flipped = reassemble_patches(patches, -coords, padded_size=78)
    swapped = reassemble_patches(patches, coords[:, :, ::-1, :], padded_size=78)
    assert o7a_error(obj, centres, *flipped) > 0.1
    assert o7a_error(obj, centres, *swapped) > 0.1
    centre = slice(N // 4, 3 * N // 4)
    back = extract_patches(canvas, coords, N)
    assert relative_rms(back[:, centre, centre], patches[:, centre, centre]) <= 2e-3
    back_wrong = extract_patches(canvas, -coords, N)
    assert relative_rms(back_wrong[:, centre, centre], patches[:, centre, centre]) > 0.1


def test_collapse_batching_shares_one_canvas_from_64_patches(tf):
    from pipelines.physics.model.reassembly import reassemble_patches

    rng = np.random.default_rng(3)
    patches = (rng.random((16, N, N, 4)) + 1j * rng.random((16, N, N, 4))).astype(np.complex64)
    coords = rng.uniform(-3, 3, size=(16, 1, 2, 4))
    per_sample, per_norm = reassemble_patches(patches, coords, 78, batching="per_sample")
    pooled, pooled_norm = reassemble_patches(patches, coords, 78, batching="collapse")
    assert np.all(pooled == pooled[:1]) and np.all(pooled_norm == pooled_norm[:1])
    np.testing.assert_allclose(pooled_norm[0], per_norm.sum(axis=0), rtol=1e-5)
    assert not np.allclose(per_sample[0], per_sample[1])
    # 15 groups x 4 = 60 patches (< 64): the collapse knob keeps per-sample canvases.
    small, _ = reassemble_patches(patches[:15], coords[:15], 78, batching="collapse")
    np.testing.assert_array_equal(small, per_sample[:15])


def test_reextraction_coverage_flags_content_outside_canvas(tf):
    from pipelines.physics.model.reassembly import reextraction_coverage

    inside = reextraction_coverage(np.zeros((1, 1, 2, 1)), N, 74)
    assert np.all(inside == 1.0)
    outside = reextraction_coverage(np.array([[[[20.0], [0.0]]]]), N, 78)  # 20 px right, canvas margin 7
    assert outside[0, :, : 20 - 7, 0].max() == 0.0 and outside[0, :, 20:, 0].min() == 1.0


# ---------------------------------------------------------------------------------------------
# Layers: combine, far field, masks
# ---------------------------------------------------------------------------------------------


def test_combine_polar_bounded_rect_reaches_sqrt_one_plus_pi_squared(tf):
    from pipelines.physics.model.layers import CombineComplex

    amplitude = tf.constant(np.ones((1, 2, 2, 1), np.float32))
    phase = tf.constant(np.full((1, 2, 2, 4), math.pi, np.float32))
    polar = CombineComplex("polar")([amplitude, phase]).numpy()
    rect = CombineComplex("rect")([amplitude, phase]).numpy()
    assert polar.shape == (1, 2, 2, 4) and polar.dtype == np.complex64
    assert np.abs(polar).max() <= 1 + 1e-6
    np.testing.assert_allclose(np.abs(rect), math.sqrt(1 + math.pi**2), rtol=1e-6)


def test_far_field_is_spec_primitive_and_masks_have_spec_sizes(tf):
    from pipelines.physics.model.layers import central_mask, far_field_amplitude, probe_disk_mask

    rng = np.random.default_rng(4)
    waves = (rng.normal(size=(2, N, N, 3)) + 1j * rng.normal(size=(2, N, N, 3))).astype(np.complex64)
    amplitude = far_field_amplitude(tf.constant(waves)).numpy()
    reference = np.sqrt(np.fft.fftshift(np.abs(np.fft.fft2(waves, axes=(1, 2))) ** 2 / N**2, axes=(1, 2)))
    np.testing.assert_allclose(amplitude, reference, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose((amplitude**2).sum(axis=(1, 2)), (np.abs(waves) ** 2).sum(axis=(1, 2)), rtol=1e-5)
    assert probe_disk_mask(N).sum() == 812 and central_mask(N).sum() == 1024


# ---------------------------------------------------------------------------------------------
# Losses (spec 3.10.2)
# ---------------------------------------------------------------------------------------------


def test_nll_forms_hand_values_and_gradient_ratio(tf):
    from pipelines.physics.model.loss import poisson_nll

    counts = np.array([0.0, 1.0, 4.0, 2.0, 9.0, 3.0, 0.0, 5.0], np.float32).reshape(2, 2, 2, 1)
    rate = np.array([0.5, 1.5, 3.0, 2.5, 8.0, 1.0, 2.0, 4.5], np.float32).reshape(2, 2, 2, 1)
    per = rate.astype(np.float64) - counts * np.log(rate.astype(np.float64))
    lgam = np.vectorize(math.lgamma)(counts.astype(np.float64) + 1.0)
    keras_mean = poisson_nll(tf.constant(counts), tf.constant(rate), "keras_mean").numpy()
    tfp_sum = poisson_nll(tf.constant(counts), tf.constant(rate), "tfp_sum").numpy()
    assert keras_mean == pytest.approx(per.mean(), rel=1e-6)
    assert tfp_sum == pytest.approx((per + lgam).sum(axis=(1, 2, 3)).mean(), rel=1e-6)
    zero = poisson_nll(tf.constant([[[[1.0]]]]), tf.constant([[[[0.0]]]]), "keras_mean").numpy()
    assert not np.isfinite(zero)  # no epsilon inside ln(lambda)

    rng = np.random.default_rng(5)
    k = tf.constant(rng.poisson(20.0, size=(2, N, N, 4)).astype(np.float32))
    lam = tf.Variable(rng.uniform(5.0, 30.0, size=(2, N, N, 4)).astype(np.float32))
    grads = []
    for form in ("keras_mean", "tfp_sum"):
        with tf.GradientTape() as tape:
            value = poisson_nll(k, lam, form)
        grads.append(tape.gradient(value, lam).numpy())
    np.testing.assert_allclose(grads[1], grads[0] * (N * N * 4), rtol=1e-5)


def test_realspace_terms(tf):
    from pipelines.physics.model.loss import complex_mae, realspace_loss, total_variation

    pred = np.zeros((1, 4, 4, 1), np.complex64)
    pred[0, 1, 1, 0] = 1 + 2j
    assert total_variation(tf.constant(pred)).numpy() == pytest.approx(4 * 1 + 4 * 2)
    assert complex_mae(tf.constant(np.zeros_like(pred)), tf.constant(pred)).numpy() == pytest.approx(3 / 16)
    off = realspace_loss(tf.constant(pred), None, LossConfig(), probe_big=True)
    assert float(off) == 0.0
    with pytest.raises(UsageError):
        realspace_loss(tf.constant(pred), None, LossConfig(realspace_weight=0.1, realspace_mae_weight=1.0), True)


def test_realspace_label_centres_channel_zero(tf):
    """centre_channels(Y, coords)[..., :1]: channel 0 translated by -coords_relative[0] (spec 3.10.2)."""
    from pipelines.physics.model.layers import Translate
    from pipelines.physics.model.loss import realspace_label

    rng = np.random.default_rng(9)
    y_obj = (rng.random((2, N, N, 4)) + 1j * rng.random((2, N, N, 4))).astype(np.complex64)
    coords = rng.uniform(-3, 3, size=(2, 1, 2, 4))
    label = realspace_label(y_obj, coords)
    assert label.shape == (2, N, N, 1) and label.dtype == np.complex64
    np.testing.assert_allclose(label[..., 0], translate(y_obj[..., 0], -coords[:, 0, :, 0]), atol=1e-6)
    layer_out = Translate(sign=-1.0)([tf.constant(y_obj), tf.constant(coords.astype(np.float32))]).numpy()
    np.testing.assert_array_equal(layer_out[..., :1], label)


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


def test_parameter_counts_match_spec_table(tf, probe):
    """All ten rows of the spec 3.10.1 table; log_scale is not a weight, the probe is 4,096 non-trainable."""
    import keras

    from pipelines.physics.model.build import param_count

    counts = {}
    for name, (kwargs, _) in PARAMETER_TABLE.items():
        models = build_model(ModelConfig(**kwargs), probe, seed=1)
        counts[name] = param_count(models.training)
        assert not any("log_scale" in w.path for w in models.training.weights)
        keras.backend.clear_session()
    assert {name: c["trainable"] for name, c in counts.items()} == {n: v for n, (_, v) in PARAMETER_TABLE.items()}
    assert {c["non_trainable"] for c in counts.values()} == {N * N}


def test_initial_weights_depend_on_the_seed_alone(tf, probe):
    """Kernel initialisers are seeded from the build seed and the layer name: the global Python and NumPy
    random state (which another thread of a Dask worker draws from) and earlier builds do not change them."""
    import random

    import keras

    config = ModelConfig(**PARAMETER_TABLE["sim_lines gs1 ideal"][0])
    builds = []
    for state in (1, 2):
        random.seed(state)
        np.random.seed(state)
        random.random()
        builds.append([np.array(w) for w in build_model(config, probe, init_seed=11).training.trainable_weights])
    other = [np.array(w) for w in build_model(config, probe, init_seed=12).training.trainable_weights]
    keras.backend.clear_session()
    assert all(np.array_equal(a, b) for a, b in zip(*builds))
    kernels = [i for i, w in enumerate(builds[0]) if w.ndim == 4]
    assert kernels and not any(np.array_equal(builds[0][i], other[i]) for i in kernels)


def test_model_shapes_outputs_and_polar_bound(tf, probe):
    import keras

    config = ModelConfig(**PARAMETER_TABLE["legacy study gs2 ideal"][0])
    models = build_model(config, probe, seed=3)
    shapes = {
        "amp_head": (None, 32, 32, 1),
        "amp_padded": (None, 64, 64, 1),
        "phase_head": (None, 32, 32, 4),
        "phase_padded": (None, 64, 64, 4),
        "object": (None, 64, 64, 4),
        "reassembled": (None, 78, 78, 1),
        "trimmed_obj": (None, 64, 64, 1),
        "pred_diffraction": (None, 64, 64, 4),
        "pred_intensity": (None, 64, 64, 4),
    }
    listed = layer_shapes(models.training)
    assert {name: listed[name] for name in shapes} == shapes
    rng = np.random.default_rng(6)
    inputs = [
        (rng.random((2, N, N, 4)) * 50).astype(np.float32),
        rng.uniform(-2, 2, size=(2, 1, 2, 4)).astype(np.float32),
    ]
    trimmed, amp_scaled, intensity = (np.asarray(o) for o in models.training(inputs))
    assert trimmed.dtype == np.complex64 and amp_scaled.dtype == np.float32
    assert np.abs(trimmed).max() <= 1 + 1e-6
    np.testing.assert_array_equal(np.asarray(models.diffraction_to_obj(inputs)), trimmed)
    np.testing.assert_allclose(intensity, amp_scaled**2, rtol=1e-6)
    keras.backend.clear_session()


def test_zero_norm_eps_gives_nonfinite_border_only_with_probe_big(tf, probe):
    """Knob S15: eps 0 leaves uncovered empty pixels at 0 but makes probe.big border-only pixels non-finite."""
    import keras

    rng = np.random.default_rng(7)
    inputs = [(rng.random((2, N, N, 1)) * 50).astype(np.float32), np.zeros((2, 1, 2, 1), np.float32)]
    centre = np.zeros((N, N), bool)
    centre[N // 4 : 3 * N // 4, N // 4 : 3 * N // 4] = True
    for big in (False, True):
        config = ModelConfig(gridsize=1, padded_size=74, probe_big=big, probe_mask=not big, reassembly_norm_eps=0.0)
        models = build_model(config, probe, seed=4)
        trimmed = np.asarray(models.diffraction_to_obj(inputs))[..., 0]
        bad = ~np.isfinite(trimmed)
        if big:
            assert bad.any() and not (bad & centre).any()
        else:
            assert not bad.any()
        keras.backend.clear_session()


def test_training_is_deterministic_and_keeps_log_scale(tf, probe):
    """8 gs1 groups, 1 epoch, batch 4, twice with one seed: bitwise-identical weights and history."""
    import keras

    from pipelines.physics.model.training import predict_patches, restore_weights, train_model

    rng = np.random.default_rng(8)
    x = (rng.random((8, N, N, 1)) * 0.3).astype(np.float32)
    coords = np.zeros((8, 1, 2, 1))
    config = ModelConfig(gridsize=1, padded_size=74, log_scale_init=CLOSED_FORM_LOG_SCALE)
    seen: list[tuple[int, int, dict]] = []
    records = []
    for _ in range(2):
        records.append(
            train_model(
                config, probe, x, coords, 988.2117919921875, epochs=1, batch_size=4, seed=42,
                on_epoch=lambda epoch, epochs, logs: seen.append((epoch, epochs, logs)),
            )
        )
    first, second = records
    assert first.history == second.history
    assert len(first.weights) == len(second.weights)
    assert all(np.array_equal(a, b) for a, b in zip(first.weights, second.weights))
    assert set(first.history) == {"loss", "nll", "amp_mae", "realspace", "val_loss", "val_nll", "val_amp_mae",
                                  "val_realspace", "lr"}
    assert first.epochs_run == 1 and first.nonfinite_first_epoch is None
    assert (first.n_train, first.n_validation) == (7, 1)
    assert first.history["loss"] == first.history["nll"] and first.history["realspace"] == [0.0]
    assert first.history["lr"] == [pytest.approx(1e-3)]
    assert [s[:2] for s in seen] == [(1, 1), (1, 1)]
    assert first.log_scale_init == first.log_scale_final == CLOSED_FORM_LOG_SCALE
    assert first.intensity_scale_final == intensity_scale_of(CLOSED_FORM_LOG_SCALE) == 988.211669921875
    assert first.param_count == {"trainable": 2_252_026, "non_trainable": N * N}
    assert np.isfinite(first.deviance_per_pixel) and first.deviance_per_pixel > 0

    trimmed, pred_amp = predict_patches(first.models, x, coords, 988.2117919921875)
    assert trimmed.shape == (8, N, N, 1) and trimmed.dtype == np.complex64
    assert pred_amp.shape == (8, N, N, 1) and pred_amp.dtype == np.float32
    fresh = build_model(config, probe, seed=7, device=DeviceHandle(resolved="cpu"))
    restore_weights(fresh, first.weights)
    again, amp_again = predict_patches(fresh, x, coords, 988.2117919921875)
    np.testing.assert_array_equal(again, trimmed)
    np.testing.assert_array_equal(amp_again, pred_amp)

    # The live model serves a later stage only while its weights are the ones asked for.
    from pipelines.physics.model.live import models_for, remember

    remember(first.models, probe, first.weights)
    assert models_for(config, probe, first.weights, seed=7) is first.models
    graph, _ = predict_patches(first.models, x, coords, 988.2117919921875, batch_size=4)  # traced, 2 batches
    np.testing.assert_allclose(graph, trimmed, rtol=0, atol=1e-6 * np.abs(trimmed).max())
    first.models.training.trainable_weights[0].assign(first.models.training.trainable_weights[0] * 1.5)
    rebuilt = models_for(config, probe, first.weights, seed=7)
    assert rebuilt is not first.models
    np.testing.assert_array_equal(predict_patches(rebuilt, x, coords, 988.2117919921875)[0], trimmed)
    keras.backend.clear_session()
