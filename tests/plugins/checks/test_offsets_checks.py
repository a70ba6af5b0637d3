"""Offset checks O-1 … O-11 (spec 6.2) on small hand-made artifacts: pass, fail, and the known-break label."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from harness.records import CheckInput, CheckResult
from harness.testing import check_input, run_check
from pipelines.physics.grouping import group_coordinates
from pipelines.physics.probe import ideal_probe_raw, normalize_probe, probe_mask
from pipelines.physics.scan import legacy_grid, split_by_y, uniform_positions
from pipelines.physics.stitching import canvas_geometry, legacy_tile_geometry
from plugins.checks import offsets

CHECKS = {spec.id: spec for spec in offsets.harness_register_checks()}
LEGACY_CONFIG = {"nimgs_train": 1, "nimgs_test": 1, "size": 392, "N": 64, "gridsize": 2, "offset": 4,
                 "outer_offset_train": 92, "outer_offset_test": 64}
TILE_CONFIG = {"N": 16, "outer_offset_test": 8, "size": 48, "bigN": 16, "gridsize": 1, "offset": 4}


def side(artifacts: dict[str, Any], pipeline: str = "sim_lines", knobs: dict[str, Any] | None = None) -> CheckInput:
    return check_input(artifacts, pipeline, knobs)


def run(check_id: str, inp: CheckInput) -> tuple[CheckResult | None, str | None]:
    return run_check(CHECKS[check_id], inp)


def groups(sign: float = -1.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Both groupings of 5 random 4-point groups, with the given local offset sign."""
    rng = np.random.default_rng(seed)
    positions = rng.uniform(10, 380, (20, 2))
    out = {}
    for grouping, rows in (("train", np.arange(20).reshape(5, 4)), ("infer", rng.permutation(20).reshape(5, 4))):
        made = group_coordinates(positions, rows, sign)
        out.update({f"coords_relative.{grouping}": made.coords_relative,
                    f"coords_offsets.{grouping}": made.coords_offsets, f"coords_nn.{grouping}": made.coords_nn})
    return out


def relative_offsets(reach: float) -> dict[str, np.ndarray]:
    """Both groupings with coords_relative of magnitude `reach` on every channel and axis."""
    rel = np.full((3, 1, 2, 4), reach)
    rel[..., 1::2] *= -1
    return {"coords_relative.train": rel, "coords_relative.infer": -rel}


def smooth_object(size: int = 128) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    return (2.0 + 0.4 * np.cos(2 * np.pi * y / 37) + 0.3 * np.sin(2 * np.pi * x / 29)).astype(np.complex64)[None]


# O-1, O-2, O-3 ----------------------------------------------------------------------------------------


def test_o1_groups_average_to_their_centre() -> None:
    data = groups()
    assert run("O-1", side(data))[0].passed
    data["coords_offsets.infer"] = data["coords_offsets.infer"] + 0.25
    outcome, _ = run("O-1", side(data))
    assert not outcome.passed and outcome.measured == pytest.approx(0.25)


def test_o2_sign_of_the_local_offsets() -> None:
    assert run("O-2", side(groups()))[0].passed
    outcome, label = run("O-2", side(groups(sign=+1.0), knobs={"local_offset_sign": 1}))
    assert not outcome.passed and "opposite sign" in outcome.explanation
    assert label == "known break of sim_lines local_offset_sign=1"


def test_o3_legacy_groups_carry_the_channel_table() -> None:
    table = np.array([[2.0, -2.0, 2.0, -2.0], [2.0, 2.0, -2.0, -2.0]])
    rel = np.broadcast_to(table, (6, 1, 2, 4))
    data = {"config": LEGACY_CONFIG, "coords_relative.train": rel, "coords_relative.infer": rel[:2]}
    assert run("O-3", side(data, pipeline="dose_legacy"))[0].passed
    outcome, label = run("O-3", side({**data, **groups(sign=+1.0), "config": LEGACY_CONFIG}, pipeline="dose_legacy",
                                     knobs={"grouping": "nongrid_legacy"}))
    assert not outcome.passed and label == "known break of dose_legacy grouping=nongrid_legacy"


# O-4 ---------------------------------------------------------------------------------------------------


def test_o4_sim_lines_positions_stay_inside_the_buffer() -> None:
    positions = uniform_positions(np.random.RandomState(42), 50, 392, 392, 10.0)
    config = {"size": 392, "buffer": 10.0, "total_images": 50}
    assert run("O-4@scan", side({"config": config, "positions": positions}))[0].passed
    positions[7] = [5.0, 200.0]
    outcome, _ = run("O-4@scan", side({"config": config, "positions": positions}))
    assert not outcome.passed and outcome.measured[0] == 5.0


def test_o4_legacy_positions_sit_on_the_lattice() -> None:
    positions = np.concatenate([legacy_grid(1, 392, 64, 2, 4, outer).positions for outer in (92, 64)])
    assert run("O-4@scan", side({"config": LEGACY_CONFIG, "positions": positions}, pipeline="dose_legacy"))[0].passed
    outcome, _ = run("O-4@scan", side({"config": LEGACY_CONFIG, "positions": positions + 1.0}, pipeline="dose_legacy"))
    assert not outcome.passed and outcome.measured == 1.0


def test_o4_sim_lines_split_by_y() -> None:
    positions = uniform_positions(np.random.RandomState(42), 50, 392, 392, 10.0)
    train, test = split_by_y(positions)
    assert run("O-4@split", side({"positions": positions, "train_idx": train, "test_idx": test}))[0].passed
    outcome, _ = run("O-4@split", side({"positions": positions, "train_idx": test, "test_idx": train}))
    assert not outcome.passed and outcome.measured[0] > outcome.measured[1]


def test_o4_legacy_split_by_image_role() -> None:
    data = {"object_role": np.array(["train", "test"]), "image_index": np.array([0, 0, 0, 1, 1])}
    good = side({**data, "train_idx": np.arange(3), "test_idx": np.arange(3, 5)}, pipeline="dose_legacy")
    assert run("O-4@split", good)[0].passed
    bad = side({**data, "train_idx": np.arange(2), "test_idx": np.arange(2, 5)}, pipeline="dose_legacy")
    assert not run("O-4@split", bad)[0].passed


# O-5, O-6, O-7 -----------------------------------------------------------------------------------------


def test_o5_in_model_canvas_margin() -> None:
    model = {"padded_size": 78, "N": 64}
    outcome, _ = run("O-5", side({"model_config": model, **relative_offsets(2.0)}))
    assert outcome.passed and outcome.measured == 68.0
    outcome, label = run("O-5", side({"model_config": model, **relative_offsets(9.85)}))
    assert not outcome.passed and outcome.measured == pytest.approx(83.7) and label is None
    assert CHECKS["O-5"].severity == "warn"


def test_o6_probe_energy_kept_inside_the_canvas() -> None:
    raw, mask = ideal_probe_raw(), probe_mask()
    probe = normalize_probe(raw, 10.0, mask)[0]
    data = {"model_config": {"padded_size": 78, "probe_mask": True}, "model_probe": probe, "probe_mask": mask}
    outcome, _ = run("O-6", side({**data, **relative_offsets(2.0)}))
    assert outcome.passed and outcome.measured == 0.0
    flat = {"model_config": {"padded_size": 64, "probe_mask": False}, "model_probe": np.ones((64, 64), np.complex64),
            "probe_mask": mask}
    outcome, _ = run("O-6", side({**flat, **relative_offsets(8.0)}))
    assert not outcome.passed and outcome.measured == pytest.approx(1 - (56 / 64) ** 2)


def test_o6_counts_the_bilinear_share_of_a_half_pixel_shift() -> None:
    flat = {"model_config": {"padded_size": 64, "probe_mask": False}, "model_probe": np.ones((64, 64), np.complex64),
            "probe_mask": probe_mask()}
    outcome, _ = run("O-6", side({**flat, **relative_offsets(0.5)}))
    assert outcome.measured == pytest.approx(1 - (1 - 0.5 / 64) ** 2)


@pytest.mark.parametrize("check_id,key", [("O-7a", "o7a_rel_rms"), ("O-7b", "o7b_rel_rms")])
def test_o7_reads_the_train_stage_reassembly_test(check_id: str, key: str) -> None:
    record = {"o7a_rel_rms": 4e-4, "o7b_rel_rms": 6e-4, "n_pixels": 4096}
    assert run(check_id, side({"reassembly_roundtrip": record}))[0].passed
    flipped = side({"reassembly_roundtrip": {**record, key: 0.93}}, knobs={"local_offset_sign": 1})
    outcome, label = run(check_id, flipped)
    assert not outcome.passed and outcome.measured == 0.93
    assert label == "known break of sim_lines local_offset_sign=1"


# O-8, O-9 ----------------------------------------------------------------------------------------------


def shift_and_sum_stage(origin_shift: tuple[float, float] = (0.0, 0.0), grow: int = 0) -> dict[str, Any]:
    offsets = np.random.default_rng(3).uniform(40, 88, (10, 2))[:, None, :, None]
    geometry = canvas_geometry(offsets, 8)
    return {"config": {"N": 32, "reassemble_M": 8}, "object": smooth_object(), "object_role": np.array(["all"]),
            "coords_offsets.infer": offsets, "canvas": np.zeros((geometry.height + grow, geometry.width), np.complex64),
            "canvas_origin": geometry.canvas_origin + np.array(origin_shift)}


def tile_stage(origin: tuple[float, float] | None = None) -> dict[str, Any]:
    geometry = legacy_tile_geometry(16, 8, 48, 16, 1, 4)
    rng = np.random.default_rng(5)
    images = (1.0 + rng.uniform(0, 1, (2, 48, 48))).astype(np.complex64)
    return {"config": TILE_CONFIG, "object": images, "object_role": np.array(["train", "test"]),
            "canvas": np.zeros((geometry.canvas_side,) * 2, np.complex64),
            "canvas_origin": geometry.canvas_origin if origin is None else np.array(origin, dtype=np.float64)}


def test_o8_shift_and_sum_round_trip_at_the_recorded_origin() -> None:
    outcome, _ = run("O-8", side(shift_and_sum_stage()))
    assert outcome.passed and outcome.measured < 5e-3 and outcome.details["n_covered"] > 0
    outcome, _ = run("O-8", side(shift_and_sum_stage(origin_shift=(5.0, 0.0))))
    assert not outcome.passed and "origin or the stitch sign" in outcome.explanation


def test_o8_legacy_tiles_round_trip_is_exact() -> None:
    outcome, _ = run("O-8", side(tile_stage(), pipeline="dose_legacy", knobs={"stitch": "tiles"}))
    assert outcome.passed and outcome.measured < 1e-6
    outcome, _ = run("O-8", side(tile_stage(origin=(0.0, 0.0)), pipeline="dose_legacy", knobs={"stitch": "tiles"}))
    assert not outcome.passed


def test_o9_canvas_geometry() -> None:
    assert run("O-9", side(shift_and_sum_stage()))[0].passed
    outcome, _ = run("O-9", side(shift_and_sum_stage(grow=2)))
    assert not outcome.passed and outcome.measured["shape"][0] == outcome.expected["shape"][0] + 2
    assert run("O-9", side(tile_stage(), pipeline="dose_legacy", knobs={"stitch": "tiles"}))[0].passed
    outcome, _ = run("O-9", side(tile_stage(origin=(28.0, 29.0)), pipeline="dose_legacy", knobs={"stitch": "tiles"}))
    assert not outcome.passed


# O-10, O-11 --------------------------------------------------------------------------------------------


def fixed_canvas_stage(padded: int, offset: float) -> dict[str, Any]:
    patches = np.ones((4, 32, 32, 1), np.complex64)
    offsets = np.full((4, 1, 2, 1), offset)
    return {"model_config": {"padded_size": padded}, "Y_obj_grouped.train": patches, "Y_obj_grouped.infer": patches,
            "coords_offsets.train": offsets, "coords_offsets.infer": offsets}


def test_o10_diagnostic_loses_everything_or_nothing() -> None:
    outcome, _ = run("O-10", side(fixed_canvas_stage(78, 300.0)))
    assert outcome.passed and outcome.measured >= 0.9
    outcome, _ = run("O-10", side(fixed_canvas_stage(78, 3.0)))
    assert outcome.passed and outcome.measured == pytest.approx(0.0, abs=1e-9)
    outcome, _ = run("O-10", side(fixed_canvas_stage(40, 5.0)))
    assert not outcome.passed and 0 < outcome.measured < 0.9
    assert CHECKS["O-10"].severity == "info"


def test_o11_residual_registration() -> None:
    origin = np.array([94.15, -22.26])
    booked = {"canvas_origin_used": list(origin), "registration_shift": [0.0, 0.0]}
    assert run("O-11", side({"canvas_origin": origin, "metrics": {**booked, "residual_shift": [0.12, -0.3]}}))[0].passed
    off = side({"canvas_origin": origin, "metrics": {"canvas_origin_used": [2.44, -22.11], "registration_shift": [0.0, 0.0],
                                                     "residual_shift": [0.0, 0.0]}}, knobs={"eval_registration": "off"})
    outcome, label = run("O-11", off)
    assert not outcome.passed and outcome.measured == pytest.approx(91.71)
    assert outcome.details["misregistration"] == pytest.approx([91.71, -0.15])
    assert label == "known break of sim_lines eval_registration=off"
    outcome, _ = run("O-11", side({"canvas_origin": origin, "metrics": {**booked, "residual_shift": [math.nan, math.nan]}}))
    assert not outcome.passed and "undefined" in outcome.explanation
    smoke = CheckInput(side="a", pipeline="sim_lines", scenario="gs2_ideal", profile="smoke", knobs={},
                       artifacts={"canvas_origin": origin, "metrics": {**booked, "residual_shift": [87.0, -71.6]}})
    outcome, _ = run("O-11", smoke)
    assert not outcome.passed and outcome.details["report_only"] is True
