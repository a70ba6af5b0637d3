"""`harness bisect`: the smallest set of knob changes between two sides that still reproduces a target."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.text import Text

from harness.bisect import SearchResult, minimise, single_culprit_bound
from harness.bisect_trials import BISECT_SCHEMA, Sides, Target, TrialOptions, TrialRunner, parse_target, \
    sides_from_hypothesis, sides_from_knobs
from harness.cli.options import consoles, execution_options, parse_threads, plugin_options
from harness.errors import UsageError
from harness.knobs import effective_knobs, parse_assignments
from harness.manager import Registry, build_registry
from harness.records import knob_text
from harness.session import default_run_dir
from harness.stages import STAGES, stage_index
from harness.store import atomic_write_json

EPILOG = ("Exit codes: 0 a minimal set of knob changes reproduces the target; 1 the full set of changes does not "
          "reproduce it, or it holds with no change at all; 2 usage error.")


@click.command("bisect", epilog=EPILOG)
@click.option("--a", "pipeline_a", default=None, help="Pipeline on side A, whose knobs are the starting point.")
@click.option("--b", "pipeline_b", default=None, help="Pipeline on side B, whose knob changes are bisected.")
@click.option("--set", "assignments", multiple=True, metavar="[a.|b.]KNOB=VALUE", help="Set a knob on side a or b. Repeatable.")
@click.option("--target", "target_text", required=True,
              help="A check id (N-9, A-4@infer): it fails on a side; a category (normalization, offsets, amplitude): "
                   "it breaks; or any: the diff exits 1 or 3.")
@click.option("--hypothesis", "hypothesis_id", default=None, help="Take the sides from this hypothesis's baseline ...")
@click.option("--intervention", default=None, help="... and this intervention label (instead of --a/--b/--set).")
@click.option("--stage", default=None, help="Last stage each trial runs (default: the latest stage the target is checked at).")
@click.option("--scenario", default=None, help="Scenario (default: the hypothesis's, or side A's first).")
@click.option("--profile", default=None, help="Counts profile (default: the hypothesis's, or smoke).")
@click.option("--seed", default=None, type=int, help="Run seed (default: the hypothesis's first, or 42).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Bisection folder (default runs/<UTC time>-<a>-vs-<b>-bisect).")
@execution_options
@click.pass_context
def command(ctx: click.Context, target_text: str, stage: str | None, out: str | None, **kwargs: Any) -> None:
    """Find a minimal set of side B's knob changes (against side A's knobs) that reproduces TARGET, one diff per trial."""
    plugins = plugin_options(kwargs["plugins"])
    registry = build_registry(plugins)
    target = parse_target(target_text, registry)
    sides = _sides(registry, kwargs)
    last = _last_stage(stage, target)
    sides.drop_unread(last)
    if not sides.changes:
        raise UsageError(f"side a ({sides.pipelines['a']}) and side b ({sides.pipelines['b']}) set no shared knob "
                         f"read up to {last} differently; give --set b.KNOB=VALUE for each change to bisect "
                         f"(see `harness list knobs`)")
    folder = Path(out) if out else default_run_dir(sides.pipelines)
    folder = folder if out else folder.with_name(folder.name + "-bisect")
    scenario = kwargs["scenario"] or sides.scenario or registry.pipeline(sides.pipelines["a"]).default_scenario
    options = TrialOptions(out=folder, scenario=scenario,
                           profile=kwargs["profile"] or sides.profile or "smoke",
                           seed=kwargs["seed"] if kwargs["seed"] is not None else (sides.seed if sides.seed is not None else 42),
                           stage=last, use_cache=not kwargs["no_cache"],
                           cache_dir=Path(kwargs["cache_dir"]) if kwargs["cache_dir"] else None,
                           device=kwargs["device"], threads=parse_threads(kwargs["threads"]), plugins=plugins)
    console, progress = consoles()
    runner = TrialRunner(sides, target, options, registry, console, progress)
    runner.check_usage()
    names = [c.name for c in sides.changes]
    console.print(Text(f"bisect {len(names)} knob changes from a={sides.pipelines['a']} to b={sides.pipelines['b']} "
                       f"for {target.describe()}, trials up to {last} (a lone culprit costs at most "
                       f"{single_culprit_bound(len(names))} runs)"), soft_wrap=True)
    console.print(Text("changes: " + ", ".join(f"{c.name} {knob_text(c.a)}→{knob_text(c.b)} ({c.first_stage})"
                                               for c in sides.changes)), soft_wrap=True)
    for note in sides.notes:
        console.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    result = minimise(names, runner)
    code = _conclude(result, sides, target, runner, console)
    _write_record(folder, result, sides, target, options, runner, code)
    ctx.exit(code)


def _sides(registry: Registry, kwargs: dict[str, Any]) -> Sides:
    """The sides from --hypothesis/--intervention, or from --a/--b/--set; mixing both is a usage error."""
    if kwargs["hypothesis_id"] or kwargs["intervention"]:
        if kwargs["pipeline_a"] or kwargs["pipeline_b"] or kwargs["assignments"]:
            raise UsageError("give either --hypothesis with --intervention, or --a/--b/--set, not both")
        if not (kwargs["hypothesis_id"] and kwargs["intervention"]):
            raise UsageError("--hypothesis and --intervention go together: the baseline is side a, the intervention side b")
        known = registry.hypotheses
        if kwargs["hypothesis_id"] not in known:
            raise UsageError(f"unknown hypothesis {kwargs['hypothesis_id']!r}; valid hypotheses: "
                             f"{', '.join(known) or '(none registered)'}")
        return sides_from_hypothesis(known[kwargs["hypothesis_id"]].record, kwargs["intervention"], registry)
    if not (kwargs["pipeline_a"] and kwargs["pipeline_b"]):
        raise UsageError("give --a PIPELINE and --b PIPELINE (with --set b.KNOB=VALUE), or --hypothesis ID --intervention LABEL")
    spec_a, spec_b = registry.pipeline(kwargs["pipeline_a"]), registry.pipeline(kwargs["pipeline_b"])
    overrides = parse_assignments(kwargs["assignments"], ("a", "b"))
    return sides_from_knobs(spec_a, spec_b, effective_knobs(spec_a, overrides["a"]), effective_knobs(spec_b, overrides["b"]))


def _last_stage(stage: str | None, target: Target) -> str:
    """The last stage every trial runs: --stage (one stage or all), else the latest one the target is checked at."""
    if stage is None:
        return target.stage
    last = STAGES[-1] if stage == "all" else STAGES[stage_index(stage)]
    if target.kind == "check" and stage_index(last) < stage_index(target.stage):
        raise UsageError(f"target {target.name} is checked at {target.stage}; --stage {stage} stops before it "
                         f"(use --stage {target.stage} or later)")
    return last


def _conclude(result: SearchResult, sides: Sides, target: Target, runner: TrialRunner, console) -> int:
    """Print what the search found and the runs it spent; return the exit code."""
    first = runner.records[0]
    if result.status == "not_reproduced":
        console.print(Text(f"all {len(sides.changes)} changes together do not reproduce {target.describe()} "
                           f"({first['evidence']}): nothing to bisect"), soft_wrap=True)
    elif result.status == "no_change_needed":
        console.print(Text(f"{target.describe()} holds with no knob change ({runner.records[1]['evidence']}): "
                           f"side a's knobs or the pipelines themselves cause it, not the changes"), soft_wrap=True)
    else:
        moved = ", ".join(c.as_set() for c in sides.changes if c.name in result.minimal)
        console.print(Text(f"minimal set: {moved} ({len(result.minimal)} of {len(sides.changes)} changes)",
                           style="bold"), soft_wrap=True)
    computed = sum(r["stages_computed"] for r in runner.records)
    console.print(Text(f"{result.calls} runs spent, {computed} stage{'s' if computed != 1 else ''} computed; record in "
                       f"{runner.options.out / 'bisect.json'}"), soft_wrap=True)
    return 0 if result.status == "found" else 1


def _write_record(folder: Path, result: SearchResult, sides: Sides, target: Target, options: TrialOptions,
                  runner: TrialRunner, code: int) -> None:
    """bisect.json: the sides, the changes, every trial with why it ran, and the minimal set."""
    trials = [{**record, "purpose": trial.purpose} for record, trial in zip(runner.records, result.trials, strict=True)]
    atomic_write_json(folder / "bisect.json", {
        "schema_version": BISECT_SCHEMA,
        "kind": "bisect",
        "target": {"kind": target.kind, "name": target.name, "stage": target.stage},
        "sides": sides.pipelines,
        "settings": {"scenario": options.scenario, "profile": options.profile, "seed": options.seed,
                     "stage": options.stage, "cache": options.use_cache},
        "knobs_a": sides.knobs_a,
        "changes": [{"knob": c.name, "a": c.a, "b": c.b, "first_stage": c.first_stage} for c in sides.changes],
        "notes": sides.notes,
        "trials": trials,
        "status": result.status,
        "minimal": list(result.minimal),
        "runs": result.calls,
        "single_culprit_bound": single_culprit_bound(len(sides.changes)),
        "exit_code": code,
    })
