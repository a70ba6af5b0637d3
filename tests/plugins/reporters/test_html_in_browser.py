"""report.html as a browser shows it: headless Chromium dumps the DOM and takes a screenshot."""
from __future__ import annotations

import io
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from harness.report import REPORT_SCHEMA, Report
from harness.store import StageFiles
from plugins.reporters.html import write_html

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


class ElementText(HTMLParser):
    """Collects the text inside the element with a given id."""

    def __init__(self, element_id: str):
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth or dict(attrs).get("id") == self.element_id:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def broken_report(run_dir: Path) -> Report:
    """A diff that breaks at `normalize` (offsets check on B), with the scale artifacts for one figure."""
    failing = {"check": "O-2", "category": "offsets", "severity": "error", "side": "b", "stage": "normalize",
               "status": "fail", "measured": -1.0, "expected": 1.0, "tolerance": 1e-9, "report_only": False,
               "explanation": "coords_relative has the opposite sign", "known_break": "known break of sim_lines local_offset_sign=1"}
    stages = []
    for name in ("config", "normalize", "scale"):
        stages.append({"stage": name, "verdict": "equal", "category": None, "first_finding": None,
                       "sides": {s: {"status": "ok", "seconds": 0.1} for s in "ab"}, "comparisons": [],
                       "only": {"a": [], "b": []}, "findings": []})
    stages[1].update(verdict="break", category="offsets", first_finding=failing, findings=[failing])
    report = {"schema_version": REPORT_SCHEMA, "kind": "diff", "created": "2026-01-20T10:18:00+00:00",
              "settings": {"scenario": "gs2_ideal", "profile": "smoke", "seed": 42},
              "sides": {s: {"pipeline": "sim_lines", "knobs": {}, "knob_overrides": {}, "fatal": None} for s in "ab"},
              "knob_differences": {"local_offset_sign": {"a": -1, "b": 1}}, "stages": stages, "warnings": []}
    report = Report.from_json(report)
    for k, side in enumerate("ab"):
        StageFiles(run_dir / side, "scale").write({"intensity_scale": np.float32(988.2 - 700 * k),
                                                   "expected_scale": np.float64(0.6)}, {"status": "ok"})
    return report


def chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={cwd / 'profile'}", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=90, check=False)


def test_first_break_is_shown_and_the_page_renders(tmp_path):
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"chromium not installed: {CHROMIUM} is missing (Debian package `chromium`); "
                    "the page is still checked as text by test_report_formats.py")
    run = tmp_path / "run"
    write_html(broken_report(run), run, Console(file=io.StringIO()))
    page = (run / "report.html").resolve().as_uri()

    dumped = chromium("--dump-dom", page, cwd=tmp_path)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    first = ElementText("first-break")
    first.feed(dumped.stdout)
    shown = " ".join("".join(first.parts).split())
    assert "normalize" in shown and "O-2" in shown and "local_offset_sign=1" in shown, shown
    assert dumped.stdout.count("data:image/png;base64,") == 1  # the scale chain figure

    shot = tmp_path / "shot.png"
    taken = chromium(f"--screenshot={shot}", "--window-size=1400,1000", page, cwd=tmp_path)
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1400, 1000)
    assert len(data) > 20_000  # a blank page compresses to a few kilobytes
