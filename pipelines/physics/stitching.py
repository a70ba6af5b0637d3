"""Stage `stitch` physics (spec §3.12) and the offset checks that live there (O-8, O-9, O-10).

Two stitchers assemble whole-field images from predicted patches:

- the dose_legacy grid tiling (§3.12.1): central t×t pieces tiled edge to edge, plus the matching
  ground-truth crop;
- shift-and-sum (§3.12.2): central M×M crops translated to their offsets and averaged with their
  coverage. sim_lines uses it with M = 20 and an even pad; dose_legacy knob L5 with M = 10 and an
  un-rounded pad.

Coordinates follow §1.2: offsets are [x, y], `canvas_origin` is (y, x) float64, canvas pixel [r, c]
is object coordinate (y = origin_y + r, x = origin_x + c). Translation is the §1.4 primitive of
`translate` (bilinear, zero fill, content moves by +t), applied through `bilinear_sample`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipelines.physics.metrics import COVERED_THRESHOLD, evaluation_window, truth_on_canvas
from pipelines.physics.patches import bilinear_patches, integer_crops
from pipelines.physics.translate import bilinear_sample

SIM_LINES_M = 20
LEGACY_POSITION_M = 10
COVERAGE_EPS = 1e-9

__all__ = [
    "CanvasGeometry",
    "LegacyTileGeometry",
    "RoundTrip",
    "Stitched",
    "canvas_geometry",
    "central_crop",
    "fixed_canvas_energy_loss",
    "legacy_ground_truth_crop",
    "legacy_region_centres",
    "legacy_tile_geometry",
    "offsets_xy",
    "round_trip_legacy_tiles",
    "round_trip_shift_and_sum",
    "scatter_translated",
    "shift_and_sum",
    "stitch_legacy_position",
    "stitch_legacy_tiles",
]


@dataclass(frozen=True)
class Stitched:
    """A stitched field: `canvas` (H, W) complex64, `coverage` (H, W) float32 and `canvas_origin`
    (y, x) float64; `canvas_stack` (n, H, W) complex64 holds every image (legacy tiling: one per test
    image; shift-and-sum: just `canvas`)."""

    canvas: np.ndarray
    coverage: np.ndarray
    canvas_origin: np.ndarray
    canvas_stack: np.ndarray


# --------------------------------------------------------------------------------------------
# Offsets and patches
# --------------------------------------------------------------------------------------------


def offsets_xy(offsets: np.ndarray) -> np.ndarray:
    """Global offsets as a (B, 2) float64 [x, y] array.

    Accepts the group-centre format (B, 1, 2, 1) of §1.3 (axis 2 = [x, y]) or a plain (B, 2).
    """
    arr = np.asarray(offsets, dtype=np.float64)
    if arr.ndim == 4 and arr.shape[1] == 1 and arr.shape[2] == 2 and arr.shape[3] == 1:
        return arr[:, 0, :, 0].copy()
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr.copy()
    raise ValueError(f"offsets must be (B, 1, 2, 1) or (B, 2) with [x, y]; got shape {arr.shape}")


def _patch_images(patches: np.ndarray) -> np.ndarray:
    """(B, N, N, 1) or (B, N, N) patches as a (B, N, N) view."""
    arr = np.asarray(patches)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2]:
        raise ValueError(f"patches must be (B, N, N, 1) or (B, N, N); got shape {np.shape(patches)}")
    return arr


def central_crop(patches: np.ndarray, m: int) -> np.ndarray:
    """Central m×m of each N×N patch: rows/cols [N/2 − m/2, N/2 + m/2) (§3.12.2 step 1)."""
    images = _patch_images(patches)
    n = images.shape[-1]
    if m % 2 or n % 2 or not 0 < m <= n:
        raise ValueError(f"crop size M={m} must be even and at most the (even) patch side N={n}")
    start = n // 2 - m // 2
    return images[:, start : start + m, start : start + m]


# --------------------------------------------------------------------------------------------
# The windowed translate-and-add primitive
# --------------------------------------------------------------------------------------------


def scatter_translated(
    tiles: np.ndarray, top_left_yx: np.ndarray, canvas_shape: tuple[int, int], dtype: type = np.complex128
) -> np.ndarray:
    """Σ_b of tile b placed with its pixel [0, 0] at the real canvas position top_left_yx[b].

    Canvas pixel [r, c] receives the bilinear sample of tile b at (r − y_b, c − x_b), zero outside
    the tile; contributions outside the canvas are dropped. This equals translating, with §1.4's T,
    a whole canvas that holds the tile at the origin by (x_b, y_b), but only a (h+2)×(w+2) window
    is computed per tile: the tile gets a one-pixel zero ring, is shifted by the fractional part of
    its position (`bilinear_sample`, all tiles in one call on a column mosaic whose rings keep the
    tiles apart), and is added at the integer part minus one. Accumulates in `dtype`.
    """
    tiles = np.asarray(tiles)
    pos = np.asarray(top_left_yx, dtype=np.float64).reshape(-1, 2)
    count, h, w = tiles.shape
    if pos.shape[0] != count:
        raise ValueError(f"{count} tiles but {pos.shape[0]} positions")
    height, width = canvas_shape
    canvas = np.zeros((height, width), dtype=dtype)
    if count == 0:
        return canvas
    ringed = np.zeros((count, h + 2, w + 2), dtype=dtype)
    ringed[:, 1:-1, 1:-1] = tiles
    mosaic = ringed.reshape(count * (h + 2), w + 2)
    whole = np.floor(pos)
    frac = pos - whole
    tile_rows = (np.arange(count) * (h + 2))[:, None, None] + np.arange(h + 2)[None, :, None]
    rows = tile_rows - frac[:, 0, None, None]
    cols = np.arange(w + 2)[None, None, :] - frac[:, 1, None, None]
    shifted = bilinear_sample(mosaic, rows, cols)
    corners = whole.astype(np.int64) - 1
    for b in range(count):
        r0, c0 = corners[b]
        rs, re = max(r0, 0), min(r0 + h + 2, height)
        cs, ce = max(c0, 0), min(c0 + w + 2, width)
        if rs < re and cs < ce:
            canvas[rs:re, cs:ce] += shifted[b, rs - r0 : re - r0, cs - c0 : ce - c0]
    return canvas


# --------------------------------------------------------------------------------------------
# Shift-and-sum (§3.12.2) and its geometry (O-9)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CanvasGeometry:
    """Geometry of a shift-and-sum canvas (§3.12.2 steps 2–3 and 6; check O-9).

    `centroid_xy` (x̄, ȳ); `adjusted_xy` (B, 2) a_b = offset_b − centroid; `max_abs_adjusted`
    max over b and both axes of |a_b|; `pad`; `height` = `width` = M + 2·pad; `canvas_origin`
    (ȳ − H/2, x̄ − W/2) float64.
    """

    m: int
    centroid_xy: np.ndarray
    adjusted_xy: np.ndarray
    max_abs_adjusted: float
    pad: int
    height: int
    width: int
    canvas_origin: np.ndarray


def canvas_geometry(offsets: np.ndarray, m: int = SIM_LINES_M, pad_to_even: bool = True) -> CanvasGeometry:
    """Centroid, adjusted offsets, pad, canvas side and origin of shift-and-sum (§3.12.2, O-9).

    pad = ceil(max|a|), rounded up to even when `pad_to_even` (sim_lines); the legacy
    `reassemble_position` of knob L5 does not round (pad_to_even=False).
    """
    xy = offsets_xy(offsets)
    if xy.shape[0] == 0:
        raise ValueError("shift-and-sum needs at least one offset")
    centroid = xy.mean(axis=0)
    adjusted = xy - centroid
    max_abs = float(np.max(np.abs(adjusted)))
    pad = int(math.ceil(max_abs))
    if pad_to_even and pad % 2:
        pad += 1
    side = m + 2 * pad
    origin = np.array([centroid[1] - side / 2.0, centroid[0] - side / 2.0], dtype=np.float64)
    return CanvasGeometry(
        m=m,
        centroid_xy=centroid,
        adjusted_xy=adjusted,
        max_abs_adjusted=max_abs,
        pad=pad,
        height=side,
        width=side,
        canvas_origin=origin,
    )


def shift_and_sum(
    patches: np.ndarray, offsets: np.ndarray, m: int = SIM_LINES_M, pad_to_even: bool = True
) -> Stitched:
    """sim_lines shift-and-sum (§3.12.2): coverage-normalised sum of central M×M crops at their offsets.

    Each crop, zero-padded by `pad` into the H×W canvas and translated by +a_b (§1.4), is summed;
    an all-ones M×M gives `coverage`; canvas = numerator / (coverage + 1e-9), so uncovered pixels
    are exactly 0. Computed per patch on a small window (`scatter_translated`), which equals the
    whole-canvas definition. `offsets` are coords_offsets (B, 1, 2, 1) or (B, 2), [x, y].
    """
    crops = central_crop(patches, m)
    geometry = canvas_geometry(offsets, m, pad_to_even)
    if crops.shape[0] != geometry.adjusted_xy.shape[0]:
        raise ValueError(f"{crops.shape[0]} patches but {geometry.adjusted_xy.shape[0]} offsets")
    shape = (geometry.height, geometry.width)
    top_left = geometry.pad + geometry.adjusted_xy[:, ::-1]  # (y, x) of crop pixel [0, 0]
    numerator = scatter_translated(crops, top_left, shape, np.complex128)
    ones = np.ones((crops.shape[0], m, m), dtype=np.float64)
    coverage = scatter_translated(ones, top_left, shape, np.float64)
    canvas = (numerator / (coverage + COVERAGE_EPS)).astype(np.complex64)
    return Stitched(
        canvas=canvas,
        coverage=coverage.astype(np.float32),
        canvas_origin=geometry.canvas_origin.copy(),
        canvas_stack=canvas[None],
    )


def stitch_legacy_position(patches: np.ndarray, region_centres: np.ndarray) -> Stitched:
    """dose_legacy knob L5 `stitch=position`: shift-and-sum with M = 10 and pad = ceil(max|a|), not even.

    `region_centres` are the infer grouping's coords_offsets (global region centres, [x, y]).
    """
    return shift_and_sum(patches, region_centres, m=LEGACY_POSITION_M, pad_to_even=False)


# --------------------------------------------------------------------------------------------
# dose_legacy grid tiling (§3.12.1)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegacyTileGeometry:
    """Sizes of the legacy tiling and of its ground-truth crop (§3.12.1).

    `tile` t = outer_offset_test/2; `border_lead`/`border_trail` = ceil/floor((N − t)/2) trimmed from
    the top-left/bottom-right of each patch; `extra` = (size − bigN) mod t rows/cols dropped at the
    bottom/right of the ground truth; `clip_lead`/`clip_trail` = ceil/floor(border + ((g−1)·offset)//2)
    removed from it; `canvas_origin` = (clip_lead, clip_lead) float64.
    """

    n: int
    n_regions: int
    tile: int
    border_lead: int
    border_trail: int
    extra: int
    clip_lead: int
    clip_trail: int
    canvas_side: int
    canvas_origin: np.ndarray


def legacy_tile_geometry(
    n: int, outer_offset_test: int, size: int, big_n: int, gridsize: int, offset: int = 4
) -> LegacyTileGeometry:
    """Tile, border, ground-truth clip and origin of the legacy tiling (§3.12.1, O-9 legacy).

    Full profile: t 10, canvas 330, origin (29, 29) gs2 / (27, 27) gs1. Smoke: t 32, canvas 352,
    extra 4 / clip 18 (gs2), extra 8 / clip 16 (gs1).
    """
    if outer_offset_test % 2:
        raise ValueError(
            f"outer_offset_test must be even (region stride = tile = outer_offset/2); got {outer_offset_test}"
        )
    tile = outer_offset_test // 2
    if not 0 < tile <= n:
        raise ValueError(f"tile outer_offset_test/2 = {tile} must lie in (0, N={n}]")
    if size < big_n:
        raise ValueError(f"object size {size} is smaller than bigN {big_n}")
    border = (n - tile) / 2.0
    clip = border + ((gridsize - 1) * offset) // 2
    n_regions = (size - big_n) // tile + 1
    lead = int(math.ceil(clip))
    return LegacyTileGeometry(
        n=n,
        n_regions=n_regions,
        tile=tile,
        border_lead=int(math.ceil(border)),
        border_trail=int(math.floor(border)),
        extra=(size - big_n) % tile,
        clip_lead=lead,
        clip_trail=int(math.floor(clip)),
        canvas_side=n_regions * tile,
        canvas_origin=np.array([lead, lead], dtype=np.float64),
    )


def stitch_legacy_tiles(
    patches: np.ndarray,
    nimgs_test: int,
    outer_offset_test: int,
    size: int,
    big_n: int,
    gridsize: int,
    offset: int = 4,
) -> Stitched:
    """dose_legacy grid tiling (§3.12.1): keep each patch's central t×t and tile edge to edge.

    `patches` (nimgs·n_r², N, N, 1) in region order (row-major I, J per image). Returns the stack
    (nimgs, n_r·t, n_r·t) complex64, `canvas` = image 0, `coverage` = ones and `canvas_origin` =
    (clip, clip): canvas pixel [r, c] is test-image pixel [r + clip, c + clip].
    """
    images = _patch_images(patches)
    n = images.shape[-1]
    geometry = legacy_tile_geometry(n, outer_offset_test, size, big_n, gridsize, offset)
    per_image = images.shape[0] / nimgs_test
    n_regions = int(round(math.sqrt(per_image))) if per_image > 0 else 0
    if n_regions * n_regions * nimgs_test != images.shape[0]:
        raise ValueError(f"{images.shape[0]} patches are not nimgs_test={nimgs_test} square region grids")
    if n_regions != geometry.n_regions:
        raise ValueError(
            f"{n_regions}² regions per image, but size {size}, bigN {big_n} and stride {geometry.tile} give "
            f"{geometry.n_regions}²"
        )
    lead, trail = geometry.border_lead, geometry.border_trail
    tile = geometry.tile
    kept = images[:, lead : n - trail, lead : n - trail].reshape(nimgs_test, n_regions, n_regions, tile, tile)
    side = geometry.canvas_side
    stack = kept.transpose(0, 1, 3, 2, 4).reshape(nimgs_test, side, side).astype(np.complex64)
    return Stitched(
        canvas=stack[0].copy(),
        coverage=np.ones((side, side), dtype=np.float32),
        canvas_origin=geometry.canvas_origin.copy(),
        canvas_stack=stack,
    )


def legacy_ground_truth_crop(
    truth: np.ndarray, outer_offset_test: int, big_n: int, gridsize: int, n: int = 64, offset: int = 4
) -> np.ndarray:
    """The legacy ground-truth crop (§3.12.1 step 5) of a (…, size, size) test image or stack.

    Drops `extra` rows/cols at the bottom/right, then `clip_lead` at the top/left and `clip_trail` at
    the bottom/right; the result has the canvas side (330 at full size).
    """
    truth = np.asarray(truth)
    size = truth.shape[-1]
    g = legacy_tile_geometry(n, outer_offset_test, size, big_n, gridsize, offset)
    kept = size - g.extra
    return truth[..., g.clip_lead : kept - g.clip_trail, g.clip_lead : kept - g.clip_trail]


def legacy_region_centres(n_regions: int, stride: int, big_n: int) -> np.ndarray:
    """Region centres [x, y] = (s_r·J + bigN/2, s_r·I + bigN/2) in row-major region order (§3.7.1)."""
    index = np.arange(n_regions, dtype=np.float64)
    rows, cols = np.meshgrid(index, index, indexing="ij")
    return np.stack([stride * cols.ravel() + big_n / 2.0, stride * rows.ravel() + big_n / 2.0], axis=1)


# --------------------------------------------------------------------------------------------
# O-8 bookkeeping round trip
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundTrip:
    """Result of an O-8 round trip: relative RMS of |canvas| − truth_on_canvas over the covered
    pixels (coverage > 0.5, inside the object), their count, and the stitched field."""

    relative_rms: float
    n_covered: int
    stitched: Stitched


def _round_trip_error(stitched: Stitched, truth_amp: np.ndarray) -> tuple[float, int]:
    """Relative RMS of |canvas| against truth_on_canvas on covered pixels whose coordinate is in the object."""
    canvas = stitched.canvas
    truth_amp = np.asarray(truth_amp, dtype=np.float64)
    expected = truth_on_canvas(truth_amp, canvas.shape, stitched.canvas_origin)
    window = evaluation_window(truth_amp.shape, canvas.shape, stitched.canvas_origin)
    covered = window & (stitched.coverage > COVERED_THRESHOLD) & np.isfinite(canvas)
    got = np.abs(canvas[covered]).astype(np.float64)
    want = expected[covered]
    denominator = float(np.sum(want**2))
    if denominator == 0.0:
        return float("nan"), int(covered.sum())
    return float(np.sqrt(np.sum((got - want) ** 2) / denominator)), int(covered.sum())


def round_trip_shift_and_sum(
    obj: np.ndarray, offsets: np.ndarray, n: int = 64, m: int = SIM_LINES_M, pad_to_even: bool = True
) -> RoundTrip:
    """O-8 for shift-and-sum: stitch the object patches at the offsets (§3.5.3 bilinear extraction)
    and compare |canvas| with truth_on_canvas(|obj|) on the covered pixels.

    Validates canvas_origin and the stitch sign without a model; tolerance 5e-3 relative RMS for
    sim_lines (bilinear twice). With m = 10 and pad_to_even=False it checks the legacy L5 stitcher.
    """
    patches = bilinear_patches(np.asarray(obj), offsets_xy(offsets), n)
    stitched = shift_and_sum(patches, offsets, m, pad_to_even)
    rms, count = _round_trip_error(stitched, np.abs(np.asarray(obj)))
    return RoundTrip(relative_rms=rms, n_covered=count, stitched=stitched)


def round_trip_legacy_tiles(
    test_images: np.ndarray, outer_offset_test: int, big_n: int, gridsize: int, n: int = 64, offset: int = 4
) -> RoundTrip:
    """O-8 for the legacy tiling: integer crops centred on the region centres of every test image
    (§3.4.1), tiled; `relative_rms` is the worst over the images (tolerance 1e-6).
    `test_images` is (nimgs, size, size) or one (size, size) image."""
    images = np.asarray(test_images)
    if images.ndim == 2:
        images = images[None]
    nimgs, size = images.shape[0], images.shape[-1]
    geometry = legacy_tile_geometry(n, outer_offset_test, size, big_n, gridsize, offset)
    centres = legacy_region_centres(geometry.n_regions, geometry.tile, big_n)
    corners = np.rint(centres[:, ::-1] - n // 2).astype(np.int64)  # (r0, c0) of each centred crop
    count = corners.shape[0]
    patches = integer_crops(images, np.repeat(np.arange(nimgs), count), np.tile(corners, (nimgs, 1)), n)
    stitched = stitch_legacy_tiles(patches, nimgs, outer_offset_test, size, big_n, gridsize, offset)
    errors = []
    for index in range(nimgs):
        single = Stitched(
            canvas=stitched.canvas_stack[index],
            coverage=stitched.coverage,
            canvas_origin=stitched.canvas_origin,
            canvas_stack=stitched.canvas_stack[index : index + 1],
        )
        errors.append(_round_trip_error(single, np.abs(images[index])))
    worst = float("nan") if any(np.isnan(e) for e, _ in errors) else max(e for e, _ in errors)
    return RoundTrip(relative_rms=worst, n_covered=errors[0][1], stitched=stitched)


# --------------------------------------------------------------------------------------------
# O-10 fixed-canvas energy loss (diagnostic)
# --------------------------------------------------------------------------------------------


def _fixed_canvas_sum(images: np.ndarray, offsets: np.ndarray, side: int) -> np.ndarray:
    """Σ_b T(patch_b placed centrally in a side×side canvas, +offset_b): the in-model placement."""
    n = images.shape[-1]
    lead = (side - n) // 2
    top_left = lead + offsets[:, ::-1]
    return scatter_translated(images, top_left, (side, side), np.complex128)


def fixed_canvas_energy_loss(
    patches: np.ndarray, offsets: np.ndarray, padded_size: int, limit: int = 64
) -> dict[str, float | int]:
    """O-10 diagnostic: energy lost when the first `limit` patches go to a fixed padded_size canvas
    with ABSOLUTE offsets (as `reassemble_whole_object`; §6.2, §7.1).

    Each N×N patch sits centred in the canvas and is translated by its offset; the same is done on a
    canvas of side required = ceil(N + 2·max|offset|). energy_lost = 1 − Σ|fixed| / Σ|required|.
    `patches` (B, N, N, 1) or (B, N, N); `offsets` (B, 1, 2, 1) or (B, 2) [x, y]. Diagnostic only.
    """
    images = _patch_images(patches)[:limit].astype(np.complex128)
    xy = offsets_xy(offsets)[:limit]
    if images.shape[0] != xy.shape[0]:
        raise ValueError(f"{images.shape[0]} patches but {xy.shape[0]} offsets")
    n = images.shape[-1]
    required = int(math.ceil(n + 2.0 * float(np.max(np.abs(xy))))) if xy.size else n
    fixed_sum = float(np.sum(np.abs(_fixed_canvas_sum(images, xy, padded_size))))
    required_sum = float(np.sum(np.abs(_fixed_canvas_sum(images, xy, required))))
    lost = 1.0 - fixed_sum / required_sum if required_sum > 0 else float("nan")
    return {
        "energy_lost": lost,
        "sum_fixed": fixed_sum,
        "sum_required": required_sum,
        "padded_size": int(padded_size),
        "required_size": required,
        "n_patches": int(images.shape[0]),
        "fits": bool(padded_size >= required),
    }
