"""Grouping of patterns into C-channel groups with centres and local offsets (spec 3.7)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.physics.scan import LegacyGrid


class GroupingError(ValueError):
    """A grouping request the original rejects; the message reproduces the original's (spec 3.7.2)."""


class NeighbourIndexError(GroupingError, IndexError):
    """Legacy non-grid grouping with K + 1 > n points: the original's out-of-range neighbour (knob L7)."""


@dataclass(frozen=True)
class Grouping:
    """Indices (B, C) int64 and coordinates (B, 1, 2, C) / centres (B, 1, 2, 1) float64, [x; y] on axis 2."""

    nn_indices: np.ndarray
    coords_nn: np.ndarray
    coords_offsets: np.ndarray
    coords_relative: np.ndarray


def group_coordinates(positions: np.ndarray, nn_indices: np.ndarray, local_offset_sign: float = -1.0) -> Grouping:
    """coords_nn from positions, centre = mean over C, relative = sign * (nn - centre) (spec 3.7.2 step 5)."""
    nn_indices = np.asarray(nn_indices, dtype=np.int64)
    coords_nn = np.transpose(positions[nn_indices], (0, 2, 1))[:, None, :, :].astype(np.float64)
    coords_offsets = coords_nn.mean(axis=3, keepdims=True)
    relative = local_offset_sign * (coords_nn - coords_offsets)
    return Grouping(nn_indices, coords_nn, coords_offsets, relative)


def gather_groups(patterns: np.ndarray, nn_indices: np.ndarray) -> np.ndarray:
    """Channel format: out[b, :, :, c] = patterns[nn_indices[b, c]], (B, N, N, C), dtype kept (spec 1.3)."""
    return np.moveaxis(patterns[nn_indices], 1, -1)


def kdtree_grouping(
    positions: np.ndarray,
    neighbor_count: int,
    channels: int,
    nsamples: int,
    rng: np.random.Generator,
    local_offset_sign: float = -1.0,
) -> Grouping:
    """sim_lines grouping (spec 3.7.2, draw order 9.2 rule 4): seeds, then C of each seed's K neighbours.

    Seeds are all points in order when nsamples >= n, else `rng.choice(n, nsamples, replace=False)`.
    C = 1: the seed itself. C > 1: K + 1 nearest by KD-tree minus the first (the seed), then
    `rng.choice(K, C, replace=False)` per group in seed order. With n <= K, all n points are the list.
    """
    n_points, k, c = positions.shape[0], neighbor_count, channels
    if n_points < c:
        raise GroupingError(f"Dataset has only {n_points} points but {c} coordinates per group requested.")
    if k < c:
        raise GroupingError(f"K={k} must be >= C={c} (need at least C neighbors to form a group)")
    if nsamples > n_points and c > 1:
        raise GroupingError(
            f"{nsamples} groups requested from {n_points} points with C={c}; oversampling is not supported"
        )
    if nsamples >= n_points:
        seeds = np.arange(n_points, dtype=np.int64)
    else:
        seeds = rng.choice(n_points, nsamples, replace=False).astype(np.int64)
    if c == 1:
        return group_coordinates(positions, seeds[:, None], local_offset_sign)
    from scipy.spatial import cKDTree  # lazy: the host imports this module on every command

    _, neighbours = cKDTree(positions).query(positions[seeds], k=min(k + 1, n_points))
    neighbours = neighbours[:, 1 : k + 1] if n_points > k else neighbours[:, :k]
    picks = np.stack([rng.choice(neighbours.shape[1], c, replace=False) for _ in range(seeds.shape[0])])
    nn_indices = np.take_along_axis(neighbours, picks, axis=1)
    return group_coordinates(positions, nn_indices, local_offset_sign)


def legacy_grid_grouping(grid: LegacyGrid) -> Grouping:
    """dose_legacy grouping (spec 3.7.1): one group per region, centre = region centre, relative = centre - nn."""
    channels = grid.channels
    n_groups = grid.positions.shape[0] // channels
    nn_indices = np.arange(n_groups * channels, dtype=np.int64).reshape(n_groups, channels)
    coords_nn = np.transpose(grid.positions[nn_indices], (0, 2, 1))[:, None, :, :]
    n_images = n_groups // grid.regions_per_image
    centres = np.tile(grid.region_centres, (n_images, 1))
    coords_offsets = centres[:, None, :, None].astype(np.float64)
    return Grouping(nn_indices, coords_nn, coords_offsets, coords_offsets - coords_nn)


def legacy_nongrid_grouping(
    positions: np.ndarray,
    channels: int,
    rng: np.random.Generator,
    neighbor_count: int = 7,
    groups_per_point: int = 1,
) -> Grouping:
    """Legacy KD-tree path (knob L7): K + 1 neighbours incl. self, every point seeds groups, sign +1.

    Groups are point-major; each draws `rng.choice(K + 1, C, replace=False)` from its list.
    """
    n_points = positions.shape[0]
    if neighbor_count + 1 > n_points:
        raise NeighbourIndexError(
            f"index {n_points} is out of bounds: K+1={neighbor_count + 1} neighbours requested from {n_points} points"
        )
    from scipy.spatial import cKDTree  # lazy, as above

    _, neighbours = cKDTree(positions).query(positions, k=neighbor_count + 1)
    seeds = np.repeat(np.arange(n_points), groups_per_point)
    picks = np.stack([rng.choice(neighbor_count + 1, channels, replace=False) for _ in range(seeds.shape[0])])
    nn_indices = np.take_along_axis(neighbours[seeds], picks, axis=1)
    return group_coordinates(positions, nn_indices, local_offset_sign=1.0)
