"""The floor of one side of the smoke diff: its bare work as one process on the arrays that side stored.

Import TensorFlow, build the side's network (its stored model configuration and probe), one-epoch
`keras.Model.fit` of the intensity output with Keras' own Poisson loss on the same inputs, batch size and
validation split, and `predict` of the inference model on the infer grouping, batch 32. No harness, no
checks, no files written. bench_smoke_diff.py runs it after each diff, one side at a time, with the
diff's thread counts, and divides the diff's wall time by the slower side's floor.
Run: .venv/bin/python tests/benchmarks/smoke_floor.py RUN_DIR SIDE [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

STARTED = time.perf_counter()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def stored(run_dir: Path, side: str) -> dict:
    """The artifacts of the side's stages config → train, read as the harness stores them (no pickles)."""
    from harness.store import StageFiles

    arrays: dict = {}
    for stage in ("config", "probe", "group", "normalize", "scale", "train"):
        files = StageFiles(run_dir / side, stage)
        arrays.update(files.load(files.read_record()))
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("side", choices=("a", "b"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    marks = {"import": time.perf_counter()}

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from pipelines.physics.model import ModelConfig, build_model

    arrays = stored(args.run_dir, args.side)
    config = ModelConfig(**{k: v for k, v in arrays["model_config"].items() if k != "device"})
    batch = int(arrays["config"]["batch_size"])
    s_m = np.float32(arrays["intensity_scale"])
    marks["load"] = time.perf_counter()
    models = build_model(config, arrays["model_probe"], seed=1)
    intensity = keras.Model(models.training.inputs, models.training.outputs[2])
    intensity.compile(optimizer=keras.optimizers.Adam(1e-3), loss="poisson", jit_compile=False)
    train = [arrays["X.train"].astype(np.float32) * s_m, arrays["coords_relative.train"].astype(np.float32)]
    intensity.fit(train, np.square(train[0]), batch_size=batch, epochs=1, shuffle=True, validation_split=0.05,
                  verbose=0)
    marks["build and fit"] = time.perf_counter()
    infer = [arrays["X.infer"].astype(np.float32) * s_m, arrays["coords_relative.infer"].astype(np.float32)]
    models.diffraction_to_obj.predict(infer, batch_size=32, verbose=0)
    marks["predict"] = time.perf_counter()
    previous, phases = STARTED, {}
    for name, mark in marks.items():
        phases[name], previous = round(mark - previous, 3), mark
    print(json.dumps({"seconds": round(previous - STARTED, 3), "phases": phases}))


if __name__ == "__main__":
    main()
