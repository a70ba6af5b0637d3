"""A-10 (infer): the stored predictions are what the stored weights give on the stored inputs.

Nothing else ties `patches_pred` to the trained model: a rescale, a shift or a stale model between the
network and the artifact would pass every other check of `infer`. The check rebuilds the model from
`model_config`, `model_probe` and `weights`, runs it on the first batch of `X.infer` with the intensity
scale the stage read, in the stage's own execution mode (graph when it predicted more than one batch), and
compares; the model is the live one when its weights are still the stored ones. It needs TensorFlow, so it runs in the worker right after `infer`
(`device=True`) and its finding is stored with the stage.
"""
from __future__ import annotations

import math

import numpy as np

from harness import CheckSpec, NotApplicable, hookimpl
from harness.records import CheckInput, CheckResult
from plugins.checks.common import FLOAT32_EPS, result

REPLAYED_GROUPS = 32
"""One inference batch (spec 3.11 predicts in batches of 32), so the replay runs the stage's own first batch."""
BUILT_IN_MODELS = ("study_era_pinn", "sim_lines_pinn")
"""Conventions `model` whose network the harness can rebuild (pipelines/physics/model)."""
REPLAY_TOLERANCE = 64 * FLOAT32_EPS
"""Relative max difference allowed: the same ops on the same batch are bitwise equal under op determinism;
64 eps (7.6e-6) leaves room for a different thread split of the reductions and nothing more (a 1% rescale is
1e-2)."""


def inference_scale(inp: CheckInput) -> float:
    """The intensity scale the stage fed the model: the trained one when the stage read it, else s_m."""
    for name in ("intensity_scale_final", "intensity_scale"):
        if name in inp.artifacts:
            return float(np.asarray(inp.artifacts[name], dtype=np.float64))
    raise NotApplicable("the stage read neither intensity_scale_final nor intensity_scale")


def replay_check(inp: CheckInput) -> CheckResult:
    """A-10: max |patches_pred − model(weights)(s·X, coords_relative)| / max |model output| on the first batch."""
    if inp.conventions["model"] not in BUILT_IN_MODELS:
        raise NotApplicable(f"convention model={inp.conventions['model']!r}: not a network the harness can rebuild "
                            f"({', '.join(BUILT_IN_MODELS)})")
    from pipelines.physics.model.live import models_for
    from pipelines.physics.model.training import predict_patches
    from pipelines.pinn_stages import model_config_from

    art = inp.artifacts
    total = int(np.shape(art["X.infer"])[0])
    count = min(REPLAYED_GROUPS, total)
    models = models_for(model_config_from(art["model_config"]), art["model_probe"], art["weights"])
    replayed, _ = predict_patches(models, np.asarray(art["X.infer"][:count]),
                                  np.asarray(art["coords_relative.infer"][:count]), inference_scale(inp),
                                  graph=total > REPLAYED_GROUPS)
    stored = np.asarray(art["patches_pred"][:count]).astype(np.complex128)
    fresh = replayed.astype(np.complex128)
    peak = float(np.max(np.abs(fresh))) if fresh.size else 0.0
    error = float(np.max(np.abs(stored - fresh))) / peak if peak > 0 else math.inf
    passed = error <= REPLAY_TOLERANCE
    ratio = complex(np.vdot(fresh.ravel(), stored.ravel()) / np.vdot(fresh.ravel(), fresh.ravel())) if peak else 0j
    if passed:
        text = f"the stored predictions are the stored weights' output on the first {count} groups (max diff {error:.1e})"
    else:
        text = (f"patches_pred departs from what the stored weights give on the same inputs by {error:.3g} of the peak "
                f"(stored = {abs(ratio):.6g} × replayed, phase {math.atan2(ratio.imag, ratio.real):.2g} rad): "
                "something between the network and the stored artifact changed it")
    return result(error, 0.0, REPLAY_TOLERANCE, passed, text, groups=count, stored_over_replayed=abs(ratio))


@hookimpl
def harness_register_checks() -> list[CheckSpec]:
    """A-10."""
    return [CheckSpec("A-10", "amplitude", "infer", "error", replay_check, REPLAY_TOLERANCE,
                      "inference output equals a forward pass of the stored weights on the stored inputs",
                      requires=("model_config", "model_probe", "weights", "X.infer", "coords_relative.infer",
                                "patches_pred"),
                      conventions=("model",), device=True)]
