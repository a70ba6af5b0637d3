"""Patch extraction (spec 1.2, 3.5.2, 3.5.3) and the translation primitive it relies on (spec 1.4)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.physics.patches import bilinear_patches, integer_crops
from pipelines.physics.translate import bilinear_sample, translate


def _random_image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    return (rng.standard_normal((height, width)) + 1j * rng.standard_normal((height, width))).astype(np.complex64)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), n=st.sampled_from([4, 8, 16]),
       count=st.integers(min_value=0, max_value=20))
def test_bilinear_patches_equal_bilinear_sample(seed, n, count):
    rng = np.random.default_rng(seed)
    image = _random_image(rng, 30, 41)
    positions = rng.uniform(-30, 70, (count, 2))
    patches = bilinear_patches(image, positions, n)
    assert patches.shape == (count, n, n) and patches.dtype == np.complex64
    offsets = np.arange(n) - n // 2
    rows = positions[:, 1, None, None] + offsets[None, :, None]
    cols = positions[:, 0, None, None] + offsets[None, None, :]
    expected = bilinear_sample(image, rows, cols).astype(np.complex64) if count else patches
    np.testing.assert_allclose(patches, expected, rtol=1e-6, atol=1e-6)


def test_bilinear_patches_equal_spec_translate_of_padded_object(sim_lines_object):
    positions = np.array([[149.3289, 356.9750], [10.0, 381.9], [200.5, 200.25]])
    patches = bilinear_patches(sim_lines_object, positions)
    padded = np.pad(sim_lines_object, 32)
    for patch, (x, y) in zip(patches, positions):
        np.testing.assert_allclose(patch, translate(padded, (-x, -y))[:64, :64], rtol=1e-6, atol=1e-6)


def test_patch_reference_pixel_samples_the_position(sim_lines_object):
    x0, y0 = 101, 57
    patch = bilinear_patches(sim_lines_object, np.array([[x0, y0]], dtype=np.float64))[0]
    assert patch[32, 32] == sim_lines_object[y0, x0]


def test_integer_positions_equal_legacy_crops(legacy_objects):
    images = legacy_objects["train"]
    corners = np.array([[0, 0], [10, 300], [328, 328], [123, 45]])
    image_index = np.array([0, 1, 1, 0])
    crops = integer_crops(images, image_index, corners)
    assert crops.shape == (4, 64, 64) and crops.dtype == np.complex64
    for crop, image, (r0, c0) in zip(crops, image_index, corners):
        np.testing.assert_array_equal(crop, images[image, r0 : r0 + 64, c0 : c0 + 64])
        # spec 1.2 item 5: a crop with top-left (r0, c0) is the patch at position (c0 + 32, r0 + 32).
        bilinear = bilinear_patches(images[image], np.array([[c0 + 32.0, r0 + 32.0]]))[0]
        np.testing.assert_array_equal(crop, bilinear)


def test_patches_outside_the_object_are_zero_filled():
    image = np.ones((10, 10), dtype=np.complex64)
    patch = bilinear_patches(image, np.array([[0.5, 0.0]]), n=8)[0]
    assert patch[4, 4] == 1.0  # (x 0.5, y 0): halfway between columns 0 and 1
    assert patch[4, 3] == pytest.approx(0.5)  # halfway between column -1 (outside, 0) and column 0
    assert np.all(patch[:4] == 0)  # rows -4..-1 lie outside
    far = bilinear_patches(image, np.array([[500.0, -500.0]]), n=8)[0]
    assert np.all(far == 0)


INTERIOR = (slice(5, -5), slice(5, -5))  # farther from the border than any |t| <= 3 plus one neighbour


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1),
       t_x=st.integers(min_value=-3, max_value=3), t_y=st.integers(min_value=-3, max_value=3))
def test_translation_round_trip_integer_shift_is_exact_on_interior(seed, t_x, t_y):
    image = _random_image(np.random.default_rng(seed), 24, 24)
    back = translate(translate(image, (t_x, t_y)), (-t_x, -t_y))
    np.testing.assert_array_equal(back[INTERIOR], image[INTERIOR])


@settings(max_examples=40, deadline=None)
@given(t_x=st.floats(min_value=-3, max_value=3), t_y=st.floats(min_value=-3, max_value=3),
       slope_x=st.floats(min_value=-2, max_value=2), slope_y=st.floats(min_value=-2, max_value=2))
def test_translation_round_trip_subpixel_is_exact_on_linear_content(t_x, t_y, slope_x, slope_y):
    # Bilinear interpolation reproduces linear functions, so translate(t) then translate(-t) is the identity
    # on a ramp away from the zero-filled border (on general content it is a mild low-pass).
    ramp = np.add.outer(slope_y * np.arange(24.0), slope_x * np.arange(24.0))
    back = translate(translate(ramp, (t_x, t_y)), (-t_x, -t_y))
    np.testing.assert_allclose(back[INTERIOR], ramp[INTERIOR], atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(t_x=st.integers(min_value=-5, max_value=5), t_y=st.integers(min_value=-5, max_value=5),
       frac=st.floats(min_value=0.0, max_value=0.99))
def test_translation_moves_content_by_plus_t(t_x, t_y, frac):
    image = np.zeros((21, 21), dtype=np.complex64)
    image[10, 10] = 1 + 1j
    moved = translate(image, (t_x, t_y))
    assert moved[10 + t_y, 10 + t_x] == 1 + 1j and np.abs(moved).sum() == pytest.approx(np.sqrt(2))
    # A sub-pixel shift splits the spike between the two pixels it lies between, weighted by distance.
    split = translate(image, (t_x + frac, t_y))
    assert split[10 + t_y, 10 + t_x] == pytest.approx((1 - frac) * (1 + 1j), abs=1e-6)
    assert split[10 + t_y, 11 + t_x] == pytest.approx(frac * (1 + 1j), abs=1e-6)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_same_positions_give_identical_patch_bits(seed):
    rng = np.random.default_rng(seed)
    image = _random_image(rng, 50, 50)
    positions = rng.uniform(0, 50, (40, 2))
    assert bilinear_patches(image, positions, 16).tobytes() == bilinear_patches(image, positions, 16).tobytes()
