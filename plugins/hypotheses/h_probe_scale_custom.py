"""H-PROBE-SCALE-CUSTOM (spec 8.1): probe_scale 4 (custom) vs 10 (ideal) explains the ideal/custom differences."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-PROBE-SCALE-CUSTOM", "probe_scale explains ideal vs custom",
        "probe_scale 4 (custom) vs 10 (ideal) explains the differences between ideal and custom.",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal"),
        interventions=(RunRequest("sim_lines", scenario="gs2_custom", label="custom"),
                       RunRequest("dose_legacy", scenario="gs2_ideal", label="legacy_ideal"),
                       RunRequest("dose_legacy", scenario="gs2_custom", label="legacy_custom")),
        predictions=(
            Prediction("A-3@scale", "scale", "toward", 0.0, 0.5, intervention="custom",
                       note="sim_lines: g ∝ probe_scale, so saturation drops by more than half (0.925 → 0.067 derived)"),
            Prediction("A-3@scale", "scale", "unchanged", tolerance=0.05, intervention="legacy_custom",
                       reference="legacy_ideal", note="dose_legacy: the model-unit object is truth/norm_Y_I"),
        ),
        published_verdict="open, strong derived prediction: in sim_lines g ∝ probe_scale (saturation 0.925 → 0.008); "
                          "in dose_legacy probe_scale does not change the model-unit object",
        expected_verdict="supported", spec_section="8.1",
        notes="No knob sweeps probe_scale alone: the custom scenarios change the probe together with probe_scale 4.",
    )]
