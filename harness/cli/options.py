"""Options shared by `harness run` and `harness diff`, and the consoles they print to."""
from __future__ import annotations

from typing import Any, Callable

import click
from rich.console import Console

from harness.errors import UsageError
from harness.manager import PluginOptions


def plugin_option(func: Callable) -> Callable:
    return click.option(
        "-p", "plugins", multiple=True, metavar="PLUGIN",
        help="Load a plugin module or file (path/to/file.py); -p no:NAME blocks one. Repeatable.",
    )(func)


def execution_options(func: Callable) -> Callable:
    """Cache, device, threads and plugins: how runs execute, shared by commands that run many of them."""
    options = [
        click.option("--no-cache", is_flag=True, help="Recompute every stage (results still refresh the cache)."),
        click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Stage cache folder."),
        click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cpu", "gpu"])),
        click.option("--threads", default="auto", show_default=True, help="TensorFlow intra-op,inter-op thread counts, or auto."),
        plugin_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def cluster_options(func: Callable) -> Callable:
    """--sequential, --scheduler, --workers: where runs execute, by default on a LocalCluster sized to the machine
    (shared by `sweep` and `hypotheses run`)."""
    func = click.option("--workers", type=int, default=None,
                        help="Workers of the LocalCluster started for the runs (default: one per core).")(func)
    func = click.option("--sequential", is_flag=True, help="Run here, one run after another, instead of on Dask.")(func)
    return click.option("--scheduler", default=None, metavar="ADDRESS",
                        help="Run on an existing Dask cluster (e.g. tcp://10.0.0.5:8786) instead of a LocalCluster.")(func)


def run_options(func: Callable) -> Callable:
    """Scenario, profile, seed, stages, knobs, output, formats, cache, device: shared by run and diff."""
    options = [
        click.option("--stage", default="all", show_default=True, help="A stage, a comma list, a range group..stitch, or all."),
        click.option("--scenario", default=None, help="Scenario name (default: the pipeline's first, gs2_ideal for the reference pipelines)."),
        click.option("--profile", default="smoke", show_default=True, help="Counts profile: smoke, stable or full."),
        click.option("--seed", default=42, show_default=True, type=int, help="The one run seed every stream derives from."),
        click.option("--data", type=click.Path(dir_okay=False), default=None,
                     help="Run from a data file (PtychoPINN NPZ or ptychodus HDF5): it replaces the stages up to simulate."),
        click.option("--data-format", default="auto", show_default=True, type=click.Choice(["auto", "npz", "hdf5"]),
                     help="Format of --data (auto: detected from the file's content)."),
        click.option("--noise", type=click.Path(dir_okay=False), default=None, metavar="FLOOR",
                     help="A floor from `harness noise`: also score every numeric difference and check value as z against it."),
        click.option("--check-determinism", is_flag=True,
                     help="Run each side twice on the same seed (the second uncached, into <run>/determinism) and mark "
                          "the stages whose artifacts differ."),
        click.option("--set", "assignments", multiple=True, metavar="[a.|b.]KNOB=VALUE", help="Set a knob (on side a or b in a diff). Repeatable."),
        click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder (default runs/<UTC time>-<pipelines>)."),
        click.option("--format", "formats", default="console", show_default=True, help="Comma list of report formats (see `harness list reporters`)."),
        click.option("--no-cache", is_flag=True, help="Recompute every stage (results still refresh the cache)."),
        click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Stage cache folder (default $HARNESS_CACHE_DIR or ~/.cache/ptycho-harness)."),
        click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cpu", "gpu"]), help="Where TensorFlow stages run."),
        click.option("--threads", default="auto", show_default=True,
                     help="TensorFlow intra-op,inter-op thread counts, e.g. 2,2; auto shares the cores among the sides running at once."),
        plugin_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def parse_threads(text: str) -> tuple[int, int] | None:
    """`intra,inter`, or None for `auto` (the session divides the cores among the sides running at once)."""
    if text == "auto":
        return None
    try:
        intra, inter = (int(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"expected two integers like 2,2, got {text!r}", param_hint="--threads") from None
    if intra < 1 or inter < 1:
        raise click.BadParameter("thread counts must be at least 1", param_hint="--threads")
    return intra, inter


def plugin_options(values: tuple[str, ...]) -> PluginOptions:
    return PluginOptions.from_cli(values)


def formats(text: str) -> tuple[str, ...]:
    """The comma list of `--format`; a user who types it must name at least one format."""
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    if not chosen:
        raise UsageError(f"--format {text!r} names no report format; see `harness list reporters` for the valid ones")
    return chosen


def consoles() -> tuple[Console, Console]:
    """Reports go to standard output; progress and warnings to standard error."""
    return Console(), Console(stderr=True)


def common_invocation_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The Invocation fields that run and diff take the same way from their options."""
    from pathlib import Path

    return {
        "scenario": kwargs["scenario"],
        "profile": kwargs["profile"],
        "seed": kwargs["seed"],
        "stage": kwargs["stage"],
        "out": Path(kwargs["out"]) if kwargs["out"] else None,
        "formats": formats(kwargs["formats"]),
        "use_cache": not kwargs["no_cache"],
        "cache_dir": Path(kwargs["cache_dir"]) if kwargs["cache_dir"] else None,
        "device": kwargs["device"],
        "threads": parse_threads(kwargs["threads"]),
        "plugins": plugin_options(kwargs["plugins"]),
        "data": Path(kwargs["data"]) if kwargs["data"] else None,
        "data_format": kwargs["data_format"],
        "noise": Path(kwargs["noise"]) if kwargs["noise"] else None,
        "check_determinism": kwargs["check_determinism"],
    }
