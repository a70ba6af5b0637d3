"""Statistics for seed sweeps: Wilson intervals, Fisher's exact test and Benjamini–Hochberg q-values.

Pure functions on counts, so the ledger can put a rate, a confidence interval and a p-value next to
each verdict. SciPy is imported inside the functions that need it: importing `scipy.stats` costs
about a second, and most commands never judge a hypothesis.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from harness.hypotheses.judge import Observation, seed_judgements
from harness.records import Prediction

CONFIDENCE = 0.95
ALPHA = 0.05
"""A hypothesis is marked significant when its BH q-value is at most ALPHA (the verdict itself does not change)."""
FLIPS = frozenset({"flip_to_fail", "flip_to_pass"})
"""The kinds whose predicted response is a change of the check's pass/fail status, which Fisher's test counts."""
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


def combined_p(pvalues: Sequence[float], require: str) -> float | None:
    """The p-value of a hypothesis from those of its test predictions (None when none has one).

    With require="all" every test must show its response, so the hypothesis is only as strong as its
    weakest test: the largest p (an intersection–union test, valid without correction). With
    require="any" one response suffices, so the smallest p is corrected for having had several
    chances (Bonferroni: times their number, capped at 1).
    """
    if not pvalues:
        return None
    if require == "any":
        return min(1.0, min(pvalues) * len(pvalues))
    return max(pvalues)


def seed_rate(holds: Sequence[bool | None], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """n decided seeds, k of them showing the predicted response, the rate and its Wilson interval."""
    decided = [bool(h) for h in holds if h is not None]
    n, k = len(decided), sum(decided)
    return {"n": n, "k": k, "undecided": len(holds) - n, "rate": k / n if n else None,
            "ci": list(wilson(k, n, confidence)) if n else None, "confidence": confidence}


def status_table(references: Sequence[Observation], targets: Sequence[Observation]) -> list[list[int]]:
    """[[reference seeds that fail, that pass], [intervention seeds that fail, that pass]]."""
    return [[sum(o.status == status for o in side) for status in ("fail", "pass")] for side in (references, targets)]


def prediction_statistics(prediction: Prediction, readings: Mapping[str, Sequence[Observation]], base: str | None,
                          labels: Sequence[str]) -> dict[str, Any] | None:
    """Seed counts of one prediction over every intervention it reads, and Fisher's p for a flip.

    n and k pool the seeds of all interventions read. A flip compares how often the check fails in
    the reference and in each intervention (2×2 table per intervention); with several interventions
    each must flip, so the largest p stands for the prediction. Other kinds predict a change of a
    value, not of pass/fail, and report the rate alone. None for `within_spread`, which has no
    per-seed response to count.
    """
    if prediction.change == "within_spread":
        return None
    references = readings.get(base, []) if base else []
    holds = [j.holds for label in labels for _, j in seed_judgements(prediction, readings[label], references)]
    stats: dict[str, Any] = {**seed_rate(holds), "tables": {}, "p": None, "test": None}
    if prediction.change in FLIPS and references:
        tables = {label: status_table(references, readings[label]) for label in labels}
        if all(sum(row) for table in tables.values() for row in table):
            stats.update(tables=tables, p=max(fisher(table) for table in tables.values()), test=FISHER_TEST)
    return stats


def hypothesis_statistics(tests: Sequence[Mapping[str, Any] | None], require: str) -> dict[str, Any]:
    """n, rate and interval of the test prediction that limits the verdict, and the hypothesis's p.

    With require="all" that is the test with the lowest rate, with "any" the highest. q (the
    Benjamini–Hochberg value across one ledger's hypotheses) is filled in by `adjust`.
    """
    rated = [s for s in tests if s and s["n"]]
    pvalues = [s["p"] for s in tests if s and s["p"] is not None]
    entry: dict[str, Any] = {"n": 0, "k": 0, "rate": None, "ci": None, "p": combined_p(pvalues, require),
                             "p_rule": p_rule(len(pvalues), require), "q": None, "significant": None}
    if rated:
        pick = min if require == "all" else max
        limiting = pick(rated, key=lambda s: (s["rate"], s["n"] if require == "any" else -s["n"]))
        entry.update({key: limiting[key] for key in ("n", "k", "rate", "ci")})
    return entry


def p_rule(count: int, require: str) -> str:
    """How the hypothesis's p was chosen, in words."""
    if count == 0:
        return "no test prediction is a pass/fail flip between reference and intervention"
    if count == 1:
        return f"{FISHER_TEST} p of the one flip test"
    if require == "any":
        return f"smallest {FISHER_TEST} p of {count} flip tests times {count} (Bonferroni; require any)"
    return f"largest {FISHER_TEST} p of {count} flip tests (require all: the weakest test decides)"


def adjust(entries: Sequence[dict[str, Any]], alpha: float = ALPHA) -> None:
    """Fill in each hypothesis's BH q-value across the ledger, and whether q ≤ alpha (in place)."""
    tested = [e["statistics"] for e in entries if e["statistics"]["p"] is not None]
    for stats, q in zip(tested, benjamini_hochberg([s["p"] for s in tested])):
        stats.update(q=q, significant=q <= alpha)
