"""Statistics for seed sweeps: Wilson intervals, Fisher's exact test and Benjamini–Hochberg q-values.

Pure functions on counts, so the ledger can put a rate, a confidence interval and a p-value next to
each verdict. SciPy is imported inside the functions that need it: importing `scipy.stats` costs
about a second, and most commands never judge a hypothesis.
"""
from __future__ import annotations

import math
from typing import Sequence

CONFIDENCE = 0.95
FISHER_TEST = "Fisher exact, two-sided"
"""The test behind every p-value in the ledger: two-sided, because a knob that moves a check the
other way than predicted is also evidence that it matters (the verdict then says refuted)."""


def wilson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval for `successes` of `trials` at `confidence` (two-sided).

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at 0/n or n/n,
    which is where seed sweeps of a deterministic effect usually land. With no trials it is [0, 1].
    """
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if trials == 0:
        return 0.0, 1.0
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    rate = successes / trials
    denominator = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / denominator
    # The exact bounds at 0/n and n/n are 0 and 1; rounding must not move them off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def fisher(table: Sequence[Sequence[int]]) -> float:
    """Two-sided p-value of Fisher's exact test on a 2×2 table of counts [[a, b], [c, d]].

    The two-sided p sums the hypergeometric probabilities (margins fixed) of every table no more
    likely than the observed one, as `scipy.stats.fisher_exact(alternative="two-sided")` does.
    """
    (a, b), (c, d) = table
    if min(a, b, c, d) < 0:
        raise ValueError(f"a contingency table holds counts, got {[[a, b], [c, d]]}")
    from scipy.stats import fisher_exact

    return float(fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue)


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the order given.

    q for the i-th smallest of m p-values is min over j ≥ i of m·p(j)/j, capped at 1: rejecting
    every hypothesis with q ≤ α keeps the expected false discovery rate at or below α.
    """
    count = len(pvalues)
    for p in pvalues:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values lie in [0, 1], got {p}")
    order = sorted(range(count), key=lambda i: pvalues[i])
    adjusted = [1.0] * count
    running = 1.0
    for rank in range(count, 0, -1):
        index = order[rank - 1]
        running = min(running, pvalues[index] * count / rank)
        adjusted[index] = running
    return adjusted
