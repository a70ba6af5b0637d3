"""JSON format: the schema-versioned report on standard output, for pipes and scripts.

The same report is always stored as `report.json` in the run folder (that is what `harness show`
reads); this format prints it so `harness diff ... --format json | jq` works.
"""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from harness import ReporterSpec, hookimpl
from harness.report import Report
from harness.store import to_jsonable


def print_json(report: Report, run_dir: Path, console: Console) -> None:
    """Write the report's report.json form to the console's file, unstyled."""
    console.file.write(json.dumps(report.to_json(), indent=1, default=to_jsonable, allow_nan=True) + "\n")
    console.file.flush()


@hookimpl
def harness_register_reporters() -> list[ReporterSpec]:
    return [ReporterSpec("json", print_json, "the schema-versioned JSON report on standard output")]
