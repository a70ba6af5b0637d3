"""`harness replay RUN_DIR --side S --stage K`: re-execute one stored stage here, to debug it and compare."""
from __future__ import annotations

import pdb
import traceback
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from harness.cli.options import consoles
from harness.replay import ReplayPlan, ReplayResult, check_out_dir, plan_replay, replay_stage, write_fresh_outputs

EPILOG = ("Exit codes: 0 every output is identical to the stored one or equal within the stage's tolerance; "
          "1 an output differs; 2 usage error (unknown run folder, side or stage) or a damaged stored file; "
          "3 the stage raised (its traceback is printed).")


@click.command("replay", epilog=EPILOG)
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--side", default=None, help="The side whose stage to replay (a or b; optional when the run has one side).")
@click.option("--stage", required=True, help="The stored stage to run again.")
@click.option("--pdb", "debug", is_flag=True, help="On an exception in the stage, start the debugger post mortem.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Also store the fresh outputs here as <stage>.npz and <stage>.json (never in the run folder).")
@click.pass_context
def command(ctx: click.Context, run_dir: str, side: str | None, stage: str, debug: bool, out: str | None) -> None:
    """Run one stored stage of RUN_DIR again in this process, from its stored inputs, with the run's plugins,
    knobs, seeds and device settings, and compare each fresh output with the stored one.

    Put a breakpoint in the stage function and replay it; nothing is written unless --out is given."""
    console, errors = consoles()
    if out is not None:
        check_out_dir(Path(out), Path(run_dir))
    plan = plan_replay(Path(run_dir), side, stage)
    console.print(headline(plan), highlight=False, soft_wrap=True)
    try:
        result = replay_stage(plan, lambda event: print_event(event, errors))
    except Exception as exc:  # the stage's own failure: shown in full, as the worker records it
        errors.print(traceback.format_exc(), end="", highlight=False, markup=False, soft_wrap=True)
        if debug:
            pdb.post_mortem(exc.__traceback__)
        hint = "" if debug else "; replay with --pdb to debug it"
        click.echo(f"error: stage {plan.stage.name!r} of side {plan.side} raised {type(exc).__name__}: {exc}{hint}", err=True)
        ctx.exit(3)
    print_result(plan, result, console)
    if out is not None:
        files = write_fresh_outputs(Path(out), plan, result)
        console.print(f"fresh outputs in {files.npz.parent}/{plan.stage.name}.{{npz,json}}", highlight=False, soft_wrap=True)
    ctx.exit(result.exit_code)


def headline(plan: ReplayPlan) -> str:
    """What is replayed and under which settings, and where the inputs came from."""
    settings = plan.run.settings
    threads = ",".join(str(t) for t in settings.get("threads", (2, 2)))
    sources = ", ".join(f"{name} (from {producer})" for name, producer in plan.producers.items()) or "none"
    return (f"replay {plan.side}/{plan.stage.name} of {plan.run.run_dir}: pipeline {plan.setup.pipeline.name}, "
            f"scenario {plan.scenario}, profile {plan.profile}, seed {plan.run_seed}, "
            f"device {settings.get('device', 'auto')}, threads {threads}\n"
            f"inputs: {sources}; checksums verified")


def print_result(plan: ReplayPlan, result: ReplayResult, console: Console) -> None:
    """Per output its outcome and summary; then what changed since the run and the totals."""
    width = max((len(check.name) for check in result.checks), default=0)
    if result.stored_error:
        console.print(f"the run's stage raised {result.stored_error}; nothing stored to compare with", highlight=False, soft_wrap=True)
    for check in result.checks:
        console.print(f"  {check.name:<{width}}  {check.outcome}: {check.summary}", highlight=False, soft_wrap=True,
                      style={"identical": "", "within tolerance": "yellow", "differs": "red"}[check.outcome])
    if result.stored_code and result.stored_code != result.code:
        console.print(f"code: changed since the run ({result.stored_code} → {result.code})", highlight=False)
    if result.seeds != result.stored_seeds:
        console.print(f"seeds drawn: {_seeds(result.seeds)}; the run drew {_seeds(result.stored_seeds)}", highlight=False, soft_wrap=True)
    counts = {outcome: sum(c.outcome == outcome for c in result.checks) for outcome in ("identical", "within tolerance", "differs")}
    console.print(f"{counts['identical']} identical, {counts['within tolerance']} within tolerance, {counts['differs']} differ; "
                  f"replayed in {result.seconds:.2f}s (exit {result.exit_code})", highlight=False)


def _seeds(seeds: dict[str, int]) -> str:
    return ", ".join(f"{purpose}={value}" for purpose, value in seeds.items()) or "none"


def print_event(event: dict[str, Any], errors: Console) -> None:
    """The stage's log lines and progress updates, on standard error as `harness run` shows them."""
    if event["type"] == "log":
        errors.print(f"[{event['side']}] {event['level'].lower()}: {event['message']}", highlight=False, markup=False, soft_wrap=True)
    elif event["type"] == "progress":
        fields = " ".join(f"{k}={v}" for k, v in event.items() if k not in ("type", "side", "stage"))
        errors.print(f"[{event['side']}] {event['stage']}: {fields}", highlight=False, markup=False, soft_wrap=True)
