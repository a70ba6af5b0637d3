"""Milliseconds per artifact of the relation finder on realistic shapes (spec 2.2), for the cheap exits
(equal, factor), the late rungs (sub-pixel shift, permutation) and the worst case (no relation, every
rung tried). Target: well under 100 ms per artifact, so the finder adds < 10% to the smoke diff.
Run: .venv/bin/python tests/benchmarks/bench_relations.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np
from scipy import ndimage

from harness.relations import find_relation

SHAPES: dict[str, tuple[tuple[int, ...], type]] = {
    "X.train": ((2000, 64, 64, 4), np.float32),
    "Y_obj_grouped.train": ((512, 64, 64, 4), np.complex64),
    "diffraction": ((2048, 64, 64), np.float32),
    "canvas": ((392, 392), np.complex64),
    "positions": ((8000, 2), np.float64),
}


def relations(a: np.ndarray, rng: np.random.Generator) -> dict[str, Callable[[], np.ndarray]]:
    """B built from A for each case the benchmark times."""
    axes = (1, 2) if a.ndim == 4 else (a.ndim - 2, a.ndim - 1)
    offsets = [0.0] * a.ndim
    offsets[axes[0]], offsets[axes[1]] = 1.3, -2.6
    cases = {
        "equal": lambda: a.copy(),
        "factor": lambda: (2.5 * a).astype(a.dtype),
        "none": lambda: (rng.exponential(size=a.shape) * (1 + 1j if np.iscomplexobj(a) else 1)).astype(a.dtype),
        "permutation": lambda: a[rng.permutation(len(a))],
    }
    if a.ndim >= 2 and min(a.shape[ax] for ax in axes) >= 4 and a.size <= 2**23:
        cases["sub-pixel shift"] = lambda: ndimage.shift(a, offsets, order=1).astype(a.dtype)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'artifact':<22} {'shape':<20} {'case':<16} {'kind':<12} {'ms (best of ' + str(args.repeat) + ')':>16}")
    for name, (shape, dtype) in SHAPES.items():
        a = rng.standard_normal(shape)
        a = (a + 1j * rng.standard_normal(shape) if np.issubdtype(dtype, np.complexfloating) else a).astype(dtype)
        for case, build in relations(a, rng).items():
            b = build()
            times, kind = [], ""
            for _ in range(args.repeat):
                start = time.perf_counter()
                kind = find_relation(name, a, b).kind
                times.append((time.perf_counter() - start) * 1e3)
            print(f"{name:<22} {str(shape):<20} {case:<16} {kind:<12} {min(times):>16.1f}")


if __name__ == "__main__":
    main()
