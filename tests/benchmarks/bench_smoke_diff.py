"""The smoke diff as a user runs it, against its floor, and the train stage against a bare Keras fit.

1. `harness diff --a dose_legacy --b sim_lines --stage all` (smoke, gs2_ideal, a fresh cache, the default
   install: the optional oracle is blocked): wall time, and each worker's peak resident memory (from the
   stage records). Targets: under 60 s wall on 2 CPU cores (aim 40 s); each worker under 2.5 GiB.
2. The floor, measured in the same run right after each diff: each side's bare work as one process on the
   arrays that diff stored (tests/benchmarks/smoke_floor.py: TensorFlow import, build, one-epoch
   `keras.Model.fit`, predict), one side at a time with the diff's one thread per side. The diff runs its
   sides at once, one per core, so its floor is the slower side's. Target: diff / floor <= 1.15.
3. Seconds per epoch of the harness's training loop (`train_model`: custom step, three loss terms,
   callbacks, history) against a bare `keras.Model.fit` of the same network on the same arrays with
   Keras's own Poisson loss, epochs after the first (tracing) one. Target: ratio within 1.2 (--epochs 0 skips).
Run: .venv/bin/python tests/benchmarks/bench_smoke_diff.py [--repeat 3] [--epochs 8]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


FLOOR = Path(__file__).with_name("smoke_floor.py")


def smoke_diff(workdir: Path) -> tuple[float, dict[str, float], int]:
    env = {**os.environ, "HARNESS_CACHE_DIR": str(workdir / "cache"), "HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness", "diff", "-p", "no:plugins.oracle.plugin",
                           "--a", "dose_legacy", "--b", "sim_lines", "--stage", "all", "--threads", "1,1",
                           "--out", str(workdir / "run")], env=env, capture_output=True)
    wall = time.perf_counter() - started
    peaks = {}
    for side in ("a", "b"):
        records = [json.loads(p.read_text()) for p in (workdir / "run" / side).glob("*.json")]
        peaks[side] = max(r.get("peak_rss_mb", 0.0) for r in records)
    return wall, peaks, done.returncode


def floor(run_dir: Path, side: str) -> tuple[float, dict[str, float]]:
    """Wall seconds of one side's bare work as its own process (interpreter start included), and its phases."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(FLOOR), str(run_dir), side, "--threads", "1"],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    return wall, json.loads(done.stdout.strip().splitlines()[-1])["phases"]


def epoch_times(epochs: int) -> tuple[list[float], list[float]]:
    """Per-epoch seconds of the harness loop and of a bare fit, sim_lines gs2_ideal smoke arrays."""
    import keras
    import numpy as np

    from harness.manager import PluginOptions
    from harness.stages import stages_to_run
    from harness.store import StageFiles
    from harness.worker import SideJob, run_side
    from pipelines.physics.model import ModelConfig, build_model
    from pipelines.physics.model.training import train_model

    with tempfile.TemporaryDirectory() as tmp:
        job = SideJob(side="a", pipeline="sim_lines", scenario="gs2_ideal", profile="smoke", run_seed=42,
                      stages=stages_to_run(("scale",)), run_dir=tmp, plugins=PluginOptions(autoload=False),
                      cache_dir=None, use_cache=False)
        run_side(job, lambda event: None)
        arrays = {}
        for stage in ("probe", "group", "normalize", "scale"):
            files = StageFiles(Path(tmp) / "a", stage)
            arrays.update(files.load(files.read_record()))
    x, coords = arrays["X.train"], arrays["coords_relative.train"]
    s_m = float(arrays["intensity_scale"])
    config = ModelConfig(gridsize=2, padded_size=78, log_scale_init=float(arrays["log_scale_init"]))

    harness_marks: list[float] = []
    train_model(config, arrays["probe"], x, coords, s_m, epochs=epochs, batch_size=16, seed=1,
                on_epoch=lambda *_: harness_marks.append(time.perf_counter()))

    models = build_model(config, arrays["probe"], seed=1)
    intensity = keras.Model(models.training.inputs, models.training.outputs[2])
    intensity.compile(optimizer=keras.optimizers.Adam(1e-3), loss="poisson", jit_compile=False)
    bare_marks: list[float] = []
    marker = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: bare_marks.append(time.perf_counter()))
    inputs = [(x * s_m).astype(np.float32), coords.astype(np.float32)]
    intensity.fit(inputs, np.square(inputs[0]), batch_size=16, epochs=epochs, shuffle=True,
                  validation_split=0.05, callbacks=[marker], verbose=0)
    return list(np.diff(harness_marks)), list(np.diff(bare_marks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    walls, ratios = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            wall, peaks, code = smoke_diff(Path(tmp))
            floors = {side: floor(Path(tmp) / "run", side) for side in ("a", "b")}
        slower = max(floors, key=lambda side: floors[side][0])
        walls.append(wall)
        ratios.append(wall / floors[slower][0])
        print(f"  diff {wall:.2f} s (exit {code}); floor a {floors['a'][0]:.2f} s {floors['a'][1]}, "
              f"b {floors['b'][0]:.2f} s {floors['b'][1]}; diff / floor {ratios[-1]:.3f}", flush=True)
    wall = statistics.median(walls)
    print(f"smoke diff dose_legacy vs sim_lines, all stages, fresh cache: median {wall:.1f} s wall over "
          f"{', '.join(f'{w:.1f}' for w in walls)}; target < 60 s: {'met' if wall < 60 else 'MISSED'} "
          f"(aim 40 s: {'met' if wall < 40 else 'not met'})")
    ratio = statistics.median(ratios)
    print(f"diff / floor (the slower side's bare work), measured in the same run: median {ratio:.3f} over "
          f"{', '.join(f'{r:.3f}' for r in ratios)}; target <= 1.15: {'met' if ratio <= 1.15 else 'MISSED'}")
    for side, peak in peaks.items():
        print(f"  worker {side} peak memory {peak / 1024:.2f} GiB; target < 2.5 GiB: {'met' if peak < 2560 else 'MISSED'}")
    if args.epochs < 2:
        return
    harness_epochs, bare_epochs = epoch_times(args.epochs)
    ratio = statistics.median(harness_epochs) / statistics.median(bare_epochs)
    print(f"train stage {statistics.median(harness_epochs):.2f} s/epoch vs bare Keras fit "
          f"{statistics.median(bare_epochs):.2f} s/epoch (epochs 2..{args.epochs}): ratio {ratio:.2f}; "
          f"target <= 1.2: {'met' if ratio <= 1.2 else 'MISSED'}")


if __name__ == "__main__":
    main()
