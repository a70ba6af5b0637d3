"""`harness hypotheses run ID... | --all` and `harness hypotheses list`: the debugging ledger, one command each."""
from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from harness.cli import list_cmd
from harness.cli.options import cluster_options, consoles, execution_options, parse_threads, plugin_option, plugin_options
from harness.errors import UsageError
from harness.hypotheses import LedgerOptions, run_ledger
from harness.manager import build_registry

EPILOG = ("Exit codes: 0 every hypothesis reached a verdict (or needs a larger profile); 1 a verdict is "
          "inconclusive (a run failed, or the evidence could not decide); 2 usage error.")


@click.group("hypotheses")
def command() -> None:
    """Run the hypotheses of the debugging ledger and judge each against its prediction."""


@command.command("run", epilog=EPILOG)
@click.argument("ids", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every registered hypothesis.")
@click.option("--scenario", default=None, help="Scenario for runs that do not name one (default: the pipeline's first).")
@click.option("--profile", default="smoke", show_default=True, help="Counts profile for runs that do not name one.")
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Seeds per seed sweep (default: as declared).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Ledger folder (default runs/<UTC time>-hypotheses).")
@cluster_options
@execution_options
@click.pass_context
def run(ctx: click.Context, ids: tuple[str, ...], run_all: bool, scenario: str | None, profile: str, seeds: int | None,
        out: str | None, sequential: bool, scheduler: str | None, workers: int | None, no_cache: bool,
        cache_dir: str | None, device: str, threads: str, plugins: tuple[str, ...]) -> None:
    """Run what each hypothesis needs (each distinct run once, as tasks on Dask unless --sequential), judge its
    prediction and write the ledger."""
    if sequential and (scheduler or workers):
        raise UsageError("--sequential runs here; it takes no --scheduler or --workers")
    options = LedgerOptions(scenario=scenario, profile=profile, seeds=seeds, out=Path(out) if out else None,
                            use_cache=not no_cache, cache_dir=Path(cache_dir) if cache_dir else None, device=device,
                            threads=parse_threads(threads), plugins=plugin_options(plugins), scheduler=scheduler,
                            workers=workers, sequential=sequential)
    registry = build_registry(options.plugins)
    known = registry.hypotheses
    console, progress = consoles()
    for warning in registry.loaded.warnings:
        progress.print(Text(f"warning: {warning}", style="yellow"))
    if run_all == bool(ids):
        raise UsageError("name hypotheses to run (see `harness hypotheses list`) or give --all, not both")
    unknown = [hid for hid in ids if hid not in known]
    if unknown:
        raise UsageError(f"unknown hypothesis {unknown[0]!r}; valid hypotheses: {', '.join(known) or '(none registered)'}")
    chosen = list(known) if run_all else list(dict.fromkeys(ids))
    ledger = run_ledger([known[hid].record for hid in chosen], registry, options, console, progress)
    ctx.exit(ledger["exit_code"])


@command.command("list")
@click.option("--format", "fmt", default="table", type=click.Choice(["table", "markdown"]), show_default=True)
@plugin_option
@click.pass_context
def list_(ctx: click.Context, fmt: str, plugins: tuple[str, ...]) -> None:
    """The same as `harness list hypotheses`."""
    ctx.invoke(list_cmd.command, what="hypotheses", fmt=fmt, plugins=plugins)
