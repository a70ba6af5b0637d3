"""Stage `stitch` physics (spec §3.12) and the offset checks O-8, O-9, O-10 (§6.2)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.physics.metrics import truth_on_canvas
from pipelines.physics.patches import bilinear_patches
from pipelines.physics.stitching import (
    canvas_geometry,
    central_crop,
    fixed_canvas_energy_loss,
    legacy_ground_truth_crop,
    legacy_region_centres,
    legacy_tile_geometry,
    offsets_xy,
    round_trip_legacy_tiles,
    round_trip_shift_and_sum,
    scatter_translated,
    shift_and_sum,
    stitch_legacy_position,
    stitch_legacy_tiles,
)
from pipelines.physics.translate import translate

N = 64
SIZE = 392


def smooth_object(size: int = SIZE, seed: int = 0) -> np.ndarray:
    """A smooth positive amplitude object (a few long-wavelength sinusoids), float64."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    image = np.full((size, size), 2.0)
    for _ in range(4):
        ky, kx = rng.uniform(-2 * np.pi / 40, 2 * np.pi / 40, 2)
        image += 0.3 * np.cos(ky * y + kx * x + rng.uniform(0, 2 * np.pi))
    return image


def whole_canvas_shift_and_sum(
    patches: np.ndarray, offsets: np.ndarray, m: int, pad_to_even: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """§3.12.2 taken literally: every crop zero-padded into the full H×W canvas, then translated."""
    geometry = canvas_geometry(offsets, m, pad_to_even)
    crops = central_crop(patches, m)
    side, pad = geometry.height, geometry.pad
    numerator = np.zeros((side, side), dtype=np.complex128)
    coverage = np.zeros((side, side), dtype=np.float64)
    for crop, shift in zip(crops, geometry.adjusted_xy):
        padded = np.zeros((side, side), dtype=np.complex128)
        padded[pad : pad + m, pad : pad + m] = crop
        ones = np.zeros((side, side), dtype=np.float64)
        ones[pad : pad + m, pad : pad + m] = 1.0
        numerator += translate(padded, shift)
        coverage += translate(ones, shift)
    return (numerator / (coverage + 1e-9)).astype(np.complex64), coverage


def random_patches(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (count, N, N, 1)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


# ------------------------------------------------------------------------------------------
# Legacy tiling (§3.12.1)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "outer_offset_test", "gridsize", "side", "extra", "clip", "n_regions"),
    [
        ("full", 20, 2, 330, 4, 29, 33),
        ("full", 20, 1, 330, 8, 27, 33),
        ("smoke", 64, 2, 352, 4, 18, 11),
        ("smoke", 64, 1, 352, 8, 16, 11),
    ],
)
def test_legacy_canvas_size_origin_and_ground_truth_crop(
    profile: str, outer_offset_test: int, gridsize: int, side: int, extra: int, clip: int, n_regions: int
) -> None:
    big_n = N + (gridsize - 1) * 4
    geometry = legacy_tile_geometry(N, outer_offset_test, SIZE, big_n, gridsize)
    assert (geometry.n_regions, geometry.canvas_side, geometry.extra) == (n_regions, side, extra)
    assert geometry.clip_lead == geometry.clip_trail == clip

    nimgs = 2
    patches = random_patches(nimgs * n_regions**2)
    stitched = stitch_legacy_tiles(patches, nimgs, outer_offset_test, SIZE, big_n, gridsize)
    assert stitched.canvas_stack.shape == (nimgs, side, side)
    assert stitched.canvas.shape == (side, side) and stitched.canvas.dtype == np.complex64
    assert stitched.coverage.dtype == np.float32 and np.all(stitched.coverage == 1)
    assert stitched.canvas_origin.dtype == np.float64
    np.testing.assert_array_equal(stitched.canvas_origin, [clip, clip])
    np.testing.assert_array_equal(stitched.canvas, stitched.canvas_stack[0])

    truth = np.arange(SIZE * SIZE, dtype=np.float64).reshape(SIZE, SIZE)
    cropped = legacy_ground_truth_crop(truth, outer_offset_test, big_n, gridsize)
    assert cropped.shape == (side, side)
    assert cropped[0, 0] == truth[clip, clip]
    assert cropped[-1, -1] == truth[SIZE - extra - clip - 1, SIZE - extra - clip - 1]


def test_legacy_tiles_keep_central_tile_in_region_order() -> None:
    patches = random_patches(33 * 33)
    stitched = stitch_legacy_tiles(patches, 1, 20, SIZE, 68, 2)
    # region (I, J) = (3, 7), tile pixel (i, j) = (4, 9) -> patch pixel (27 + 4, 27 + 9)
    assert stitched.canvas[3 * 10 + 4, 7 * 10 + 9] == patches[3 * 33 + 7, 31, 36, 0]


def test_legacy_odd_border_splits_ceil_top_left_floor_bottom_right() -> None:
    geometry = legacy_tile_geometry(N, 18, SIZE, 68, 2)  # t = 9, border 27.5
    assert (geometry.tile, geometry.border_lead, geometry.border_trail) == (9, 28, 27)
    assert (geometry.clip_lead, geometry.clip_trail) == (30, 29)
    n_regions = geometry.n_regions
    patches = random_patches(n_regions**2)
    stitched = stitch_legacy_tiles(patches, 1, 18, SIZE, 68, 2)
    assert stitched.canvas.shape == (n_regions * 9, n_regions * 9)
    np.testing.assert_array_equal(stitched.canvas[:9, :9], patches[0, 28:37, 28:37, 0])
    truth = np.zeros((SIZE, SIZE))
    assert legacy_ground_truth_crop(truth, 18, 68, 2).shape == stitched.canvas.shape


def test_legacy_tiles_reject_patch_count_inconsistent_with_geometry() -> None:
    with pytest.raises(ValueError):
        stitch_legacy_tiles(random_patches(32 * 32), 1, 20, SIZE, 68, 2)


# ------------------------------------------------------------------------------------------
# O-8 bookkeeping round trip
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("outer_offset_test", "gridsize"), [(20, 2), (20, 1), (64, 2), (64, 1)])
def test_o8_round_trip_legacy_tiles_is_exact_on_the_test_images(
    legacy_objects: dict[str, np.ndarray], outer_offset_test: int, gridsize: int
) -> None:
    images = np.abs(legacy_objects["test"])
    result = round_trip_legacy_tiles(images, outer_offset_test, N + (gridsize - 1) * 4, gridsize)
    assert result.relative_rms <= 1e-6
    assert result.n_covered == result.stitched.canvas.size


def test_o8_round_trip_sim_lines_within_bilinear_tolerance() -> None:
    rng = np.random.default_rng(3)
    positions = np.stack([rng.uniform(10, 382, 300), rng.uniform(196, 382, 300)], axis=1)
    offsets = positions[:, None, :, None]  # coords_offsets format (B, 1, 2, 1)
    result = round_trip_shift_and_sum(smooth_object(), offsets)
    assert result.relative_rms <= 5e-3
    assert result.n_covered > 20_000


def test_o8_round_trip_exposes_a_stitch_sign_error() -> None:
    rng = np.random.default_rng(4)
    positions = np.stack([rng.uniform(40, 350, 120), rng.uniform(40, 350, 120)], axis=1)
    obj = smooth_object()
    patches = bilinear_patches(obj, positions)
    mirrored = 2 * positions.mean(axis=0) - positions  # translate by −a_b instead of +a_b
    good = shift_and_sum(patches, positions)
    bad = shift_and_sum(patches, mirrored)
    np.testing.assert_allclose(good.canvas_origin, bad.canvas_origin, atol=1e-9)
    assert round_trip_shift_and_sum(obj, positions).relative_rms <= 5e-3
    covered = bad.coverage > 0.5
    expected = truth_on_canvas(obj, bad.canvas.shape, bad.canvas_origin)[covered]
    relative_rms = np.sqrt(np.sum((np.abs(bad.canvas[covered]) - expected) ** 2) / np.sum(expected**2))
    assert relative_rms > 0.05


def test_o8_round_trip_legacy_position_stitcher_is_exact_at_integer_centres() -> None:
    centres = legacy_region_centres(n_regions=33, stride=10, big_n=68)
    result = round_trip_shift_and_sum(smooth_object(), centres, m=10, pad_to_even=False)
    assert result.relative_rms <= 1e-6


# ------------------------------------------------------------------------------------------
# O-9 geometry
# ------------------------------------------------------------------------------------------


def test_o9_geometry_reproduces_full_gs1_numbers() -> None:
    # two points with centroid (195.85, 287.71) and max |a| = 186.05, as in §3.12.3
    offsets = np.array([[195.85 - 186.05, 287.71 - 90.0], [195.85 + 186.05, 287.71 + 90.0]])
    geometry = canvas_geometry(offsets)
    assert geometry.pad == 188 and geometry.height == geometry.width == 396
    np.testing.assert_allclose(geometry.centroid_xy, [195.85, 287.71], atol=1e-9)
    np.testing.assert_allclose(geometry.canvas_origin, [89.71, -2.15], atol=1e-9)
    legacy = canvas_geometry(offsets, m=10, pad_to_even=False)
    assert legacy.pad == 187 and legacy.height == 10 + 2 * 187


@pytest.mark.parametrize("seed", range(5))
def test_o9_geometry_invariants_on_random_offsets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(10, 382, (rng.integers(1, 200), 1, 2, 1))
    geometry = canvas_geometry(offsets)
    xy = offsets[:, 0, :, 0]
    assert geometry.pad % 2 == 0 and geometry.pad >= geometry.max_abs_adjusted > geometry.pad - 2 - 1e-12
    assert geometry.height == geometry.width == 20 + 2 * geometry.pad
    assert np.all(np.abs(geometry.adjusted_xy) + 20 / 2 <= geometry.height / 2)
    centroid = xy.mean(axis=0)
    np.testing.assert_allclose(
        geometry.canvas_origin, [centroid[1] - geometry.height / 2, centroid[0] - geometry.width / 2], atol=1e-9
    )
    stitched = shift_and_sum(random_patches(xy.shape[0], seed), offsets)
    assert stitched.canvas.shape == (geometry.height, geometry.width)
    np.testing.assert_array_equal(stitched.canvas_origin, geometry.canvas_origin)


# ------------------------------------------------------------------------------------------
# Shift-and-sum details
# ------------------------------------------------------------------------------------------


def test_uncovered_pixels_are_exactly_zero_and_dtypes_follow_spec() -> None:
    offsets = np.array([[100.3, 200.7], [160.0, 150.25], [130.5, 260.0]])
    stitched = shift_and_sum(random_patches(3), offsets)
    assert stitched.canvas.dtype == np.complex64
    assert stitched.coverage.dtype == np.float32
    assert stitched.canvas_origin.dtype == np.float64
    uncovered = stitched.coverage == 0
    assert uncovered.sum() > 0.5 * uncovered.size
    assert np.all(stitched.canvas.real[uncovered] == 0) and np.all(stitched.canvas.imag[uncovered] == 0)


def test_fast_stitcher_equals_whole_canvas_definition() -> None:
    rng = np.random.default_rng(7)
    offsets = rng.uniform(20, 60, (12, 2))
    offsets[0] = [20.0, 60.0]  # integer offsets, some on the extreme |a| = max
    offsets[1] = [60.5, 19.25]
    patches = random_patches(12, seed=1)
    for m, even in ((20, True), (10, False)):
        fast = shift_and_sum(patches, offsets, m=m, pad_to_even=even)
        slow_canvas, slow_coverage = whole_canvas_shift_and_sum(patches, offsets, m, even)
        np.testing.assert_allclose(fast.coverage, slow_coverage, atol=1e-6)
        np.testing.assert_allclose(fast.canvas, slow_canvas, atol=1e-5, rtol=1e-5)


def test_scatter_translated_matches_translate_including_clipping() -> None:
    rng = np.random.default_rng(8)
    tile = rng.standard_normal((5, 7))
    for top_left in ([-2.3, 4.6], [10.0, -1.0], [11.7, 13.2], [3.25, 3.5]):
        canvas = np.zeros((16, 18))
        canvas[: tile.shape[0], : tile.shape[1]] = tile
        expected = translate(canvas, [top_left[1], top_left[0]])
        got = scatter_translated(tile[None], np.array([top_left]), (16, 18), np.float64)
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_stitch_legacy_position_uses_m10_and_unrounded_pad() -> None:
    offsets = np.array([[34.0, 34.0], [41.0, 34.0]])  # max |a| = 3.5 -> pad 4, H = 10 + 8
    assert stitch_legacy_position(random_patches(2), offsets).canvas.shape == (18, 18)
    offsets = np.array([[34.0, 34.0], [39.0, 34.0]])  # max |a| = 2.5 -> pad 3 (sim_lines would use 4)
    assert stitch_legacy_position(random_patches(2), offsets).canvas.shape == (16, 16)


def test_offsets_accept_group_centre_and_flat_formats() -> None:
    flat = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(offsets_xy(flat[:, None, :, None]), flat)
    with pytest.raises(ValueError):
        offsets_xy(np.zeros((2, 1, 2, 4)))


@settings(max_examples=25, deadline=None)
@given(
    eighths=st.lists(st.tuples(st.integers(0, 8 * 300), st.integers(0, 8 * 300)), min_size=1, max_size=16),
    exponent=st.integers(0, 4),
    shift=st.tuples(st.integers(-200, 200), st.integers(-200, 200)),
    seed=st.integers(0, 2**16),
)
def test_stitching_is_equivariant_to_a_global_integer_shift(
    eighths: list[tuple[int, int]], exponent: int, shift: tuple[int, int], seed: int
) -> None:
    # dyadic offsets and a power-of-two count keep the centroid arithmetic exact in float64
    count = 2**exponent
    xy = np.array([eighths[k % len(eighths)] for k in range(count)], dtype=np.float64) / 8.0
    patches = random_patches(count, seed)
    base = shift_and_sum(patches, xy)
    moved = shift_and_sum(patches, xy + np.array(shift, dtype=np.float64))
    np.testing.assert_array_equal(moved.canvas, base.canvas)
    np.testing.assert_array_equal(moved.coverage, base.coverage)
    np.testing.assert_array_equal(moved.canvas_origin, base.canvas_origin + np.array([shift[1], shift[0]]))


# ------------------------------------------------------------------------------------------
# O-10 fixed-canvas energy loss (diagnostic)
# ------------------------------------------------------------------------------------------


def _disk_patches(count: int) -> np.ndarray:
    y, x = np.mgrid[0:N, 0:N] - N // 2
    disk = (np.hypot(x, y) < 12).astype(np.complex64)
    return np.broadcast_to(disk, (count, N, N))[..., None].copy()


def test_o10_absolute_offsets_lose_almost_everything_on_a_small_canvas() -> None:
    rng = np.random.default_rng(9)
    offsets = rng.uniform(10, 382, (80, 1, 2, 1))
    result = fixed_canvas_energy_loss(_disk_patches(80), offsets, padded_size=78)
    assert result["n_patches"] == 64
    assert result["required_size"] == int(np.ceil(N + 2 * np.abs(offsets[:64]).max()))
    assert not result["fits"] and result["energy_lost"] >= 0.9


def test_o10_no_loss_when_the_canvas_is_large_enough() -> None:
    rng = np.random.default_rng(10)
    relative = rng.uniform(-5, 5, (64, 2))
    result = fixed_canvas_energy_loss(_disk_patches(64), relative, padded_size=78)
    assert result["fits"] and abs(result["energy_lost"]) < 1e-12
