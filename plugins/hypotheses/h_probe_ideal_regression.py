"""H-PROBE-IDEAL-REGRESSION (spec 8.1): the ideal probe regressed between legacy and sim_lines."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-PROBE-IDEAL-REGRESSION", "Ideal probe regression",
        "The ideal probe regressed between legacy and sim_lines.",
        baseline=RunRequest("dose_legacy", scenario="gs2_ideal", against="sim_lines", stage="probe"),
        predictions=(
            Prediction("N-3", "probe", "fails", side="cross", note="a regression breaks probe parity up to the era factor k"),
            Prediction("N-2", "probe", "passes", side="a", role="report", note="legacy ideal probe numbers"),
            Prediction("N-2", "probe", "passes", side="b", role="report", note="sim_lines ideal probe numbers"),
        ),
        published_verdict="refuted for the 2026 code (B2 identical to ≤ 5e-7; gs1 trains after C4f); "
                          "the study-era probe is k = 2.125787 larger, magnitude only",
        expected_verdict="refuted", spec_section="8.1",
    )]
