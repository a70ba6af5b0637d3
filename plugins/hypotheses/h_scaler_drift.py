"""H-SCALER-DRIFT (spec 8.1): the trainable IntensityScaler drifts during training."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-SCALER-DRIFT", "IntensityScaler drift",
        "The trainable IntensityScaler drifts.",
        baseline=RunRequest("sim_lines"),
        interventions=(RunRequest("dose_legacy", label="legacy"),),
        predictions=(
            Prediction("N-12", "train", "fails", intervention="baseline", note="exp(log_scale) moves by > 1e-4"),
            Prediction("N-12", "train", "fails", intervention="legacy"),
        ),
        require="any",
        published_verdict="refuted: |Δ| ≤ 6.5e-5 on 988.21; 10 of 10 runs unchanged",
        expected_verdict="refuted", spec_section="8.1",
    )]
