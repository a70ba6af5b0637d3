"""H-INTENSITY-SCALE (spec 8.1): the closed-form intensity scale (vs dataset-derived) causes the amplitude bias."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-INTENSITY-SCALE", "Closed-form vs dataset-derived intensity scale",
        "The closed-form scale (vs dataset-derived) causes the amplitude bias.",
        baseline=RunRequest("sim_lines"),
        interventions=(RunRequest("sim_lines", knobs={"intensity_scale": "dataset_raw"}, label="dataset_raw"),
                       RunRequest("sim_lines", knobs={"intensity_scale": "dataset_raw_pp"}, label="dataset_raw_pp")),
        predictions=(
            Prediction("N-9", "scale", "flip_to_fail", role="control", note="the dataset scale took effect"),
            Prediction("N-13", "scale", "changes", note="a bias caused by s_m must move expected_scale"),
        ),
        published_verdict="refuted as a cause of the bias (D4a–D4f: bias unchanged); dataset_raw itself breaks N-9 "
                          "(0.32 / 0.077)",
        expected_verdict="refuted", spec_section="8.1",
    )]
