"""`harness sweep`: many runs (seeds × scenarios × knob values) executed sequentially or as tasks on Dask.

- `plan`: expand and validate what to sweep (command line or a TOML file) into invocations;
- `executors`: the executor interface and the in-process sequential executor (also used by the ledger);
- `dask_executor`: each side-run a Dask task, on a LocalCluster or an existing scheduler;
- `table`: one results table (rows = runs, columns = checks and artifacts) as JSON, Markdown and CSV.
"""
from __future__ import annotations

from harness.sweep.executors import Executor, RunDone, SequentialExecutor, executor_for
from harness.sweep.plan import SweepPlan, SweepPoint, expand, load_plan_file, parse_seeds, parse_vary

__all__ = ["Executor", "RunDone", "SequentialExecutor", "SweepPlan", "SweepPoint", "executor_for", "expand",
           "load_plan_file", "parse_seeds", "parse_vary"]
