"""The `harness` command end to end on the small test pipelines: runs, diffs, cache, errors, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import REPORT_SCHEMA, CheckResult, CheckSpec, HypothesisSpec, ReporterSpec, RunRequest, hookimpl
from harness.compare import Comparison


def report(run_dir: str | Path) -> dict:
    return json.loads((Path(run_dir) / "report.json").read_text())


def statuses(rep: dict, side: str) -> dict[str, str]:
    return {entry["stage"]: entry["sides"][side]["status"] for entry in rep["stages"]}


def hashes(run_dir: str | Path, side: str) -> dict[str, str]:
    out = {}
    for path in sorted((Path(run_dir) / side).glob("*.json")):
        record = json.loads(path.read_text())
        for name, info in record.get("artifacts", {}).items():
            out[f"{record['stage']}/{name}"] = info["sha256"]
    return out


def test_run_stores_artifacts_and_exits_zero(harness_cli, sample_plugin):
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "r1")
    assert result.exit_code == 0, result.output
    rep = report("r1")
    assert [e["verdict"] for e in rep["stages"]] == ["ok"] * 4
    record = json.loads(Path("r1/a/simulate.json").read_text())
    assert record["seeds"] == {"noise": record["seeds"]["noise"]} and record["run_seed"] == 42
    assert record["artifacts"]["diffraction"]["dtype"] == "float32"
    assert "no break" in result.output


def test_diff_flags_first_difference_and_exits_one(harness_cli, sample_plugin):
    result = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "d1")
    assert result.exit_code == 1, result.output
    rep = report("d1")
    assert [e["verdict"] for e in rep["stages"]] == ["equal", "equal", "equal", "break"]
    assert rep["first_difference"]["stage"] == "normalize"
    first = rep["categories"]["normalization"]
    assert first["check"] == "relation:X" and first["explanation"].startswith("X: B = "), first
    assert "× A" in first["explanation"], "wave_b divides by the total: a constant factor"
    assert "first break at normalize [normalization]" in result.output


def test_same_seed_gives_bitwise_identical_artifacts_on_two_runs_and_both_sides(harness_cli, sample_plugin):
    assert harness_cli("diff", "--a", "wave_a", "--b", "wave_a", "-p", sample_plugin, "--out", "s1", "--no-cache").exit_code == 0
    assert harness_cli("diff", "--a", "wave_a", "--b", "wave_a", "-p", sample_plugin, "--out", "s2", "--no-cache").exit_code == 0
    assert hashes("s1", "a") == hashes("s2", "a") == hashes("s1", "b")
    assert len(hashes("s1", "a")) == 5
    assert harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "s3", "--seed", "7").exit_code == 0
    assert hashes("s3", "a")["simulate/diffraction"] != hashes("s1", "a")["simulate/diffraction"]


def test_second_run_hits_the_cache_for_every_stage(harness_cli, sample_plugin):
    harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "c1")
    harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "c2", "--jobs", "1")
    rep = report("c2")
    assert set(statuses(rep, "a").values()) == {"cached"} and set(statuses(rep, "b").values()) == {"cached"}
    assert hashes("c1", "a") == hashes("c2", "a")


def test_knob_change_recomputes_only_from_the_first_stage_that_reads_it(harness_cli, sample_plugin):
    harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "k1")
    harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "k2", "--set", "gain=2")
    assert statuses(report("k2"), "a") == {"config": "cached", "probe": "cached", "simulate": "cached", "normalize": "ok"}
    harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "k3", "--set", "width=5")
    assert statuses(report("k3"), "a") == {"config": "cached", "probe": "ok", "simulate": "ok", "normalize": "ok"}


def test_corrupted_npz_in_the_cache_is_detected_and_recomputed(harness_cli, sample_plugin):
    harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "x1")
    key = json.loads(Path("x1/a/simulate.json").read_text())["key"]
    cached = next(Path("cache").rglob(f"{key}/simulate.npz"))
    data = cached.read_bytes()
    cached.write_bytes(data[: len(data) // 3])
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "x2")
    assert result.exit_code == 0
    assert statuses(report("x2"), "a")["simulate"] == "ok"
    assert "failed their checksum; recomputing" in result.stderr
    assert hashes("x2", "a") == hashes("x1", "a")


def test_raising_stage_gives_error_verdict_and_the_report_is_still_written(harness_cli, sample_plugin):
    result = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "e1",
                         "--set", "a.fail_at=simulate")
    assert result.exit_code == 3, result.output
    rep = report("e1")
    assert statuses(rep, "a") == {"config": "ok", "probe": "ok", "simulate": "error", "normalize": "skipped"}
    assert statuses(rep, "b") == {"config": "ok", "probe": "ok", "simulate": "ok", "normalize": "ok"}
    entry = rep["stages"][2]
    assert entry["verdict"] == "error"
    assert "RuntimeError: requested failure at simulate" in entry["sides"]["a"]["error"]
    assert "Traceback" in entry["sides"]["a"]["traceback"]
    assert [e["verdict"] for e in rep["stages"][:2]] == ["equal", "equal"]
    assert json.loads(Path("e1/a/normalize.json").read_text())["reason"] == "skipped because stage 'simulate' failed"


@pytest.mark.parametrize(
    "args, message",
    [
        (("run", "nope"), "unknown pipeline 'nope'; valid pipelines: "),
        (("run", "wave_a", "--stage", "simulat"), "unknown stage 'simulat'; valid stages: config, probe, object"),
        (("run", "wave_a", "--scenario", "gs9"), "unknown scenario 'gs9' for pipeline 'wave_a'; valid scenarios: tiny, other"),
        (("run", "wave_a", "--profile", "huge"), "unknown profile 'huge' for pipeline 'wave_a'; valid profiles: smoke, stable, full"),
        (("run", "wave_a", "--set", "gian=2"), "unknown knob 'gian' for pipeline 'wave_a'; valid knobs: fail_at, gain, width"),
        (("run", "wave_a", "--set", "gain=lots"), "invalid value 'lots' for knob 'gain': expected float"),
        (("run", "wave_a", "--set", "fail_at=never"), "invalid value 'never' for knob 'fail_at'; valid values: none, config"),
        (("diff", "--a", "wave_a", "--b", "wave_c"), "unknown pipeline 'wave_c'; valid pipelines: "),
        (("diff", "--a", "wave_a", "--b", "wave_b", "--format", "pdf"), "unknown format 'pdf'; valid formats: console"),
        (("run", "wave_a", "--set", "gain"), "--set expects knob=value, got 'gain'"),
    ],
)
def test_bad_input_is_one_line_with_valid_choices_exit_two_and_nothing_written(harness_cli, sample_plugin, args, message):
    result = harness_cli(*args, "-p", sample_plugin)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not Path("runs").exists()


def test_gpu_request_without_a_gpu_is_a_clear_usage_error(harness_cli, sample_plugin):
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--device", "gpu")
    assert result.exit_code == 2
    assert "--device gpu was requested but TensorFlow sees no GPU" in result.stderr


def test_show_renders_a_stored_run_with_its_exit_code(harness_cli, sample_plugin):
    harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "v1")
    result = harness_cli("show", "v1", "--stage", "normalize")
    assert result.exit_code == 1
    assert "first break at normalize [normalization]" in result.output
    assert "stage normalize: break" in result.output
    missing = harness_cli("show", "nowhere")
    assert missing.exit_code == 2 and "holds no report.json" in missing.stderr


def test_json_format_prints_the_schema_versioned_report(harness_cli, sample_plugin):
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "j1", "--format", "json")
    printed = json.loads(result.stdout)
    assert printed["schema_version"] == REPORT_SCHEMA and printed["exit_code"] == 0
    assert printed == report("j1")


def test_list_shows_each_kind_with_its_source(harness_cli, sample_plugin):
    for kind in ("pipelines", "stages", "knobs", "scenarios", "checks", "hypotheses", "reporters", "plugins"):
        result = harness_cli("list", kind, "-p", sample_plugin)
        assert result.exit_code == 0, kind
    assert f"| wave_a | - | 4 | tiny, other | smoke, stable, full | -p {sample_plugin} |" in harness_cli(
        "list", "pipelines", "-p", sample_plugin, "--format", "markdown").output
    assert "normalize" in harness_cli("list", "knobs", "-p", sample_plugin).output
    markdown = harness_cli("list", "reporters", "--format", "markdown").output
    assert markdown.startswith("| format | what it writes | default | from |")


def test_help_documents_the_exit_codes(harness_cli):
    text = harness_cli("diff", "--help").output
    assert "2 usage or configuration error; 3 a stage errored" in " ".join(text.split())


def test_lifecycle_hooks_fire_in_the_worker(harness_cli, sample_plugin, tmp_path, monkeypatch):
    events_file = tmp_path / "events.jsonl"
    monkeypatch.setenv("HARNESS_TEST_EVENTS", str(events_file))
    plugin = str(Path(__file__).parents[1] / "harness" / "lifecycle_plugin.py")
    result = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "-p", plugin,
                         "--out", "l1", "--set", "b.fail_at=probe", "--no-cache")
    assert result.exit_code == 3
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    a_events = [(e["hook"], e["stage"]) for e in events if e["side"] == "a"]
    assert a_events == [(h, s) for s in ("config", "probe", "simulate", "normalize") for h in ("before", "after")]
    assert ("error", "probe") in [(e["hook"], e["stage"]) for e in events if e["side"] == "b"]
    assert all(e["has_traceback"] for e in events if e["hook"] == "error")
    config = json.loads(Path("l1/a/config.json").read_text())
    assert config["artifacts"]["config"]["value"]["wrapped_by"] == "lifecycle_plugin"


def test_registered_checks_feed_verdicts_and_known_breaks_are_labelled(harness_cli, sample_plugin, register_plugin):
    def unit_gain(inp):
        total = float(inp.artifacts["X"].sum()) / float(inp.artifacts["diffraction"].sum())
        return CheckResult(total, 1.0, 1e-6, abs(total - 1.0) <= 1e-6, f"X/diffraction sum ratio {total:.3g}")

    class Checks:
        @hookimpl
        def harness_register_checks(self):
            return [CheckSpec("T-1", "normalization", "normalize", "error", unit_gain, 1e-6, "gain is one",
                              pipelines=("wave_a",), known_breaks={"gain": (2.0,)})]

    register_plugin(Checks(), "test-checks")
    ok = harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "t0")
    t1_finding = next(f for f in report("t0")["stages"][3]["findings"] if f["check"] == "T-1")
    assert ok.exit_code == 0 and t1_finding["status"] == "pass"
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "t1", "--set", "gain=2")
    assert result.exit_code == 1
    rep = report("t1")
    assert rep["first_break"]["stage"] == "normalize" and rep["first_break"]["category"] == "normalization"
    assert rep["first_break"]["finding"]["known_break"] == "known break of wave_a gain=2"
    assert rep["categories"]["normalization"]["check"] == "T-1"
    assert "first break at normalize [normalization]" in result.output


def test_comparator_hook_can_declare_an_expected_difference(harness_cli, sample_plugin, register_plugin):
    class Expected:
        @hookimpl
        def harness_select_comparator(self, stage, artifact, a, b, context):
            if artifact == "X":
                return lambda name, a, b, tol: Comparison(name, "expected", "array", "by design", reason="b divides by the total")
            return None

    register_plugin(Expected(), "test-expected")
    result = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "x1")
    assert result.exit_code == 0
    assert report("x1")["stages"][3]["verdict"] == "expected"


def test_reporter_and_hypothesis_hooks_register_records(harness_cli, sample_plugin, register_plugin):
    class Extra:
        @hookimpl
        def harness_register_reporters(self):
            return [ReporterSpec("stagelist", lambda rep, run_dir, console: (run_dir / "stages.txt").write_text(
                ",".join(e.stage for e in rep.stages)), "stage names to a file")]

        @hookimpl
        def harness_register_hypotheses(self):
            return [HypothesisSpec("H-TEST", "test hypothesis", "gain matters", RunRequest("wave_a"),
                                   published_verdict="untested")]

    register_plugin(Extra(), "test-extra")
    assert harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "p1", "--format", "console,stagelist").exit_code == 0
    assert Path("p1/stages.txt").read_text() == "config,probe,simulate,normalize"
    assert "H-TEST" in harness_cli("list", "hypotheses").output
