"""`harness export`: a run side's probe, scan and patterns as a data file another tool (or `--data`) reads.

The probe is the side's unnormalised `probe_raw` (a pipeline normalises what it reads); the patterns are
written as sqrt(counts) = s_sim·diffraction in float64 (HDF5: their squares), the dose as `nphotons`.
A file holds one object, so export writes the patterns of the image the side reconstructs (its first
test image, else its only image) and of every image equal to it, with that image as ground truth: all of
a sim_lines run (one image) or of a `--data` run of dose_legacy (the file's object in both roles), the
test image of a simulated dose_legacy run (its train images are other objects). Reading a file back with
`--data` gives the same float32 patterns, positions, probe and s_sim bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.formats import write_dataset
from harness.errors import UsageError
from harness.stages import stage_index
from harness.store import StageFiles

SOURCES = {"config": ("config",), "probe": ("probe_raw",), "object": ("object", "object_role"),
           "scan": ("positions", "image_index"), "simulate": ("diffraction", "s_sim")}
"""Stage → the artifacts export reads from it."""


@dataclass(frozen=True)
class Exported:
    """What was written: the format, the pattern count and what was left out."""

    format: str
    count: int
    notes: tuple[str, ...]


def side_artifacts(run_dir: Path, side: str, stage: str) -> dict[str, Any]:
    """The artifacts of SOURCES from a side's run folder; `stage` must be simulate or later and have run."""
    if stage_index(stage) < stage_index("simulate"):
        raise UsageError(f"stage {stage!r} has no patterns yet; export simulate or a later stage")
    folder = Path(run_dir) / side
    if not folder.is_dir():
        raise UsageError(f"{run_dir} has no side {side!r} (a run folder holds a/ and, for a diff, b/)")
    values: dict[str, Any] = {}
    for name, artifacts in {stage: (), **SOURCES}.items():
        files = StageFiles(folder, name)
        record = files.read_record()
        if record is None or record.get("status") != "ok":
            raise UsageError(f"stage {name!r} of side {side} did not complete in {run_dir}; export needs it")
        values.update(files.load(record, artifacts))
    return values


def reconstructed_image(images: np.ndarray, roles: np.ndarray) -> tuple[int, np.ndarray]:
    """The image the side reconstructs (its first test image, else image 0) and every image equal to it."""
    tests = np.flatnonzero(roles == "test")
    chosen = int(tests[0]) if tests.size else 0
    same = [index for index in range(images.shape[0]) if np.array_equal(images[index], images[chosen], equal_nan=True)]
    return chosen, np.array(same)


def export(run_dir: Path, side: str, stage: str, to: Path, data_format: str = "auto") -> Exported:
    """Write the side's data as of `stage` (the patterns do not change after simulate) to `to`."""
    art = side_artifacts(run_dir, side, stage)
    images = np.asarray(art["object"])
    chosen, same = reconstructed_image(images, np.asarray(art["object_role"]).astype(str))
    rows = np.flatnonzero(np.isin(np.asarray(art["image_index"]), same))
    amplitude = np.asarray(art["diffraction"], dtype=np.float64)[rows] * float(art["s_sim"])
    notes = []
    if same.size < images.shape[0]:
        notes.append(f"only the patterns of object image {chosen}, the one reconstructed "
                     f"({images.shape[0] - same.size} other images hold other objects)")
    truth = images[chosen] if np.all(np.isfinite(images[chosen])) else None
    if truth is None:
        notes.append("no object written: the side has no ground truth")
    written = write_dataset(to, data_format, probe=art["probe_raw"],
                            positions=np.asarray(art["positions"], dtype=np.float64)[rows],
                            amplitude=amplitude, obj=truth, nphotons=float(art["config"]["nphotons"]))
    return Exported(written, int(amplitude.shape[0]), tuple(notes))
