"""A plugin that kills its own worker process once: side b of seed 2, just before `simulate` computes.

The file named by $HARNESS_TEST_KILL_MARKER is created on the first attempt, so the retried task runs
normally; without the variable the plugin does nothing (and it is loaded in both runs a test compares).
"""
from __future__ import annotations

import os

from harness import hookimpl


@hookimpl
def harness_before_stage_run(ctx, stage):
    marker = os.environ.get("HARNESS_TEST_KILL_MARKER")
    if not marker or (ctx.side, ctx.run_seed, stage.name) != ("b", 2, "simulate"):
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os._exit(1)
