"""Recording which configuration values a stage read, and from where (the `config_trace` artifacts).

Both originals read a global parameter dictionary. The plugins pass that dictionary between
stages as an artifact and read it through a `TracedStore`, so every value a stage used is
recorded as (stage, key, value) and stale values (CONFIG-001) are visible in the diff.
"""
from __future__ import annotations

from typing import Any, Mapping

TRACED_KEYS = ("N", "gridsize", "probe_scale", "probe.big", "probe.mask", "nphotons", "padded_size")
"""The keys check N-0 compares with the scenario at every stage (spec 6.1)."""


class TracedStore:
    """Read access to a parameter dictionary that remembers every read for one stage."""

    def __init__(self, stage: str, values: Mapping[str, Any]):
        self.stage = stage
        self.values = dict(values)
        self.reads: list[list[Any]] = []

    def __getitem__(self, key: str) -> Any:
        try:
            value = self.values[key]
        except KeyError:
            raise KeyError(f"stage {self.stage!r} read {key!r}, which the parameter store does not hold") from None
        self.reads.append([self.stage, key, value])
        return value

    def note(self, key: str, value: Any) -> Any:
        """Record a value the stage derived from what it read (e.g. padded_size from offset and jitter)."""
        self.reads.append([self.stage, key, value])
        return value

    def read_all(self, keys: tuple[str, ...]) -> dict[str, Any]:
        return {key: self[key] for key in keys}

    def trace(self) -> list[list[Any]]:
        """The reads of this stage in order, one [stage, key, value] per read (first read of a key wins)."""
        seen: set[str] = set()
        out = []
        for entry in self.reads:
            if entry[1] not in seen:
                seen.add(entry[1])
                out.append(entry)
        return out
