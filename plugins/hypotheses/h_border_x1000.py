"""H-BORDER-X1000 (spec 8.2): the +0.001 normaliser amplifies border-only pixels when probe.big."""
from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-BORDER-X1000", "Border pixels amplified by the normaliser",
        "The +0.001 normaliser amplifies border-only pixels when probe.big.",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal"),
        interventions=(RunRequest("sim_lines", scenario="gs2_custom", label="custom"),
                       RunRequest("sim_lines", scenario="gs2_custom", knobs={"reassembly_norm_eps": "0"}, label="eps0")),
        predictions=(
            Prediction("A-4@infer", "infer", "above", 0, field="details/counts/border", intervention="custom",
                       note="probe.big lets border-only patch pixels exceed |O| = 1"),
            Prediction("A-4@infer", "infer", "value", 0, field="details/counts/border", intervention="baseline",
                       role="control", note="without probe.big no border pixel exceeds 1"),
            Prediction("A-7@infer", "infer", "flip_to_fail", intervention="eps0", reference="custom", role="report",
                       note="with epsilon 0 the border-only pixels become non-finite"),
        ),
        published_verdict="untested (flag)",
        spec_section="8.2",
    )]
