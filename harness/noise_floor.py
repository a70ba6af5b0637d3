"""Noise floors on the report: the floor file `harness noise` writes, and z-scores against it.

`--noise FLOOR` on run and diff adds, per stage, a `NoiseScore` for each numeric artifact both sides
compare (B − A of a summary statistic over that statistic's seed-to-seed std; the statistic with the
largest |z| is kept) and for each check with a numeric measured value ((measured − floor mean) / floor
std). |z| < 3 is inside the floor: not distinguishable from the pipeline's own seed-to-seed spread.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import UsageError
from harness.report import NOISE_Z_LIMIT, NoiseScore, Report, StageVerdict
from harness.store import StageFiles

FLOOR_SCHEMA = "ptycho-harness noise floor"
FLOOR_VERSION = 1


def number(value: Any) -> float | None:
    """A finite number as float, else None (bools, text, lists and NaN are not measured values)."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(float(value)):
        return float(value)
    return None


def artifact_statistics(info: Mapping[str, Any]) -> dict[str, float]:
    """The summary statistics a stage record gives for one artifact: mean, std and rms of a numeric array
    (of |x| for a complex one), or a finite numeric scalar's value; none for anything else."""
    if info.get("kind") == "value":
        value = number(info.get("value"))
        return {} if value is None else {"value": value}
    stats = info.get("abs", info) if info.get("kind") == "array" else {}
    if not all(isinstance(stats.get(k), (int, float)) for k in ("mean", "std")):
        return {}
    mean, std = float(stats["mean"]), float(stats["std"])
    return {"mean": mean, "std": std, "rms": math.sqrt(mean * mean + std * std)}


def load_floor(path: Path) -> dict[str, Any]:
    """Read and check a floor file; a missing, damaged or foreign file is one UsageError line."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"--noise {path}: no such file; make one with `harness noise PIPELINE --seeds N`") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"--noise {path}: not a readable noise floor ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != FLOOR_SCHEMA:
        raise UsageError(f"--noise {path}: not a noise floor written by `harness noise`")
    if data.get("schema_version") != FLOOR_VERSION:
        raise UsageError(f"--noise {path}: floor schema version {data.get('schema_version')!r}, this harness reads "
                         f"{FLOOR_VERSION}; record it again with `harness noise`")
    return data


def check_floor_matches(floor: Mapping[str, Any], path: Path, pipelines: Mapping[str, tuple[str, str | None]],
                        scenario: str, profile: str) -> None:
    """The floor must be for every side's pipeline (or the pipeline it derives from), scenario and profile."""
    recorded = f"{floor['pipeline']}/{floor['scenario']}/{floor['profile']}"
    for side, (name, base) in pipelines.items():
        if floor["pipeline"] not in (name, base) or floor["scenario"] != scenario or floor["profile"] != profile:
            raise UsageError(f"--noise {path} was recorded for {recorded}, not {name}/{scenario}/{profile} "
                             f"(side {side.upper()}); record a floor for it with `harness noise`")


def score(subject: str, name: str, side: str, statistic: str, value: float, spread: Mapping[str, Any],
          offset: float) -> NoiseScore:
    """`offset` is the value's distance from the floor (B − A for an artifact, measured − mean for a check)."""
    std = spread["std"]
    z = offset / std if std > 0 else None
    inside = abs(z) < NOISE_Z_LIMIT if z is not None else offset == 0
    return NoiseScore(subject, name, side, statistic, value, spread["mean"], std, z, inside,
                      spread.get("supported_tolerance"))


def _size(s: NoiseScore) -> float:
    return abs(s.z) if s.z is not None else (0.0 if s.inside else math.inf)


def artifact_scores(entry: StageVerdict, floor: Mapping[str, Any], run_dir: Path) -> list[NoiseScore]:
    """Per compared artifact the floor knows: the statistic whose B − A has the largest |z|."""
    known = floor["artifacts"].get(entry.stage, {})
    sides = list(entry.sides)
    if len(sides) != 2 or not any(c.artifact in known for c in entry.comparisons):
        return []
    records = [StageFiles(run_dir / side, entry.stage).read_record() or {} for side in sides]
    out = []
    for comparison in entry.comparisons:
        if comparison.artifact not in known:
            continue
        a, b = (artifact_statistics(r.get("artifacts", {}).get(comparison.artifact, {})) for r in records)
        scores = [score("artifact", comparison.artifact, "b-a", stat, b[stat] - a[stat], spread, b[stat] - a[stat])
                  for stat, spread in known[comparison.artifact]["statistics"].items() if stat in a and stat in b]
        if scores:
            out.append(max(scores, key=_size))
    return out


def finding_scores(entry: StageVerdict, floor: Mapping[str, Any]) -> list[NoiseScore]:
    """Per finding with a numeric measured value whose check the floor measured at this stage."""
    known = floor["checks"].get(entry.stage, {})
    out = []
    for finding in entry.findings:
        measured, spread = number(finding.measured), known.get(finding.check)
        if measured is not None and spread is not None:
            out.append(score("check", finding.check, finding.side, "measured", measured, spread, measured - spread["mean"]))
    return out


def score_report(report: Report, floor: Mapping[str, Any], path: Path, run_dir: Path) -> Report:
    """The report with every stage's noise scores and the floor it was scored against in its settings."""
    stages = tuple(replace(entry, noise=tuple(artifact_scores(entry, floor, run_dir) + finding_scores(entry, floor)))
                   for entry in report.stages)
    recorded = {"floor": str(path), "pipeline": floor["pipeline"], "scenario": floor["scenario"],
                "profile": floor["profile"], "seeds": floor["seeds"], "z_limit": NOISE_Z_LIMIT}
    return replace(report, stages=stages, settings={**report.settings, "noise": recorded})

