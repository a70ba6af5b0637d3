"""Prediction logic on observations: did a check respond as predicted, and what verdict follows.

Pure functions on plain values, so each prediction kind can be tested on hand-made check results.
An observation is one run's reading of one check; a judgement says whether a prediction held
(True, False, or None when the evidence cannot decide) and why, in words.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

from harness.records import Prediction

DEFAULT_TOLERANCE = 1e-6
COMPARISONS = frozenset({"flip_to_fail", "flip_to_pass", "toward", "away", "unchanged", "changes", "within_spread"})
"""Kinds that compare an intervention with a reference run; the others read the intervention alone."""
DECIDED = ("pass", "fail", "value")


@dataclass(frozen=True)
class Observation:
    """One run's reading of a check: status pass, fail or value (an artifact), else n/a, absent or error."""

    run: str
    seed: int
    status: str
    measured: Any = None
    expected: Any = None
    note: str = ""

    @property
    def decided(self) -> bool:
        return self.status in DECIDED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Judgement:
    """Whether a prediction held (None: undecided), why, and whether a failed run left it undecided."""

    holds: bool | None
    text: str
    run_failed: bool = False


def number(value: Any) -> float | None:
    """A measured value as a float, or None when it is not a single number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def show(value: Any) -> str:
    """A measured value in a few characters."""
    if number(value) is not None:
        return f"{value:.4g}"
    text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def close(measured: float, target: float, tolerance: float) -> bool:
    """|measured − target| within tolerance, relative to the target (absolute when the target is 0)."""
    return abs(measured - target) <= tolerance * (abs(target) if target else 1.0)


def same(a: Any, b: Any, tolerance: float) -> bool:
    """Equal values: numbers within the relative tolerance, containers item by item, the rest by ==."""
    if number(a) is not None and number(b) is not None:
        return close(float(a), float(b), tolerance) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, tolerance) for x, y in zip(a, b))
    return a == b


Kind = Callable[[Prediction, Observation, "Observation | None"], Judgement]
"""A prediction kind: (prediction, intervention reading, reference reading or None) → judgement."""


def _tolerance(prediction: Prediction) -> float:
    return DEFAULT_TOLERANCE if prediction.tolerance is None else prediction.tolerance


def _status(want: str) -> Kind:
    def kind(prediction: Prediction, target: Observation, reference: Observation | None) -> Judgement:
        if target.status == "value":
            return Judgement(None, f"{target.run}: an artifact has no pass/fail status")
        return Judgement(target.status == want, f"{target.run}: {target.status} ({show(target.measured)})")
    return kind


def _flip(before: str, after: str) -> Kind:
    def kind(prediction: Prediction, target: Observation, reference: Observation | None) -> Judgement:
        moved = f"{reference.run} {reference.status} {show(reference.measured)} → {target.run} {target.status} {show(target.measured)}"
        if reference.status != before:
            return Judgement(None, f"{moved}: nothing to flip, the reference does not {before}")
        return Judgement(target.status == after, moved)
    return kind


def _numbers(*observations: Observation) -> list[float] | Judgement:
    values = [number(obs.measured) for obs in observations]
    for obs, value in zip(observations, values):
        if value is None:
            return Judgement(None, f"{obs.run}: measured {show(obs.measured)} is not a number (name a field)")
    return values


def _value(prediction: Prediction, target: Observation, reference: Observation | None) -> Judgement:
    if number(prediction.value) is None:
        return Judgement(target.measured == prediction.value, f"{target.run} {show(target.measured)} vs {show(prediction.value)}")
    values = _numbers(target)
    if isinstance(values, Judgement):
        return values
    holds = close(values[0], float(prediction.value), _tolerance(prediction))
    return Judgement(holds, f"{target.run} {show(values[0])} {'≈' if holds else '≠'} {show(prediction.value)} (±{_tolerance(prediction):g} rel)")


def _bound(sign: int) -> Kind:
    def kind(prediction: Prediction, target: Observation, reference: Observation | None) -> Judgement:
        values = _numbers(target)
        if isinstance(values, Judgement):
            return values
        holds = values[0] * sign > float(prediction.value) * sign
        word = ("above" if sign > 0 else "below") if holds else ("not above" if sign > 0 else "not below")
        return Judgement(holds, f"{target.run} {show(values[0])} {word} {show(prediction.value)}")
    return kind


def _direction(sign: int) -> Kind:
    def kind(prediction: Prediction, target: Observation, reference: Observation | None) -> Judgement:
        point = prediction.value if prediction.value is not None else reference.expected
        values = _numbers(reference, target)
        if isinstance(values, Judgement):
            return values
        if number(point) is None:
            return Judgement(None, f"no numeric value to move toward or away from ({show(point)})")
        before, after = (abs(v - float(point)) for v in values)
        moved = abs(after - before) > _tolerance(prediction) * max(before, 1e-300)
        holds = moved and (after - before) * sign > 0
        return Judgement(holds, f"{reference.run} {show(values[0])} → {target.run} {show(values[1])}: distance to "
                                f"{show(point)} {show(before)} → {show(after)}")
    return kind


def _unchanged(expect_same: bool) -> Kind:
    def kind(prediction: Prediction, target: Observation, reference: Observation | None) -> Judgement:
        equal = same(reference.measured, target.measured, _tolerance(prediction))
        word = "unchanged" if equal else "changed"
        return Judgement(equal == expect_same, f"{reference.run} {show(reference.measured)} → {target.run} "
                                               f"{show(target.measured)}: {word} (±{_tolerance(prediction):g} rel)")
    return kind


def _errors(prediction: Prediction, target: Observation) -> Judgement:
    if target.status == "error":
        holds = prediction.value is None or str(prediction.value) in target.note
        return Judgement(holds, f"{target.run} raised: {target.note}")
    if target.decided:
        return Judgement(False, f"{target.run} ran {prediction.stage} without an error")
    return Judgement(None, f"{target.run}: {target.status} ({target.note})")


KINDS: dict[str, Kind] = {
    "passes": _status("pass"),
    "fails": _status("fail"),
    "flip_to_fail": _flip("pass", "fail"),
    "flip_to_pass": _flip("fail", "pass"),
    "value": _value,
    "above": _bound(+1),
    "below": _bound(-1),
    "toward": _direction(-1),
    "away": _direction(+1),
    "unchanged": _unchanged(True),
    "changes": _unchanged(False),
}


def judge(prediction: Prediction, target: Observation, reference: Observation | None = None) -> Judgement:
    """Judge one prediction on one intervention observation (and its reference, for comparisons)."""
    if prediction.change == "errors":
        return _errors(prediction, target)
    if prediction.change == "within_spread":
        return Judgement(None, "within_spread needs a seed sweep; judge it with judge_runs")
    needed = (reference, target) if prediction.change in COMPARISONS else (target,)
    for obs in needed:
        if obs is None:
            return Judgement(None, f"{prediction.change} needs a reference run")
        if obs.status == "error":
            return Judgement(None, f"{obs.run} (seed {obs.seed}) failed: {obs.note}", run_failed=True)
        if not obs.decided:
            return Judgement(None, f"{obs.run} (seed {obs.seed}): {obs.status} ({obs.note})")
    return KINDS[prediction.change](prediction, target, reference)


def spread(observations: Sequence[Observation]) -> dict[str, Any] | None:
    """min, max, mean and spread (max − min) of a sweep's numeric values; None below two numbers."""
    values = [number(obs.measured) for obs in observations if obs.decided]
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    return {"seeds": [obs.seed for obs in observations], "min": min(values), "max": max(values),
            "mean": sum(values) / len(values), "spread": max(values) - min(values)}


def within_spread(targets: Sequence[Observation], references: Sequence[Observation]) -> Judgement:
    """Whether the difference of the two runs' means lies inside the larger of their seed spreads."""
    failed = next((obs for obs in (*targets, *references) if obs.status == "error"), None)
    if failed is not None:
        return Judgement(None, f"{failed.run} (seed {failed.seed}) failed: {failed.note}", run_failed=True)
    target, reference = spread(targets), spread(references)
    if target is None or reference is None:
        return Judgement(None, "needs at least two seeds with numeric values in both runs (--seeds N)")
    width = max(target["spread"], reference["spread"])
    gap = abs(target["mean"] - reference["mean"])
    inside = gap <= width
    return Judgement(inside, f"{references[0].run} mean {show(reference['mean'])} vs {targets[0].run} mean "
                             f"{show(target['mean'])}: difference {show(gap)} {'within' if inside else 'outside'} "
                             f"the seed spread {show(width)}")


def judge_runs(prediction: Prediction, targets: Sequence[Observation], references: Sequence[Observation]) -> Judgement:
    """Judge a prediction over every seed of an intervention; seeds pair with the reference's in order."""
    if prediction.change == "within_spread":
        return within_spread(targets, references)
    judgements = seed_judgements(prediction, targets, references)
    if len(judgements) == 1:
        return judgements[0][1]
    return combine_seeds(judgements, prediction.across_seeds)


def seed_judgements(prediction: Prediction, targets: Sequence[Observation],
                    references: Sequence[Observation]) -> list[tuple[int, Judgement]]:
    """Each seed of an intervention judged on its own, against the reference seed it pairs with (in order).

    The seed-by-seed results are what a sweep's rate counts; `judge_runs` combines them into one.
    """
    pairs = [(t, references[i % len(references)] if references else None) for i, t in enumerate(targets)]
    return [(t.seed, judge(prediction, t, r)) for t, r in pairs]


def combine_seeds(judgements: Sequence[tuple[int, Judgement]], mode: str) -> Judgement:
    """All seeds must show the response ("all"), or one suffices ("any")."""
    def labelled(seed: int, judgement: Judgement) -> Judgement:
        return Judgement(judgement.holds, f"seed {seed}: {judgement.text}", judgement.run_failed)

    decisive = mode == "any"
    for seed, judgement in judgements:
        if judgement.holds is decisive:
            return labelled(seed, judgement)
    for seed, judgement in judgements:
        if judgement.holds is None:
            return labelled(seed, judgement)
    seeds = ", ".join(str(seed) for seed, _ in judgements)
    return Judgement(not decisive, f"seeds {seeds}: {judgements[0][1].text}")


def decide(tests: Sequence[Judgement], controls: Sequence[Judgement], require: str = "all") -> tuple[str, str, bool]:
    """(verdict, reason, run_failed): controls must hold; then every test ("all") or one ("any") decides."""
    for judgement in controls:
        if judgement.holds is False:
            return "inconclusive", f"control did not respond, the intervention did not take effect: {judgement.text}", False
    pending = [j for j in (*controls, *tests) if j.holds is None]
    if any(j.holds is None for j in controls):
        return "inconclusive", pending[0].text, pending[0].run_failed
    if not tests:
        return "inconclusive", "the hypothesis has no test prediction", False
    if require == "any":
        decisive = next((j for j in tests if j.holds), None)
        if decisive is not None:
            return "supported", decisive.text, False
        if pending:
            return "inconclusive", pending[0].text, pending[0].run_failed
        return "refuted", "no prediction held: " + "; ".join(j.text for j in tests), False
    refuting = next((j for j in tests if j.holds is False), None)
    if refuting is not None:
        return "refuted", refuting.text, False
    if pending:
        return "inconclusive", pending[0].text, pending[0].run_failed
    return "supported", "; ".join(j.text for j in tests), False
