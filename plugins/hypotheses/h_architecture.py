"""H-ARCHITECTURE (spec 8.1): architecture differences (decoder widths, amplitude channels) matter."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl

LEGACY_LIKE = {"decoder_widths": "[256,128]", "amp_head_channels": "1"}


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-ARCHITECTURE", "Architecture differences matter",
        "Architecture differences matter (decoder widths, amplitude channels 1 vs C, border mask).",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal"),
        interventions=(RunRequest("sim_lines", scenario="gs2_ideal", knobs=LEGACY_LIKE, label="legacy_like"),),
        predictions=(
            Prediction("artifact:param_count", "train", "changes", field="trainable", role="control",
                       note="derived: 2,257,000 (sim_lines) vs 4,397,137 (study)"),
            Prediction("A-5", "evaluate", "changes", tolerance=0.05, note="reconstruction quality moves by > 5%"),
            Prediction("A-1", "evaluate", "changes", tolerance=0.05, role="report", note="expected: capacity, not scale"),
        ),
        needs_profile="stable", needs_reason="A-1 and A-5 need a trained model; one smoke epoch does not reconstruct (spec 4.4)",
        published_verdict="untested; derived: 4,397,137 (study) vs 2,255,377 (tip) vs 2,257,000 (sim_lines gs2 ideal) "
                          "parameters; expected to affect capacity, not scale",
        spec_section="8.1",
    )]
