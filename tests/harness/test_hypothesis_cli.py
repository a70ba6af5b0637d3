"""`harness hypotheses`: a real run of cheap hypotheses, the documented example, and broken hypothesis plugins."""
from __future__ import annotations

import json
import re
from pathlib import Path

from harness import HypothesisSpec, Prediction, RunRequest, hookimpl

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "writing-a-hypothesis.md"


def ledger(folder: str) -> dict:
    return json.loads(Path(folder, "ledger.json").read_text())


def test_cheap_hypotheses_reach_their_verdicts_sharing_runs(harness_cli):
    ran = harness_cli("hypotheses", "run", "H-INTENSITY-SCALE", "H-GS2-CHANNEL-SUM", "H-REPORT-PROBE", "H-NORM-GAIN",
                      "--out", "led", "--sequential")
    assert ran.exit_code == 0, ran.output
    entries = {e["id"]: e for e in ledger("led")["hypotheses"]}
    assert {hid: (e["verdict"], e["agreement"]) for hid, e in entries.items()} == {
        "H-INTENSITY-SCALE": ("refuted", "agrees"),
        "H-GS2-CHANNEL-SUM": ("supported", "agrees"),
        "H-REPORT-PROBE": ("supported", "agrees"),
        "H-NORM-GAIN": ("needs stable", "not run"),
    }
    flip = entries["H-INTENSITY-SCALE"]["predictions"][0]["evidence"]
    assert [(e["run"], e["status"]) for e in flip] == [("baseline", "pass"), ("dataset_raw", "fail"), ("dataset_raw_pp", "fail")]
    runs = ledger("led")["runs"]
    assert len(runs) == 5, [r["description"] for r in runs]
    assert {r["stage"] for r in runs} == {"scale", "probe"}
    text = Path("led/ledger.md").read_text()
    for run in runs:
        assert f"(runs/{run['name']}/)" in text and Path("led", run["folder"], "report.json").is_file()
    assert "H-GS2-CHANNEL-SUM" in ran.output and "supported" in ran.output


def test_the_documented_example_runs_as_written(harness_cli, tmp_path):
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    assert len(code.splitlines()) < 40
    plugin = tmp_path / "my_hypothesis.py"
    plugin.write_text(code)
    ran = harness_cli("hypotheses", "run", "H-MINE", "-p", str(plugin), "--out", "mine", "--sequential")
    assert ran.exit_code == 0, ran.output
    (entry,) = ledger("mine")["hypotheses"]
    assert (entry["verdict"], entry["agreement"]) == ("supported", "agrees"), entry["reason"]
    assert {r["stage"] for r in ledger("mine")["runs"]} == {"group"}


def test_broken_hypothesis_plugins_are_warnings_not_fatal(harness_cli, tmp_path):
    (tmp_path / "raises_on_import.py").write_text("raise RuntimeError('not today')\n")
    (tmp_path / "raises_on_register.py").write_text(
        "from harness import hookimpl\n\n@hookimpl\ndef harness_register_hypotheses():\n    return [1 / 0]\n")
    plugins = ("-p", str(tmp_path / "raises_on_import.py"), "-p", str(tmp_path / "raises_on_register.py"))
    listed = harness_cli("hypotheses", "list", *plugins)
    assert listed.exit_code == 0
    assert "raises_on_import" in listed.output and "RuntimeError" in listed.output
    assert "hypotheses of plugin -p" in listed.output and "ZeroDivisionError" in listed.output
    assert "H-CONFIG" in listed.output and "H-LEGACY-ERA" in listed.output
    assert harness_cli("hypotheses", "run", "H-NOPE").exit_code == 2
    assert harness_cli("hypotheses", "run").exit_code == 2


def test_a_run_that_cannot_start_is_inconclusive_with_exit_1(harness_cli, register_plugin):
    class Typo:
        @hookimpl
        def harness_register_hypotheses(self):
            return [HypothesisSpec("H-TYPO", "typo", "a knob with a typo", RunRequest("sim_lines", knobs={"intensity_scal": "x"}),
                                   predictions=(Prediction("N-9", "scale", "passes"),))]

    register_plugin(Typo(), "typo")
    ran = harness_cli("hypotheses", "run", "H-TYPO", "--out", "typo", "--sequential")
    assert ran.exit_code == 1
    (entry,) = ledger("typo")["hypotheses"]
    assert entry["verdict"] == "inconclusive" and entry["run_failed"] and "intensity_scal" in entry["reason"]


def test_hypothesis_runs_on_a_local_dask_cluster_reach_the_same_verdict(harness_cli, tmp_path):
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    plugin = tmp_path / "my_hypothesis.py"
    plugin.write_text(code)
    ran = harness_cli("hypotheses", "run", "H-MINE", "-p", str(plugin), "--out", "on-dask")  # a LocalCluster by default
    assert ran.exit_code == 0, ran.output
    (entry,) = ledger("on-dask")["hypotheses"]
    assert (entry["verdict"], entry["agreement"]) == ("supported", "agrees"), entry["reason"]
