"""H-COVERAGE-ARTIFACT (spec 8.2): the bias and pearson numbers are dominated by uncovered canvas."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-COVERAGE-ARTIFACT", "Uncovered canvas dominates whole-window metrics",
        "The bias and pearson numbers are dominated by uncovered canvas.",
        baseline=RunRequest("sim_lines"),
        predictions=(
            Prediction("A-2", "evaluate", "below", 0.5, note="most of the window is uncovered"),
        ),
        published_verdict="supported by counts: 21,161 / 21,737 covered pixels of 153,664",
        expected_verdict="supported", spec_section="8.2",
        notes="Inference uses 64 groups in smoke (group_count) and stable (group_limit), as in the published runs.",
    )]
