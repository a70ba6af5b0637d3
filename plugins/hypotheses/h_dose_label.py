"""H-DOSE-LABEL (spec 8.2): the "dose_legacy_gs2" numbers are sim_lines numbers (gs2_custom)."""
import numpy as np

from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-DOSE-LABEL", "'dose_legacy_gs2' is sim_lines",
        "'dose_legacy_gs2' numbers are sim_lines numbers: file them under sim_lines gs2_custom.",
        baseline=RunRequest("sim_lines", scenario="gs2_custom"),
        interventions=(RunRequest("dose_legacy", scenario="gs2_custom", label="legacy"),),
        predictions=(
            Prediction("artifact:s_sim", "simulate", "value", 262.776, 0.01, intervention="baseline",
                       note="the capture's scale s 262.776 (E ≈ 14,482) is sim_lines' s_sim over 1024 images"),
            Prediction("artifact:diffraction", "simulate", "value", 1.363, 0.05, intervention="baseline",
                       measure=np.mean, note="the capture's raw diffraction mean 1.363"),
            Prediction("artifact:s_sim", "simulate", "changes", tolerance=0.01, intervention="legacy",
                       note="the legacy plugin's s_sim is another number"),
        ),
        published_verdict="supported (§7.9): runs labelled dose_legacy_gs2 are the sim_lines pipeline with dose-like knobs",
        expected_verdict="supported", spec_section="8.2",
        notes="sim_lines simulates the same 1024 gs2 images in the smoke and stable profiles, so smoke decides it.",
    )]
