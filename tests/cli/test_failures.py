"""When something goes wrong: each failure gives one line, the right exit code, and loses nothing.

Every test here also runs under the `nothing_left_behind` guard of tests/conftest.py: no temporary
file under the run folders or the cache, no process of the command still alive.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from harness.store import StageFiles, file_sha256
from tests.conftest import leftover_files, processes_with_token, TOKEN_VARIABLE

SLOW = str(Path(__file__).with_name("slow_pipeline.py"))


def report(run_dir: str | Path) -> dict:
    return json.loads((Path(run_dir) / "report.json").read_text())


def statuses(run_dir: str | Path, side: str = "a") -> dict[str, str]:
    return {entry["stage"]: entry["sides"][side]["status"] for entry in report(run_dir)["stages"]}


def one_line(stderr: str) -> str:
    """The error line, asserting it is the only one and carries no traceback."""
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_rerunning_into_the_same_out_leaves_no_temporary_files(harness_cli, sample_plugin, tmp_path):
    for _ in range(3):
        result = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "same")
        assert result.exit_code == 1, result.output
    assert set(statuses("same").values()) == {"cached"}
    assert leftover_files(tmp_path) == []


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_a_seed_outside_the_stream_range_is_a_usage_error(harness_cli, sample_plugin, seed):
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--seed", seed, "--out", "r")
    assert result.exit_code == 2
    assert f"--seed must be an integer from 0 to 4294967295, got {seed}" in one_line(result.stderr)
    assert not Path("r").exists()


def test_an_empty_format_is_a_usage_error(harness_cli, sample_plugin):
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--format", "", "--out", "r")
    assert result.exit_code == 2
    assert "--format '' names no report format; see `harness list reporters`" in one_line(result.stderr)
    assert not Path("r").exists()


def test_an_unwritable_out_is_one_line_and_exit_two(harness_process, sample_plugin, tmp_path):
    (tmp_path / "blocker").write_text("a file where the run folder's parent should be")
    result = harness_process.run("run", "wave_a", "-p", sample_plugin, "--out", "blocker/run")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "cannot write the run folder blocker/run" in line and "choose a writable --out" in line


def test_an_unwritable_cache_runs_uncached_with_a_warning(harness_cli, sample_plugin, tmp_path):
    (tmp_path / "blocker").write_text("a file where the cache folder's parent should be")
    result = harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "r", "--cache-dir", "blocker/cache")
    assert result.exit_code == 0, result.output
    assert "warning: the stage cache blocker/cache cannot be written" in result.stderr
    assert "running without the cache" in result.stderr
    assert set(statuses("r").values()) == {"ok"}


def test_a_full_disk_while_writing_the_report_still_shows_it_and_exits_two(harness_cli, sample_plugin, monkeypatch):
    import harness.report as report_module

    real_write = report_module.atomic_write_json

    def disk_full_for_reports(path: Path, payload: object) -> None:
        if path.name == "report.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path.with_name(".report.json.tmp-1")))
        real_write(path, payload)

    monkeypatch.setattr(report_module, "atomic_write_json", disk_full_for_reports)
    result = harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "full")
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert "cannot write full/report.json: No space left on device; free disk space" in line
    assert "first break at normalize" in result.stdout
    assert StageFiles(Path("full/a"), "simulate").read_record()["status"] == "ok"


def _interrupt_in_probe(harness_process, tmp_path, send) -> tuple[int, str]:
    marker = tmp_path / "probe-started"
    process = harness_process.start("run", "wave_slow", "-p", SLOW, "--out", "slow", HARNESS_TEST_BLOCK=str(marker))
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    send(process)
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:  # it did not stop: do not leave it running after the test fails
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)
    return process.returncode, stderr


def test_ctrl_c_exits_130_naming_the_completed_stages_and_the_same_command_resumes(harness_process, tmp_path):
    code, stderr = _interrupt_in_probe(harness_process, tmp_path, ctrl_c)
    assert code == 130
    line = one_line(stderr)
    assert "interrupted by Ctrl-C; stages completed: a: config; run the same command again to resume" in line
    assert "Aborted!" not in stderr
    again = harness_process.run("run", "wave_slow", "-p", SLOW, "--out", "slow")
    assert again.returncode == 0, again.stderr
    assert statuses(tmp_path / "slow") == {"config": "cached", "probe": "ok", "simulate": "ok"}


def test_sigterm_exits_143_and_stops_the_workers(harness_process, tmp_path):
    code, stderr = _interrupt_in_probe(harness_process, tmp_path, lambda p: p.send_signal(signal.SIGTERM))
    assert code == 143
    assert "interrupted by SIGTERM; stages completed: a: config;" in one_line(stderr)


def ctrl_c(process) -> None:
    """Ctrl-C on a terminal signals the whole foreground process group: the host and its workers."""
    os.killpg(os.getpgid(process.pid), signal.SIGINT)


def test_a_diff_waits_for_its_workers_before_exiting(harness_process, sample_plugin):
    result = harness_process.run("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "d", "--no-cache")
    assert result.returncode == 1, result.stderr
    assert processes_with_token(os.environ[TOKEN_VARIABLE]) == []


def _damage(npz: Path) -> None:
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))


def test_verify_names_each_damaged_file_and_exits_one(harness_cli, sample_plugin):
    assert harness_cli("diff", "--a", "wave_a", "--b", "wave_b", "-p", sample_plugin, "--out", "v").exit_code == 1
    intact = harness_cli("verify", "v")
    assert intact.exit_code == 0 and "files intact" in intact.stdout
    _damage(Path("v/b/simulate.npz"))
    damaged = harness_cli("verify", "v")
    assert damaged.exit_code == 1
    assert "damaged: v/b/simulate.npz: checksum differs from the one recorded when it was written" in damaged.stdout
    assert "v/a/" not in damaged.stdout


def test_verify_refuses_an_artifact_that_needs_unpickling(harness_cli, sample_plugin):
    assert harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "p").exit_code == 0
    files = StageFiles(Path("p/a"), "normalize")
    record = files.read_record()
    files.npz.unlink()  # the run folder holds a link to the cache entry: replace, never write through it
    np.savez(files.npz, X=np.array([{"pickled": True}], dtype=object))
    files.json.unlink()
    files.json.write_text(json.dumps({**record, "npz_sha256": file_sha256(files.npz)}))
    result = harness_cli("verify", "p")
    assert result.exit_code == 1
    assert "damaged: p/a/normalize.npz: does not load: ValueError" in result.stdout


def test_show_names_damaged_files_and_show_verify_exits_one(harness_cli, sample_plugin):
    assert harness_cli("run", "wave_a", "-p", sample_plugin, "--out", "s", "--no-cache").exit_code == 0
    _damage(Path("s/a/probe.npz"))
    shown = harness_cli("show", "s")
    assert shown.exit_code == 0 and "no break" in shown.stdout
    assert "damaged: s/a/probe.npz" in shown.stderr
    checked = harness_cli("show", "s", "--verify")
    assert checked.exit_code == 1 and "damaged: s/a/probe.npz" in checked.stderr


def test_a_knob_naming_a_file_is_keyed_by_the_file_content(harness_cli, tmp_path):
    table = tmp_path / "table.txt"
    table.write_text("1 2 3\n")
    assert harness_cli("run", "wave_slow", "-p", SLOW, "--set", "table=file:table.txt", "--out", "t1").exit_code == 0
    table.write_text("4 5 6\n")
    assert harness_cli("run", "wave_slow", "-p", SLOW, "--set", "table=file:table.txt", "--out", "t2").exit_code == 0
    assert statuses("t2") == {"config": "cached", "probe": "ok", "simulate": "ok"}
    assert harness_cli("run", "wave_slow", "-p", SLOW, "--set", "table=file:table.txt", "--out", "t3").exit_code == 0
    assert set(statuses("t3").values()) == {"cached"}


def test_tables_in_a_pipe_fit_80_columns_and_keep_help_text_whole(harness_process):
    for args in (("list", "knobs"), ("list", "checks"), ("hypotheses", "list")):
        result = harness_process.run(*args, COLUMNS="80")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, args
    knobs = harness_process.run("list", "knobs").stdout
    assert "effect: L1: study-era probe normalisation and s_m = s_sim" in knobs


def test_columns_is_honoured(harness_process, sample_plugin):
    wide = harness_process.run("list", "scenarios", "-p", sample_plugin, COLUMNS="200").stdout
    assert "┃ pipeline" in wide and f"-p {sample_plugin}" in wide
    narrow = harness_process.run("list", "scenarios", "-p", sample_plugin, COLUMNS="60").stdout
    assert max(len(line) for line in narrow.splitlines()) <= 60 and "┃" not in narrow
