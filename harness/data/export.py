"""`harness export`: a run side's probe, scan and patterns as a data file another tool (or `--data`) reads.

The probe is the side's unnormalised `probe_raw` (a pipeline normalises what it reads); the patterns are written as sqrt(counts) = s_sim·diffraction in float64 (HDF5: their squares), the
dose as `nphotons`, the object as ground truth when the side has one image; reading the file back
with `--data` gives the same float32 patterns, positions, probe and s_sim bit for bit.
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

SOURCES = {"config": ("config",), "probe": ("probe_raw",), "object": ("object",), "scan": ("positions",),
           "simulate": ("diffraction", "s_sim")}
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


def export(run_dir: Path, side: str, stage: str, to: Path, data_format: str = "auto") -> Exported:
    """Write the side's data as of `stage` (the patterns do not change after simulate) to `to`."""
    art = side_artifacts(run_dir, side, stage)
    s_sim = float(art["s_sim"])
    amplitude = np.asarray(art["diffraction"], dtype=np.float64) * s_sim
    notes = []
    obj = np.asarray(art["object"])
    if obj.shape[0] == 1 and np.all(np.isfinite(obj)):
        truth = obj[0]
    else:
        truth = None
        notes.append(f"no object written: the side holds {obj.shape[0]} object images" if obj.shape[0] != 1
                     else "no object written: the side has no ground truth")
    written = write_dataset(to, data_format, probe=art["probe_raw"], positions=np.asarray(art["positions"], dtype=np.float64),
                            amplitude=amplitude, obj=truth, nphotons=float(art["config"]["nphotons"]))
    return Exported(written, int(amplitude.shape[0]), tuple(notes))
