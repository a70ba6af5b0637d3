"""The context a stage function receives: seeds, effective knobs, device, log and progress."""
from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from harness import seeding
from harness.device import DeviceHandle
from harness.errors import StageContractError


class StageKnobs(Mapping[str, Any]):
    """Read-only view of the effective knobs that refuses knobs the stage does not declare.

    The stage cache key holds only the knobs declared for the stage; reading another one would
    make the cache unsound, so it is an error that names the knob and the stages it declares.
    """

    def __init__(self, values: Mapping[str, Any], declared: Mapping[str, tuple[str, ...]], stage: str):
        self._values = dict(values)
        self._declared = dict(declared)
        self._stage = stage

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            raise KeyError(f"unknown knob {name!r}; knobs: {', '.join(sorted(self._values))}")
        stages = self._declared.get(name, ())
        if self._stage not in stages:
            raise StageContractError(
                f"stage {self._stage!r} read knob {name!r}, which declares only the stages "
                f"{', '.join(stages)}; add {self._stage!r} to the knob's stages"
            )
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"StageKnobs({self._values!r})"


class Progress:
    """Progress handle: `ctx.progress.update(epoch=3, epochs=5, loss=-3.9e6)` feeds the live display."""

    def __init__(self, sink: Callable[[dict[str, Any]], None] | None = None):
        self._sink = sink

    def update(self, **fields: Any) -> None:
        if self._sink is not None:
            self._sink({k: _plain(v) for k, v in fields.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class StageContext:
    """Everything a stage may use besides its input artifacts; never the plugin manager."""

    pipeline: str
    stage: str
    side: str
    scenario: str
    profile: str
    run_seed: int
    knobs: Mapping[str, Any]
    device: DeviceHandle
    log: logging.Logger
    progress: Progress = field(default_factory=Progress)
    seeds_used: dict[str, int] = field(default_factory=dict)

    def rng(self, purpose: str) -> np.random.Generator:
        """A fresh generator for a derived purpose (`noise`, `group.train`, ...), from the run seed."""
        self._note(purpose)
        return seeding.generator(purpose, self.run_seed)

    def legacy_rng(self, purpose: str) -> np.random.RandomState:
        """A fresh legacy RandomState for a reference purpose (`object`, `coords`, ...)."""
        self._note(purpose)
        return seeding.legacy_random_state(purpose, self.run_seed)

    def seed(self, purpose: str) -> int:
        """The integer seed of a purpose (reference seed, or first word of its SeedSequence)."""
        return self._note(purpose)

    def _note(self, purpose: str) -> int:
        """Record which streams a stage drew from, with their seeds, for the stage's JSON record."""
        value = seeding.stream_seed(purpose, self.run_seed)
        self.seeds_used[purpose] = value
        return value
