"""H-COUNT-CONSISTENCY (spec 8.2): loss-side photon counts differ from the simulated ones (legacy tip, dataset_raw)."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-COUNT-CONSISTENCY", "Loss-side photon counts",
        "Loss-side photon counts differ from the simulated ones (legacy era=tip; sim_lines dataset_raw).",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal"),
        interventions=(RunRequest("sim_lines", scenario="gs2_ideal", knobs={"intensity_scale": "dataset_raw"}, label="dataset_raw"),
                       RunRequest("dose_legacy", scenario="gs2_ideal", label="legacy"),
                       RunRequest("dose_legacy", scenario="gs2_ideal", knobs={"era": "tip"}, label="tip")),
        predictions=(
            Prediction("N-9", "scale", "flip_to_fail", intervention="dataset_raw", note="derived ≈ 0.077 for gs2"),
            Prediction("N-9", "scale", "flip_to_fail", intervention="tip", reference="legacy", note="derived 0.18"),
            Prediction("N-9", "scale", "value", 0.1821, 0.02, intervention="tip"),
            Prediction("N-13", "scale", "unchanged", intervention="dataset_raw",
                       note="the scale cancels in the reconstruction: no effect on amplitude"),
        ),
        published_verdict="derived: tip 0.18; dataset_raw 0.32 / 0.077; effect on amplitude expected nil (N-13), as D4f",
        expected_verdict="supported", spec_section="8.2",
    )]
