"""Two small pipelines for testing the host: real numpy work, a few stages, knobs that act late.

`wave_a` and `wave_b` share physics (a Gaussian illumination and its far field) and differ in one
convention (b normalises the far field to unit energy), so a diff has equal and differing stages.
The `fail_at` knob makes a chosen stage raise, for error-path tests.
"""
from __future__ import annotations

import numpy as np

from harness import Knob, PipelineSpec, StageSpec, hookimpl

KNOBS = {
    "width": Knob(4.0, stages=("probe",), help="Gaussian width of the illumination in pixels"),
    "gain": Knob(1.0, stages=("normalize",), help="factor applied by the normalize stage"),
    "fail_at": Knob("none", stages=("config", "probe", "simulate", "normalize"),
                    choices=("none", "config", "probe", "simulate", "normalize"), help="stage that raises"),
}


def _maybe_fail(ctx) -> None:
    if ctx.knobs["fail_at"] == ctx.stage:
        raise RuntimeError(f"requested failure at {ctx.stage}")


def config(ctx):
    _maybe_fail(ctx)
    return {"config": {"N": 16, "scenario": ctx.scenario, "profile": ctx.profile, "seed": ctx.run_seed}}


def probe(ctx, config):
    _maybe_fail(ctx)
    n = config["N"]
    grid = np.arange(n) - n / 2
    r2 = grid[:, None] ** 2 + grid[None, :] ** 2
    return {"probe": np.exp(-r2 / (2 * ctx.knobs["width"] ** 2)).astype(np.complex64)}


def simulate(ctx, probe):
    _maybe_fail(ctx)
    rng = ctx.rng("noise")
    far = np.abs(np.fft.fftshift(np.fft.fft2(probe))) ** 2 / probe.size
    counts = rng.poisson(far * 100.0).astype(np.float32)
    return {"diffraction": counts, "energy": float(far.sum())}


def normalize_plain(ctx, diffraction):
    _maybe_fail(ctx)
    return {"X": (diffraction * ctx.knobs["gain"]).astype(np.float32)}


def normalize_unit(ctx, diffraction):
    _maybe_fail(ctx)
    total = float(np.sum(diffraction.astype(np.float64)))
    return {"X": (diffraction * ctx.knobs["gain"] / total).astype(np.float32)}


def _pipeline(name: str, normalize) -> PipelineSpec:
    return PipelineSpec(
        name=name,
        stages=(
            StageSpec("config", config, outputs=("config",)),
            StageSpec("probe", probe, inputs=("config",), outputs=("probe",)),
            StageSpec("simulate", simulate, inputs=("probe",), outputs=("diffraction", "energy")),
            StageSpec("normalize", normalize, inputs=("diffraction",), outputs=("X",)),
        ),
        knobs=KNOBS,
        scenarios=("tiny", "other"),
    )


@hookimpl
def harness_register_pipelines():
    return [_pipeline("wave_a", normalize_plain), _pipeline("wave_b", normalize_unit)]
