"""`harness sweep`: plan expansion and validation, and sweeps on a 2-worker LocalCluster that give the same
table and the same artifact bits as a sequential sweep (also with a worker killed mid-run, and by value)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.manager import PluginOptions, build_registry
from harness.sweep.plan import SweepPlan, SweepPoint, expand, load_plan_file, parse_seeds, parse_vary, validate

HERE = Path(__file__).parent
KILL_PLUGIN = HERE / "sweep_kill_plugin.py"
SWEEP = ("--a", "wave_a", "--b", "wave_b", "--seeds", "1-4", "--column", "artifact:X", "--column", "artifact:energy")


@pytest.fixture
def registry(sample_plugin, monkeypatch):
    monkeypatch.setenv("HARNESS_DISABLE_PLUGIN_AUTOLOAD", "1")
    return build_registry(PluginOptions.from_cli((sample_plugin,)))


def test_seeds_parse_ranges_and_lists_in_order_once():
    assert parse_seeds("1-3,7,2") == (1, 2, 3, 7)
    with pytest.raises(UsageError, match="--seeds"):
        parse_seeds("one")


def test_expand_is_every_combination_with_seeds_innermost():
    plan = SweepPlan(sides={"a": "wave_a", "b": "wave_b"}, seeds=(1, 2), scenarios=("tiny", "other"),
                     vary=parse_vary(("b.gain=1,2",)))
    points = expand(plan)
    assert len(points) == 8
    assert [(p.scenario, p.knobs["b.gain"], p.seed) for p in points[:3]] == [("tiny", "1", 1), ("tiny", "1", 2), ("tiny", "2", 1)]
    assert SweepPoint(1, "tiny", {"gain": "2", "b.width": "3"}).overrides(("a", "b")) == \
        {"a": {"gain": "2"}, "b": {"gain": "2", "width": "3"}}


@pytest.mark.parametrize("change, message", [
    ({"scenarios": ("nope",)}, "unknown scenario 'nope'.*valid scenarios: tiny, other"),
    ({"vary": {"b.nope": ("1",)}}, "unknown knob 'nope'.*valid knobs"),
    ({"vary": {"c.gain": ("1",)}}, "unknown side 'c'; valid sides: a, b"),
    ({"vary": {"fail_at": ("sometimes",)}}, "fail_at"),
    ({"columns": ("Z-99",)}, "unknown column 'Z-99'"),
    ({"columns": ("artifact:nope",)}, "unknown artifact column 'nope'.*valid artifact columns: X, config"),
    ({"stage": "nowhere"}, "nowhere"),
])
def test_validation_names_the_bad_value_and_the_valid_ones(registry, change, message):
    plan = SweepPlan(sides={"a": "wave_a", "b": "wave_b"}, **change)
    with pytest.raises(UsageError, match=message):
        validate(plan, registry)


def test_plan_file_keys_are_checked_and_normalised(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('a = "wave_a"\nseeds = [1, 2]\n[vary]\n"b.gain" = [1, 2]\n')
    assert load_plan_file(path) == {"a": "wave_a", "seeds": "1,2", "vary": {"b.gain": ("1", "2")}}
    path.write_text('a = "wave_a"\nseed = 3\n')
    with pytest.raises(UsageError, match="unknown key 'seed'; valid keys: a, b, seeds"):
        load_plan_file(path)


def test_unknown_pipeline_is_a_usage_error_before_anything_runs(harness_cli, sample_plugin, tmp_path):
    result = harness_cli("sweep", "-p", sample_plugin, "--a", "wave_z", "--out", tmp_path / "s", "--sequential")
    assert result.exit_code == 2
    assert "unknown pipeline 'wave_z'; valid pipelines:" in result.output
    assert not (tmp_path / "s").exists()


def sweep(harness_cli, sample_plugin, out: Path, *extra) -> dict:
    result = harness_cli("sweep", "-p", sample_plugin, "-p", KILL_PLUGIN, *SWEEP, "--out", out,
                         "--cache-dir", out.parent / f"{out.name}-cache", *extra)
    assert result.exit_code == 1, result.output  # wave_b normalises differently: every run differs
    return json.loads((out / "results.json").read_text())


def artifact_checksums(out: Path) -> dict[str, str]:
    """Every stored artifact's checksum in every run of the sweep, by run/side/stage/artifact."""
    found = {}
    for record in sorted(out.glob("runs/*/*/*.json")):
        data = json.loads(record.read_text())
        for name, info in data.get("artifacts", {}).items():
            found[f"{record.relative_to(out).with_suffix('')}/{name}"] = info["sha256"]
    return found


@pytest.fixture
def sequential(harness_cli, sample_plugin, tmp_path):
    out = tmp_path / "sequential"
    return sweep(harness_cli, sample_plugin, out, "--sequential"), artifact_checksums(out)


def test_dask_sweep_equals_the_sequential_one_even_when_a_worker_dies(harness_cli, sample_plugin, tmp_path,
                                                                      sequential, monkeypatch):
    table, checksums = sequential
    assert [row["seed"] for row in table["rows"]] == [1, 2, 3, 4]
    assert len(checksums) == 4 * 2 * 5  # 4 runs × 2 sides × (config, probe, diffraction, energy, X)
    plain = sweep(harness_cli, sample_plugin, tmp_path / "dask", "--workers", "2")
    assert plain == table
    assert artifact_checksums(tmp_path / "dask") == checksums
    # native log lines of each side-run go to its run folder, not to the user's terminal, as in a spawned worker
    assert all((run / side / "worker.log").is_file() for run in (tmp_path / "dask" / "runs").iterdir() for side in "ab")

    marker = tmp_path / "killed-once"
    monkeypatch.setenv("HARNESS_TEST_KILL_MARKER", str(marker))
    killed = sweep(harness_cli, sample_plugin, tmp_path / "killed", "--workers", "2")
    assert marker.exists()  # the worker running seed 2's side b did exit mid-run
    assert killed == table
    assert artifact_checksums(tmp_path / "killed") == checksums


def test_by_value_sweep_writes_the_same_files(harness_cli, sample_plugin, tmp_path, sequential):
    table, checksums = sequential
    out = tmp_path / "by-value"
    assert sweep(harness_cli, sample_plugin, out, "--workers", "2", "--no-shared-fs") == table
    assert artifact_checksums(out) == checksums
    assert not (tmp_path / "by-value-cache").exists() or not any((tmp_path / "by-value-cache").rglob("*.npz"))


def test_plan_file_sweep_writes_json_markdown_and_csv(harness_cli, sample_plugin, tmp_path):
    plan = tmp_path / "sweep.toml"
    plan.write_text('a = "wave_a"\nseeds = "1-2"\ncolumns = ["artifact:X"]\n[vary]\ngain = [1, 3]\n')
    out = tmp_path / "planned"
    result = harness_cli("sweep", "-p", sample_plugin, "--plan", plan, "--out", out, "--sequential")
    assert result.exit_code == 0, result.output
    table = json.loads((out / "results.json").read_text())
    assert [(row["seed"], row["knobs"]) for row in table["rows"]] == [(1, "gain=1"), (2, "gain=1"), (1, "gain=3"), (2, "gain=3")]
    means = [row["X/a mean"] for row in table["rows"]]
    assert means[2] == pytest.approx(3 * means[0])
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("run,seed,scenario,knobs,exit_code,first_break,error,X/a sha256")
    assert len(csv_lines) == 5
    assert (out / "results.md").read_text().startswith("| run | seed |")
