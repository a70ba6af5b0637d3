"""H-REPORT-PROBE (spec 8.2): the ideal-probe numbers in the report describe neither pipeline."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-REPORT-PROBE", "Report probe numbers are an artefact",
        "The ideal-probe numbers in the report (norm 0.009766, L2 102.77) describe neither pipeline.",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal"),
        interventions=(RunRequest("sim_lines", scenario="gs2_ideal", knobs={"ideal_probe_lowpass": "coupled"}, label="coupled"),
                       RunRequest("dose_legacy", scenario="gs2_ideal", label="legacy")),
        predictions=(
            Prediction("N-2", "probe", "value", 0.009766, 1e-3, field="norm_factor", intervention="coupled",
                       note="the report script's coupled low-pass reproduces the norm"),
            Prediction("N-2", "probe", "value", 102.77, 1e-3, field="l2", intervention="coupled"),
            Prediction("N-2", "probe", "passes", intervention="baseline", note="sim_lines uses the 376-px disk"),
            Prediction("N-2", "probe", "passes", intervention="legacy", note="so does dose_legacy"),
        ),
        published_verdict="supported (§7.8): a report-script artefact of default_probe_scale = probe_scale",
        expected_verdict="supported", spec_section="8.2",
    )]
