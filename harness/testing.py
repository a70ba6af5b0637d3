"""pytest plugin for plugin authors (entry point `pytest11`): a fresh manager, one-test plugins, the CLI.

Fixtures:
- `harness_manager`: a freshly loaded plugin manager (built-ins only, no entry points).
- `register_plugin`: `register_plugin(obj, name=None)` adds a plugin to every manager the harness
  builds in this test's process (checks, reporters, comparators, hypotheses act there; pipelines
  run in worker processes, so give those to the CLI as `-p module` or `-p file.py`).
- `harness_cli`: `harness_cli("diff", "--a", ...)` runs the CLI in-process with a private cache
  and working folder and returns click's Result (exit_code, stdout, stderr).
- `harness_run`: `harness_run("sim_lines", scenario="gs1_ideal", stage="scale")` runs one pipeline in
  this process without cache and returns its loaded artifacts and per-stage statuses
  (`run_pipeline(run_dir, ...)` does the same for module-scoped fixtures).

Helpers for testing a check on hand-made artifacts: `check_input(...)` and `run_check(spec, *inputs)`.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

import pytest

from harness import manager


@pytest.fixture
def harness_manager() -> manager.LoadedPlugins:
    """A fresh plugin manager with the built-in plugins and nothing auto-loaded."""
    return manager.load_plugins(manager.PluginOptions(autoload=False))


@pytest.fixture
def register_plugin(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Register a plugin object for the duration of one test."""
    registered: list[tuple[Any, str]] = []
    original = manager.load_plugins

    def load_with_registered(options: manager.PluginOptions = manager.PluginOptions()) -> manager.LoadedPlugins:
        loaded = original(options)
        for plugin, name in registered:
            if not loaded.pm.is_blocked(name):
                loaded.pm.register(plugin, name=name)
                loaded.sources[name] = "registered by test"
        return loaded

    monkeypatch.setattr(manager, "load_plugins", load_with_registered)

    def register(plugin: Any, name: str | None = None) -> None:
        registered.append((plugin, name or getattr(plugin, "__name__", f"test-plugin-{len(registered)}")))

    return register


@pytest.fixture
def harness_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run `harness ...` in-process, in a private folder with a private stage cache."""
    from click.testing import CliRunner

    from harness.cli import main

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def check_input(artifacts: dict[str, Any], pipeline: str = "sim_lines", knobs: dict[str, Any] | None = None,
                scenario: str = "gs2_ideal", profile: str = "stable", side: str = "a",
                conventions: dict[str, Any] | None = None) -> Any:
    """A CheckInput over hand-made artifacts, for testing a check without running a pipeline.

    Conventions left as None are the registered pipeline's, evaluated for its default knobs with
    `knobs` applied (none for a pipeline that is not registered).
    """
    from harness.conventions import resolve_conventions
    from harness.records import CheckInput

    if conventions is None:
        registered = _builtin_registry().pipelines.get(pipeline)
        spec = registered.record if registered else None
        conventions = resolve_conventions(spec, {**{n: k.default for n, k in spec.knobs.items()}, **(knobs or {})}) if spec else {}
    return CheckInput(side=side, pipeline=pipeline, scenario=scenario, profile=profile, knobs=knobs or {},
                      artifacts=artifacts, conventions=conventions)


@functools.lru_cache(maxsize=1)
def _builtin_registry() -> Any:
    """The built-in plugins' registry, loaded once per test process."""
    return manager.Registry(manager.load_plugins(manager.PluginOptions(autoload=False)))


def run_check(check: Any, *inputs: Any) -> tuple[Any, str | None]:
    """A check's result (None when it does not apply) and, when it fails, the known-break label the host would attach."""
    from harness.checking import known_break_label

    from harness.errors import NotApplicable

    try:
        outcome = check.func(*inputs)
    except NotApplicable:
        return None, None
    return outcome, None if outcome is None or outcome.passed else known_break_label(check, inputs)


class PipelineRun:
    """What `harness_run` returns: per-stage status events and every stored artifact, loaded."""

    def __init__(self, run_dir: Path, events: list[dict[str, Any]]):
        from harness.store import StageFiles

        self.run_dir = run_dir
        self.stages = {e["stage"]: e for e in events if e["type"] == "stage" and e["status"] != "running"}
        self.artifacts: dict[str, Any] = {}
        for stage, event in self.stages.items():
            if event["status"] in ("ok", "cached"):
                files = StageFiles(run_dir / "a", stage)
                self.artifacts.update(files.load(files.read_record()))

    def __getitem__(self, name: str) -> Any:
        return self.artifacts[name]

    def error(self, stage: str) -> str | None:
        return self.stages.get(stage, {}).get("error")


def run_pipeline(run_dir: Path, pipeline: str, scenario: str, profile: str = "smoke", stage: str = "all",
                 knobs: dict[str, Any] | None = None, seed: int = 42, plugins: tuple[str, ...] = ()) -> PipelineRun:
    """Run one pipeline in this process (no worker, no cache) into `run_dir` and return its artifacts.

    What `harness_run` does, for fixtures of wider scope (module-scoped runs shared by several tests).
    """
    from harness.stages import parse_stage_selection, stages_to_run
    from harness.worker import SideJob, run_side

    job = SideJob(side="a", pipeline=pipeline, scenario=scenario, profile=profile, run_seed=seed,
                  stages=stages_to_run(parse_stage_selection(stage)), run_dir=str(run_dir),
                  knob_overrides=dict(knobs or {}), plugins=manager.PluginOptions(extra=plugins, autoload=False),
                  cache_dir=None, use_cache=False)
    events: list[dict[str, Any]] = []
    run_side(job, events.append)
    return PipelineRun(run_dir, events)


@pytest.fixture
def harness_run(tmp_path: Path) -> Callable[..., PipelineRun]:
    """Run one pipeline in this process (no worker, no cache) and return its artifacts.

    `harness_run("sim_lines", scenario="gs1_ideal", stage="scale", knobs={"normalize": "nphotons"})`
    """
    counter = iter(range(1_000_000))

    def run(pipeline: str, scenario: str, profile: str = "smoke", stage: str = "all",
            knobs: dict[str, Any] | None = None, seed: int = 42, plugins: tuple[str, ...] = ()) -> PipelineRun:
        return run_pipeline(tmp_path / f"run{next(counter)}", pipeline, scenario, profile, stage, knobs, seed, plugins)

    return run
