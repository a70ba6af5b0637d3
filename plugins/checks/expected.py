"""The expected-divergence registry: by-design differences between pipelines show as `expected`.

Entries live in `expected_divergences.toml` beside this module. The plugin answers
`harness_select_comparator` first for a matching (stage, artifact, pipeline pair, knob condition)
with a comparator that still runs the real comparison, and relabels a difference as expected with
the registry's reason; an equal artifact stays equal.
"""
from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from harness import hookimpl
from harness.compare import Comparison, default_comparator
from harness.errors import PluginError

REGISTRY = Path(__file__).with_name("expected_divergences.toml")


@dataclass(frozen=True)
class Divergence:
    """One declared by-design difference."""

    stage: str
    artifacts: tuple[str, ...]
    pipelines: frozenset[str]
    reason: str
    spec: str
    when: Mapping[str, Mapping[str, Any]]

    def matches(self, stage: str, artifact: str, context: Mapping[str, Any]) -> bool:
        pipelines = context["pipelines"]
        if frozenset(pipelines.values()) != self.pipelines or not fnmatch.fnmatchcase(stage, self.stage):
            return False
        if not any(fnmatch.fnmatchcase(artifact, pattern) for pattern in self.artifacts):
            return False
        for side, pipeline in pipelines.items():
            for knob, value in self.when.get(pipeline, {}).items():
                if str(context["knobs"][side].get(knob)) != str(value):
                    return False
        return True


def load_registry(path: Path = REGISTRY) -> tuple[Divergence, ...]:
    """Read and validate the registry; a malformed entry is an error naming it."""
    entries = tomllib.loads(path.read_text()).get("divergence", [])
    out = []
    for index, entry in enumerate(entries):
        missing = {"stage", "artifacts", "pipelines", "reason", "spec"} - set(entry)
        if missing:
            raise PluginError(f"{path.name} entry {index + 1} lacks {sorted(missing)}")
        out.append(Divergence(entry["stage"], tuple(entry["artifacts"]), frozenset(entry["pipelines"]),
                              entry["reason"], entry["spec"], entry.get("when", {})))
    return tuple(out)


def expected_comparator(divergence: Divergence, inner: Any) -> Any:
    """Run the real comparison; relabel a difference as expected with the declared reason."""

    def compare(name: str, a: Any, b: Any, tolerance: tuple[float, float]) -> Comparison:
        result = inner(name, a, b, tolerance)
        if result.status == "equal":
            return result
        return replace(result, status="expected", reason=f"{divergence.reason} (spec {divergence.spec})")

    return compare


@hookimpl(tryfirst=True)
def harness_select_comparator(stage: str, artifact: str, a: Any, b: Any, context: Mapping[str, Any]) -> Any:
    for divergence in load_registry():
        if divergence.matches(stage, artifact, context):
            return expected_comparator(divergence, default_comparator(a, b))
    return None
