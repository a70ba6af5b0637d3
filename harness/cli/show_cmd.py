"""`harness show RUN_DIR`: render a stored run again without recomputing anything."""
from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from harness.cli.options import consoles, formats as parse_formats, plugin_option, plugin_options
from harness.cli.verify_cmd import print_verification
from harness.errors import UsageError
from harness.manager import build_registry
from harness.report import StageVerdict, load_report
from harness.session import check_formats, render
from harness.stages import stage_index
from harness.verify import verify_run


@click.command("show")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--stage", default=None, help="Also list every comparison and finding of this stage.")
@click.option("--format", "formats", default="console", show_default=True, help="Comma list of report formats.")
@click.option("--verify", "thorough", is_flag=True,
              help="Also load every artifact and compare it with its checksum; exit 1 when one is damaged.")
@plugin_option
@click.pass_context
def command(ctx: click.Context, run_dir: str, stage: str | None, formats: str, thorough: bool, plugins: tuple[str, ...]) -> None:
    """Re-render the report stored in RUN_DIR (its report.json); exits with the run's exit code.

    The stored files are checked against their checksums first; damaged ones are named on standard error."""
    report = load_report(Path(run_dir))
    registry = build_registry(plugin_options(plugins))
    chosen = parse_formats(formats)
    check_formats(chosen, registry)
    console, errors = consoles()
    verification = verify_run(Path(run_dir), thorough)
    if verification.damaged:
        print_verification(verification, errors)
    render(report, Path(run_dir), chosen, registry, console)
    if stage is not None:
        stage_index(stage)
        entry = report.stage(stage)
        if entry is None:
            raise UsageError(f"stage {stage!r} is not in this run; stages: {', '.join(e.stage for e in report.stages)}")
        console.print(stage_details(entry))
    ctx.exit(1 if thorough and verification.damaged and report.exit_code == 0 else report.exit_code)


def stage_details(entry: StageVerdict) -> Table:
    """Every comparison and finding of one stage."""
    table = Table(title=f"stage {entry.stage}: {entry.verdict}")
    table.add_column("what")
    table.add_column("status")
    table.add_column("details", overflow="fold")
    for comparison in entry.comparisons:
        table.add_row(Text(comparison.artifact), comparison.status, Text(comparison.reason or comparison.summary))
    for side, names in entry.only.items():
        for name in names:
            table.add_row(name, f"only {side.upper()}", "")
    for finding in entry.findings:
        label = f" [{finding.known_break}]" if finding.known_break else ""
        table.add_row(Text(f"{finding.check} ({finding.side})"), finding.status,
                      Text(f"measured {finding.measured}, expected {finding.expected}, tolerance {finding.tolerance}: "
                      f"{finding.explanation}{label}"))
    return table
