"""The `harness` command: one small module per subcommand, errors mapped to exit codes.

Exit codes: 0 every compared stage equal or an expected difference; 1 a stage differs without a
declared reason or breaks a check; 2 usage or configuration error, or a path that cannot be
written; 3 a stage errored; 130 interrupted by Ctrl-C; 143 stopped by SIGTERM.
"""
from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click

from harness.errors import HarnessError, Interrupted, Terminated, storage_error
from harness.worker import raise_on_sigterm

EXIT_CODES_HELP = (
    "Exit codes: 0 every compared stage is equal or an expected difference; 1 a stage differs "
    "without a declared reason or breaks a check; 2 usage or configuration error; 3 a stage errored; "
    "130 interrupted by Ctrl-C; 143 stopped by SIGTERM. A path that cannot be written is a configuration error."
)


class HarnessGroup(click.Group):
    """Turns HarnessError, OSError and interrupts into one line on stderr and an exit code;
    other errors keep their traceback."""

    def invoke(self, ctx: click.Context):
        try:
            with sigterm_as_interrupt():
                return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            fail(ctx, exc if isinstance(exc, Interrupted) else interrupted_outside_a_run(exc))
        except OSError as exc:
            fail(ctx, storage_error(exc, "use", "check that the path exists, is writable and the disk has space"))
        except HarnessError as exc:
            fail(ctx, exc)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM interrupts it like Ctrl-C (workers stopped, exit 143)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    raise_on_sigterm()
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def fail(ctx: click.Context, exc: HarnessError | Interrupted) -> None:
    """Print the error as one line on standard error and exit with its code."""
    click.echo(f"error: {exc}", err=True)
    ctx.exit(exc.exit_code)


def interrupted_outside_a_run(exc: KeyboardInterrupt) -> Interrupted:
    """An interrupt that arrived while no stage was running: nothing to resume, nothing lost."""
    if isinstance(exc, Terminated):
        return Interrupted("stopped by SIGTERM before any stage ran or after the last one", 143)
    return Interrupted("interrupted by Ctrl-C before any stage ran or after the last one", 130)


@click.group(cls=HarnessGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ptycho-harness")
def main() -> None:
    """Run two ptychography pipelines stage by stage on the same seeds and report the first stage
    where normalization symmetry, offsets or amplitude break."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _register_commands() -> None:
    from harness.cli import (bisect_cmd, diff_cmd, export_cmd, hypotheses_cmd, list_cmd, noise_cmd, replay_cmd, run_cmd,
                             show_cmd, sweep_cmd, verify_cmd)

    for module in (list_cmd, run_cmd, diff_cmd, noise_cmd, show_cmd, verify_cmd, hypotheses_cmd, bisect_cmd, replay_cmd,
                   export_cmd, sweep_cmd):
        main.add_command(module.command)


_register_commands()
