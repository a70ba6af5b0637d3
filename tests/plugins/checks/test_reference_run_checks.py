"""The registered checks on a real sim_lines gs2_ideal smoke run up to `scale`, and one end-to-end CLI run."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from harness.checking import evaluate, with_conventions
from harness.knobs import effective_knobs
from harness.manager import PluginOptions, Registry, load_plugins
from harness.records import CheckInput
from harness.stages import stage_index

def findings_up_to_scale(registry: Registry, run: Any, knobs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every registered per-side check of stages config … scale on the run's artifacts, as the host reports it."""
    inp = CheckInput(side="a", pipeline="sim_lines", scenario="gs2_ideal", profile="smoke",
                     knobs=effective_knobs(registry.pipeline("sim_lines"), knobs), artifacts=run.artifacts)
    inp = with_conventions(registry, inp)
    out = {}
    for check_id, registered in registry.checks.items():
        check = registered.record
        if check.cross or stage_index(check.stage) > stage_index("scale"):
            continue
        for finding in evaluate(check, "a", (inp,), "smoke"):
            out[check_id] = finding
    return out


@pytest.fixture(scope="module")
def registry() -> Registry:
    """The built-in plugins, as the host loads them."""
    return Registry(load_plugins(PluginOptions(autoload=False)))


def test_every_category_is_registered(registry: Registry) -> None:
    ids = set(registry.checks)
    expected = ({f"N-{i}" for i in range(1, 15)} | {"N-5b", "N-6t"} | {f"O-{i}" for i in (1, 2, 3, 5, 6, 8, 9, 10, 11)}
                | {"O-7a", "O-7b", "O-4@scan", "O-4@split"} | {"A-1", "A-2", "A-5", "A-6", "A-8", "A-9"}
                | {"A-3@scale", "A-3@evaluate", "A-4@infer", "A-4@stitch", "A-7@train", "A-7@infer", "A-7@stitch"})
    assert expected <= ids
    assert {registry.checks[i].record.cross for i in ("N-3", "N-5b", "N-14")} == {True}


def test_default_sim_lines_passes_every_enforced_check(registry: Registry, harness_run: Callable[..., Any]) -> None:
    run = harness_run("sim_lines", "gs2_ideal", stage="scale")
    findings = findings_up_to_scale(registry, run, {})
    assert {"N-0@config", "N-1", "N-2", "N-5", "N-6", "N-7", "N-8", "N-9", "N-10", "N-11", "N-13",
            "O-1", "O-2", "O-4@scan", "O-4@split"} <= set(findings)
    enforced = {i: f for i, f in findings.items() if i.startswith(("N-", "O-")) and f["severity"] == "error"}
    assert {i: f["status"] for i, f in enforced.items() if f["status"] not in ("pass", "n/a")} == {}
    not_applied = {i for i, f in enforced.items() if f["status"] == "n/a"}
    assert not_applied == {"O-3", "N-0@probe", "N-0@object", "N-0@scan", "N-0@split", "N-0@group"}
    assert "grouping" in findings["O-3"]["explanation"], "says which convention makes it not apply"
    assert all(f["status"] in ("pass", "fail", "n/a") for f in findings.values())
    assert findings["A-3@scale"]["status"] == "fail" and findings["A-3@scale"]["severity"] == "warn"
    json.dumps(findings)  # reports are JSON


def test_dataset_raw_scale_breaks_the_count_ratio(registry: Registry, harness_run: Callable[..., Any]) -> None:
    knobs = {"intensity_scale": "dataset_raw"}
    findings = findings_up_to_scale(registry, harness_run("sim_lines", "gs2_ideal", stage="scale", knobs=knobs), knobs)
    n9 = findings["N-9"]
    assert n9["status"] == "fail" and n9["measured"] == pytest.approx(0.077, abs=0.003)
    assert n9["known_break"] == "known break of sim_lines intensity_scale=dataset_raw"
    assert findings["N-13"]["status"] == "pass"  # s_m cancels in expected_scale


def test_cli_reports_the_nphotons_normalisation_as_a_known_break(harness_cli: Callable[..., Any]) -> None:
    result = harness_cli("run", "sim_lines", "--stage", "scale", "--set", "normalize=nphotons", "--out", "nph")
    assert result.exit_code == 1, result.output
    report = json.loads((Path("nph") / "report.json").read_text())
    first = report["first_break"]
    assert first["stage"] == "normalize" and first["category"] == "normalization"
    assert first["finding"]["check"] == "N-8"
    assert first["finding"]["known_break"] == "known break of sim_lines normalize=nphotons"
