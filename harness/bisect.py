"""Delta debugging over knob changes: the smallest set of changes that still reproduces a failure.

The search only sees names and a `reproduces(subset) -> bool` oracle, so it is tested without
running a pipeline. It is Zeller's dd (1999, "Yesterday, my program worked") in its recursive form:
split the candidates in halves and keep a half that reproduces alone; when neither does, the halves
interfere, so minimise each half with the other one applied. A single culprit among n changes
costs at most 2·⌈log2 n⌉ oracle calls after the two sanity calls (all changes, none); changes that
only break together are found because the interference branch keeps the partner applied.
Repeated subsets are answered from a memo and never cost a second call.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

Oracle = Callable[[frozenset[str]], bool]
Status = Literal["found", "not_reproduced", "no_change_needed"]


@dataclass(frozen=True)
class Trial:
    """One oracle call: the changes applied, whether the failure showed, and why the search asked."""

    changes: tuple[str, ...]
    reproduces: bool
    purpose: str


@dataclass
class SearchResult:
    """Where the search ended: `minimal` is the failure-inducing set when `status` is "found"."""

    status: Status
    minimal: tuple[str, ...]
    trials: list[Trial] = field(default_factory=list)

    @property
    def calls(self) -> int:
        """Oracle calls spent (memo hits are not calls)."""
        return len(self.trials)


def single_culprit_bound(n: int) -> int:
    """The most oracle calls a lone culprit among n changes may cost: 2·⌈log2 n⌉ + 2."""
    return 2 * math.ceil(math.log2(n)) + 2 if n > 1 else 2


class _Search:
    """The memoised oracle and the recursion; `order` keeps subsets in the caller's order."""

    def __init__(self, changes: Sequence[str], reproduces: Oracle):
        self.order = {name: index for index, name in enumerate(changes)}
        self.oracle = reproduces
        self.memo: dict[frozenset[str], bool] = {}
        self.trials: list[Trial] = []

    def ordered(self, subset: frozenset[str]) -> tuple[str, ...]:
        return tuple(sorted(subset, key=self.order.__getitem__))

    def test(self, subset: frozenset[str], purpose: str) -> bool:
        if subset not in self.memo:
            self.memo[subset] = bool(self.oracle(subset))
            self.trials.append(Trial(self.ordered(subset), self.memo[subset], purpose))
        return self.memo[subset]

    def dd(self, candidates: tuple[str, ...], applied: frozenset[str]) -> frozenset[str]:
        """A minimal part of `candidates` that reproduces with `applied` on; `applied ∪ candidates` does."""
        if len(candidates) == 1:
            return frozenset(candidates)
        middle = (len(candidates) + 1) // 2
        first, second = candidates[:middle], candidates[middle:]
        if self.test(applied | frozenset(first), "first half"):
            return self.dd(first, applied)
        if self.test(applied | frozenset(second), "second half"):
            return self.dd(second, applied)
        needed_first = self.dd(first, applied | frozenset(second))
        needed_second = self.dd(second, applied | needed_first)
        return needed_first | needed_second


def minimise(changes: Sequence[str], reproduces: Oracle) -> SearchResult:
    """Confirm that all changes reproduce and none do not, then find a minimal reproducing subset."""
    if len(set(changes)) != len(changes):
        raise ValueError(f"changes must be distinct, got {list(changes)}")
    search = _Search(changes, reproduces)
    everything = frozenset(changes)
    if not everything or not search.test(everything, "all changes"):
        return SearchResult("not_reproduced", (), search.trials)
    if search.test(frozenset(), "no change"):
        return SearchResult("no_change_needed", (), search.trials)
    found = search.dd(tuple(changes), frozenset())
    return SearchResult("found", search.ordered(found), search.trials)
