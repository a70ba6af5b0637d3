"""`harness run PIPELINE`: run one pipeline's stages, check them, and report."""
from __future__ import annotations

import click

from harness.cli.options import common_invocation_kwargs, consoles, run_options
from harness.knobs import parse_assignments
from harness.manager import build_registry
from harness.session import Invocation, execute


@click.command("run", epilog="Exit codes: 0 all stages ran and no check broke; 1 a check broke; 2 usage error; 3 a stage errored.")
@click.argument("pipeline")
@run_options
@click.pass_context
def command(ctx: click.Context, pipeline: str, **kwargs) -> None:
    """Run PIPELINE up to --stage and report each stage's status and checks."""
    common = common_invocation_kwargs(kwargs)
    registry = build_registry(common["plugins"])
    overrides = parse_assignments(kwargs["assignments"], ("a",))
    inv = Invocation(sides={"a": pipeline}, overrides=overrides, jobs=1, **common)
    console, progress = consoles()
    _, code = execute(inv, registry, console, progress)
    ctx.exit(code)
