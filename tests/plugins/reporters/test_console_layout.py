"""The console format where it lands: off a terminal it fits the width (80 columns, or COLUMNS) in a
compact layout, the default smoke diff in at most 60 lines, and GITHUB_STEP_SUMMARY gets the Markdown."""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from harness.cli import main
from plugins.reporters.console import render_console


def handmade_report():
    """The hand-made diff of test_report_formats.py (tests are loaded by path, not as a package)."""
    spec = importlib.util.spec_from_file_location("report_formats", Path(__file__).with_name("test_report_formats.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handmade_report()


def test_default_smoke_diff_fits_60_lines_of_at_most_100_characters(tmp_path, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    runner = CliRunner(env={"HARNESS_CACHE_DIR": str(tmp_path / "cache"), "HARNESS_DISABLE_PLUGIN_AUTOLOAD": "1"})
    result = runner.invoke(main, ["diff", "--a", "dose_legacy", "--b", "sim_lines", "--stage", "all",
                                  "--out", str(tmp_path / "run")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert 20 <= len(lines) <= 60, result.stdout
    assert max(len(line) for line in lines) <= 80, result.stdout
    assert any(line.split()[:2] == ["evaluate", "cached"] or line.split()[:2] == ["evaluate", "ok"] for line in lines)
    assert lines[-2].startswith("no break; stages: 13 expected") and lines[-1] == f"report in {tmp_path / 'run'}"


def render(width: int, tmp_path: Path) -> list[str]:
    output = io.StringIO()
    render_console(handmade_report(), tmp_path, Console(file=output, width=width, force_terminal=False))
    return output.getvalue().splitlines()


def test_compact_layout_follows_the_width_and_lists_what_did_not_apply(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    for width in (60, 80, 120):
        lines = render(width, tmp_path)
        assert max(len(line) for line in lines) <= width, "\n".join(lines)
    lines = render(80, tmp_path)
    header = next(line for line in lines if line.split()[:2] == ["stage", "A"])
    assert header.split() == ["stage", "A", "B", "verdict", "norma.", "offse.", "ampli."]
    probe = next(line for line in lines if "probe " in line and "break" in line)
    assert probe.startswith("▶") and "FAIL N-1" in probe
    assert "not applicable on A: N-9@scale (missing artifact 'X.train')" in lines
    assert any(line.startswith("  fail N-1 (A): mean |mask·P|") for line in lines)
    assert lines[-1] == f"report in {tmp_path}"


def test_github_step_summary_gets_the_markdown_report(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    render(80, tmp_path)
    text = summary.read_text()
    assert text.startswith("earlier step\n# harness diff: A dose_legacy vs B sim_lines")
    assert "| stage | A | B | verdict |" in text and "## Checks that did not apply" in text
