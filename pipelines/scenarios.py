"""The four scenarios both pipelines accept (spec 4.1): physics and conventions, never counts."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.errors import UsageError

N = 64
OBJECT_SIZE = 392
OFFSET = 4
NPHOTONS = 1e9


@dataclass(frozen=True)
class Scenario:
    """gridsize, probe source and the probe flags of one scenario (spec 4.1)."""

    name: str
    gridsize: int
    probe: str
    probe_scale: float
    probe_big: bool
    probe_mask: bool

    @property
    def channels(self) -> int:
        return self.gridsize * self.gridsize

    @property
    def is_custom(self) -> bool:
        return self.probe == "custom"

    def as_dict(self) -> dict:
        return asdict(self)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("gs2_ideal", 2, "ideal", 10.0, False, True),
        Scenario("gs1_ideal", 1, "ideal", 10.0, False, True),
        Scenario("gs2_custom", 2, "custom", 4.0, True, False),
        Scenario("gs1_custom", 1, "custom", 4.0, True, False),
    )
}
"""In the order `harness list scenarios` shows them; gs2_ideal, the native legacy one, is the default."""

SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIOS)
PROFILE_NAMES: tuple[str, ...] = ("smoke", "stable", "full")


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageError(f"unknown scenario {name!r}; valid scenarios: {', '.join(SCENARIOS)}") from None
