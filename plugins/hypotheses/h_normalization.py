"""H-NORMALIZATION (spec 8.1): the diffraction-normalization chain breaks symmetry (tested in its reframed form)."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-NORMALIZATION", "Diffraction-normalization chain",
        "The diffraction-normalization chain breaks symmetry.",
        baseline=RunRequest("sim_lines"),
        interventions=(RunRequest("dose_legacy", label="legacy"),
                       RunRequest("sim_lines", knobs={"normalize": "nphotons"}, label="nphotons")),
        predictions=(
            Prediction("N-8", "normalize", "changes", tolerance=1e-3, intervention="legacy",
                       note="the chains differ: legacy gain 1 (E), sim_lines normalize_data (1024)"),
            Prediction("N-9", "scale", "unchanged", tolerance=1e-2, intervention="legacy",
                       note="reframed: both still show the model the simulated photon count, so it is no bug"),
            Prediction("N-9", "scale", "flip_to_fail", intervention="nphotons", role="control",
                       note="the D4e variant (photon scale twice) does break the loss-side symmetry"),
        ),
        published_verdict="supported in reframed form: the object-scale convention (legacy /norm_Y_I vs sim_lines ×g) "
                          "explains the ratio, not a bug; D4e → NaN",
        expected_verdict="supported", spec_section="8.1",
    )]
