"""`harness diff --a A --b B`: run two pipelines on the same seed and report where they disagree."""
from __future__ import annotations

import click

from harness.cli import EXIT_CODES_HELP
from harness.cli.options import common_invocation_kwargs, consoles, run_options
from harness.knobs import parse_assignments
from harness.manager import build_registry
from harness.session import Invocation, execute


@click.command("diff", epilog=EXIT_CODES_HELP)
@click.option("--a", "pipeline_a", required=True, help="Pipeline on side A (e.g. dose_legacy).")
@click.option("--b", "pipeline_b", required=True, help="Pipeline on side B (e.g. sim_lines).")
@click.option("--jobs", default=2, show_default=True, type=int, help="Sides run at once (1 runs them one after the other).")
@click.option("--isolate", is_flag=True,
              help="Re-run B's stage on A's inputs wherever outputs differ: mark each difference introduced, inherited "
                   "or compensating (transplants are cached like stages).")
@run_options
@click.pass_context
def command(ctx: click.Context, pipeline_a: str, pipeline_b: str, jobs: int, isolate: bool, **kwargs) -> None:
    """Run A and B stage by stage and report, per stage, what is equal, what differs and what breaks."""
    common = common_invocation_kwargs(kwargs)
    registry = build_registry(common["plugins"])
    overrides = parse_assignments(kwargs["assignments"], ("a", "b"))
    inv = Invocation(sides={"a": pipeline_a, "b": pipeline_b}, overrides=overrides, jobs=jobs,
                     isolate=isolate, **common)
    console, progress = consoles()
    _, code = execute(inv, registry, console, progress)
    ctx.exit(code)
