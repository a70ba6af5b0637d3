"""Every hook of the harness, documented: the only extension surface plugins have.

Registration hooks return records; lifecycle hooks fire in the worker process that runs a side;
`harness_run_stage` is the one execution hook that wrappers attach to; comparator selection
wants one answer (firstresult). Built-in implementations are `trylast`, so a user's plugin
overrides them by registering, not by patching.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import pluggy

from harness.records import CheckSpec, HypothesisSpec, PipelineSpec, ReporterSpec, StageSpec

hookspec = pluggy.HookspecMarker("harness")


@hookspec
def harness_register_pipelines() -> Iterable[PipelineSpec]:
    """Return the pipelines this plugin provides.

    Fires once when a plugin manager is built (in the host and in each worker). Names must be
    unique across all plugins; a duplicate fails and names both sources.
    """


@hookspec
def harness_register_checks() -> Iterable[CheckSpec]:
    """Return invariant checks; each runs on a side's artifacts after its stage (or on both sides).

    Fires once per plugin manager, in the host, when verdicts are computed.
    """


@hookspec
def harness_register_hypotheses() -> Iterable[HypothesisSpec]:
    """Return hypotheses: the runs each needs and the prediction that decides it.

    Fires once per plugin manager, in the host, for `harness list hypotheses` and `harness hypotheses`.
    """


@hookspec
def harness_register_reporters() -> Iterable[ReporterSpec]:
    """Return report renderers, selected with `--format NAME[,NAME...]`.

    Fires once per plugin manager, in the host, before a report is rendered.
    """


@hookspec
def harness_check_registry(registry: Any) -> None:
    """Validate what this plugin refers to against everything registered; raise PluginError naming it.

    Fires once per plugin manager, when its Registry has collected the pipelines (in the host and in
    each worker). For references that live outside records, such as knob names in a data file.
    """


@hookspec
def harness_before_stage_run(ctx: Any, stage: StageSpec) -> None:
    """Called in the worker just before a stage computes (a cache hit does not compute and does not fire it).

    `ctx` is the StageContext the stage will receive. Return value ignored.
    """


@hookspec
def harness_after_stage_run(ctx: Any, stage: StageSpec, outputs: Mapping[str, Any], seconds: float) -> None:
    """Called in the worker after a stage returned valid outputs, before they are stored.

    `outputs` is read-only by convention; `seconds` is the stage's own wall time.
    """


@hookspec
def harness_on_stage_error(ctx: Any, stage: StageSpec, error: BaseException, traceback: str) -> None:
    """Called in the worker when a stage raised; the side's later stages are then skipped.

    `traceback` is the formatted traceback that goes into the report.
    """


@hookspec(firstresult=True)
def harness_run_stage(ctx: Any, stage: StageSpec, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Execute one stage and return its outputs (a mapping of output name to value).

    The built-in implementation (trylast) calls `stage.func(ctx, **kwargs)`, with each input
    artifact passed as a keyword whose dots become underscores. Wrappers
    (`@hookimpl(wrapper=True)`) attach here for timing, capture or device placement: they
    `yield` to get the outputs and return them (possibly changed).
    """


@hookspec(firstresult=True)
def harness_select_comparator(stage: str, artifact: str, a: Any, b: Any, context: Mapping[str, Any]) -> Any:
    """Return a comparator for one artifact present on both sides, or None to pass.

    A comparator is a callable `(a, b, tolerance) -> Comparison`. `context` holds the two
    pipelines, scenario, profile, and each side's effective knobs and evaluated conventions. The built-in (trylast)
    chooses by value type: equal-shape arrays, different-shape arrays, scalars, dicts.
    """
