"""One `harness run` or `harness diff` end to end: validate, run the sides, diff, write, report.

Everything the user typed is validated before anything is written, so a bad name exits 2 and
leaves no half-made run folder behind.
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from harness.data.variant import data_pipeline_name, install
from harness.determinism import mark_nondeterministic, second_pass
from harness.device import check_device_choice, gpu_available
from harness.diff import EarlyVerdicts, build_report
from harness.errors import DeviceError, StorageError, UsageError, storage_error
from harness.isolate import isolate
from harness.knobs import check_choice, effective_knobs
from harness.manager import PluginOptions, Registry
from harness.noise_floor import check_floor_matches, load_floor, score_report
from harness.progress import make_progress
from harness.report import Report, write_report
from harness.runner import SideOutcome, run_jobs
from harness.stages import parse_stage_selection, stages_to_run
from harness.store import atomic_write_bytes, atomic_write_json, default_cache_dir
from harness.worker import SideJob

DEFAULT_FORMATS = ("console",)
SEED_RANGE = (0, 2**32 - 1)
"""Every stream derives from the run seed: SeedSequence takes no negative entropy, RandomState 32 bits."""


@dataclass
class Invocation:
    """What the user asked for, before validation."""

    sides: dict[str, str]
    scenario: str | None = None
    profile: str = "smoke"
    seed: int = 42
    stage: str = "all"
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    out: Path | None = None
    formats: tuple[str, ...] = DEFAULT_FORMATS
    jobs: int = 2
    use_cache: bool = True
    cache_dir: Path | None = None
    device: str = "auto"
    threads: tuple[int, int] | None = None
    plugins: PluginOptions = PluginOptions()
    isolate: bool = False
    data: Path | None = None
    data_format: str = "auto"
    noise: Path | None = None
    """A floor from `harness noise`: differences and check values are also scored as z against it."""
    check_determinism: bool = False
    """Run each side a second time, uncached, and mark the stages whose artifacts differ."""


def auto_threads(sides: int, jobs: int) -> tuple[int, int]:
    """Share the cores among the sides that run at once: two TensorFlow workers with 2 threads each on
    2 cores oversubscribe them (the smoke diff measured 53 s against 43 s with 1 thread each)."""
    at_once = max(1, min(sides, jobs))
    per_side = max(1, (os.cpu_count() or 1) // at_once)
    return per_side, per_side


def default_run_dir(sides: dict[str, str]) -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return Path("runs") / f"{stamp}-{'-vs-'.join(sides.values())}"


def validate(inv: Invocation, registry: Registry) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Resolve names and knobs for every side; raise UsageError naming the bad value and the valid ones."""
    pipelines = {side: registry.pipeline(name) for side, name in inv.sides.items()}
    first = next(iter(pipelines.values()))
    scenario = inv.scenario or first.default_scenario
    for side, spec in pipelines.items():
        check_choice("scenario", scenario, spec.scenarios, spec.name)
        check_choice("profile", inv.profile, spec.profiles, spec.name)
    selection = parse_stage_selection(inv.stage)
    knobs = {side: effective_knobs(spec, inv.overrides.get(side, {})) for side, spec in pipelines.items()}
    check_device_choice(inv.device)
    check_formats(inv.formats, registry)
    check_seed(inv.seed)
    if inv.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {inv.jobs}")
    settings = {
        "scenario": scenario,
        "profile": inv.profile,
        "seed": inv.seed,
        "stage": inv.stage,
        "stages_reported": list(selection),
        "stages_run": list(stages_to_run(selection)),
        "device": inv.device,
        "threads": list(inv.threads or auto_threads(len(inv.sides), inv.jobs)),
        "jobs": inv.jobs,
        "cache": inv.use_cache,
        "isolate": inv.isolate,
        "plugins": {"extra": list(inv.plugins.extra), "blocked": list(inv.plugins.blocked)},
        "command": sys.argv[:],
        "cwd": os.getcwd(),
    }
    return settings, knobs


def check_formats(formats: tuple[str, ...], registry: Registry) -> None:
    """Every format named is registered (none at all is for callers that only want report.json)."""
    unknown = [name for name in formats if name not in registry.reporters]
    if unknown:
        raise UsageError(f"unknown format {unknown[0]!r}; valid formats: {', '.join(registry.reporters)}")


def check_seed(seed: int) -> None:
    """The run seed must be one every random stream accepts."""
    low, high = SEED_RANGE
    if not low <= seed <= high:
        raise UsageError(f"--seed must be an integer from {low} to {high}, got {seed}")


@dataclass
class PreparedRun:
    """A validated run whose folder and manifest exist: the side jobs to run, and what its report needs."""

    inv: Invocation
    settings: dict[str, Any]
    knobs: dict[str, dict[str, Any]]
    run_dir: Path
    jobs: list[SideJob]
    floor: dict[str, Any] | None = None


def execute(inv: Invocation, registry: Registry, console: Console, progress_console: Console) -> tuple[Report, int]:
    """Run every side, build and store the report, render the chosen formats; return (report, exit code).

    A file that cannot be written raises StorageError (exit 2) naming it; the report is still shown
    when only its files failed.
    """
    prepared = prepare(inv, registry, progress_console)
    early = EarlyVerdicts(registry, prepared.settings, prepared.knobs)
    with make_progress(progress_console, prepared.inv.sides, tuple(prepared.settings["stages_run"])) as progress:
        outcomes = run_jobs(prepared.jobs, prepared.inv.jobs, progress, early)
    return finish(prepared, outcomes, registry, console, progress_console, early)


def prepare(inv: Invocation, registry: Registry, progress_console: Console) -> PreparedRun:
    """Validate the invocation, create the run folder and its manifest, and make each side's job.

    Split from `execute` so an executor that runs side jobs elsewhere (harness.sweep, on Dask) validates,
    stores and reports exactly as a single run does."""
    data = install_data(inv, registry)
    if data:
        inv = replace(inv, sides={side: data_pipeline_name(name) for side, name in inv.sides.items()})
    settings, knobs = validate(inv, registry)
    if data:
        settings["data"] = {"path": str(inv.data.resolve()), "format": inv.data_format}
    floor = noise_floor(inv, registry, settings)
    if inv.device == "gpu" and not gpu_available():
        raise DeviceError("--device gpu was requested but TensorFlow sees no GPU on this machine; use --device auto or cpu")
    run_dir = Path(inv.out) if inv.out else default_run_dir(inv.sides)
    settings["run_dir"] = str(run_dir)
    start_run_folder(run_dir, {"settings": settings, "sides": inv.sides, "knobs": knobs})
    cache_dir = usable_cache_dir(Path(inv.cache_dir or default_cache_dir()), progress_console)
    jobs = [
        SideJob(side=side, pipeline=name, scenario=settings["scenario"], profile=inv.profile, run_seed=inv.seed,
                stages=tuple(settings["stages_run"]), run_dir=str(run_dir), knob_overrides=dict(inv.overrides.get(side, {})),
                device=inv.device, threads=tuple(settings["threads"]), plugins=inv.plugins,
                cache_dir=str(cache_dir) if cache_dir else None, use_cache=inv.use_cache and cache_dir is not None,
                data=data.get(side))
        for side, name in inv.sides.items()
    ]
    return PreparedRun(inv, settings, knobs, run_dir, jobs, floor)


def finish(prepared: PreparedRun, outcomes: dict[str, SideOutcome], registry: Registry, console: Console,
           progress_console: Console, early: EarlyVerdicts | None = None) -> tuple[Report, int]:
    """Build the report from the sides' outcomes (their artifacts are in the run folder; `early` holds the
    stages already judged while they ran), store and render it."""
    inv, settings, knobs, run_dir, floor = (prepared.inv, prepared.settings, prepared.knobs, prepared.run_dir,
                                            prepared.floor)
    report = build_report(registry, outcomes, settings, knobs, early)
    if inv.isolate and len(outcomes) == 2:
        report = isolate(registry, report, outcomes, settings, knobs, progress_console)
    if floor is not None:
        report = score_report(report, floor, inv.noise, run_dir)
    if inv.check_determinism:
        second_pass(outcomes, inv.jobs, progress_console)
        report = mark_nondeterministic(replace(report, settings={**report.settings, "check_determinism": True}),
                                       {side: outcome.job for side, outcome in outcomes.items()})
    unwritten = store_report(run_dir, report)
    render(report, run_dir, inv.formats, registry, console)
    failure = unwritten or next((o.storage_error for o in outcomes.values() if o.storage_error), None)
    if failure:
        raise StorageError(failure)
    return report, report.exit_code


def noise_floor(inv: Invocation, registry: Registry, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The `--noise` floor, checked against every side's pipeline, the scenario and the profile before anything runs."""
    if inv.noise is None:
        return None
    floor = load_floor(inv.noise)
    pipelines = {side: (name, registry.pipeline(name).base) for side, name in inv.sides.items()}
    check_floor_matches(floor, inv.noise, pipelines, settings["scenario"], inv.profile)
    return floor


def install_data(inv: Invocation, registry: Registry) -> dict[str, tuple[str, str, str]]:
    """With --data, register each side's data variant (the file is validated here, before anything runs);
    return per side what its worker needs to register the same variant: (base, path, format)."""
    if inv.data is None:
        return {}
    path = str(inv.data.resolve())
    for name in set(inv.sides.values()):
        install(registry, name, Path(path), inv.data_format)
    return {side: (name, path, inv.data_format) for side, name in inv.sides.items()}


def start_run_folder(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Create the run folder and its manifest, or say which path cannot be written and what to do."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(run_dir / "manifest.json", manifest)
    except OSError as exc:
        raise storage_error(exc, "write the run folder", "choose a writable --out (nothing was run)", run_dir) from None


def usable_cache_dir(cache_dir: Path, progress_console: Console) -> Path | None:
    """The cache folder when it can be written, else None after a warning: the run goes on uncached."""
    probe = cache_dir / ".write-check"
    try:
        atomic_write_bytes(probe, b"")
        probe.unlink()
    except OSError as exc:
        progress_console.print(Text(f"warning: the stage cache {cache_dir} cannot be written ({exc.strerror or exc}); "
                                    "running without the cache (--cache-dir chooses another)", style="yellow"))
        return None
    return cache_dir


def store_report(run_dir: Path, report: Report) -> str | None:
    """Store report.json; when the disk refuses, return the one-line reason instead of losing the report."""
    try:
        write_report(run_dir, report)
    except OSError as exc:
        return str(storage_error(exc, "write", "free disk space and run the same command again "
                                 "(completed stages are cached); the report is shown above", run_dir / "report.json"))
    return None


def render(report: Report, run_dir: Path, formats: tuple[str, ...], registry: Registry, console: Console) -> None:
    """Render each chosen format from the typed report; a failing reporter is reported and the others still run."""
    for name in formats:
        reporter = registry.reporters[name].record
        try:
            reporter.func(report, run_dir, console)
        except Exception as exc:  # one broken reporter must not hide the others
            console.print(Text(f"reporter {name!r} failed: {type(exc).__name__}: {exc}", style="red"))
