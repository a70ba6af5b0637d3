"""H-GROUPING-KDTREE (spec 8.1): KD-tree grouping cannot reproduce the legacy grouping, or is broken."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-GROUPING-KDTREE", "KD-tree grouping broken",
        "KD-tree grouping cannot reproduce legacy grouping / is broken.",
        baseline=RunRequest("dose_legacy", scenario="gs2_ideal"),
        interventions=(RunRequest("dose_legacy", scenario="gs2_ideal", knobs={"grouping": "nongrid_legacy"}, label="kdtree"),
                       RunRequest("sim_lines", scenario="gs2_ideal", knobs={"neighbor_count": "1"}, label="k1")),
        predictions=(
            Prediction("O-1", "group", "fails", intervention="kdtree", note="broken groups are not centred"),
            Prediction("O-2", "group", "flip_to_fail", intervention="kdtree", role="control",
                       note="the legacy KD-tree path (sign +1) ran"),
            Prediction("O-1", "group", "errors", "K=1", intervention="k1", role="report",
                       note="K < C is a typed configuration error, by design"),
        ),
        published_verdict="refuted as a pipeline bug: errors come from mapping image counts to point counts "
                          "(grid vs non-grid divergence is by design)",
        expected_verdict="refuted", spec_section="8.1",
    )]
