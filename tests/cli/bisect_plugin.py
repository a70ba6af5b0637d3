"""A small pipeline with seven knobs for `harness bisect`: one knob alone breaks normalization, and
two knobs break amplitude only together (a boost that only a disabled clip lets through).

`dial` runs config, probe, simulate, normalize, scale. T-N (normalization, normalize) holds when the
normalised pattern peaks at 1, which only `gain` moves; T-A (amplitude, scale) holds when the
amplitude stays at most 1, which fails only with `boost` > 1 and `clip=off`. The other knobs change
artifacts (so `--target any` sees them) but no check.
"""
from __future__ import annotations

import numpy as np

from harness import CheckResult, CheckSpec, HypothesisSpec, Knob, PipelineSpec, Prediction, RunRequest, StageSpec, hookimpl

KNOBS = {
    "label": Knob("base", stages=("config",), help="a name carried in the config"),
    "width": Knob(4.0, stages=("probe",), help="Gaussian width of the illumination in pixels"),
    "photons": Knob(100.0, stages=("simulate",), help="expected counts scale"),
    "noise": Knob("on", stages=("simulate",), choices=("on", "off"), help="Poisson noise on the counts"),
    "gain": Knob(1.0, stages=("normalize",), help="factor on the peak-normalised pattern (1 keeps T-N)"),
    "boost": Knob(1.0, stages=("scale",), help="factor on the amplitude"),
    "clip": Knob("on", stages=("scale",), choices=("on", "off"), help="clip the amplitude at 1"),
}


def config(ctx):
    return {"config": {"N": 16, "label": ctx.knobs["label"], "seed": ctx.run_seed}}


def probe(ctx, config):
    grid = np.arange(config["N"]) - config["N"] / 2
    r2 = grid[:, None] ** 2 + grid[None, :] ** 2
    return {"probe": np.exp(-r2 / (2 * ctx.knobs["width"] ** 2)).astype(np.complex64)}


def simulate(ctx, probe):
    far = np.abs(np.fft.fftshift(np.fft.fft2(probe))) ** 2 / probe.size
    expected = far * ctx.knobs["photons"]
    counts = ctx.rng("noise").poisson(expected) if ctx.knobs["noise"] == "on" else expected
    return {"diffraction": np.asarray(counts, dtype=np.float32)}


def normalize(ctx, diffraction):
    return {"X": (diffraction / diffraction.max() * ctx.knobs["gain"]).astype(np.float32)}


def scale(ctx, X):
    amplitude = np.sqrt(X / X.max()) * ctx.knobs["boost"]
    if ctx.knobs["clip"] == "on":
        amplitude = np.minimum(amplitude, 1.0)
    return {"amplitude": amplitude.astype(np.float32)}


def peak_is_one(inp):
    peak = float(np.max(inp.artifacts["X"]))
    return CheckResult(peak, 1.0, 1e-6, abs(peak - 1.0) <= 1e-6, f"normalised peak {peak:.3g}")


def amplitude_at_most_one(inp):
    top = float(np.max(inp.artifacts["amplitude"]))
    return CheckResult(top, 1.0, 1e-6, top <= 1.0 + 1e-6, f"max amplitude {top:.3g}")


@hookimpl
def harness_register_pipelines():
    return [PipelineSpec(
        name="dial",
        stages=(
            StageSpec("config", config, outputs=("config",)),
            StageSpec("probe", probe, inputs=("config",), outputs=("probe",)),
            StageSpec("simulate", simulate, inputs=("probe",), outputs=("diffraction",)),
            StageSpec("normalize", normalize, inputs=("diffraction",), outputs=("X",)),
            StageSpec("scale", scale, inputs=("X",), outputs=("amplitude",)),
        ),
        knobs=KNOBS,
        scenarios=("tiny",),
    )]


@hookimpl
def harness_register_checks():
    return [
        CheckSpec("T-N", "normalization", "normalize", "error", peak_is_one, 1e-6, "normalised peak is 1",
                  pipelines=("dial",), requires=("X",)),
        CheckSpec("T-A", "amplitude", "scale", "error", amplitude_at_most_one, 1e-6, "amplitude at most 1",
                  pipelines=("dial",), requires=("amplitude",)),
    ]


@hookimpl
def harness_register_hypotheses():
    many = RunRequest("dial", knobs={"label": "x", "width": 5.0, "photons": 50.0, "gain": 2.0, "boost": 1.5},
                      label="many", stage="scale")
    return [HypothesisSpec("H-DIAL", "gain breaks the peak", "moving gain breaks T-N", RunRequest("dial", stage="scale"),
                           interventions=(many,),
                           predictions=(Prediction("T-N", "normalize", "flip_to_fail", intervention="many"),),
                           published_verdict="untested")]
