"""Which raw probe a scenario uses (spec 3.2, knobs X1 and X2), shared by both pipelines."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from harness import Knob
from harness.errors import UsageError
from pipelines.physics.custom_probe import FIXTURE_NPZ, load_probe_file
from pipelines.physics.probe import DEFAULT_PROBE_SCALE, ideal_probe_raw
from pipelines.scenarios import N, Scenario


def _probe_source(text: str) -> str:
    if text == "custom_synth_v1" or (text.startswith("file:") and len(text) > 5):
        return text
    raise ValueError("expected custom_synth_v1 or file:PATH to an .npz with a 64x64 complex 'probeGuess'")


PROBE_KNOBS: dict[str, Knob] = {
    "ideal_probe_lowpass": Knob(
        "fixed_0.7", stages=("probe",), choices=("fixed_0.7", "coupled"),
        help="X1: coupled sets default_probe_scale = probe_scale, the 4-pixel-disk report artefact"),
    "probe_source": Knob(
        "custom_synth_v1", stages=("probe",), parse=_probe_source,
        help="X2: custom scenarios' probe: custom_synth_v1 or file:PATH (key probeGuess)"),
}
"""Knobs X1 and X2, identical in both pipelines."""


def raw_probe(scenario: Scenario, knobs: Mapping[str, Any]) -> tuple[np.ndarray, str]:
    """The unnormalised probe of a scenario and its source label (ideal, custom_synth_v1 or the file)."""
    if not scenario.is_custom:
        coupled = knobs["ideal_probe_lowpass"] == "coupled"
        lowpass = scenario.probe_scale if coupled else DEFAULT_PROBE_SCALE
        return ideal_probe_raw(N, lowpass), "ideal" if not coupled else "ideal_coupled_lowpass"
    source = knobs["probe_source"]
    if source == "custom_synth_v1":
        return load_probe_file(FIXTURE_NPZ), source
    try:
        return load_probe_file(source[len("file:"):]), source
    except ValueError as exc:
        raise UsageError(f"knob probe_source: {exc}") from None
