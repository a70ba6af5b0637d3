"""`harness noise`: a pipeline against itself over N seeds, stored as a noise floor.

Each seed is one `harness run` through `harness.session.execute` (so the stage cache serves a seed
already run). From the stored stage records the floor keeps, per stage and numeric artifact, the
per-seed summary statistics (mean, std, rms of an array; a scalar's value) with their mean and
seed-to-seed std, and, for arrays of one shape on every seed, the rms of the difference between
consecutive seeds relative to the arrays' rms; per check with a numeric measured value, its values
over seeds and the smallest tolerance the floor supports. `--noise FLOOR` on run and diff scores
differences and check values against it (harness.noise_scores).
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from harness.errors import UsageError
from harness.noise_floor import FLOOR_SCHEMA, FLOOR_VERSION, artifact_statistics, number
from harness.manager import Registry
from harness.report import EXIT_OK, EXIT_STAGE_ERROR, Report
from harness.session import Invocation, execute
from harness.store import StageFiles, atomic_write_json

SUPPORT_SIGMAS = 5.0
"""The smallest tolerance a floor supports for a check: |mean − expected| + this many seed-to-seed stds."""


@dataclass(frozen=True)
class NoiseRequest:
    """`harness noise PIPELINE --seeds N`: the runs to make (one Invocation per seed) and where the floor goes."""

    base: Invocation
    seeds: int = 8
    seed_start: int = 1
    floor: Path | None = None

    def seed_list(self) -> list[int]:
        if self.seeds < 2:
            raise UsageError(f"--seeds must be at least 2 to measure a spread, got {self.seeds}")
        return list(range(self.seed_start, self.seed_start + self.seeds))


def default_floor_path(pipeline: str, scenario: str, profile: str) -> Path:
    return Path("runs") / f"noise-{pipeline}-{scenario}-{profile}.json"


def measure(request: NoiseRequest, registry: Registry, progress_console: Console) -> tuple[dict[str, Any], Path, int]:
    """Run every seed, build the floor and store it atomically; return (floor, its path, exit code): 3 when a
    stage raised on some seed (the floor then leaves out what that seed lacks), else 0."""
    pipeline = request.base.sides["a"]
    spec = registry.pipeline(pipeline)
    scenario = request.base.scenario or spec.default_scenario
    path = request.floor or default_floor_path(pipeline, scenario, request.base.profile)
    runs_root = path.with_suffix(".runs")
    reports: dict[int, Report] = {}
    for seed in request.seed_list():
        inv = replace(request.base, seed=seed, scenario=scenario, out=runs_root / f"seed-{seed}", formats=())
        reports[seed], _ = execute(inv, registry, progress_console, progress_console)
    floor = build_floor(reports, runs_root)
    atomic_write_json(path, floor)
    errored = [seed for seed, report in reports.items() if report.errored]
    return floor, path, EXIT_STAGE_ERROR if errored else EXIT_OK


def build_floor(reports: Mapping[int, Report], runs_root: Path) -> dict[str, Any]:
    """The floor of single-side run reports, one per seed, whose stages are stored under runs_root/seed-N/a."""
    first = next(iter(reports.values()))
    side = first.sides["a"]
    stages = [entry.stage for entry in first.stages]
    folders = {seed: runs_root / f"seed-{seed}" / "a" for seed in reports}
    return {
        "schema": FLOOR_SCHEMA, "schema_version": FLOOR_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "pipeline": side.pipeline, "base": side.base, "scenario": first.settings["scenario"],
        "profile": first.settings["profile"], "knobs": dict(side.knobs), "seeds": list(reports),
        "stages": stages, "runs": str(runs_root),
        "artifacts": {stage: artifact_floors(stage, folders) for stage in stages},
        "checks": check_floors(reports),
    }


def spread(values: list[float]) -> dict[str, Any]:
    """Values over seeds with their mean, seed-to-seed std (ddof 1), min and max."""
    array = np.asarray(values, dtype=np.float64)
    return {"values": [float(v) for v in array], "mean": float(array.mean()),
            "std": float(array.std(ddof=1)) if array.size > 1 and array.min() != array.max() else 0.0,
            "min": float(array.min()), "max": float(array.max())}


def _records(folders: Mapping[int, Path], stage: str) -> Iterator[tuple[StageFiles, dict[str, Any]]]:
    for folder in folders.values():
        files = StageFiles(folder, stage)
        record = files.read_record()
        if record is not None and record.get("status") == "ok":
            yield files, record


def artifact_floors(stage: str, folders: Mapping[int, Path]) -> dict[str, Any]:
    """Per numeric artifact of `stage`: its statistics over seeds and, for same-shape arrays, the consecutive-seed
    difference spread. Artifacts missing or non-numeric on any seed are left out."""
    stored = list(_records(folders, stage))
    if len(stored) != len(folders):
        return {}
    out: dict[str, Any] = {}
    for name in stored[0][1].get("artifacts", {}):
        per_seed = [artifact_statistics(record["artifacts"].get(name, {})) for _, record in stored]
        if not per_seed[0] or any(stats.keys() != per_seed[0].keys() for stats in per_seed):
            continue
        entry: dict[str, Any] = {"statistics": {stat: spread([s[stat] for s in per_seed]) for stat in per_seed[0]}}
        shapes = {tuple(record["artifacts"][name].get("shape", ())) for _, record in stored}
        if "mean" in per_seed[0] and len(shapes) == 1:
            entry["shape"] = list(shapes.pop())
            entry["pairs"] = pair_spread(name, stored)
        out[name] = entry
    return out


def pair_spread(name: str, stored: list[tuple[StageFiles, dict[str, Any]]]) -> dict[str, float]:
    """rms of x_{i+1} − x_i over consecutive seeds, absolute and relative to the arrays' rms (mean over pairs);
    one array is held at a time besides its predecessor."""
    absolute, relative = [], []
    previous = None
    for files, record in stored:
        current = np.asarray(files.load(record, [name])[name])
        if previous is not None:
            diff = np.abs(current.astype(np.complex128 if np.iscomplexobj(current) else np.float64) - previous)
            rms_diff = float(np.sqrt(np.mean(diff ** 2))) if diff.size else 0.0
            scale = float(np.sqrt(np.mean(np.abs(previous) ** 2))) if previous.size else 0.0
            absolute.append(rms_diff)
            relative.append(rms_diff / scale if scale > 0 else 0.0)
        previous = current.astype(np.complex128 if np.iscomplexobj(current) else np.float64)
    return {"rms": float(np.mean(absolute)), "relative": float(np.mean(relative))}


def check_floors(reports: Mapping[int, Report]) -> dict[str, dict[str, Any]]:
    """Per stage and check (side A of each single-side run) with a numeric measured value on every seed: its values
    over seeds, expected value, tolerance and the smallest tolerance the floor supports."""
    values: dict[tuple[str, str], list[float]] = {}
    last: dict[tuple[str, str], Any] = {}
    for report in reports.values():
        for entry in report.stages:
            for finding in entry.findings:
                if finding.side == "a" and number(finding.measured) is not None:
                    values.setdefault((entry.stage, finding.check), []).append(float(finding.measured))
                    last[(entry.stage, finding.check)] = finding
    out: dict[str, dict[str, Any]] = {}
    for (stage, check), found in values.items():
        if len(found) != len(reports):
            continue
        finding = last[(stage, check)]
        entry = {**spread(found), "expected": finding.expected, "tolerance": finding.tolerance}
        entry["supported_tolerance"] = supported_tolerance(entry)
        out.setdefault(stage, {})[check] = entry
    return out


def supported_tolerance(entry: Mapping[str, Any]) -> float:
    """|mean − expected| + 5·std, or 5·std where the check's expected value is not a number."""
    expected = number(entry.get("expected"))
    offset = abs(entry["mean"] - expected) if expected is not None else 0.0
    return offset + SUPPORT_SIGMAS * entry["std"]
