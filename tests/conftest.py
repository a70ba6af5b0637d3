"""Shared paths for the test suite, and the guard every CLI test runs under."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.store import TEMPORARY_MARK

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PIPELINES = ROOT / "tests" / "harness" / "sample_pipelines.py"
TOKEN_VARIABLE = "HARNESS_TEST_PROCESS_TOKEN"
CLI_FIXTURES = ("harness_cli", "harness_process")


@pytest.fixture
def sample_plugin() -> str:
    """The `-p` argument that loads the two small test pipelines wave_a and wave_b."""
    return str(SAMPLE_PIPELINES)


@pytest.fixture(autouse=True)
def nothing_left_behind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After every CLI test: no temporary or partial file under the test's folder (run folders and
    cache), and no process the command started still alive. Processes are recognised by a token in
    the environment they inherit, which survives orphaning."""
    token = uuid.uuid4().hex
    monkeypatch.setenv(TOKEN_VARIABLE, token)
    if not any(name in request.fixturenames for name in CLI_FIXTURES):
        yield
        return
    folder = request.getfixturevalue("tmp_path")
    yield
    assert leftover_files(folder) == [], "temporary or partial files were left behind"
    assert processes_with_token(token) == [], "processes the command started are still alive"


def leftover_files(folder: Path) -> list[str]:
    """Files under `folder` named as an unfinished write leaves them."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if TEMPORARY_MARK in p.name or p.name.endswith((".partial", ".tmp")))


def processes_with_token(token: str) -> list[str]:
    """Live processes (other than this one and its multiprocessing resource tracker) carrying `token`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if f"{TOKEN_VARIABLE}={token}".encode() not in environ or state[0] == "Z":
            continue
        if int(state[1]) == os.getpid() and "resource_tracker" in command:
            continue  # this interpreter's own helper, shared by every in-process command
        found.append(f"{entry.name}: {command}")
    return found


def _hear_ctrl_c() -> None:
    """Let the command hear Ctrl-C as it does in a terminal, even when this test run was started in
    the background (a shell starts background jobs with SIGINT ignored, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class HarnessProcess:
    """`harness ...` as a separate process, as a user runs it: private cache, its own session."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env = {**os.environ, "HARNESS_CACHE_DIR": str(folder / "cache"), "HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1",
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        """Start the command; its own process group, so a test can send it Ctrl-C as a terminal would."""
        return subprocess.Popen([sys.executable, "-m", "harness", *map(str, args)], cwd=self.folder,
                                env={**self.env, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, preexec_fn=_hear_ctrl_c)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """Run the command to its end."""
        process = self.start(*args, **env)
        stdout, stderr = process.communicate(timeout=600)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture
def harness_process(tmp_path: Path) -> HarnessProcess:
    """Run `python -m harness ...` in a subprocess, in this test's folder with a private stage cache."""
    return HarnessProcess(tmp_path)


class Runs:
    """Runs the CLI in-process against one shared cache and returns (exit code, report, output)."""

    def __init__(self, root: Path):
        self.root = root
        self.runner = CliRunner(env={"HARNESS_CACHE_DIR": str(root / "cache"), "HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1"})

    def __call__(self, name: str, *args: str) -> tuple[int, dict[str, Any], str]:
        result = self.runner.invoke(main, [*args, "--out", str(self.root / name)], catch_exceptions=False)
        return result.exit_code, json.loads((self.root / name / "report.json").read_text()), result.output

    def hashes(self, name: str, side: str) -> dict[str, str]:
        out = {}
        for path in sorted((self.root / name / side).glob("*.json")):
            record = json.loads(path.read_text())
            out.update({f"{record['stage']}/{k}": v["sha256"] for k, v in record.get("artifacts", {}).items()})
        return out


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """One CLI runner and stage cache (with the oracle's, under it) for the session: the end-to-end tests that start
    TensorFlow share it, so a smoke diff one module ran is read from the cache by the next."""
    return Runs(tmp_path_factory.mktemp("reference"))
