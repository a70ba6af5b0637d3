"""H-OFFSET-OVERFLOW (spec 8.1): ≈ 382 px offsets overflow the ≈ 78 px model canvas."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-OFFSET-OVERFLOW", "Global offsets overflow the model canvas",
        "≈ 382 px offsets overflow the ≈ 78 px model canvas.",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal"),
        interventions=(RunRequest("sim_lines", scenario="gs2_ideal", knobs={"canvas": "c1"}, label="c1"),),
        predictions=(
            Prediction("O-6", "train", "fails", intervention="baseline",
                       note="an overflow loses illuminated content when the model re-extracts"),
            Prediction("artifact:sl_store.group", "group", "changes", field="max_position_jitter", role="control",
                       note="c1 grows the model canvas to hold the global offsets"),
            Prediction("O-10", "stitch", "passes", intervention="baseline", role="report",
                       note="the diagnostic alone (absolute offsets, fixed canvas) loses ≥ 90%"),
        ),
        published_verdict="refuted as a cause (bias persisted with C1); confirmed only for the diagnostic; "
                          "O-5 is a marginal real warning for gs2",
        expected_verdict="refuted", spec_section="8.1",
    )]
