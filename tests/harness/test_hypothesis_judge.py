"""Each prediction kind on hand-made check readings: holds (supported), fails (refuted), undecided (inconclusive)."""
from __future__ import annotations

import pytest

from harness.hypotheses import Judgement, Observation, decide, judge, judge_runs, spread, within_spread
from harness.hypotheses.runs import sweep
from harness.records import Prediction


def obs(status: str = "pass", measured=1.0, run: str = "knob", seed: int = 42, expected=1.0, note: str = "") -> Observation:
    return Observation(run, seed, status, measured, expected, note)


BASE_PASS = obs("pass", 1.0, run="baseline")
BASE_FAIL = obs("fail", 0.2, run="baseline")


@pytest.mark.parametrize("change, value, target, reference, holds", [
    ("flip_to_fail", None, obs("fail", 0.08), BASE_PASS, True),
    ("flip_to_fail", None, obs("pass", 1.0), BASE_PASS, False),
    ("flip_to_fail", None, obs("fail", 0.08), BASE_FAIL, None),
    ("flip_to_pass", None, obs("pass", 1.0), BASE_FAIL, True),
    ("flip_to_pass", None, obs("fail", 0.3), BASE_FAIL, False),
    ("passes", None, obs("pass"), None, True),
    ("passes", None, obs("fail"), None, False),
    ("fails", None, obs("fail"), None, True),
    ("fails", None, obs("value", 3.0), None, None),
    ("value", 0.0765, obs("fail", 0.07650001), None, True),
    ("value", 0.5, obs("fail", 0.0762), None, False),
    ("value", 0.5, obs("pass", {"norm": 0.5}), None, None),
    ("below", 0.5, obs("pass", 0.17), None, True),
    ("below", 0.5, obs("pass", 0.9), None, False),
    ("above", 2.0, obs("fail", 3.3), None, True),
    ("above", 2.0, obs("pass", 0.99), None, False),
    ("toward", 1.0, obs("fail", 0.30), obs("fail", 0.077, run="baseline"), True),
    ("toward", 1.0, obs("fail", 0.05), obs("fail", 0.077, run="baseline"), False),
    ("toward", None, obs("pass", 0.99), obs("fail", 0.5, run="baseline"), True),
    ("away", 1.0, obs("fail", 0.08), BASE_PASS, True),
    ("away", 1.0, obs("pass", 1.0), BASE_PASS, False),
    ("unchanged", None, obs("pass", 0.6043487), obs("pass", 0.6043488, run="baseline"), True),
    ("unchanged", None, obs("fail", 0.2417), obs("pass", 0.6043, run="baseline"), False),
    ("unchanged", None, obs("fail", {"probe_scale": 4.0}), obs("pass", {"probe_scale": 10.0}, run="baseline"), False),
    ("changes", None, obs("value", 864.1), obs("value", 1024.0, run="baseline"), True),
    ("changes", None, obs("value", [16, True]), obs("value", [16, True], run="baseline"), False),
])
def test_each_kind_holds_fails_or_cannot_decide(change, value, target, reference, holds):
    judgement = judge(Prediction("N-9", "scale", change, value), target, reference)
    assert judgement.holds is holds, judgement.text
    assert judgement.text


def test_a_failed_run_leaves_a_prediction_undecided_and_says_so():
    failed = obs("error", None, note="scale error: ValueError: boom")
    judgement = judge(Prediction("N-9", "scale", "flip_to_fail"), failed, BASE_PASS)
    assert judgement.holds is None and judgement.run_failed and "boom" in judgement.text
    missing = judge(Prediction("N-9", "scale", "passes"), obs("absent", None, note="no stage 'scale'"))
    assert missing.holds is None and not missing.run_failed


def test_errors_kind_reads_the_stage_error():
    prediction = Prediction("O-1", "group", "errors", "K=1")
    assert judge(prediction, obs("error", None, note="GroupingError: K=1 must be >= C=4")).holds is True
    assert judge(prediction, obs("error", None, note="MemoryError")).holds is False
    assert judge(prediction, obs("pass", 0.0)).holds is False


def test_seed_sweeps_combine_all_or_any_seed():
    seeds = [obs("pass", None, seed=42), obs("fail", 1, seed=43), obs("pass", None, seed=44)]
    assert judge_runs(Prediction("A-7@train", "train", "fails", across_seeds="any"), seeds, []).holds is True
    every = judge_runs(Prediction("A-7@train", "train", "fails"), seeds, [])
    assert every.holds is False and "seed 42" in every.text
    passing = [obs("pass", None, seed=s) for s in (42, 43, 44)]
    assert judge_runs(Prediction("A-7@train", "train", "fails", across_seeds="any"), passing, []).holds is False


def test_spread_and_within_spread_on_a_sweep():
    a = [obs("pass", v, run="sim_lines", seed=s) for s, v in zip((42, 43, 44), (0.60, 0.53, 0.61))]
    b = [obs("pass", v, run="legacy", seed=s) for s, v in zip((42, 43, 44), (0.236, 0.228, 0.223))]
    stats = spread(a)
    assert stats["spread"] == pytest.approx(0.08) and stats["mean"] == pytest.approx(0.58)
    assert within_spread(b, a).holds is False
    near = [obs("pass", v, run="other", seed=s) for s, v in zip((42, 43, 44), (0.58, 0.59, 0.57))]
    assert within_spread(near, a).holds is True
    assert within_spread(b[:1], a[:1]).holds is None


def test_decide_controls_tests_and_require():
    yes, no, unknown = Judgement(True, "y"), Judgement(False, "n"), Judgement(None, "u", run_failed=True)
    assert decide([yes, yes], [yes]) == ("supported", "y; y", False)
    assert decide([yes, no], [yes])[0] == "refuted"
    assert decide([yes, unknown], [])[:3] == ("inconclusive", "u", True)
    assert decide([yes], [no])[0] == "inconclusive"
    assert decide([no, yes], [], "any")[0] == "supported"
    assert decide([no, no], [], "any")[0] == "refuted"
    assert decide([], [])[0] == "inconclusive"


def test_sweep_resizes_only_seed_sweeps():
    assert sweep((42,), 5) == (42,)
    assert sweep((42, 43, 44), None) == (42, 43, 44)
    assert sweep((42, 43, 44), 5) == (42, 43, 44, 45, 46)
    assert sweep((42, 43, 44), 2) == (42, 43)
