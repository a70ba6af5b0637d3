"""The shared artifact model (spec 2.2): how many axes each named array artifact has.

Checks read artifacts by these names; a pipeline that emits an artifact of the same name with
another number of axes follows another layout, so the checks that read it do not apply there.
"""
from __future__ import annotations

from typing import Any

import numpy as np

GROUPINGS = ("train", "infer")
ARTIFACT_NDIM: dict[str, int] = {
    "probe_raw": 2, "probe": 2, "probe_mask": 2, "object": 3, "object_role": 1, "positions": 2, "image_index": 1,
    "Y_obj": 3, "exit_energy": 1, "diffraction_clean": 3, "diffraction": 3, "train_idx": 1, "test_idx": 1,
    "patches_pred": 4, "pred_amp": 4, "canvas": 2, "coverage": 2, "canvas_origin": 1, "truth_on_canvas": 2,
    "model_probe": 2,
    **{f"{name}.{grouping}": ndim for grouping in GROUPINGS for name, ndim in (
        ("diffraction_grouped", 4), ("coords_nn", 4), ("coords_offsets", 4), ("coords_relative", 4),
        ("nn_indices", 2), ("Y_obj_grouped", 4), ("X", 4))},
}
"""Array artifacts of spec 2.2 by name, with their number of axes."""


def layout_mismatch(name: str, value: Any) -> str | None:
    """Why `value` does not have the layout spec 2.2 gives artifact `name` (None when it does or none is given)."""
    want = ARTIFACT_NDIM.get(name)
    if want is None:
        return None
    shape = np.shape(value)
    if len(shape) != want:
        return f"{name} has shape {tuple(shape)}, not the {want}-axis layout of spec 2.2"
    return None
