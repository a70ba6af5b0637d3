"""Scan geometry and the y split against spec 3.1, 3.4 and 3.6."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.physics.scan import derived_sizes, legacy_grid, legacy_local_offsets, split_by_y, uniform_positions


@pytest.mark.parametrize(
    "gridsize,expected",
    [
        (1, dict(bigN=64, padded_size=74, padding_size=10, C=1)),
        (2, dict(bigN=68, padded_size=78, padding_size=14, C=4)),
    ],
)
def test_derived_sizes(gridsize, expected):
    assert derived_sizes(64, gridsize, 4, 10) == expected


# (profile, gridsize, n_images, outer_offset_train, outer_offset_test) -> (n_r, groups) per set (spec 3.4.1, 4.2).
PROFILE_COUNTS = [
    ("full", 2, 2, 8, 20, (82, 13_448), (33, 2_178)),
    ("full", 1, 2, 8, 20, (83, 13_778), (33, 2_178)),
    ("stable", 2, 1, 24, 20, (28, 784), (33, 1_089)),
    ("smoke", 2, 1, 92, 64, (8, 64), (11, 121)),
    ("smoke", 1, 1, 92, 64, (8, 64), (11, 121)),
]


@pytest.mark.parametrize("profile,gridsize,n_images,oo_train,oo_test,train,test", PROFILE_COUNTS,
                         ids=[f"{p}-gs{g}" for p, g, *_ in PROFILE_COUNTS])
def test_legacy_region_and_group_counts_per_profile(profile, gridsize, n_images, oo_train, oo_test, train, test):
    for outer_offset, (n_r, groups) in ((oo_train, train), (oo_test, test)):
        grid = legacy_grid(n_images, 392, 64, gridsize, 4, outer_offset)
        assert grid.regions_per_axis == n_r
        assert n_images * grid.regions_per_image == groups
        assert grid.positions.shape == (groups * gridsize**2, 2)
        assert grid.region_origins.shape == (n_r * n_r, 2)


def test_legacy_full_pattern_counts_and_per_image_groups():
    train = legacy_grid(2, 392, 64, 2, 4, 8)
    test = legacy_grid(2, 392, 64, 2, 4, 20)
    assert (train.stride, test.stride) == (4, 10)
    assert (train.regions_per_image, test.regions_per_image) == (6_724, 1_089)
    assert (train.positions.shape[0], test.positions.shape[0]) == (53_792, 8_712)
    assert legacy_grid(2, 392, 64, 1, 4, 8).regions_per_image == 6_889
    samples = int(np.floor(0.95 * 13_448))
    assert (samples, -(-samples // 16)) == (12_775, 799)  # the study's 799 steps per epoch (spec 3.4.1)


def test_legacy_positions_order_and_channel_table():
    grid = legacy_grid(2, 392, 64, 2, 4, 8)
    assert grid.positions.dtype == np.float64 and grid.corners.dtype == np.int64
    assert grid.image_index.dtype == np.int64
    # First region (I=0, J=0), channels c = p*g + q: [x, y] = (4q + 32, 4p + 32).
    assert grid.positions[:4].tolist() == [[32, 32], [36, 32], [32, 36], [36, 36]]
    # Region 1 is (I=0, J=1): x moves by the stride.
    assert grid.positions[4:8].tolist() == [[36, 32], [40, 32], [36, 36], [40, 36]]
    # Region n_r is (I=1, J=0): y moves by the stride.
    assert grid.positions[4 * 82].tolist() == [32, 36]
    np.testing.assert_array_equal(grid.positions, grid.corners[:, ::-1] + 32)
    assert np.bincount(grid.image_index).tolist() == [26_896, 26_896]
    assert grid.region_origins[83].tolist() == [4, 4]
    assert grid.region_centres[83].tolist() == [4 + 34, 4 + 34]


def test_legacy_local_offsets_table():
    assert legacy_local_offsets(2, 4).tolist() == [[2, 2], [-2, 2], [2, -2], [-2, -2]]
    assert legacy_local_offsets(1, 4).tolist() == [[0, 0]]
    grid = legacy_grid(1, 392, 64, 2, 4, 8)
    centres = np.repeat(grid.region_centres, 4, axis=0)
    np.testing.assert_array_equal(centres - grid.positions, np.tile(grid.local_offsets, (grid.regions_per_image, 1)))


@pytest.mark.parametrize("gridsize,oo,low,high", [(2, 8, 34, 358), (2, 20, 34, 354), (1, 8, 32, 360), (1, 20, 32, 352)])
def test_legacy_region_centre_ranges(gridsize, oo, low, high):
    centres = legacy_grid(1, 392, 64, gridsize, 4, oo).region_centres
    assert centres.min() == low and centres.max() == high


FIRST_X = [149.3289, 363.6657, 282.3017]
POSITION_TABLE = [
    (512, [356.9750, 332.1758, 26.8213], (11.88, 379.38), (11.72, 186.31), (187.09, 381.89)),
    (1024, [361.2671, 186.4077, 330.6799], (11.72, 381.89), (11.20, 201.51), (201.80, 381.78)),
    (2000, [107.3545, 101.8761, 347.1267], (11.20, 381.89), (10.00, 193.24), (193.33, 381.84)),
    (8000, [277.9397, 265.6693, 45.6206], (10.00, 381.89), (10.02, 193.59), (193.69, 381.97)),
]


@pytest.mark.parametrize("total,first_y,x_range,train_y,test_y", POSITION_TABLE,
                         ids=[str(row[0]) for row in POSITION_TABLE])
def test_sim_lines_positions_first_draws_and_split_ranges(total, first_y, x_range, train_y, test_y):
    positions = uniform_positions(np.random.RandomState(42), total, 392, 392, buffer=10.0)
    assert positions.shape == (total, 2) and positions.dtype == np.float64
    np.testing.assert_allclose(positions[:3, 0], FIRST_X, atol=5e-5)
    np.testing.assert_allclose(positions[:3, 1], first_y, atol=5e-5)
    assert positions[:, 0].min() == pytest.approx(x_range[0], abs=5e-3)
    assert positions[:, 0].max() == pytest.approx(x_range[1], abs=5e-3)
    train_idx, test_idx = split_by_y(positions, 0.5)
    assert train_idx.dtype == np.int64 and train_idx.shape == test_idx.shape == (total // 2,)
    for idx, (low, high) in ((train_idx, train_y), (test_idx, test_y)):
        assert positions[idx, 1].min() == pytest.approx(low, abs=5e-3)
        assert positions[idx, 1].max() == pytest.approx(high, abs=5e-3)


def test_positions_stay_in_buffered_range():
    positions = uniform_positions(np.random.RandomState(42), 8000, 392, 392)
    assert positions.min() >= 10.0 and positions.max() < 382.0
    tiny = uniform_positions(np.random.RandomState(0), 100, 12, 12, buffer=10.0)
    assert tiny.min() >= 5.0 and tiny.max() < 7.0  # buffer_eff = min(10, 12/2 - 1) = 5


def test_split_orders_each_half_by_ascending_y():
    positions = uniform_positions(np.random.RandomState(42), 2000, 392, 392)
    train_idx, test_idx = split_by_y(positions)
    assert np.all(np.diff(positions[train_idx, 1]) >= 0) and np.all(np.diff(positions[test_idx, 1]) >= 0)
    assert positions[train_idx, 1].max() < positions[test_idx, 1].min()


@settings(max_examples=50, deadline=None)
@given(n=st.integers(min_value=0, max_value=300), seed=st.integers(min_value=0, max_value=2**32 - 1),
       fraction=st.sampled_from([0.25, 0.5, 0.75]))
def test_split_is_a_stable_partition(n, seed, fraction):
    rs = np.random.RandomState(seed)
    positions = np.stack([rs.uniform(size=n), rs.randint(0, 5, size=n).astype(float)], axis=1)
    train_idx, test_idx = split_by_y(positions, fraction)
    assert test_idx.shape[0] == round(n * fraction)
    combined = np.concatenate([train_idx, test_idx])
    assert sorted(combined.tolist()) == list(range(n))
    keys = list(zip(positions[combined, 1].tolist(), combined.tolist()))
    assert keys == sorted(keys)  # ascending y, ties by index


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), n=st.integers(min_value=1, max_value=500))
def test_same_seed_gives_identical_position_bits(seed, n):
    first = uniform_positions(np.random.RandomState(seed), n, 392, 392)
    second = uniform_positions(np.random.RandomState(seed), n, 392, 392)
    assert first.tobytes() == second.tobytes()
