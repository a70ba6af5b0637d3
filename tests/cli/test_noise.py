"""`harness noise`, `--noise FLOOR` and `--check-determinism` end to end on small pipelines and on sim_lines."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.report import load_report

NOISE_PLUGIN = str(Path(__file__).with_name("noise_plugin.py"))


def floor_of(path: str) -> dict:
    return json.loads(Path(path).read_text())


def scores(run_dir: str, stage: str) -> dict[tuple[str, str, str], dict]:
    """(subject, name, side) → the noise score of one stage in report.json."""
    entry = next(e for e in json.loads(Path(run_dir, "report.json").read_text())["stages"] if e["stage"] == stage)
    return {(s["subject"], s["name"], s["side"]): s for s in entry.get("noise", [])}


def test_noise_floor_records_spread_and_check_values_and_scores_a_planted_gain(harness_cli):
    result = harness_cli("noise", "noisy", "-p", NOISE_PLUGIN, "--seeds", "5", "--out", "floor.json")
    assert result.exit_code == 0, result.output
    floor = floor_of("floor.json")
    assert (floor["schema_version"], floor["pipeline"], floor["scenario"], floor["profile"]) == (1, "noisy", "tiny", "smoke")
    assert floor["seeds"] == [1, 2, 3, 4, 5] and floor["stages"] == ["config", "simulate", "normalize"]
    x = floor["artifacts"]["normalize"]["X"]
    assert len(x["statistics"]["mean"]["values"]) == 5 and x["statistics"]["mean"]["std"] > 0
    assert 0 < x["pairs"]["relative"] < 1 and x["shape"] == [16, 24, 24]
    assert floor["artifacts"]["simulate"]["total"]["statistics"]["value"]["std"] > 0
    check = floor["checks"]["normalize"]["NZ-1"]
    assert check["min"] <= check["mean"] <= check["max"] and check["std"] > 0
    assert check["supported_tolerance"] == pytest.approx(abs(check["mean"] - check["expected"]) + 5 * check["std"])
    assert "NZ-1" in result.output and "floor.json" in result.output

    planted = harness_cli("diff", "--a", "noisy", "--b", "noisy", "-p", NOISE_PLUGIN, "--set", "b.gain=1.01",
                          "--noise", "floor.json", "--out", "planted", "--format", "console,markdown")
    x_score = scores("planted", "normalize")[("artifact", "X", "b-a")]
    assert x_score["z"] > 5 and not x_score["inside"], x_score
    on_b = scores("planted", "normalize")[("check", "NZ-1", "b")]
    assert on_b["z"] > 5 and not on_b["inside"] and on_b["supported_tolerance"] == pytest.approx(check["supported_tolerance"])
    assert scores("planted", "simulate")[("artifact", "diffraction", "b-a")]["inside"]
    assert "normalize: largest X" in planted.output and "outside the floor" in planted.output
    assert "against the noise floor" in Path("planted/report.md").read_text()
    assert load_report(Path("planted")).stage("normalize").loudest_noise.z > 5, "scores survive report.json"

    unchanged = harness_cli("diff", "--a", "noisy", "--b", "noisy", "-p", NOISE_PLUGIN, "--seed", "9",
                            "--noise", "floor.json", "--out", "unchanged")
    assert unchanged.exit_code == 0, unchanged.output
    found = [s for stage in ("simulate", "normalize") for s in scores("unchanged", stage).values()]
    assert found and all(s["inside"] for s in found)
    assert "every difference inside the floor" in unchanged.output


def test_a_floor_for_another_pipeline_scenario_or_profile_is_a_usage_error(harness_cli, sample_plugin):
    assert harness_cli("noise", "noisy", "-p", NOISE_PLUGIN, "--seeds", "2", "--stage", "simulate",
                       "--out", "floor.json").exit_code == 0
    for args in (("--a", "noisy", "--b", "noisy__unseeded"), ("--a", "noisy", "--b", "noisy", "--scenario", "other"),
                 ("--a", "noisy", "--b", "noisy", "--profile", "stable")):
        result = harness_cli("diff", *args, "-p", NOISE_PLUGIN, "--noise", "floor.json", "--out", "mismatch")
        assert result.exit_code == 2
        assert "floor.json was recorded for noisy/tiny/smoke" in result.output and result.output.count("\n") == 1
        assert not Path("mismatch").exists(), "nothing runs before the floor is checked"
    assert harness_cli("run", "noisy", "-p", NOISE_PLUGIN, "--noise", "nothing.json").exit_code == 2
    assert harness_cli("noise", "noisy", "-p", NOISE_PLUGIN, "--seeds", "1").exit_code == 2


def test_check_determinism_flags_an_unseeded_stage_and_passes_a_seeded_pipeline(harness_cli, sample_plugin):
    flagged = harness_cli("run", "noisy__unseeded", "-p", NOISE_PLUGIN, "--check-determinism", "--out", "unseeded")
    report = load_report(Path("unseeded"))
    assert report.stage("config").nondeterministic == {}
    assert report.stage("simulate").nondeterministic == {"a": "diffraction"}
    assert Path("unseeded/determinism/a/simulate.json").is_file()
    text = " ".join(flagged.output.split())  # the console wraps long lines
    assert "simulate: A: first differing artifact diffraction" in text
    assert "normalize: A: first differing artifact X (its inputs already differed: simulate)" in text

    clean = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--check-determinism", "--out", "seeded")
    assert all(not entry.nondeterministic for entry in load_report(Path("seeded")).stages)
    assert "every stage's artifacts were identical on the second run" in clean.output


def test_sim_lines_floor_up_to_normalize_scores_a_one_percent_gain(harness_cli):
    result = harness_cli("noise", "sim_lines", "--seeds", "3", "--stage", "normalize", "--out", "sl.json")
    assert result.exit_code == 0, result.output
    assert "X.train" in floor_of("sl.json")["artifacts"]["normalize"]
    harness_cli("diff", "--a", "sim_lines", "--b", "sim_lines__gain", "-p", NOISE_PLUGIN, "--set", "b.gain=1.01",
                "--stage", "normalize", "--noise", "sl.json", "--out", "gain")
    x = scores("gain", "normalize")[("artifact", "X.train", "b-a")]
    assert not x["inside"] and (x["z"] is None or abs(x["z"]) > 3), x
    assert all(s["inside"] for s in scores("gain", "group").values())
