"""H-REGISTRATION-OFFSET (spec 8.2): the runner compared a centroid-centred canvas with the object centre."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-REGISTRATION-OFFSET", "Centroid-centred canvas misregistered",
        "The runner compared a centroid-centred canvas with the object centre (≈ 92 px in y).",
        baseline=RunRequest("sim_lines"),
        interventions=(RunRequest("sim_lines", knobs={"eval_registration": "off"}, label="off"),),
        predictions=(
            Prediction("O-11", "evaluate", "above", 50.0, field="details/misregistration/0",
                       note="without bookkeeping the canvas sits ȳ − 196 ≈ 90 px off in y"),
            Prediction("O-11", "evaluate", "below", 50.0, field="details/misregistration/1", measure=abs,
                       note="and only x̄ − 196, a few px, in x"),
        ),
        published_verdict="geometry derived ((91.71, −0.15) px for full gs1); use in the runner unverified",
        expected_verdict="supported", spec_section="8.2",
    )]
