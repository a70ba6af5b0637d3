"""Integrity of a stored run folder: each stage's files match the checksums recorded when they were
written, and every array loads without unpickling. `harness verify` and `harness show` use it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.errors import StorageError
from harness.store import StageFiles, artifact_sha256, file_sha256

RUN_FILES = ("manifest.json", "report.json")


@dataclass(frozen=True)
class Damage:
    """One damaged file of a run folder and what is wrong with it."""

    path: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


@dataclass(frozen=True)
class Verification:
    """What a check of a run folder found: how many files it checked and which are damaged."""

    checked: int
    damaged: tuple[Damage, ...]


def verify_run(run_dir: Path, thorough: bool = True) -> Verification:
    """Check the run's JSON files and every stage's files; `thorough` also loads and re-hashes each artifact."""
    run_dir = Path(run_dir)
    damaged = [d for name in RUN_FILES if (d := _json_damage(run_dir / name))]
    checked = len(RUN_FILES)
    for record_path in _stage_records(run_dir):
        files = StageFiles(record_path.parent, record_path.stem)
        checked += 1 + files.npz.exists()
        damaged += _stage_damage(files, thorough)
    return Verification(checked, tuple(damaged))


def _stage_records(run_dir: Path) -> list[Path]:
    """The stage records of every side folder named in the manifest (else every folder with records)."""
    try:
        sides = list(json.loads((run_dir / "manifest.json").read_text())["sides"])
    except (OSError, ValueError, KeyError, TypeError):
        sides = sorted(p.name for p in run_dir.iterdir() if p.is_dir()) if run_dir.is_dir() else []
    return sorted(path for side in sides for path in (run_dir / side).glob("*.json"))


def _json_damage(path: Path) -> Damage | None:
    try:
        json.loads(path.read_text())
    except FileNotFoundError:
        return Damage(path, "missing")
    except (OSError, ValueError) as exc:
        return Damage(path, f"not valid JSON ({exc})")
    return None


def _stage_damage(files: StageFiles, thorough: bool) -> list[Damage]:
    """What is wrong with one stage's record and npz; a failed or skipped stage has only its record."""
    record = files.read_record()
    if record is None:
        return [Damage(files.json, "not valid JSON")]
    if record.get("status") != "ok":
        return []
    damage = _npz_damage(files, record)
    if damage is not None:
        return [damage]
    return _artifact_damage(files, record)[1] if thorough else []


def load_intact(files: StageFiles, record: Mapping[str, Any], names: Iterable[str], what: str) -> dict[str, Any]:
    """Load `names` from a stage's files, each proven against its recorded checksum (never unpickling);
    a missing or damaged file raises StorageError naming `what` and the file."""
    names = list(names)
    absent = [name for name in names if name not in record.get("artifacts", {})]
    if absent:
        raise StorageError(f"{what}: {files.json} records no artifact {absent[0]!r}; the run folder is incomplete, run it again")
    damage = _npz_damage(files, record)
    values, damaged = ({}, [damage]) if damage else _artifact_damage(files, record, names)
    if damaged:
        raise StorageError(f"{what} is damaged: {damaged[0]}; run it again (harness verify lists every damaged file)")
    return values


def _npz_damage(files: StageFiles, record: Mapping[str, Any]) -> Damage | None:
    """A missing npz, or one whose checksum is not the one recorded when it was written."""
    expected = record.get("npz_sha256")
    if expected is None:
        return None
    if not files.npz.is_file():
        return Damage(files.npz, "missing")
    if file_sha256(files.npz) != expected:
        return Damage(files.npz, "checksum differs from the one recorded when it was written")
    return None


def _artifact_damage(files: StageFiles, record: Mapping[str, Any],
                     names: Iterable[str] | None = None) -> tuple[dict[str, Any], list[Damage]]:
    """Load the artifacts (all, or `names`; never unpickling) and compare each with its recorded checksum."""
    try:
        values = files.load(record, names)
    except Exception as exc:  # any failure to load is damage to report, not to raise
        return {}, [Damage(files.npz if record.get("npz_sha256") else files.json, f"does not load: {type(exc).__name__}: {exc}")]
    infos = record.get("artifacts", {})
    return values, [Damage(files.json if infos[name]["kind"] == "value" else files.npz, f"artifact {name!r} differs from its recorded checksum")
                    for name in values if artifact_sha256(values[name]) != infos[name].get("sha256")]
