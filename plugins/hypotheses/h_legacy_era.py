"""H-LEGACY-ERA (spec 8.2): the study era and the 2024-11 tip give different legacy behaviour."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-LEGACY-ERA", "Study era vs tip",
        "Study era and tip give different legacy behaviour.",
        baseline=RunRequest("dose_legacy", scenario="gs2_ideal"),
        interventions=(RunRequest("dose_legacy", scenario="gs2_ideal", knobs={"era": "tip"}, label="tip"),),
        predictions=(
            Prediction("N-1", "probe", "value", 1.0, 1e-6, intervention="tip", note="the study-era factor k = 2.125787 goes"),
            Prediction("N-9", "scale", "flip_to_fail", note="closed-form s_m on unnormalised X: 0.18"),
            Prediction("N-11", "scale", "flip_to_fail", note="log_scale_init = ln(s_sim) against s_m = 988.21"),
            Prediction("artifact:param_count", "train", "changes", field="trainable",
                       note="decoder [256, 128] vs [128, 64]: 4,397,137 vs 2,255,377 (derived)"),
        ),
        published_verdict="derived: probe normalisation (k = 2.125787), s_m, log_scale_init and decoder widths "
                          "differ; tip behaviour partly unverified",
        expected_verdict="supported", spec_section="8.2",
    )]
