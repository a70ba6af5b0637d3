"""Built-in hook implementations: how a stage is executed and how a comparator is chosen.

Both are `trylast`, so any plugin that implements the same hook is consulted first.
"""
from __future__ import annotations

from typing import Any, Mapping

from harness import hookimpl
from harness.compare import default_comparator
from harness.records import StageSpec, input_keyword


@hookimpl(trylast=True)
def harness_run_stage(ctx: Any, stage: StageSpec, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Call the stage function with its inputs as keywords."""
    return stage.func(ctx, **{input_keyword(name): value for name, value in inputs.items()})


@hookimpl(trylast=True)
def harness_select_comparator(stage: str, artifact: str, a: Any, b: Any, context: Mapping[str, Any]) -> Any:
    """Choose by value type: equal-shape arrays, different shapes (statistics), scalars, dicts, lists."""
    return default_comparator(a, b)
