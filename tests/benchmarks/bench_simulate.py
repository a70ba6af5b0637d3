"""Speed of the `simulate` stage against the bound of a bare FFT + Poisson loop on the same arrays.

The stage (sim_lines, gs2_ideal) extracts bilinear patches, computes exit energies and the photon
scale, propagates and samples Poisson noise. The bound is the least any implementation must do:
a loop of scipy.fft over the same exit waves plus numpy Poisson sampling. Target: the stage reaches
at least half the bound's patterns per second.
Run: .venv/bin/python tests/benchmarks/bench_simulate.py [--patterns 8000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import logging
import statistics
import time

import numpy as np
import scipy.fft

from harness.context import StageContext, StageKnobs
from harness.device import DeviceHandle
from pipelines.physics.objects import lines_object
from pipelines.physics.patches import bilinear_patches
from pipelines.physics.probe import ideal_probe_raw, normalize_probe, probe_mask
from pipelines.physics.scan import uniform_positions
from pipelines.sim_lines import config as slc
from pipelines.sim_lines import stages


def context() -> StageContext:
    return StageContext(pipeline="sim_lines", stage="simulate", side="a", scenario="gs2_ideal", profile="full",
                        run_seed=42, knobs=StageKnobs({}, {}, "simulate"), device=DeviceHandle("cpu"),
                        log=logging.getLogger("bench"))


def bare_bound(y_obj: np.ndarray, probe: np.ndarray, s_sim: float, rng: np.random.Generator) -> np.ndarray:
    """FFT of each exit wave and Poisson sampling of its intensity: nothing else."""
    out = np.empty(y_obj.shape, dtype=np.float32)
    n = y_obj.shape[-1]
    for k in range(len(y_obj)):
        amplitude = np.abs(scipy.fft.fftshift(scipy.fft.fft2(s_sim * y_obj[k] * probe))) / n
        out[k] = np.sqrt(rng.poisson(amplitude.astype(np.float64) ** 2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patterns", type=int, default=8000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    image = lines_object(np.random.RandomState(42))
    positions = uniform_positions(np.random.RandomState(42), args.patterns, 392, 392)
    probe, _ = normalize_probe(ideal_probe_raw(), 10.0, probe_mask())
    config = {"total_images": args.patterns, "nphotons": 1e9}
    stage_times, bound_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        out = stages.simulate(context(), config, dict(slc.STORE_DEFAULTS), probe, image[None], positions)
        stage_times.append(time.perf_counter() - started)
        y_obj = bilinear_patches(image, positions)
        started = time.perf_counter()
        bare_bound(y_obj, probe, float(out["s_sim"]), np.random.default_rng(1))
        bound_times.append(time.perf_counter() - started)
    stage_rate = args.patterns / statistics.median(stage_times)
    bound_rate = args.patterns / statistics.median(bound_times)
    ratio = stage_rate / bound_rate
    print(f"simulate stage: {stage_rate:,.0f} patterns/s (median of {args.repeat}, {args.patterns} patterns)")
    print(f"bare FFT + Poisson bound: {bound_rate:,.0f} patterns/s")
    print(f"ratio stage/bound: {ratio:.2f}  (target >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'})")


if __name__ == "__main__":
    main()
