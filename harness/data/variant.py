"""`--data FILE`: a derived pipeline whose stages up to `simulate` emit a data file's probe, scan and patterns.

Each pipeline that accepts data provides the replacement stages (a module with `DATA_STAGES`, the
pipeline's own conversion into its conventions); the module may also declare `DATA_KNOBS`, knobs with one
possible value on a file's data (the variant makes it the default and the only choice), and
`check_dataset(dataset)`, which refuses a file its stages cannot convert. The variant adds two knobs read
by those stages: `data` = `file:PATH`, whose content hash joins their cache keys (store.knob_file_digests), and
`data_format`; it declares the `not_applicable` convention: artifacts the file cannot supply and checks
that do not concern a file's data, each with the reason ("no ground truth in FILE").
"""
from __future__ import annotations

import importlib
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from harness.data.dataset import Dataset, DataError
from harness.data.formats import FORMAT_CHOICES, read_dataset
from harness.derive import PipelineVariant
from harness.manager import Registered, Registry
from harness.records import Knob, PipelineSpec, knob_text
from harness.store import KNOB_FILE_PREFIX, file_sha256

DATA_STAGES = {"sim_lines": "pipelines.sim_lines.data_stages", "dose_legacy": "pipelines.dose_legacy.data_stages"}
"""Root pipeline → the module whose `DATA_STAGES` replace its stages up to simulate with a file's data."""
REPLACED = ("config", "probe", "object", "scan", "simulate")
TRUTH_ARTIFACTS = ("object", "Y_obj", "exit_energy", "s_sim", "Y_obj_grouped.train", "Y_obj_grouped.infer",
                   "legacy_Y_illum.train", "legacy_Y_illum.infer", "truth_on_canvas")
"""Artifacts that only ground truth (the object) can supply; without it they are placeholders."""
GRID_ARTIFACTS = ("legacy_region_origin",)
"""Artifacts of the legacy region grid, which a file's positions do not lie on."""
SCENARIO_PROBE_CHECKS = ("N-2",)
"""Checks of the scenario's built-in probe numbers (spec 3.2.4), which a file's probe need not match."""
SCENARIO_SCAN_CHECKS = ("O-4@scan",)
"""Checks of the scenario's scan (spec 3.4: a region lattice or a uniform draw), which a file's positions need not follow."""
SIMULATION_LAW_CHECKS = ("N-6t",)
"""Checks of what a simulation makes of the dose (the test set's budget follows E_test/E_train, spec 3.5.2), which a
file's measured counts need not follow."""


def data_pipeline_name(base: str) -> str:
    return f"{base}@data"


def install(registry: Registry, base: str, path: Path, data_format: str = "auto") -> str:
    """Register the data variant of `base` for this file (validated now); return its name."""
    dataset = load(str(Path(path).resolve()), data_format)
    spec = registry.pipeline(base)
    root = spec
    while root.base is not None:
        root = registry.pipeline(root.base)
    if root.name not in DATA_STAGES:
        raise DataError(f"--data is not supported for pipeline {base!r} yet; pipelines that take data: "
                        f"{', '.join(sorted(DATA_STAGES))}")
    module = importlib.import_module(DATA_STAGES[root.name])
    refuse = getattr(module, "check_dataset", None)
    if refuse is not None:
        refuse(dataset)
    knobs = {"data": Knob(f"{KNOB_FILE_PREFIX}{dataset.source}", stages=REPLACED, help="the data file (--data)"),
             "data_format": Knob(data_format, stages=REPLACED, choices=FORMAT_CHOICES, help="its format (--data-format)"),
             **fixed_knobs(spec, getattr(module, "DATA_KNOBS", {}))}
    name = data_pipeline_name(base)
    variant = PipelineVariant(name=name, base=base, stages=module.DATA_STAGES, knobs=knobs,
                              conventions={"not_applicable": not_applicable(dataset)},
                              description=f"{base} on the data of {dataset.name} (sha256 {dataset.sha256[:12]})")
    registry.pipelines[name] = Registered(variant.resolve(spec), f"--data {dataset.source}")
    return name


def fixed_knobs(spec: PipelineSpec, values: Mapping[str, Any]) -> dict[str, Knob]:
    """The base's knobs that a data module fixes: its value as the default and the only choice, so that another
    value is refused on the command line rather than run on data it cannot describe."""
    return {name: replace(spec.knobs[name], default=value, choices=(knob_text(value),))
            for name, value in values.items()}


def not_applicable(dataset: Dataset) -> dict[str, str]:
    """Artifacts the file cannot supply, and checks about the scenario's own probe and scan, each with the reason;
    one mapping for every pipeline (a name a pipeline does not use never matches)."""
    out = {} if dataset.has_ground_truth else {name: f"no ground truth in {dataset.name}" for name in TRUTH_ARTIFACTS}
    out["diffraction_clean"] = f"no noise-free patterns in {dataset.name}"
    out.update({name: f"the positions of {dataset.name} lie on no region grid" for name in GRID_ARTIFACTS})
    out.update({check: f"the probe comes from {dataset.name}, not the scenario" for check in SCENARIO_PROBE_CHECKS})
    out.update({check: f"the positions come from {dataset.name}, not the scenario's scan"
                for check in SCENARIO_SCAN_CHECKS})
    out.update({check: f"the counts of {dataset.name} are measured, not simulated from the dose"
                for check in SIMULATION_LAW_CHECKS})
    return out


@lru_cache(maxsize=4)
def _load(path: str, data_format: str, sha256: str) -> Dataset:
    return read_dataset(path, data_format)


def load(path: str, data_format: str) -> Dataset:
    """The validated dataset of a file, read once per content (the hash keys the memo)."""
    try:
        digest = file_sha256(Path(path))
    except OSError as exc:
        raise DataError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    return _load(path, data_format, digest)


def stage_dataset(knobs: Mapping[str, Any]) -> Dataset:
    """The dataset a data stage reads, from its `data` and `data_format` knobs."""
    return load(knobs["data"][len(KNOB_FILE_PREFIX):], knobs["data_format"])
