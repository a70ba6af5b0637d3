"""The `harness` command: one small module per subcommand, errors mapped to exit codes.

Exit codes: 0 every compared stage equal or an expected difference; 1 a stage differs without a
declared reason or breaks a check; 2 usage or configuration error; 3 a stage errored.
"""
from __future__ import annotations

import os

import click

from harness.errors import HarnessError

EXIT_CODES_HELP = (
    "Exit codes: 0 every compared stage is equal or an expected difference; 1 a stage differs "
    "without a declared reason or breaks a check; 2 usage or configuration error; 3 a stage errored."
)


class HarnessGroup(click.Group):
    """Turns HarnessError into one line on stderr and its exit code; other errors keep their traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HarnessError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=HarnessGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ptycho-harness")
def main() -> None:
    """Run two ptychography pipelines stage by stage on the same seeds and report the first stage
    where normalization symmetry, offsets or amplitude break."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _register_commands() -> None:
    from harness.cli import bisect_cmd, diff_cmd, hypotheses_cmd, list_cmd, run_cmd, show_cmd

    for module in (list_cmd, run_cmd, diff_cmd, show_cmd, hypotheses_cmd, bisect_cmd):
        main.add_command(module.command)


_register_commands()
