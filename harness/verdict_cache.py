"""Cached comparisons and findings of one stage, keyed by everything they read, so a re-run whose
stages all hit the stage cache computes no comparison and no check again.

The key is the SHA-256 of: the report schema, the stage, each side's pipeline, knobs and the cache
keys of all its stages up to this one (checks may read any earlier artifact), scenario, profile,
and a hash of the code that compares and checks: the files of every registered check's and
comparator's module (with the data files beside them, such as expected_divergences.toml), the
host modules that evaluate them, and every `-p` plugin file. Entries live under
`<cache dir>/verdicts/` and are written atomically; an unreadable entry is recomputed.
"""
from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.compare import Comparison
from harness.manager import Registry
from harness.report import REPORT_SCHEMA, Finding, comparison_from_json
from harness.report_json import ReportError, Reader
from harness.store import atomic_write_json

HOST_MODULES = ("compare", "summary", "checking", "conventions", "artifacts", "diff", "report", "report_json",
                "verdict_cache")
DATA_SUFFIXES = (".py", ".toml", ".json", ".yaml", ".yml", ".txt", ".csv")
Entry = tuple[tuple[Comparison, ...], tuple[Finding, ...], dict[str, tuple[str, ...]]]


def code_hash(registry: Registry, plugin_files: tuple[str, ...]) -> str:
    """Digest of the code behind comparisons and findings; any edit to it invalidates every entry."""
    files: set[Path] = {Path(__file__).with_name(f"{name}.py") for name in HOST_MODULES}
    files |= set(Path(__file__).with_name("relations").glob("*.py"))
    modules = {registered.record.func.__module__ for registered in registry.checks.values()}
    modules |= {impl.plugin.__name__ if hasattr(impl.plugin, "__file__") else type(impl.plugin).__module__
                for impl in registry.pm.hook.harness_select_comparator.get_hookimpls()}
    for name in modules:
        source = getattr(sys.modules.get(name), "__file__", None)
        if source:
            path = Path(source)
            package = path.parent.joinpath("__init__.py").is_file()
            files |= {p for p in path.parent.iterdir() if p.suffix in DATA_SUFFIXES} if package else {path}
    files |= {Path(spec) for spec in plugin_files if Path(spec).is_file()}
    digest = hashlib.sha256()
    for path in sorted(p.resolve() for p in files if p.is_file()):
        digest.update(f"\0{path}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def entry_key(stage: str, sides: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any], code: str) -> str:
    """The cache key of one stage's verdict inputs; `sides` maps side → pipeline, knobs, stage_keys."""
    payload = {"schema": REPORT_SCHEMA, "stage": stage, "sides": sides, "scenario": settings.get("scenario"),
               "profile": settings.get("profile"), "code": code}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class VerdictCache:
    """Comparisons, findings and one-sided artifacts of stages by entry key, under `<root>/verdicts/`."""

    def __init__(self, root: Path):
        self.root = Path(root) / "verdicts"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Entry | None:
        """The stored entry, or None when there is none or it cannot be read back as valid records."""
        try:
            data = json.loads(self._path(key).read_text())
            r = Reader(data, "entry")
            comparisons = tuple(comparison_from_json(c, f"entry.comparisons[{i}]")
                                for i, c in enumerate(r.list("comparisons")))
            findings = tuple(Finding.from_json(f, f"entry.findings[{i}]") for i, f in enumerate(r.list("findings")))
            only = {side: tuple(names) for side, names in r.mapping("only").items()}
        except (OSError, ValueError, ReportError):
            return None
        return comparisons, findings, only

    def put(self, key: str, entry: Entry) -> None:
        comparisons, findings, only = entry
        atomic_write_json(self._path(key), {"comparisons": [c.to_dict() for c in comparisons],
                                            "findings": [f.to_json() for f in findings],
                                            "only": {side: list(names) for side, names in only.items()}})
