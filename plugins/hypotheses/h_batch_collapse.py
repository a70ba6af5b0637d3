"""H-BATCH-COLLAPSE (spec 8.2): main's batched reassembly mixes samples when B·C ≥ 64."""
import numpy as np

from harness import HypothesisSpec, Prediction, RunRequest, hookimpl


def distinct_share(patches: np.ndarray) -> float:
    """Share of groups whose predicted patches differ from every other group's."""
    rounded = [np.round(np.abs(group), 5).tobytes() for group in patches]
    return len(set(rounded)) / len(rounded)


@hookimpl
def harness_register_hypotheses() -> list[HypothesisSpec]:
    return [HypothesisSpec(
        "H-BATCH-COLLAPSE", "Batched reassembly mixes samples",
        "Main's batched reassembly mixes samples when B·C ≥ 64.",
        baseline=RunRequest("sim_lines", scenario="gs2_ideal"),
        interventions=(RunRequest("sim_lines", scenario="gs2_ideal", knobs={"reassembly_batching": "collapse"},
                                  label="collapse"),),
        predictions=(
            Prediction("artifact:patches_pred", "infer", "below", 1.0, measure=distinct_share,
                       note="predict batches of 32 gs2 groups (128 patches) collapse into one canvas"),
            Prediction("artifact:patches_pred", "infer", "value", 1.0, measure=distinct_share,
                       intervention="baseline", role="control", note="per-sample outputs are distinct"),
            Prediction("A-7@infer", "infer", "passes", role="report"),
        ),
        published_verdict="untested (flag)",
        spec_section="8.2",
    )]
