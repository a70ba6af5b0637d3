"""`harness replay`: one stored stage run again in this process, compared with what the run stored."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from harness import hookimpl
from harness.store import StageFiles
from tests.conftest import SAMPLE_PIPELINES


def folder_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its SHA-256: what must not change when a run is replayed."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def wave_run(harness_cli, sample_plugin) -> Path:
    """A diff of the two sample pipelines, side b with a non-default knob, stored in `d1`."""
    result = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--set", "b.gain=2", "--out", "d1")
    assert result.exit_code == 1, result.output
    return Path("d1")


def test_replaying_a_stored_stage_reproduces_its_outputs_bit_for_bit(harness_cli, wave_run):
    for side, stage in (("a", "config"), ("a", "simulate"), ("b", "normalize")):
        result = harness_cli("replay", wave_run, "--side", side, "--stage", stage)
        assert result.exit_code == 0, result.output
        assert "within tolerance:" not in result.stdout and "differs:" not in result.stdout
    simulate = harness_cli("replay", wave_run, "--side", "a", "--stage", "simulate").stdout
    assert "replay a/simulate of d1: pipeline wave_a, scenario tiny, profile smoke, seed 42" in simulate
    assert "inputs: probe (from probe); checksums verified" in simulate
    assert "diffraction  identical: same checksum as stored" in simulate
    assert "2 identical, 0 within tolerance, 0 differ" in simulate


def test_the_run_folder_and_the_cache_are_unchanged_after_replay(harness_cli, wave_run, tmp_path):
    before = folder_digest(tmp_path)
    assert harness_cli("replay", wave_run, "--side", "b", "--stage", "normalize").exit_code == 0
    assert harness_cli("replay", wave_run, "--side", "a", "--stage", "simulate", "--out", tmp_path.parent / f"{tmp_path.name}-fresh").exit_code == 0
    assert harness_cli("replay", wave_run, "--side", "a", "--stage", "probe", "--out", "d1/a").exit_code == 2
    assert folder_digest(tmp_path) == before


def test_out_stores_the_fresh_outputs_in_the_store_format(harness_cli, wave_run):
    result = harness_cli("replay", wave_run, "--side", "a", "--stage", "simulate", "--out", "fresh")
    assert result.exit_code == 0, result.output
    fresh, stored = StageFiles(Path("fresh"), "simulate"), StageFiles(wave_run / "a", "simulate")
    fresh_record, stored_record = fresh.read_record(), stored.read_record()
    assert fresh.is_intact(fresh_record)
    assert fresh_record["replay_of"] == str(wave_run / "a" / "simulate.json")
    assert fresh_record["seeds"] == stored_record["seeds"] and fresh_record["knobs"] == stored_record["knobs"]
    assert {n: a["sha256"] for n, a in fresh_record["artifacts"].items()} == {n: a["sha256"] for n, a in stored_record["artifacts"].items()}
    np.testing.assert_array_equal(fresh.load(fresh_record)["diffraction"], stored.load(stored_record)["diffraction"])
    assert "fresh outputs in" in result.stdout


def test_a_stage_whose_code_changed_since_the_run_is_reported_as_differing(harness_cli, tmp_path, monkeypatch):
    plugin = tmp_path / "wave_plugin.py"
    plugin.write_text(SAMPLE_PIPELINES.read_text())
    assert harness_cli("run", "wave_a", "-p", "wave_plugin.py", "--out", "r1").exit_code == 0
    plain = 'return {"X": (diffraction * ctx.knobs["gain"]).astype(np.float32)}'
    plugin.write_text(plugin.read_text().replace(plain, plain.replace('ctx.knobs["gain"]', 'ctx.knobs["gain"] * 3.0')))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the relative -p path is found from the folder the run started in
    result = harness_cli("replay", "../r1", "--stage", "normalize")
    assert result.exit_code == 1, result.output
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("X "))
    assert "differs:" in line and "max rel 2" in line and "would pass at atol" in line
    assert "code: changed since the run" in result.stdout
    assert "0 identical, 0 within tolerance, 1 differ" in result.stdout
    assert harness_cli("replay", "../r1", "--stage", "simulate").exit_code == 0


def test_a_stage_that_raises_exits_3_with_its_traceback(harness_cli, sample_plugin):
    assert harness_cli("run", "wave_a", "-p", sample_plugin, "--set", "fail_at=normalize", "--out", "f1").exit_code == 3
    result = harness_cli("replay", "f1", "--stage", "normalize")
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "in _maybe_fail" in result.stderr and "RuntimeError: requested failure at normalize" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: stage 'normalize' of side a raised RuntimeError: requested failure at normalize; replay with --pdb to debug it")


def test_pdb_starts_the_debugger_post_mortem_on_the_stage_exception(harness_cli, sample_plugin, monkeypatch):
    assert harness_cli("run", "wave_a", "-p", sample_plugin, "--set", "fail_at=probe", "--out", "f2").exit_code == 3
    debugged = []
    monkeypatch.setattr("pdb.post_mortem", lambda tb: debugged.append(tb))
    result = harness_cli("replay", "f2", "--stage", "probe", "--pdb")
    assert result.exit_code == 3
    assert len(debugged) == 1
    innermost = debugged[0]
    while innermost.tb_next is not None:
        innermost = innermost.tb_next
    assert innermost.tb_frame.f_code.co_name == "_maybe_fail"
    assert "--pdb to debug" not in result.stderr
    assert harness_cli("replay", "f2", "--stage", "config", "--pdb").exit_code == 0 and len(debugged) == 1


def test_replay_goes_through_the_stage_hooks_so_wrappers_apply(harness_cli, wave_run, register_plugin):
    seen = []

    class Wrapper:
        @hookimpl
        def harness_before_stage_run(self, ctx, stage):
            seen.append(("before", stage.name, ctx.knobs["gain"]))

        @hookimpl(wrapper=True)
        def harness_run_stage(self, ctx, stage, inputs):
            seen.append(("wrap", stage.name, sorted(inputs)))
            return (yield)

    register_plugin(Wrapper(), name="wrapper")
    assert harness_cli("replay", wave_run, "--side", "b", "--stage", "normalize").exit_code == 0
    assert seen == [("before", "normalize", 2.0), ("wrap", "normalize", ["diffraction"])]


def test_unknown_side_stage_or_run_folder_is_one_line_naming_the_valid_choices(harness_cli, sample_plugin, wave_run):
    assert harness_cli("run", "wave_a", "-p", sample_plugin, "--set", "fail_at=simulate", "--out", "f3").exit_code == 3
    cases = {
        ("d1", "--side", "c", "--stage", "probe"): "error: unknown side 'c' for d1; sides: a (wave_a), b (wave_b)",
        ("d1", "--stage", "probe"): "error: no --side given for d1; sides: a (wave_a), b (wave_b)",
        ("d1", "--side", "a", "--stage", "train"): "error: stage 'train' is not stored for side a of d1; stages stored: config, probe, simulate, normalize",
        ("f3", "--stage", "normalize"): "error: stage 'normalize' is not stored for side a of f3; stages stored: config, probe, simulate",
        ("nowhere", "--stage", "probe"): "error: 'nowhere' holds no readable manifest.json or report.json",
    }
    for args, expected in cases.items():
        result = harness_cli("replay", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""


def test_a_damaged_input_is_one_error_naming_it(harness_cli, wave_run):
    npz = wave_run / "a" / "simulate.npz"
    npz.write_bytes(npz.read_bytes()[:100])
    result = harness_cli("replay", wave_run, "--side", "a", "--stage", "normalize")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "input 'diffraction' of stage 'normalize' (stored by stage 'simulate') is damaged" in result.stderr
    assert str(npz) in result.stderr and "checksum differs" in result.stderr


def test_a_reference_pipeline_stage_replays_identically(harness_cli):
    assert harness_cli("run", "sim_lines", "--stage", "normalize", "--format", "json", "--out", "s1").exit_code == 0
    for stage in ("group", "normalize"):
        result = harness_cli("replay", "s1", "--stage", stage)
        assert result.exit_code == 0, result.output
        assert " 0 within tolerance, 0 differ" in result.stdout
    assert "X.train                 identical: same checksum as stored" in result.stdout
