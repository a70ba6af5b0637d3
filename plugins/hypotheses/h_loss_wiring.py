"""H-LOSS-WIRING (spec 8.1): the loss terms are wired to the wrong outputs or targets."""
from typing import Any

from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


def nll_share(history: dict[str, Any]) -> float:
    """The NLL term's share of the total loss in the last epoch."""
    return history["nll"][-1] / history["loss"][-1]


def final_nll(history: dict[str, Any]) -> float:
    return history["nll"][-1]


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-LOSS-WIRING", "Loss terms wired wrongly",
        "The loss terms are wired to the wrong outputs or targets.",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal"),
        interventions=(RunRequest("sim_lines", scenario="gs2_ideal", knobs={"nll_form": "tfp_sum"}, label="tfp_sum"),),
        predictions=(
            Prediction("artifact:history", "train", "below", 0.99, intervention="baseline", measure=nll_share,
                       note="with weight-0 terms only logged, a correctly wired loss is the NLL"),
            Prediction("artifact:history", "train", "below", 0.99, intervention="tfp_sum", measure=nll_share),
            Prediction("artifact:history", "train", "changes", measure=final_nll, role="control",
                       note="the NLL form reaches the loss"),
        ),
        require="any",
        published_verdict="refuted: NLL 99.2–99.4% of the total; weight-0 terms are only logged",
        expected_verdict="refuted", spec_section="8.1",
    )]
