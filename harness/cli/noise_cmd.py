"""`harness noise PIPELINE --seeds N`: a pipeline against itself over N seeds, stored as a noise floor."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import click
from rich.console import Console
from rich.table import Table

from harness.cli.options import consoles, execution_options, parse_threads, plugin_options
from harness.knobs import parse_assignments
from harness.manager import build_registry
from harness.noise import NoiseRequest, measure
from harness.rendering import fmt
from harness.session import Invocation


@click.command("noise", epilog="Exit codes: 0 every seed ran; 2 usage error; 3 a stage errored on some seed.")
@click.argument("pipeline")
@click.option("--seeds", default=8, show_default=True, type=int, help="How many seeds to run (at least 2).")
@click.option("--seed-start", default=1, show_default=True, type=int, help="The first seed; seeds run from it upwards.")
@click.option("--stage", default="all", show_default=True, help="Stop after this stage (or a comma list, a range, all).")
@click.option("--scenario", default=None, help="Scenario name (default: the pipeline's first).")
@click.option("--profile", default="smoke", show_default=True, help="Counts profile: smoke, stable or full.")
@click.option("--set", "assignments", multiple=True, metavar="KNOB=VALUE", help="Set a knob. Repeatable.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Floor file (default runs/noise-<pipeline>-<scenario>-<profile>.json; the runs go next to it in <name>.runs/).")
@execution_options
@click.pass_context
def command(ctx: click.Context, pipeline: str, seeds: int, seed_start: int, out: str | None, **kwargs: Any) -> None:
    """Run PIPELINE over --seeds seeds and store each stage's seed-to-seed spread and each check's values."""
    plugins = plugin_options(kwargs["plugins"])
    registry = build_registry(plugins)
    base = Invocation(sides={"a": pipeline}, scenario=kwargs["scenario"], profile=kwargs["profile"], stage=kwargs["stage"],
                      overrides=parse_assignments(kwargs["assignments"], ("a",)), formats=(), jobs=1,
                      use_cache=not kwargs["no_cache"], cache_dir=Path(kwargs["cache_dir"]) if kwargs["cache_dir"] else None,
                      device=kwargs["device"], threads=parse_threads(kwargs["threads"]), plugins=plugins)
    console, progress = consoles()
    floor, path, code = measure(NoiseRequest(base, seeds, seed_start, Path(out) if out else None), registry, progress)
    render_floor(floor, console)
    console.print(f"noise floor of {len(floor['seeds'])} seeds written to {path} (runs in {floor['runs']})")
    ctx.exit(code)


def render_floor(floor: Mapping[str, Any], console: Console) -> None:
    """Per stage, each numeric artifact's spread; per check, mean ± std and the smallest tolerance the floor supports."""
    seeds = floor["seeds"]
    heading = f"{floor['pipeline']} ({floor['scenario']}, {floor['profile']}, seeds {seeds[0]}..{seeds[-1]})"
    artifacts = Table(title=f"seed-to-seed spread: {heading}")
    for column in ("stage", "artifact", "statistic", "mean ± std over seeds", "rel. std", "consecutive seeds Δ rms (rel.)"):
        artifacts.add_column(column)
    for stage, entries in floor["artifacts"].items():
        for name, entry in entries.items():
            stat = "value" if "value" in entry["statistics"] else "mean"
            spread = entry["statistics"][stat]
            relative = spread["std"] / abs(spread["mean"]) if spread["mean"] else 0.0
            pairs = entry.get("pairs")
            artifacts.add_row(stage, name, stat, f"{fmt(spread['mean'])} ± {fmt(spread['std'])}", fmt(relative),
                              fmt(pairs["relative"]) if pairs else "")
    console.print(artifacts)
    checks = Table(title=f"check values over seeds: {heading}")
    for column in ("stage", "check", "mean ± std", "min .. max", "expected", "tolerance", "smallest supported"):
        checks.add_column(column)
    for stage, entries in floor["checks"].items():
        for check, entry in entries.items():
            checks.add_row(stage, check, f"{fmt(entry['mean'])} ± {fmt(entry['std'])}",
                           f"{fmt(entry['min'])} .. {fmt(entry['max'])}", fmt(entry["expected"]), fmt(entry["tolerance"]),
                           fmt(entry["supported_tolerance"]))
    console.print(checks)
