"""Wilson intervals, Fisher's exact test and Benjamini–Hochberg q-values: properties and known values."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.hypotheses.statistics import benjamini_hochberg, fisher, wilson

PROPERTY = settings(max_examples=60, deadline=None)


@st.composite
def counts(draw, most: int = 200) -> tuple[int, int]:
    trials = draw(st.integers(0, most))
    return draw(st.integers(0, trials)), trials


@PROPERTY
@given(counts())
def test_wilson_interval_lies_in_unit_range_and_contains_the_rate(drawn):
    successes, trials = drawn
    low, high = wilson(successes, trials)
    assert 0.0 <= low <= high <= 1.0
    if trials:
        assert low <= successes / trials <= high


@PROPERTY
@given(st.floats(0.0, 1.0), st.integers(1, 100), st.integers(2, 10))
def test_wilson_interval_narrows_as_the_same_rate_is_seen_on_more_trials(rate, trials, factor):
    successes = round(rate * trials)
    small = wilson(successes, trials)
    large = wilson(successes * factor, trials * factor)
    assert large[1] - large[0] < small[1] - small[0]


def test_wilson_known_values_and_edges():
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(3, 3)
    assert high == 1.0 and low == pytest.approx(0.4385, abs=1e-4)  # 3 of 3 seeds: [0.44, 1]
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    with pytest.raises(ValueError):
        wilson(4, 3)


def brute_force_fisher(a: int, b: int, c: int, d: int) -> float:
    """Sum of hypergeometric probabilities of every table with the observed margins no likelier than it."""
    row, column, total = a + b, a + c, a + b + c + d

    def probability(x: int) -> float:
        return math.comb(column, x) * math.comb(total - column, row - x) / math.comb(total, row)

    observed = probability(a)
    possible = range(max(0, row + column - total), min(row, column) + 1)
    return min(1.0, sum(p for x in possible if (p := probability(x)) <= observed * (1 + 1e-7)))


@PROPERTY
@given(st.lists(st.integers(0, 12), min_size=4, max_size=4))
def test_fisher_agrees_with_a_brute_force_hypergeometric_sum(cells):
    a, b, c, d = cells
    p = fisher([[a, b], [c, d]])
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(brute_force_fisher(a, b, c, d), rel=1e-9, abs=1e-12)


def test_fisher_on_seed_tables():
    assert fisher([[0, 1], [1, 0]]) == pytest.approx(1.0)  # one seed each side cannot be significant
    assert fisher([[0, 3], [3, 0]]) == pytest.approx(0.1)
    assert fisher([[0, 5], [5, 0]]) == pytest.approx(2 / 252)
    with pytest.raises(ValueError):
        fisher([[-1, 1], [1, 1]])


@PROPERTY
@given(st.lists(st.floats(0.0, 1.0), min_size=0, max_size=30))
def test_bh_q_values_are_at_least_p_at_most_one_and_monotone_in_p(pvalues):
    q = benjamini_hochberg(pvalues)
    assert len(q) == len(pvalues)
    assert all(p <= qi + 1e-15 and qi <= 1.0 for p, qi in zip(pvalues, q))
    ranked = sorted(zip(pvalues, q))
    assert all(q1 <= q2 for (_, q1), (_, q2) in zip(ranked, ranked[1:]))


def test_bh_known_values():
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert benjamini_hochberg([0.2]) == [0.2]
    with pytest.raises(ValueError):
        benjamini_hochberg([1.5])
