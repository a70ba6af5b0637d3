"""`harness list WHAT`: what is registered, and which plugin each item came from."""
from __future__ import annotations

import click
from rich.text import Text

from harness.device import describe_devices
from harness.layout import print_rows
from harness.cli.options import consoles, plugin_option, plugin_options
from harness.manager import Registry, build_registry
from harness.stages import STAGES

KINDS = ("pipelines", "stages", "knobs", "scenarios", "checks", "hypotheses", "reporters", "plugins", "devices")


@click.command("list")
@click.argument("what", default="pipelines", type=click.Choice(KINDS))
@click.option("--format", "fmt", default="table", type=click.Choice(["table", "markdown"]), show_default=True)
@plugin_option
def command(what: str, fmt: str, plugins: tuple[str, ...]) -> None:
    """List registered pipelines, stages, knobs, scenarios, checks, hypotheses, reporters or plugins,
    or the devices TensorFlow sees (imports TensorFlow, which takes seconds)."""
    registry = build_registry(plugin_options(plugins))
    header, rows = ROWS[what](registry)
    console, errors = consoles()
    for warning in registry.loaded.warnings:
        errors.print(Text(f"warning: {warning}", style="yellow"))
    if what == "plugins":
        for skipped in registry.loaded.skipped:
            errors.print(Text(f"skipped: {skipped}", style="dim"))
    if fmt == "markdown":
        console.file.write(markdown_table(header, rows))
        return
    print_rows(console, what, header, rows)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table; pipes inside cells are escaped."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _pipelines(registry: Registry):
    rows = [[name, r.record.base or "-", str(len(r.record.stages)), ", ".join(r.record.scenarios),
             ", ".join(r.record.profiles), r.source]
            for name, r in registry.pipelines.items()]
    return ["pipeline", "derived from", "stages", "scenarios", "profiles", "from"], rows


def _stages(registry: Registry):
    rows = []
    for index, stage in enumerate(STAGES):
        users = [name for name, r in registry.pipelines.items() if r.record.stage(stage) is not None]
        rows.append([str(index + 1), stage, ", ".join(users) or "-", "harness.stages"])
    return ["#", "stage", "implemented by", "from"], rows


def _knobs(registry: Registry):
    rows = []
    for name, r in registry.pipelines.items():
        for knob_name, knob in r.record.knobs.items():
            values = ", ".join(knob.choices) if knob.choices else f"any {type(knob.default).__name__}"
            rows.append([name, knob_name, str(knob.default), values, ", ".join(knob.stages), knob.help, r.source])
    return ["pipeline", "knob", "default", "values", "stages", "effect", "from"], rows


def _scenarios(registry: Registry):
    rows = [[name, scenario, r.source] for name, r in registry.pipelines.items() for scenario in r.record.scenarios]
    return ["pipeline", "scenario", "from"], rows


def _checks(registry: Registry):
    rows = []
    for check_id, r in registry.checks.items():
        c = r.record
        breaks = "; ".join(f"{k}={'/'.join(map(str, v))}" for k, v in c.known_breaks.items())
        applies = "cross" if c.cross else ", ".join(c.pipelines) if c.pipelines else "each side"
        applies += " (in the worker)" if c.device else ""
        rows.append([check_id, c.category, c.stage, c.severity, applies, c.description,
                     str(c.tolerance if c.tolerance is not None else "-"), ", ".join(c.requires) or "-",
                     ", ".join(c.conventions) or "-", breaks or "-", ", ".join(c.report_only_in) or "-", r.source])
    return ["id", "category", "stage", "severity", "runs on", "check", "tolerance", "reads artifacts",
            "reads conventions", "known breaks", "report only in", "from"], rows


def _hypotheses(registry: Registry):
    rows = [[hid, r.record.title, r.record.published_verdict or "-", r.source] for hid, r in registry.hypotheses.items()]
    return ["id", "title", "published verdict", "from"], rows


def _reporters(registry: Registry):
    rows = [[name, r.record.description, "yes" if r.record.default else "", r.source] for name, r in registry.reporters.items()]
    return ["format", "what it writes", "default", "from"], rows


def _devices(registry: Registry):
    return ["what", "value"], [list(row) for row in describe_devices()]


def _plugins(registry: Registry):
    rows = [[name, source] for name, source in registry.loaded.sources.items()]
    return ["plugin", "from"], rows


ROWS = {
    "pipelines": _pipelines,
    "stages": _stages,
    "knobs": _knobs,
    "scenarios": _scenarios,
    "checks": _checks,
    "hypotheses": _hypotheses,
    "reporters": _reporters,
    "plugins": _plugins,
    "devices": _devices,
}
