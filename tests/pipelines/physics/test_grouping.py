"""Grouping (spec 3.7, draw order 9.2 rule 4) for both pipelines."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.physics.grouping import (
    GroupingError,
    NeighbourIndexError,
    gather_groups,
    group_coordinates,
    kdtree_grouping,
    legacy_grid_grouping,
    legacy_nongrid_grouping,
)
from pipelines.physics.scan import legacy_grid, split_by_y, uniform_positions


def group_stream(stream_id: int = 1002) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([42, stream_id]))


@pytest.fixture(scope="module")
def full_gs2_splits():
    positions = uniform_positions(np.random.RandomState(42), 8000, 392, 392)
    train_idx, test_idx = split_by_y(positions)
    return positions[train_idx], positions[test_idx]


def assert_grouping_shapes(grouping, groups: int, channels: int) -> None:
    assert grouping.nn_indices.shape == (groups, channels) and grouping.nn_indices.dtype == np.int64
    assert grouping.coords_nn.shape == (groups, 1, 2, channels) and grouping.coords_nn.dtype == np.float64
    assert grouping.coords_offsets.shape == (groups, 1, 2, 1) and grouping.coords_offsets.dtype == np.float64
    assert grouping.coords_relative.shape == (groups, 1, 2, channels)


def test_group_shapes_gs1_use_all_points_in_split_order(full_gs2_splits):
    train = full_gs2_splits[0][:1000]
    rng = group_stream()
    state = rng.bit_generator.state
    grouping = kdtree_grouping(train, 4, 1, 1000, rng)
    assert_grouping_shapes(grouping, 1000, 1)
    np.testing.assert_array_equal(grouping.nn_indices[:, 0], np.arange(1000))
    assert np.all(grouping.coords_relative == 0)
    assert rng.bit_generator.state == state  # deterministic: no draw when nsamples >= n_points


def test_gs1_subset_seeds_are_the_group(full_gs2_splits):
    train = full_gs2_splits[0][:1000]
    grouping = kdtree_grouping(train, 4, 1, 64, group_stream())
    np.testing.assert_array_equal(grouping.nn_indices[:, 0], group_stream().choice(1000, 64, replace=False))
    np.testing.assert_array_equal(grouping.coords_offsets[:, 0, :, 0], train[grouping.nn_indices[:, 0]])


def test_gs2_groups_are_the_four_nearest_neighbours_without_the_seed(full_gs2_splits):
    train = full_gs2_splits[0]
    grouping = kdtree_grouping(train, 4, 4, 1000, group_stream())
    assert_grouping_shapes(grouping, 1000, 4)
    seeds = group_stream().choice(train.shape[0], 1000, replace=False)
    for seed, members in zip(seeds[:50], grouping.nn_indices[:50]):
        distances = np.hypot(*(train - train[seed]).T)
        nearest = np.argsort(distances, kind="stable")[1:5]
        assert seed not in members and sorted(members.tolist()) == sorted(nearest.tolist())


def test_grouping_draw_order_seeds_then_per_group_choices(full_gs2_splits):
    test = full_gs2_splits[1]
    grouping = kdtree_grouping(test, 5, 4, 30, group_stream(1004))
    replay = group_stream(1004)
    seeds = replay.choice(test.shape[0], 30, replace=False)
    for seed, members in zip(seeds, grouping.nn_indices):
        pick = replay.choice(5, 4, replace=False)
        order = np.argsort(np.hypot(*(test - test[seed]).T), kind="stable")[1:6]
        assert members.tolist() == order[pick].tolist()


def test_gs2_full_size_local_offset_magnitudes(full_gs2_splits):
    train, test = full_gs2_splits
    everything = [kdtree_grouping(split, 4, 4, split.shape[0], group_stream()) for split in (train, test)]
    assert np.abs(everything[0].coords_relative).max() == pytest.approx(10.75, abs=5e-3)
    assert np.abs(everything[1].coords_relative).max() == pytest.approx(9.46, abs=5e-3)
    sampled = kdtree_grouping(train, 4, 4, 1000, group_stream())
    assert np.abs(sampled.coords_relative).max() <= 10.75
    assert sampled.coords_relative.std() == pytest.approx(1.96, abs=0.4)


def test_grouping_error_messages_are_verbatim(full_gs2_splits):
    few = full_gs2_splits[0][:3]
    with pytest.raises(GroupingError, match=r"^Dataset has only 3 points but 4 coordinates per group requested\.$"):
        kdtree_grouping(few, 4, 4, 3, group_stream())
    with pytest.raises(GroupingError, match=r"^K=1 must be >= C=4 \(need at least C neighbors to form a group\)$"):
        kdtree_grouping(full_gs2_splits[0], 1, 4, 10, group_stream())
    with pytest.raises(GroupingError, match="oversampling"):
        kdtree_grouping(full_gs2_splits[0][:10], 4, 4, 11, group_stream())
    assert issubclass(GroupingError, ValueError)


def test_small_split_uses_all_points_as_the_neighbour_list():
    positions = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    grouping = kdtree_grouping(positions, 4, 4, 4, group_stream())
    for members in grouping.nn_indices:
        assert sorted(members.tolist()) == [0, 1, 2, 3]


def test_gather_groups_channel_format():
    patterns = np.arange(5 * 2 * 2, dtype=np.float32).reshape(5, 2, 2)
    nn_indices = np.array([[4, 0, 1], [2, 2, 3]])
    grouped = gather_groups(patterns, nn_indices)
    assert grouped.shape == (2, 2, 2, 3) and grouped.dtype == np.float32
    np.testing.assert_array_equal(grouped[0, :, :, 0], patterns[4])
    np.testing.assert_array_equal(grouped[1, :, :, 2], patterns[3])


def test_legacy_grid_grouping_offsets_and_centres():
    train = legacy_grid_grouping(legacy_grid(2, 392, 64, 2, 4, 8))
    assert_grouping_shapes(train, 13_448, 4)
    np.testing.assert_array_equal(train.nn_indices.ravel(), np.arange(53_792))
    expected = np.array([[2.0, -2.0, 2.0, -2.0], [2.0, 2.0, -2.0, -2.0]])
    assert np.all(train.coords_relative[:, 0] == expected)
    assert train.coords_offsets.min() == 34 and train.coords_offsets.max() == 358
    np.testing.assert_array_equal(train.coords_offsets, train.coords_nn.mean(axis=3, keepdims=True))
    test = legacy_grid_grouping(legacy_grid(2, 392, 64, 2, 4, 20))
    assert test.coords_offsets.min() == 34 and test.coords_offsets.max() == 354
    gs1 = legacy_grid_grouping(legacy_grid(2, 392, 64, 1, 4, 20))
    assert np.all(gs1.coords_relative == 0)
    assert gs1.coords_offsets.min() == 32 and gs1.coords_offsets.max() == 352


def test_legacy_nongrid_grouping_includes_self_and_uses_plus_sign(full_gs2_splits):
    points = full_gs2_splits[0][:200]
    grouping = legacy_nongrid_grouping(points, 4, group_stream(), neighbor_count=7, groups_per_point=2)
    assert_grouping_shapes(grouping, 400, 4)
    np.testing.assert_allclose(grouping.coords_relative, grouping.coords_nn - grouping.coords_offsets)
    replay = group_stream()
    for point in range(3):
        neighbours = np.argsort(np.hypot(*(points - points[point]).T), kind="stable")[:8]
        assert neighbours[0] == point
        for repeat in range(2):
            pick = replay.choice(8, 4, replace=False)
            assert grouping.nn_indices[2 * point + repeat].tolist() == neighbours[pick].tolist()


def test_legacy_nongrid_grouping_index_error_when_too_few_points(full_gs2_splits):
    with pytest.raises(IndexError, match="out of bounds") as caught:
        legacy_nongrid_grouping(full_gs2_splits[0][:7], 4, group_stream())
    assert isinstance(caught.value, NeighbourIndexError) and isinstance(caught.value, GroupingError)
    assert legacy_nongrid_grouping(full_gs2_splits[0][:8], 4, group_stream()).nn_indices.shape == (8, 4)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), n=st.integers(min_value=5, max_value=200),
       channels=st.sampled_from([1, 4]), sign=st.sampled_from([-1.0, 1.0]))
def test_groups_have_zero_mean_relative_offsets(seed, n, channels, sign):
    rng = np.random.default_rng(seed)
    positions = rng.uniform(10, 382, (n, 2))
    grouping = kdtree_grouping(positions, 4, channels, min(n, 50), rng, local_offset_sign=sign)
    scale = np.abs(positions).max()
    np.testing.assert_allclose(grouping.coords_relative.mean(axis=3), 0.0, atol=1e-12 * scale)
    rebuilt = group_coordinates(positions, grouping.nn_indices, sign)
    np.testing.assert_array_equal(rebuilt.coords_relative, grouping.coords_relative)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_same_seed_gives_identical_groups(seed):
    positions = uniform_positions(np.random.RandomState(seed), 300, 392, 392)
    first = kdtree_grouping(positions, 4, 4, 64, np.random.default_rng(seed))
    second = kdtree_grouping(positions, 4, 4, 64, np.random.default_rng(seed))
    assert first.nn_indices.tobytes() == second.nn_indices.tobytes()
    assert first.coords_relative.tobytes() == second.coords_relative.tobytes()
