"""H-LOSS-WEIGHT (spec 8.1): the pipelines use different loss weights."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-LOSS-WEIGHT", "Different loss weights",
        "Different loss weights between the pipelines.",
        baseline=RunRequest("sim_lines", stage="config"),
        interventions=(RunRequest("dose_legacy", stage="config", label="legacy"),
                       RunRequest("dose_legacy", knobs={"loss_fn": "mae"}, stage="config", label="legacy_mae")),
        predictions=(
            Prediction("artifact:config", "config", "changes", field="mae_weight", intervention="legacy"),
            Prediction("artifact:config", "config", "changes", field="nll_weight", intervention="legacy"),
            Prediction("artifact:config", "config", "changes", field="mae_weight", intervention="legacy_mae",
                       reference="legacy", role="control", note="the mae branch of init sets mae_weight 1"),
        ),
        require="any",
        published_verdict="refuted: both mae 0 / nll 1 (the early 'legacy mae 1' came from the mae branch of init)",
        expected_verdict="refuted", spec_section="8.1",
    )]
