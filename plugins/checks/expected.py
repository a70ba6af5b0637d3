"""The expected-divergence registry: by-design differences between pipelines show as `expected`.

Entries live in `expected_divergences.toml` beside this module. The plugin answers
`harness_select_comparator` first for a matching (stage, artifact, conventions the two sides declare
differently, knob condition) with a comparator that still runs the real comparison, and relabels a
difference as expected with the registry's reason; an equal artifact stays equal.
"""
from __future__ import annotations

import fnmatch
import functools
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from harness import hookimpl
from harness.compare import Comparison, default_comparator
from harness.errors import PluginError, UsageError
from harness.records import Knob
from plugins.checks.conventions import CONVENTIONS

REGISTRY = Path(__file__).with_name("expected_divergences.toml")


@dataclass(frozen=True)
class Divergence:
    """One declared by-design difference, explained by conventions the two sides declare differently."""

    stage: str
    artifacts: tuple[str, ...]
    because: tuple[str, ...]
    reason: str
    spec: str
    when: Mapping[str, Any]

    def matches(self, stage: str, artifact: str, context: Mapping[str, Any]) -> bool:
        if not fnmatch.fnmatchcase(stage, self.stage):
            return False
        if not any(fnmatch.fnmatchcase(artifact, pattern) for pattern in self.artifacts):
            return False
        conventions = list(context.get("conventions", {}).values())
        if len(conventions) != 2 or not any(explains(name, *conventions) for name in self.because):
            return False
        return all(str(knobs.get(knob, value)) == str(value)
                   for knobs in context["knobs"].values() for knob, value in self.when.items())


def explains(name: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Both sides declare the convention, with different values."""
    return name in a and name in b and a[name] != b[name]


def load_registry(path: Path = REGISTRY) -> tuple[Divergence, ...]:
    """Read and validate the registry; a malformed entry or an unknown convention is an error naming it."""
    entries = tomllib.loads(path.read_text()).get("divergence", [])
    out = []
    for index, entry in enumerate(entries):
        where = f"{path.name} entry {index + 1} ({entry.get('stage', '?')}: {', '.join(entry.get('artifacts', []))})"
        missing = {"stage", "artifacts", "because", "reason", "spec"} - set(entry)
        if missing:
            raise PluginError(f"{where} lacks {sorted(missing)}")
        unknown = [name for name in entry["because"] if name not in CONVENTIONS]
        if unknown:
            raise PluginError(f"{where} names unknown convention {unknown[0]!r}; conventions: {', '.join(CONVENTIONS)}")
        out.append(Divergence(entry["stage"], tuple(entry["artifacts"]), tuple(entry["because"]),
                              entry["reason"], entry["spec"], entry.get("when", {})))
    return tuple(out)


def check_knob_conditions(divergences: tuple[Divergence, ...], knobs: Mapping[str, Mapping[str, Knob]]) -> None:
    """Every `when` knob of the registry is a registered knob and its value a valid one (knob → its Knob per
    pipeline); a renamed knob would otherwise turn a declared difference into a silent new one."""
    for divergence in divergences:
        for knob, value in divergence.when.items():
            owners = {pipeline: specs[knob] for pipeline, specs in knobs.items() if knob in specs}
            if not owners:
                raise PluginError(f"{REGISTRY.name}: entry for {divergence.stage} names unknown knob {knob!r} in `when`")
            for pipeline, spec in owners.items():
                try:
                    spec.coerce(knob, str(value))
                except UsageError as exc:
                    raise PluginError(f"{REGISTRY.name}: entry for {divergence.stage}, `when` of {pipeline}: {exc}") from None


def expected_comparator(divergence: Divergence, inner: Any) -> Any:
    """Run the real comparison; relabel a difference as expected with the declared reason."""

    def compare(name: str, a: Any, b: Any, tolerance: tuple[float, float]) -> Comparison:
        result = inner(name, a, b, tolerance)
        if result.status == "equal":
            return result
        return replace(result, status="expected", reason=f"{divergence.reason} (spec {divergence.spec})")

    return compare


@functools.lru_cache(maxsize=1)
def registry_entries() -> tuple[Divergence, ...]:
    """The registry, read once per process."""
    return load_registry()


@hookimpl
def harness_check_registry(registry: Any) -> None:
    """Every `when` knob names a registered knob with a valid value."""
    check_knob_conditions(registry_entries(), {name: r.record.knobs for name, r in registry.pipelines.items()})


@hookimpl(tryfirst=True)
def harness_select_comparator(stage: str, artifact: str, a: Any, b: Any, context: Mapping[str, Any]) -> Any:
    for divergence in registry_entries():
        if divergence.matches(stage, artifact, context):
            return expected_comparator(divergence, default_comparator(a, b))
    return None
