"""A plugin exercising the lifecycle hooks in the worker: it appends one JSON line per call to the
file named by $HARNESS_TEST_EVENTS, and its `harness_run_stage` wrapper tags the `config` output."""
from __future__ import annotations

import json
import os

from harness import hookimpl


def _note(**event) -> None:
    with open(os.environ["HARNESS_TEST_EVENTS"], "a") as handle:
        handle.write(json.dumps(event) + "\n")


@hookimpl
def harness_before_stage_run(ctx, stage):
    _note(hook="before", side=ctx.side, stage=stage.name)


@hookimpl
def harness_after_stage_run(ctx, stage, outputs, seconds):
    _note(hook="after", side=ctx.side, stage=stage.name, outputs=sorted(outputs), seconds=seconds)


@hookimpl
def harness_on_stage_error(ctx, stage, error, traceback):
    _note(hook="error", side=ctx.side, stage=stage.name, error=str(error), has_traceback="Traceback" in traceback)


@hookimpl(wrapper=True)
def harness_run_stage(ctx, stage, inputs):
    outputs = yield
    if stage.name == "config":
        outputs = {**outputs, "config": {**outputs["config"], "wrapped_by": "lifecycle_plugin"}}
    return outputs
