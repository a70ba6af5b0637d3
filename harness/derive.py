"""Deriving a pipeline from a registered one: same stages, knobs, scenarios and conventions unless replaced.

A plugin returns `derive("sim_lines", "my_variant", stages={"normalize": my_normalize})` from
`harness_register_pipelines`; the registry resolves it against the registered base once every plugin
has registered, so the variant needs the base's name only, never its module.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from harness.errors import PluginError
from harness.records import Knob, PipelineSpec, StageSpec

BASE_PARAMETER = "base"
"""A replacement stage function that declares this parameter receives the base stage's function."""


@dataclass(frozen=True)
class PipelineVariant:
    """A pipeline described as changes to a registered `base`; `resolve` turns it into a PipelineSpec.

    `stages` maps a stage name to a replacement function (inputs, outputs and tolerances stay the
    base's) or to a full StageSpec. `knobs` adds knobs or, given a plain value for a base knob,
    changes its default. `conventions` override the base's; `scenarios` and `profiles` left as None
    keep the base's.
    """

    name: str
    base: str
    stages: Mapping[str, Callable[..., Mapping[str, Any]] | StageSpec] = field(default_factory=dict)
    knobs: Mapping[str, Knob | Any] = field(default_factory=dict)
    scenarios: tuple[str, ...] | None = None
    profiles: tuple[str, ...] | None = None
    conventions: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def resolve(self, base: PipelineSpec) -> PipelineSpec:
        """The variant as a full PipelineSpec over `base`; unknown stage names list the base's."""
        unknown = [name for name in self.stages if base.stage(name) is None]
        if unknown:
            raise PluginError(f"pipeline {self.name!r}: cannot replace stage {unknown[0]!r}, which base "
                              f"{base.name!r} does not have; its stages: {', '.join(s.name for s in base.stages)}")
        stages = tuple(self._stage(spec) for spec in base.stages)
        return PipelineSpec(
            name=self.name,
            stages=stages,
            knobs=merged_knobs(self.name, base.knobs, self.knobs),
            scenarios=self.scenarios if self.scenarios is not None else base.scenarios,
            profiles=self.profiles if self.profiles is not None else base.profiles,
            description=self.description or f"variant of {base.name}",
            conventions={**base.conventions, **self.conventions},
            base=base.name,
        )

    def _stage(self, spec: StageSpec) -> StageSpec:
        replacement = self.stages.get(spec.name)
        if replacement is None:
            return spec
        if isinstance(replacement, StageSpec):
            if replacement.name != spec.name:
                raise PluginError(f"pipeline {self.name!r}: stages[{spec.name!r}] is a StageSpec named {replacement.name!r}")
            return replacement
        if not callable(replacement):
            raise PluginError(f"pipeline {self.name!r}: stages[{spec.name!r}] must be a function or a StageSpec, "
                              f"got {type(replacement).__name__}")
        return replace(spec, func=with_base(replacement, spec.func),
                       description=replacement.__doc__.strip().splitlines()[0] if replacement.__doc__ else spec.description)


def with_base(func: Callable[..., Mapping[str, Any]], base: Callable[..., Mapping[str, Any]]) -> Callable[..., Mapping[str, Any]]:
    """`func` itself, or, when it declares a `base` parameter, `func` with the base stage function bound to it."""
    if BASE_PARAMETER not in inspect.signature(func).parameters:
        return func

    @functools.wraps(func)
    def stage(ctx: Any, **inputs: Any) -> Mapping[str, Any]:
        return func(ctx, base=base, **inputs)

    stage.__signature__ = signature_without_base(func)  # type: ignore[attr-defined]
    return stage


def signature_without_base(func: Callable[..., Any]) -> inspect.Signature:
    """The signature the runner binds inputs against: the function's own, less its `base` parameter."""
    signature = inspect.signature(func)
    return signature.replace(parameters=[p for p in signature.parameters.values() if p.name != BASE_PARAMETER])


def merged_knobs(name: str, base: Mapping[str, Knob], changes: Mapping[str, Knob | Any]) -> dict[str, Knob]:
    """The base's knobs with new ones added; a plain value for an existing knob changes its default."""
    knobs = dict(base)
    for knob_name, value in changes.items():
        if isinstance(value, Knob):
            knobs[knob_name] = value
        elif knob_name in knobs:
            old = knobs[knob_name]
            if not old.accepts(knob_name, value):
                choices = ", ".join(old.choices or ()) or f"any {type(old.default).__name__}"
                raise PluginError(f"pipeline {name!r}: invalid value {value!r} for knob {knob_name!r}; "
                                  f"valid values: {choices}")
            knobs[knob_name] = replace(old, default=value)
        else:
            knobs[knob_name] = Knob(default=value)
    return knobs


def derive(base: str, name: str, *, stages: Mapping[str, Callable[..., Mapping[str, Any]] | StageSpec] | None = None,
           knobs: Mapping[str, Knob | Any] | None = None, scenarios: tuple[str, ...] | None = None,
           profiles: tuple[str, ...] | None = None, conventions: Mapping[str, Any] | None = None,
           description: str = "") -> PipelineVariant:
    """A variant of the registered pipeline `base`, to return from `harness_register_pipelines`."""
    return PipelineVariant(name=name, base=base, stages=dict(stages or {}), knobs=dict(knobs or {}),
                           scenarios=tuple(scenarios) if scenarios is not None else None,
                           profiles=tuple(profiles) if profiles is not None else None,
                           conventions=dict(conventions or {}), description=description)


def resolve_variants(specs: Mapping[str, PipelineSpec], variants: Mapping[str, PipelineVariant]) -> dict[str, PipelineSpec]:
    """Every variant resolved against its base (itself possibly a variant); unknown bases and cycles are errors."""
    resolved = dict(specs)
    pending = dict(variants)
    while pending:
        ready = [v for v in pending.values() if v.base in resolved]
        if not ready:
            variant = next(iter(pending.values()))
            if variant.base in pending:
                chain = " -> ".join(sorted(pending))
                raise PluginError(f"pipeline variants derive from each other in a cycle: {chain}")
            raise PluginError(f"pipeline {variant.name!r} derives from {variant.base!r}, which is not registered; "
                              f"registered pipelines: {', '.join(sorted(resolved)) or '(none)'}")
        for variant in ready:
            resolved[variant.name] = variant.resolve(resolved[variant.base])
            del pending[variant.name]
    return resolved
