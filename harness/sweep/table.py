"""A sweep's results as one table: rows = runs (seed, scenario, knobs), columns = exit code, first break and,
for each chosen column, a check's status and measured value per side or an artifact's checksum and mean.

The same table is written as results.json, results.md and results.csv (each atomically). Nothing in a
row depends on where or when the run executed, so a sequential and a Dask sweep give equal tables.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Sequence

from harness.manager import Registry
from harness.rendering import plain
from harness.report import Report
from harness.store import StageFiles, atomic_write_bytes, atomic_write_json
from harness.sweep.executors import RunDone
from harness.sweep.plan import ARTIFACT_COLUMN, SweepPlan, SweepPoint

FIXED_COLUMNS = ("run", "seed", "scenario", "knobs", "exit_code", "first_break", "error")


def build_table(plan: SweepPlan, points: Sequence[SweepPoint], done: Sequence[RunDone], out: Path,
                registry: Registry) -> dict[str, Any]:
    """The table as JSON-able data: its columns in order and one row (column → cell) per run."""
    rows = [_row(plan, point, run, out, registry) for point, run in zip(points, done)]
    columns = list(FIXED_COLUMNS)
    for row in rows:
        columns.extend(name for name in row if name not in columns)
    return {"kind": "sweep", "sides": plan.sides, "stage": plan.stage, "profile": plan.profile,
            "columns": columns, "rows": [{name: row.get(name) for name in columns} for row in rows]}


def _row(plan: SweepPlan, point: SweepPoint, run: RunDone, out: Path, registry: Registry) -> dict[str, Any]:
    report = run.report
    first = report.first_break if report is not None else None
    row: dict[str, Any] = {"run": run.run_dir.relative_to(out).as_posix() if run.run_dir.is_relative_to(out) else str(run.run_dir),
                           "seed": point.seed, "scenario": point.scenario,
                           "knobs": " ".join(f"{k}={v}" for k, v in point.knobs.items()),
                           "exit_code": run.exit_code, "first_break": first.stage if first else None, "error": run.error}
    for column in plan.columns:
        if column.startswith(ARTIFACT_COLUMN):
            row.update(_artifact_cells(column.removeprefix(ARTIFACT_COLUMN), plan, run.run_dir, registry))
        elif report is not None:
            row.update(_check_cells(column, report))
    return row


def _check_cells(check: str, report: Report) -> dict[str, Any]:
    """`CHECK/side status` and `CHECK/side measured` of the check's first finding on each side."""
    cells: dict[str, Any] = {}
    for entry in report.stages:
        for finding in entry.findings:
            if finding.check == check and f"{check}/{finding.side} status" not in cells:
                cells[f"{check}/{finding.side} status"] = finding.status
                cells[f"{check}/{finding.side} measured"] = plain(finding.measured, max_items=8)
    return cells


def _artifact_cells(name: str, plan: SweepPlan, run_dir: Path, registry: Registry) -> dict[str, Any]:
    """Per side that produced the artifact: its checksum (first 16 hex digits) and, for arrays, its mean
    (the value itself for non-array artifacts), read from the stored stage record."""
    cells: dict[str, Any] = {}
    for side, pipeline in plan.sides.items():
        producer = registry.pipeline(pipeline).producer_of(name)
        record = StageFiles(run_dir / side, producer).read_record() if producer else None
        info = (record or {}).get("artifacts", {}).get(name)
        if info is None:
            continue
        cells[f"{name}/{side} sha256"] = info["sha256"][:16]
        cells[f"{name}/{side} {'value' if info['kind'] == 'value' else 'mean'}"] = (
            plain(info["value"], max_items=8) if info["kind"] == "value" else info.get("mean", info.get("abs", {}).get("mean")))
    return cells


def write_table(table: dict[str, Any], out: Path) -> list[Path]:
    """results.json, results.md and results.csv in `out`; returns their paths."""
    paths = [out / "results.json", out / "results.md", out / "results.csv"]
    atomic_write_json(paths[0], table)
    atomic_write_bytes(paths[1], markdown(table).encode())
    atomic_write_bytes(paths[2], _csv(table).encode())
    return paths


def cell_text(value: Any) -> str:
    """A cell as text: empty for None, JSON for lists and dicts, str otherwise."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def markdown(table: dict[str, Any]) -> str:
    columns = table["columns"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell_text(row[c]).replace("|", "\\|") for c in columns) + " |" for row in table["rows"]]
    return "\n".join(lines) + "\n"


def _csv(table: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table["columns"])
    for row in table["rows"]:
        writer.writerow([cell_text(row[c]) for c in table["columns"]])
    return buffer.getvalue()
