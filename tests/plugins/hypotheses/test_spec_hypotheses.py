"""The 28 hypotheses of spec section 8 as plugins: one short module each, every reference resolvable."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.knobs import effective_knobs
from harness.manager import PluginOptions, build_registry
from harness.stages import STAGES

ROOT = Path(__file__).resolve().parents[3]
MODULES = sorted((ROOT / "plugins" / "hypotheses").glob("h_*.py"))
SECTION_81 = {"H-CONFIG", "H-PROBE-IDEAL-REGRESSION", "H-GRIDSIZE-NUMERIC", "H-PROBE-SCALE-CUSTOM", "H-INTENSITY-SCALE",
              "H-OFFSET-OVERFLOW", "H-GROUPING-KDTREE", "H-LOSS-WIRING", "H-LEGACY-CODEPATH", "H-SEED-DIVERGENCE",
              "H-LOSS-WEIGHT", "H-NORMALIZATION", "H-TRAINING-PARAMS", "H-ARCHITECTURE", "H-NEPOCHS", "H-SCALER-DRIFT"}
SECTION_82 = {"H-COVERAGE-ARTIFACT", "H-REGISTRATION-OFFSET", "H-POLAR-RECT", "H-SIGMOID-CAP", "H-NORM-GAIN",
              "H-COUNT-CONSISTENCY", "H-GS2-CHANNEL-SUM", "H-BATCH-COLLAPSE", "H-BORDER-X1000", "H-REPORT-PROBE",
              "H-DOSE-LABEL", "H-LEGACY-ERA"}


@pytest.fixture(scope="module")
def registry():
    return build_registry(PluginOptions(autoload=False))


def test_every_hypothesis_of_section_8_is_one_short_module(registry):
    hypotheses = registry.hypotheses
    assert not registry.loaded.warnings
    assert {hid for hid, r in hypotheses.items() if r.record.spec_section == "8.1"} == SECTION_81
    assert {hid for hid, r in hypotheses.items() if r.record.spec_section == "8.2"} == SECTION_82
    assert len(MODULES) == 28
    sources = {r.source for r in hypotheses.values()}
    assert sources == {"built-in"}
    for module in MODULES:
        assert len(module.read_text().splitlines()) <= 40, module.name


@pytest.mark.parametrize("hid", sorted(SECTION_81 | SECTION_82))
def test_runs_and_predictions_name_real_pipelines_knobs_checks_and_stages(registry, hid):
    spec = registry.hypotheses[hid].record
    checks = registry.checks
    for label, run in spec.runs.items():
        for pipeline, knobs in ((run.pipeline, run.knobs), (run.against, run.against_knobs)):
            if pipeline is not None:
                pipe = registry.pipeline(pipeline)
                effective_knobs(pipe, knobs)
                assert run.scenario is None or run.scenario in pipe.scenarios
    for prediction in spec.predictions:
        assert prediction.stage in STAGES
        if not prediction.check.startswith("artifact:") and prediction.change != "errors":
            assert prediction.check in checks, prediction.check
            assert checks[prediction.check].record.stage == prediction.stage, prediction.check
    assert spec.published_verdict and spec.title and spec.statement
    assert spec.expected_verdict in (None, "supported", "refuted")
    assert (spec.needs_profile is None) == (not spec.needs_reason)
