"""H-GRIDSIZE-NUMERIC (spec 8.1): gridsize 1 is numerically unstable (NaN); a seed sweep of both gridsizes."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl

SEEDS = (42, 43, 44)


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-GRIDSIZE-NUMERIC", "gridsize 1 numerically unstable",
        "gridsize 1 is numerically unstable (NaN).",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal", seeds=SEEDS),
        interventions=(RunRequest("sim_lines", scenario="gs1_ideal", seeds=SEEDS, label="gs1"),),
        predictions=(
            Prediction("A-7@train", "train", "fails", across_seeds="any", note="some gs1 seed goes non-finite"),
            Prediction("A-7@train", "train", "passes", intervention="baseline", role="control", note="gs2 trains"),
            Prediction("artifact:deviance_per_pixel", "train", "within_spread", role="report",
                       note="training deviance: seed spread, and whether gs1 differs beyond it"),
        ),
        published_verdict="refuted: gs1 trains after C4f (intermittent NaNs remain unexplained)",
        expected_verdict="refuted", spec_section="8.1",
        notes="The smoke profile trains one epoch; the published NaNs appeared at epoch 3 before C4f.",
    )]
