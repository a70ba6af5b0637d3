"""One run seed -> named child random streams (spec section 9).

Reference streams reproduce historical draws with the legacy MT19937 `RandomState`, seeded
`(reference + R - 42) mod 2**32`; derived streams are `Generator(PCG64(SeedSequence([R, id])))`
with fixed ids, the same for the same purpose on both sides. Purposes outside the table get an id
from a stable hash of their name, so user plugins get reproducible streams too.
"""
from __future__ import annotations

import zlib

import numpy as np

from harness.errors import UsageError

REFERENCE_SEEDS: dict[str, int] = {
    "object": 42,
    "coords": 42,
    "object.train": 1,
    "object.test": 2,
    "shuffle.train": 0,
    "eval.group": 7,
}

DERIVED_IDS: dict[str, int] = {
    "noise": 1001,
    "group.train": 1002,
    "group.test": 1003,
    "group.infer": 1004,
    "tf": 1005,
    "eval": 1006,
}

_REFERENCE_RUN_SEED = 42


def derived_id(purpose: str) -> int:
    """The SeedSequence id of a derived purpose (fixed table, else a stable name hash)."""
    if purpose in DERIVED_IDS:
        return DERIVED_IDS[purpose]
    return 100_000 + zlib.crc32(purpose.encode("utf-8")) % 1_000_000_000


def reference_seed(purpose: str, run_seed: int) -> int:
    """The legacy RandomState seed of a reference stream at this run seed."""
    try:
        reference = REFERENCE_SEEDS[purpose]
    except KeyError:
        raise UsageError(
            f"{purpose!r} is not a reference stream; reference streams: {', '.join(REFERENCE_SEEDS)}"
        ) from None
    return (reference + run_seed - _REFERENCE_RUN_SEED) % 2**32


def stream_seed(purpose: str, run_seed: int) -> int:
    """A 32-bit integer seed for a purpose: the reference seed, or the first word of the SeedSequence."""
    if purpose in REFERENCE_SEEDS:
        return reference_seed(purpose, run_seed)
    return int(np.random.SeedSequence([run_seed, derived_id(purpose)]).generate_state(1, np.uint32)[0])


def generator(purpose: str, run_seed: int) -> np.random.Generator:
    """A fresh PCG64 Generator for a derived purpose."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([run_seed, derived_id(purpose)])))


def legacy_random_state(purpose: str, run_seed: int) -> np.random.RandomState:
    """A fresh legacy MT19937 RandomState for a reference purpose (historical draws)."""
    return np.random.RandomState(reference_seed(purpose, run_seed))
