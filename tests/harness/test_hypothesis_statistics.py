"""Wilson intervals, Fisher's exact test and Benjamini–Hochberg q-values: properties and known values."""
from __future__ import annotations

import math
from io import StringIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rich.console import Console

from harness.hypotheses import RunResult, judge_hypothesis
from harness.hypotheses.ledger import markdown, numbers, print_table
from harness.hypotheses.statistics import adjust, benjamini_hochberg, combined_p, fisher, hypothesis_statistics, wilson
from harness.records import HypothesisSpec, Prediction, RunRequest

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


# --- wired into the ledger: hand-made seed sweeps -----------------------------------------------------------

SEEDS = (1, 2, 3, 4, 5)


def sweep_spec(hid: str = "H-SWEEP", require: str = "all", *extra: Prediction) -> HypothesisSpec:
    return HypothesisSpec(
        hid, "sweep", "dataset_raw breaks N-9 on every seed", RunRequest("sim_lines", seeds=SEEDS),
        (RunRequest("sim_lines", knobs={"intensity_scale": "dataset_raw"}, seeds=SEEDS, label="raw"),),
        (Prediction("N-9", "scale", "flip_to_fail"), Prediction("N-13", "scale", "unchanged"), *extra), require=require)


def sweep_runs(raw_statuses: str, n13: float = 0.6) -> dict[str, list[RunResult]]:
    """Baseline passes N-9 on every seed; the intervention's N-9 status per seed is given as a string of p/f."""
    def run(label: str, seed: int, status: str) -> RunResult:
        findings = [{"check": "N-9", "side": "a", "status": status, "measured": 1.0 if status == "pass" else 0.08,
                     "expected": 1.0, "explanation": "N-9", "details": {}},
                    {"check": "N-13", "side": "a", "status": "pass", "measured": 0.6 if label == "baseline" else n13,
                     "expected": 0.6, "explanation": "N-13", "details": {}}]
        report = {"stages": [{"stage": "scale", "sides": {"a": {"status": "ok"}}, "findings": findings}], "summary": ""}
        return RunResult(label, seed, f"{label}-{seed}", report, None)

    statuses = {"p": "pass", "f": "fail"}
    return {"baseline": [run("baseline", s, "pass") for s in SEEDS],
            "raw": [run("raw", s, statuses[c]) for s, c in zip(SEEDS, raw_statuses)]}


def test_a_flip_over_seeds_reports_its_rate_interval_table_and_fisher_p():
    entry = judge_hypothesis(sweep_spec(), sweep_runs("fffff"), "smoke")
    assert entry["verdict"] == "supported"
    flip, unchanged = (p["statistics"] for p in entry["predictions"])
    assert (flip["n"], flip["k"], flip["rate"]) == (5, 5, 1.0)
    assert flip["ci"] == pytest.approx(list(wilson(5, 5)))
    assert flip["tables"] == {"raw": [[0, 5], [5, 0]]} and flip["p"] == pytest.approx(2 / 252)
    assert flip["test"] == "Fisher exact, two-sided"
    assert (unchanged["n"], unchanged["k"], unchanged["p"], unchanged["tables"]) == (5, 5, None, {})
    stats = entry["statistics"]
    assert (stats["n"], stats["rate"], stats["p"]) == (5, 1.0, pytest.approx(2 / 252))
    assert "one flip test" in stats["p_rule"]


def test_a_partial_response_keeps_the_verdict_rule_and_shows_the_rate():
    entry = judge_hypothesis(sweep_spec(), sweep_runs("ffpfp"), "smoke")
    assert entry["verdict"] == "refuted"  # "all" seeds must flip: unchanged rule
    flip = entry["predictions"][0]["statistics"]
    assert (flip["n"], flip["k"], flip["tables"]["raw"]) == (5, 3, [[0, 5], [3, 2]])
    assert flip["p"] == pytest.approx(fisher([[0, 5], [3, 2]]))
    assert entry["statistics"]["rate"] == pytest.approx(0.6)  # the weakest test prediction limits the verdict
    assert numbers(entry["statistics"])[:2] == ["5", "0.60 [0.23, 0.88]"]


def test_undecided_seeds_are_left_out_of_n_and_within_spread_has_no_rate():
    runs = sweep_runs("fffff")
    runs["raw"][0] = RunResult("raw", 1, "raw-1", None, None, error="UsageError: boom")
    spec = sweep_spec("H-SPREAD", "all", Prediction("N-13", "scale", "within_spread", role="report"))
    entry = judge_hypothesis(spec, runs, "smoke")
    flip = entry["predictions"][0]["statistics"]
    assert (flip["n"], flip["undecided"], flip["tables"]["raw"]) == (4, 1, [[0, 5], [4, 0]])
    assert entry["predictions"][2]["statistics"] is None


def test_several_hypotheses_get_benjamini_hochberg_q_values():
    strong = judge_hypothesis(sweep_spec("H-A"), sweep_runs("fffff"), "smoke")
    weak = judge_hypothesis(sweep_spec("H-B"), sweep_runs("ffppp"), "smoke")
    untested = judge_hypothesis(HypothesisSpec("H-C", "c", "c", RunRequest("sim_lines"),
                                               predictions=(Prediction("N-9", "scale", "fails"),)), None, "smoke")
    adjust([strong, weak, untested])
    p = [strong["statistics"]["p"], weak["statistics"]["p"]]
    assert [strong["statistics"]["q"], weak["statistics"]["q"]] == pytest.approx(benjamini_hochberg(p))
    assert strong["statistics"]["significant"] and not weak["statistics"]["significant"]
    assert untested["statistics"]["q"] is None and untested["statistics"]["n"] == 0
    ledger = {"settings": {"profile": "smoke", "scenario": None, "seeds": None, "folder": "led", "alpha": 0.05},
              "created": "now", "hypotheses": [strong, weak, untested], "warnings": [], "counts": {},
              "runs": [{"name": f"{label}-{s}", "setup": label} for label in ("baseline", "raw") for s in SEEDS]}
    text = markdown(ledger)
    assert "| n | rate [95% CI] | p | q |" in text
    assert f"| **supported** | 5 | 1.00 [0.57, 1.00] | 0.0079 | {strong['statistics']['q']:.2g} |" in text
    assert "not significant at q ≤ 0.05" in text and "): significant at q ≤ 0.05" in text
    assert "| test | N-9@scale | flip_to_fail | yes | 5 | 1.00 [0.57, 1.00] | 0.0079 |" in text
    out = StringIO()
    print_table(ledger, Console(file=out, width=200))
    assert "rate [95% CI]" in out.getvalue() and "0.0079" in out.getvalue()


def test_the_hypothesis_p_follows_its_require_rule():
    assert combined_p([0.01, 0.2], "all") == 0.2
    assert combined_p([0.01, 0.2], "any") == pytest.approx(0.02)
    assert combined_p([0.6, 0.9], "any") == 1.0
    assert combined_p([], "all") is None
    rates = [{"n": 3, "k": 3, "rate": 1.0, "ci": [0.4, 1.0], "p": 0.1}, {"n": 3, "k": 1, "rate": 1 / 3, "ci": [0.06, 0.79], "p": None}]
    assert hypothesis_statistics(rates, "all")["k"] == 1 and hypothesis_statistics(rates, "any")["k"] == 3
