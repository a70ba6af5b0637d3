"""A small pipeline for failure-path tests: a stage that can wait to be interrupted, and a knob naming a file.

`HARNESS_TEST_BLOCK=<marker path>` makes the probe stage create the marker and then wait (until it
is interrupted), so a test can stop a run in the middle of a stage. The `table` knob names a text
file (`file:PATH`) whose numbers scale the probe.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from harness import Knob, PipelineSpec, StageSpec, hookimpl

WAIT_LIMIT_SECONDS = 300


def config(ctx):
    return {"config": {"N": 8, "seed": ctx.run_seed}}


def probe(ctx, config):
    marker = os.environ.get("HARNESS_TEST_BLOCK")
    if marker:
        Path(marker).write_text("probe started")
        time.sleep(WAIT_LIMIT_SECONDS)
    table = ctx.knobs["table"]
    scale = float(np.loadtxt(table[len("file:"):]).sum()) if table.startswith("file:") else 1.0
    return {"probe": np.full((config["N"], config["N"]), scale, np.float32)}


def simulate(ctx, probe):
    return {"diffraction": (probe * ctx.rng("noise").random(probe.shape)).astype(np.float32)}


@hookimpl
def harness_register_pipelines():
    return [PipelineSpec(
        name="wave_slow",
        stages=(StageSpec("config", config, outputs=("config",)),
                StageSpec("probe", probe, inputs=("config",), outputs=("probe",)),
                StageSpec("simulate", simulate, inputs=("probe",), outputs=("diffraction",))),
        knobs={"table": Knob("none", stages=("probe",), help="none, or file:PATH of numbers whose sum scales the probe")},
        scenarios=("tiny",),
    )]
