"""`harness sweep`: seeds × scenarios × knob values, each run a `harness run`/`diff`, on Dask by default."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from harness.cli import EXIT_CODES_HELP
from harness.cli.options import cluster_options, consoles, execution_options, parse_threads, plugin_options
from harness.errors import UsageError
from harness.manager import build_registry
from harness.session import Invocation
from harness.sweep.executors import executor_for
from harness.sweep.plan import SweepPlan, expand, invocations, load_plan_file, parse_seeds, parse_vary, validate
from harness.sweep.table import build_table, markdown, write_table

SWEEP_THREADS = (1, 1)
"""TensorFlow threads per side unless --threads says otherwise, on every executor, so the bits (device stage keys
include the threads) do not depend on where a sweep ran."""


@click.command("sweep", epilog=EXIT_CODES_HELP + " A sweep exits with the worst of its runs' codes.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="TOML file with a, b, seeds, scenarios, vary, stage, profile, columns (options given here win).")
@click.option("--a", "pipeline_a", default=None, help="Pipeline on side A.")
@click.option("--b", "pipeline_b", default=None, help="Pipeline on side B (leave out for single-pipeline runs).")
@click.option("--seeds", default=None, help="Seeds, e.g. 1-8 or 1,3,5 (default 42).")
@click.option("--scenario", "scenarios", default=None, help="Comma list of scenarios (default: the pipeline's first).")
@click.option("--vary", multiple=True, metavar="[a.|b.]KNOB=V1,V2", help="Knob values to sweep; repeatable (all combinations).")
@click.option("--stage", default=None, help="Stage selection as for diff (default all).")
@click.option("--profile", default=None, help="Counts profile (default smoke).")
@click.option("--column", "columns", multiple=True, metavar="CHECK|artifact:NAME",
              help="A table column: a check's status and measured value, or an artifact's checksum and mean. Repeatable.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Sweep folder (default runs/<UTC time>-sweep).")
@click.option("--no-shared-fs", is_flag=True,
              help="Dask workers do not see this file system: results come back by value, no shared stage cache.")
@cluster_options
@execution_options
@click.pass_context
def command(ctx: click.Context, plan_file: str | None, sequential: bool, no_shared_fs: bool, scheduler: str | None,
            workers: int | None, no_cache: bool, cache_dir: str | None, device: str, threads: str,
            plugins: tuple[str, ...], **given: Any) -> None:
    """Run every combination of seeds, scenarios and knob values and write one results table."""
    registry = build_registry(plugin_options(plugins))
    plan = validate(sweep_plan(Path(plan_file) if plan_file else None, given), registry)
    if sequential and (scheduler or workers or no_shared_fs):
        raise UsageError("--sequential runs here; it takes no --scheduler, --workers or --no-shared-fs")
    points = expand(plan)
    out = Path(given["out"]) if given["out"] else default_sweep_dir()
    base = Invocation(sides=dict(plan.sides), use_cache=not no_cache, cache_dir=Path(cache_dir) if cache_dir else None,
                      device=device, threads=parse_threads(threads) or SWEEP_THREADS, plugins=plugin_options(plugins))
    console, progress = consoles()
    labels = [f"{p.folder_name(i)}" for i, p in enumerate(points, start=1)]
    with executor_for(scheduler, workers, shared_fs=not no_shared_fs, sequential=sequential) as executor:
        done = executor.run(invocations(plan, points, out, base), labels, registry, progress)
    table = build_table(plan, points, done, out, registry)
    paths = write_table(table, out)
    console.print(markdown(table), highlight=False, markup=False, end="")
    progress.print(Text(f"{len(points)} runs; table: {', '.join(str(p) for p in paths)}", style="bold"))
    ctx.exit(worst_exit_code(run.exit_code for run in done))


def sweep_plan(plan_file: Path | None, given: dict[str, Any]) -> SweepPlan:
    """The plan file's settings with the options given on the command line on top."""
    data = load_plan_file(plan_file) if plan_file else {}
    a, b = given["pipeline_a"] or data.get("a"), given["pipeline_b"] or data.get("b")
    if not a:
        raise UsageError("name the pipeline with --a (and --b for diffs), or in the --plan file")
    scenarios = given["scenarios"].split(",") if given["scenarios"] else data.get("scenarios") or [None]
    return SweepPlan(sides={"a": a, **({"b": b} if b else {})},
                     seeds=parse_seeds(given["seeds"] or str(data.get("seeds", "42"))),
                     scenarios=tuple(s.strip() if s else None for s in scenarios),
                     vary={**data.get("vary", {}), **parse_vary(given["vary"])},
                     stage=given["stage"] or data.get("stage", "all"), profile=given["profile"] or data.get("profile", "smoke"),
                     columns=tuple(given["columns"]) or tuple(data.get("columns", ())))


def default_sweep_dir() -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("runs") / f"{stamp}-sweep"


def worst_exit_code(codes: Any) -> int:
    """A run that could not run counts as a stage error (3); otherwise the largest run exit code."""
    return max((3 if code is None else code for code in codes), default=0)
