"""Scan geometry: the legacy region grid (spec 3.4.1), uniform random positions (3.4.2), y split (3.6)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LegacyGrid:
    """Grid scan of one legacy set (spec 3.4.1); pattern order is image, then region, then channel.

    Per pattern: `positions` (n, 2) float64 [x, y], `corners` (n, 2) int64 top-left (r0, c0),
    `image_index` (n,) int64. Per region of one image: `region_origins` (R, 2) int64 (r0, c0) and
    `region_centres` (R, 2) float64 [x, y]. `local_offsets` (C, 2) float64 [x, y] = centre - patch.
    """

    stride: int
    regions_per_axis: int
    big_n: int
    gridsize: int
    positions: np.ndarray
    corners: np.ndarray
    image_index: np.ndarray
    region_origins: np.ndarray
    region_centres: np.ndarray
    local_offsets: np.ndarray

    @property
    def regions_per_image(self) -> int:
        """Groups per image: n_r squared."""
        return self.regions_per_axis**2

    @property
    def channels(self) -> int:
        """C = gridsize squared."""
        return self.gridsize**2


def big_n(n: int, gridsize: int, offset: int) -> int:
    """bigN = N + (gridsize - 1) * offset (spec 3.1, `get_bigN`)."""
    return n + (gridsize - 1) * offset


def regions_per_axis(size: int, region_side: int, stride: int) -> int:
    """n_r = floor((size - bigN) / s_r) + 1 VALID windows per axis (spec 3.4.1)."""
    return (size - region_side) // stride + 1


def legacy_local_offsets(gridsize: int, offset: int) -> np.ndarray:
    """Region centre - patch centre per channel c = p*g + q, [x, y] = ((g-1)o/2 - o q, (g-1)o/2 - o p)."""
    p, q = np.divmod(np.arange(gridsize * gridsize), gridsize)
    half_span = (gridsize - 1) * offset / 2.0
    return np.stack([half_span - offset * q, half_span - offset * p], axis=1).astype(np.float64)


def legacy_grid(
    n_images: int, size: int, n: int, gridsize: int, offset: int, outer_offset: int
) -> LegacyGrid:
    """Regions at stride outer_offset // 2, g x g patches at `offset` inside each (spec 3.4.1)."""
    stride = outer_offset // 2
    side = big_n(n, gridsize, offset)
    n_r = regions_per_axis(size, side, stride)
    region_i, region_j = np.divmod(np.arange(n_r * n_r, dtype=np.int64), n_r)
    origins = np.stack([stride * region_i, stride * region_j], axis=1)
    centres = np.stack([stride * region_j + side / 2.0, stride * region_i + side / 2.0], axis=1)
    p, q = np.divmod(np.arange(gridsize * gridsize, dtype=np.int64), gridsize)
    patch_corners = origins[:, None, :] + offset * np.stack([p, q], axis=1)[None, :, :]
    corners = np.tile(patch_corners.reshape(-1, 2), (n_images, 1))
    positions = corners[:, ::-1].astype(np.float64) + n // 2
    image_index = np.repeat(np.arange(n_images, dtype=np.int64), n_r * n_r * gridsize * gridsize)
    return LegacyGrid(
        stride=stride,
        regions_per_axis=n_r,
        big_n=side,
        gridsize=gridsize,
        positions=positions,
        corners=corners,
        image_index=image_index,
        region_origins=origins,
        region_centres=centres.astype(np.float64),
        local_offsets=legacy_local_offsets(gridsize, offset),
    )


def uniform_positions(
    rs: np.random.RandomState, n: int, height: int, width: int, buffer: float = 10.0
) -> np.ndarray:
    """n uniform positions [x, y] in [b, side - b), x drawn before y (spec 3.4.2), float64 (n, 2)."""
    buffer_eff = min(buffer, min(height, width) / 2 - 1)
    x = rs.uniform(buffer_eff, width - buffer_eff, n)
    y = rs.uniform(buffer_eff, height - buffer_eff, n)
    return np.stack([x, y], axis=1).astype(np.float64)


def split_by_y(positions: np.ndarray, fraction: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Spatial split (spec 3.6): stable argsort of y; train = smaller y, test = last round(n*fraction)."""
    n = positions.shape[0]
    test_count = round(n * fraction)
    order = np.argsort(positions[:, 1], kind="stable").astype(np.int64)
    return order[: n - test_count], order[n - test_count :]


def derived_sizes(n: int, gridsize: int, offset: int, max_position_jitter: int) -> dict[str, int]:
    """bigN, padded_size, padding_size and C of spec 3.1 (`get_bigN`, `get_padded_size`, `get_padding_size`)."""
    side = big_n(n, gridsize, offset)
    return {
        "bigN": side,
        "padded_size": side + max_position_jitter,
        "padding_size": (gridsize - 1) * offset + max_position_jitter,
        "C": gridsize * gridsize,
    }
