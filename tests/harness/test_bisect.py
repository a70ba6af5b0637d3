"""The knob bisection search alone, against counting oracles: bounds, interactions, and dead ends."""
from __future__ import annotations

import itertools
import math

import pytest

from harness.bisect import minimise, single_culprit_bound


class CountingOracle:
    """Reproduces when every culprit is applied (optionally: when any culprit group is); counts calls."""

    def __init__(self, *groups: set[str]):
        self.groups = [frozenset(g) for g in groups]
        self.calls: list[frozenset[str]] = []

    def __call__(self, subset: frozenset[str]) -> bool:
        self.calls.append(subset)
        return any(group <= subset for group in self.groups)


def knobs(n: int) -> list[str]:
    return [f"k{i}" for i in range(n)]


@pytest.mark.parametrize("n", [5, 8, 13])
def test_single_culprit_is_found_at_every_position_within_two_log_n_plus_two_calls(n):
    bound = 2 * math.ceil(math.log2(n)) + 2
    assert single_culprit_bound(n) == bound
    for culprit in knobs(n):
        oracle = CountingOracle({culprit})
        result = minimise(knobs(n), oracle)
        assert result.status == "found" and result.minimal == (culprit,)
        assert len(oracle.calls) == result.calls <= bound, (culprit, len(oracle.calls))


def test_a_pair_that_only_breaks_together_is_found_for_every_pair():
    for pair in itertools.combinations(knobs(8), 2):
        oracle = CountingOracle(set(pair))
        result = minimise(knobs(8), oracle)
        assert result.status == "found" and result.minimal == pair
        assert len(set(oracle.calls)) == len(oracle.calls), "a subset was run twice"


def test_a_triple_that_only_breaks_together_is_found():
    for triple in [("k0", "k1", "k2"), ("k1", "k4", "k6"), ("k2", "k7", "k12")]:
        result = minimise(knobs(13), CountingOracle(set(triple)))
        assert result.status == "found" and result.minimal == triple


def test_when_either_of_two_culprits_suffices_one_of_them_is_returned():
    result = minimise(knobs(8), CountingOracle({"k2"}, {"k6"}))
    assert result.status == "found" and result.minimal in (("k2",), ("k6",))


def test_no_culprit_stops_after_one_call():
    oracle = CountingOracle({"missing"})
    result = minimise(knobs(6), oracle)
    assert result.status == "not_reproduced" and result.minimal == () and len(oracle.calls) == 1
    assert result.trials[0].changes == tuple(knobs(6)) and not result.trials[0].reproduces


def test_failure_without_any_change_is_reported_not_bisected():
    oracle = CountingOracle(set())
    result = minimise(knobs(5), oracle)
    assert result.status == "no_change_needed" and len(oracle.calls) == 2


def test_trials_keep_the_callers_order_and_say_why_they_ran():
    result = minimise(["width", "gain", "clip"], CountingOracle({"clip"}))
    assert [t.purpose for t in result.trials[:2]] == ["all changes", "no change"]
    assert result.trials[0].changes == ("width", "gain", "clip")
    assert all(list(t.changes) == sorted(t.changes, key=["width", "gain", "clip"].index) for t in result.trials)


def test_single_change_needs_only_the_two_sanity_calls():
    oracle = CountingOracle({"k0"})
    result = minimise(["k0"], oracle)
    assert result.minimal == ("k0",) and len(oracle.calls) == 2 == single_culprit_bound(1)


def test_duplicate_change_names_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        minimise(["a", "a"], CountingOracle({"a"}))


def _one_stage_pipeline(name: str, knobs: dict) -> "PipelineSpec":
    from harness import PipelineSpec, StageSpec

    def config(ctx):
        return {"config": dict(ctx.knobs)}

    return PipelineSpec(name=name, stages=(StageSpec("config", config, outputs=("config",)),), knobs=knobs,
                        scenarios=("tiny",))


def test_changes_keep_choice_text_so_plus_one_survives_the_round_trip_and_only_shared_knobs_move():
    from harness import Knob
    from harness.bisect_trials import sides_from_knobs
    from harness.knobs import effective_knobs

    sign = Knob(-1, stages=("config",), choices=("-1", "+1"))
    spec_a = _one_stage_pipeline("pa", {"sign": sign, "only_a": Knob(1.0)})
    spec_b = _one_stage_pipeline("pb", {"sign": sign, "mode": Knob("x", choices=("x", "y")), "only_b": Knob(2.0)})
    sides = sides_from_knobs(spec_a, spec_b, effective_knobs(spec_a, {"only_a": "3"}),
                             effective_knobs(spec_b, {"sign": "+1", "only_b": "5"}))
    assert [(c.name, c.a, c.b) for c in sides.changes] == [("sign", "-1", "+1")]
    assert sides.knobs_b(frozenset()) == {"sign": "-1", "mode": "x", "only_b": 5.0}
    assert sides.knobs_b(frozenset({"sign"}))["sign"] == "+1"
    assert effective_knobs(spec_b, sides.knobs_b(frozenset({"sign"})))["sign"] == 1


def test_report_reading_for_each_kind_of_target():
    from harness.bisect_trials import Target, read_report

    finding = {"check": "N-9", "status": "fail", "side": "b", "stage": "scale", "known_break": None}
    report = {"stages": [{"sides": {"a": {"status": "cached"}, "b": {"status": "ok"}}, "findings": [finding]}],
              "categories": {"normalization": {"stage": "scale", "check": "N-9", "side": "b"}, "offsets": None},
              "exit_code": 1, "summary": "first break at scale"}
    check = read_report(report, Target("check", "N-9", "scale"))
    assert check.reproduces and check.evidence == "N-9 fails on b at scale" and (check.computed, check.cached) == (1, 1)
    assert not read_report(report, Target("check", "O-2", "group")).reproduces
    assert read_report(report, Target("category", "normalization", "scale")).reproduces
    assert not read_report(report, Target("category", "offsets", "group")).reproduces
    assert read_report(report, Target("any", "any", "evaluate")).reproduces
    assert not read_report({**report, "exit_code": 0}, Target("any", "any", "evaluate")).reproduces
