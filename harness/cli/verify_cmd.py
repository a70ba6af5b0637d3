"""`harness verify RUN_DIR`: check that every stored artifact is intact (checksum, loads without pickle)."""
from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from harness.cli.options import consoles
from harness.errors import UsageError
from harness.verify import Verification, verify_run

EPILOG = "Exit codes: 0 every file is intact; 1 a file is damaged (each is named); 2 RUN_DIR is not a run folder."


@click.command("verify", epilog=EPILOG)
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.pass_context
def command(ctx: click.Context, run_dir: str) -> None:
    """Check every artifact of RUN_DIR against its recorded checksum and that it loads without unpickling."""
    verification = verify_run(existing_run_dir(run_dir))
    console, _ = consoles()
    print_verification(verification, console)
    ctx.exit(1 if verification.damaged else 0)


def existing_run_dir(run_dir: str) -> Path:
    """The run folder, or a usage error when it holds no run."""
    path = Path(run_dir)
    if not (path / "manifest.json").exists() and not (path / "report.json").exists():
        raise UsageError(f"{run_dir!r} holds no manifest.json or report.json; is it a run folder written by harness run or diff?")
    return path


def print_verification(verification: Verification, console: Console) -> None:
    """One line per damaged file, then the count."""
    for damage in verification.damaged:
        console.print(Text(f"damaged: {damage}", style="red"), soft_wrap=True)
    if verification.damaged:
        console.print(f"{len(verification.damaged)} damaged of {verification.checked} files checked", highlight=False)
    else:
        console.print(f"all {verification.checked} files intact", highlight=False)
