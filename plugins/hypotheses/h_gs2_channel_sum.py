"""H-GS2-CHANNEL-SUM (spec 8.2): the D4f dataset scale sums over the gs2 channels (2× low per pattern)."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-GS2-CHANNEL-SUM", "Dataset scale summed over channels",
        "The D4f scale sums over channels for gs2 (2× low per pattern).",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal", knobs={"intensity_scale": "dataset_raw"}),
        interventions=(RunRequest("sim_lines", scenario="gs2_ideal", knobs={"intensity_scale": "dataset_raw_pp"},
                                  label="per_pattern"),),
        predictions=(
            Prediction("N-9", "scale", "value", 0.0765, 0.1, intervention="baseline",
                       note="summing 4 channels makes s_m 2× low, the count ratio 4× low: ≈ 0.0765"),
            Prediction("N-9", "scale", "toward", 1.0, note="per pattern the ratio moves back toward 1 (≈ 0.30–0.32)"),
        ),
        published_verdict="supported: 273.35 with 13,383.24 ≈ 4 × 3,346",
        expected_verdict="supported", spec_section="8.2",
    )]
