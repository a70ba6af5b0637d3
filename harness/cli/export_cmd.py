"""`harness export RUN --side b --stage STAGE --to FILE`: hand a stage's data to another tool, or back to `--data`."""
from __future__ import annotations

from pathlib import Path

import click

from harness.data.export import export


@click.command("export", epilog="Exit codes: 0 written; 2 usage error (unknown side or stage, a stage that did not run, "
                                "a file that cannot be written).")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--side", default="a", show_default=True, help="Which side of the run: a, or b in a diff.")
@click.option("--stage", default="simulate", show_default=True, help="simulate or a later stage that ran.")
@click.option("--to", "to", required=True, type=click.Path(dir_okay=False), help="The file to write (.npz, .h5, .hdf5).")
@click.option("--format", "data_format", default="auto", show_default=True, type=click.Choice(["auto", "npz", "hdf5"]),
              help="PtychoPINN NPZ or ptychodus HDF5 product (auto: from the suffix).")
def command(run_dir: str, side: str, stage: str, to: str, data_format: str) -> None:
    """Write RUN_DIR's probe, positions and patterns (and object, as ground truth) as of STAGE."""
    done = export(Path(run_dir), side, stage, Path(to), data_format)
    click.echo(f"wrote {to} ({done.format}, {done.count} patterns)" + "".join(f"; {note}" for note in done.notes))
