"""H-POLAR-RECT (spec 8.2, MATH-POLAR-001): the Jan-2026 numbers were produced with O = A + iφ."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-POLAR-RECT", "Rectangular composition A + iφ",
        "The Jan-2026 numbers were produced with O = A + iφ (MATH-POLAR-001).",
        baseline=RunRequest("sim_lines"),
        interventions=(RunRequest("sim_lines", knobs={"combine": "rect"}, label="rect"),),
        predictions=(
            Prediction("A-4@stitch", "stitch", "flip_to_fail", note="|O| > 1 (measured 2.511, 2.07) needs A + iφ"),
            Prediction("A-4@stitch", "stitch", "above", 2.0, note="A + iφ reaches past the published maxima"),
        ),
        published_verdict="supported: stitched |O| > 1 measured (2.511, 2.07) (dates unverified)",
        expected_verdict="supported", spec_section="8.2",
    )]
