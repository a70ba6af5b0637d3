"""How one stage of one side is executed: its context and the hooks around its function.

The worker and `harness replay` both build a side with `SideSetup.build` and call each stage with
`call_stage`, so a replayed stage sees the same knobs, seeds, device settings and hook wrappers as
the stage did in its run.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping

from harness.context import Progress, StageContext, StageKnobs
from harness.data.variant import install
from harness.device import DeviceHandle
from harness.knobs import effective_knobs
from harness.manager import PluginOptions, Registry, build_registry
from harness.records import PipelineSpec, StageSpec
from harness.store import capture_outputs


@dataclass
class SideSetup:
    """What every stage of one side shares: the plugins, the pipeline, its effective knobs, the device."""

    registry: Registry
    pipeline: PipelineSpec
    knobs: dict[str, Any]
    device: DeviceHandle

    @classmethod
    def build(cls, pipeline: str, knob_overrides: Mapping[str, Any], device: str, threads: tuple[int, int],
              plugins: PluginOptions, data: tuple[str, str, str] | None = None) -> "SideSetup":
        """A fresh plugin manager, the named pipeline, its knobs with the overrides applied, a device handle.

        `data` (base pipeline, file, format) first registers the base's `--data` variant, as the host did."""
        registry = build_registry(plugins)
        if data is not None:
            install(registry, *data)
        spec = registry.pipeline(pipeline)
        return cls(registry, spec, effective_knobs(spec, knob_overrides), DeviceHandle(device, *threads))

    def context(self, stage: StageSpec, *, side: str, scenario: str, profile: str, run_seed: int,
                log: logging.Logger, progress: Progress) -> StageContext:
        """The ctx the stage function receives: knobs limited to those that declare this stage."""
        declared = {name: knob.stages for name, knob in self.pipeline.knobs.items()}
        return StageContext(pipeline=self.pipeline.name, stage=stage.name, side=side, scenario=scenario,
                            profile=profile, run_seed=run_seed, knobs=StageKnobs(self.knobs, declared, stage.name),
                            device=self.device, log=log, progress=progress)


def call_stage(registry: Registry, ctx: StageContext, stage: StageSpec, inputs: Mapping[str, Any],
               started: float | None = None) -> tuple[dict[str, Any], float]:
    """Run the stage through the lifecycle hooks and `harness_run_stage` (so wrappers apply); capture its
    outputs by value. Returns the outputs and the seconds since `started` (default: now)."""
    started = time.perf_counter() if started is None else started
    registry.pm.hook.harness_before_stage_run(ctx=ctx, stage=stage)
    outputs = capture_outputs(stage.name, stage.outputs, registry.pm.hook.harness_run_stage(ctx=ctx, stage=stage, inputs=inputs))
    seconds = time.perf_counter() - started
    registry.pm.hook.harness_after_stage_run(ctx=ctx, stage=stage, outputs=outputs, seconds=seconds)
    return outputs, seconds
