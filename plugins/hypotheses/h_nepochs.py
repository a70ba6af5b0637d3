"""H-NEPOCHS (spec 8.1): 60 (legacy) vs 5 (sim_lines) epochs explains the difference."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-NEPOCHS", "Number of epochs",
        "60 (legacy) vs 5 (sim_lines) epochs explains the difference.",
        baseline=RunRequest("sim_lines", knobs={"nepochs": "5"}),
        interventions=(RunRequest("sim_lines", knobs={"nepochs": "30"}, label="e30"),),
        predictions=(
            Prediction("A-5", "evaluate", "changes", tolerance=0.03, note="metrics move by more than 3%"),
            Prediction("A-1", "evaluate", "changes", tolerance=0.03, role="report"),
        ),
        needs_profile="stable", needs_reason="the metrics compare trained reconstructions of 5 and 30 epochs",
        published_verdict="refuted: 60 requested → early stop at 30; metrics within 1–3%",
        expected_verdict="refuted", spec_section="8.1",
    )]
