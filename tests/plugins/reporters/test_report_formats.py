"""The markdown, junit, figures and html formats: on a real diff, re-rendered by `harness show`, and
on a hand-made report with a stage error, a known break, a warning and every figure's artifacts."""
from __future__ import annotations

import io
import json
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from harness.report import REPORT_SCHEMA, Report
from harness.store import StageFiles
from plugins.reporters.figures import FIGURES, render_figures, render_figures_format
from plugins.reporters.html import write_html
from plugins.reporters.junit import write_junit
from plugins.reporters.markdown import write_markdown

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FORMATS = ("markdown", "junit", "figures", "html")


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature and header chunk."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR", f"{path} is not a PNG"
    assert len(data) > 10_000, f"{path} is only {len(data)} bytes"
    return struct.unpack(">II", data[16:24])


def table_rows(markdown: str, first_header: str) -> tuple[list[str], list[list[str]]]:
    """Header and body cells of the Markdown table whose first column is `first_header`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return [c.strip() for c in lines[start].split("|")[1:-1]], rows


def element_text(html_text: str, element_id: str) -> str:
    match = re.search(rf'<section id="{element_id}"[^>]*>(.*?)</section>', html_text, re.S)
    assert match, f"no element with id {element_id}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def stage_mtimes(run_dir: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for side in ("a", "b") for p in (run_dir / side).iterdir()}


def test_reporters_are_registered(harness_manager):
    names = {spec.name for specs in harness_manager.pm.hook.harness_register_reporters() for spec in specs}
    assert set(FORMATS) <= names


def test_all_formats_on_a_real_diff_and_show_rerenders_html_without_recomputing(harness_cli):
    result = harness_cli("diff", "--a", "sim_lines", "--b", "sim_lines", "--stage", "scale", "--out", "r",
                         "--set", "b.intensity_scale=dataset_raw", "--format", "console," + ",".join(FORMATS))
    run = Path("r")
    report = json.loads((run / "report.json").read_text())
    assert result.exit_code == report["exit_code"] == 1, result.output
    assert "reporter" not in result.output, result.output  # no reporter failed
    scale = next(e for e in report["stages"] if e["stage"] == "scale")
    assert scale["verdict"] in ("differs", "break")

    markdown = (run / "report.md").read_text()
    header, rows = table_rows(markdown, "stage")
    assert header[:4] == ["stage", "A", "B", "verdict"]
    assert header[4:7] == ["normalization", "offsets", "amplitude"]
    assert [r[0].strip("*▶ ") for r in rows] == [e["stage"] for e in report["stages"]]
    assert rows[-1][3].startswith(scale["verdict"])
    assert "| `intensity_scale` | closed_form | dataset_raw |" in markdown
    assert "## First break per category" in markdown and "figures/probe.png" not in markdown  # figures ran after it

    root = ET.parse(run / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["A sim_lines", "B sim_lines", "cross"]
    failures = root.findall(".//failure")
    assert int(root.get("failures")) == len(failures) >= 1
    assert sum(int(s.get("failures")) for s in suites.values()) == len(failures)
    cross_failed = [c.get("name") for c in suites["cross"].iter("testcase") if c.find("failure") is not None
                    and c.get("name").startswith("stage ")]
    assert cross_failed == [f"stage {e['stage']}" for e in report["stages"] if e["verdict"] in ("differs", "break")]
    assert int(root.get("tests")) == len(root.findall(".//testcase"))

    drawn = {p.stem for p in (run / "figures").glob("*.png")}
    assert {"probe", "diffraction", "scale_chain", "offsets"} <= drawn
    assert not {"reconstruction", "error", "training"} & drawn  # those stages did not run
    for name in drawn:
        width, height = png_size(run / "figures" / f"{name}.png")
        assert width > 300 and height > 150

    page = (run / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(drawn)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "scale" in element_text(page, "first-break")
    assert "Training curves: skipped" in page

    before = stage_mtimes(run)
    report_bytes = (run / "report.json").read_bytes()
    (run / "report.html").unlink()
    shown = harness_cli("show", "r", "--format", "html,markdown")
    assert shown.exit_code == report["exit_code"], shown.output
    assert (run / "report.html").read_text().count("data:image/png;base64,") == len(drawn)
    assert "figures/probe.png" in (run / "report.md").read_text()
    assert stage_mtimes(run) == before and (run / "report.json").read_bytes() == report_bytes


# ---------------------------------------------------------------- hand-made report

KNOWN = "known break of dose_legacy era=study"


def finding(check: str, category: str, side: str, stage: str, status: str, severity: str = "error", **extra: Any) -> dict:
    return {"check": check, "category": category, "severity": severity, "side": side, "stage": stage,
            "status": status, "measured": extra.pop("measured", 1.0), "expected": extra.pop("expected", 1.0),
            "tolerance": extra.pop("tolerance", 1e-6), "explanation": extra.pop("explanation", f"{check} says so"),
            "known_break": extra.pop("known_break", None), "report_only": extra.pop("report_only", False), **extra}


def stage(name: str, verdict: str, findings: list[dict] = (), comparisons: list[dict] = (),
          a: dict | None = None, b: dict | None = None) -> dict:
    return {"stage": name, "verdict": verdict, "category": None, "first_finding": None,
            "sides": {"a": a or {"status": "ok", "seconds": 0.25}, "b": b or {"status": "ok", "seconds": 0.5}},
            "comparisons": list(comparisons), "only": {"a": [], "b": []}, "findings": list(findings)}


def handmade_report() -> Report:
    """A diff that breaks at probe (a known break), warns at group, differs at scale, errors at train on B."""
    probe = stage("probe", "break", [
        finding("N-1", "normalization", "a", "probe", "fail", measured=2.125787, expected=1.0, known_break=KNOWN,
                explanation="mean |mask·P|·probe_scale is 2.12579, not 1 <legacy>"),
        finding("N-1", "normalization", "b", "probe", "pass")],
        [{"artifact": "probe", "status": "differs", "kind": "array", "summary": "max |Δ| 1.1", "details": {}, "reason": ""}])
    probe.update(category="normalization", first_finding=probe["findings"][0])
    group = stage("group", "equal", [finding("O-5", "offsets", "b", "group", "fail", severity="warn", measured=83.7,
                                             expected=78, tolerance=0, explanation="canvas 78 < 83.7"),
                                     finding("O-1", "offsets", "a", "group", "pass")])
    scale = stage("scale", "differs", [finding("N-9", "normalization", "a", "scale", "n/a", measured=None,
                                               explanation="not applicable: missing artifact 'X.train'")],
                  [{"artifact": "intensity_scale", "status": "differs", "kind": "scalar", "summary": "988 vs 273",
                    "details": {}, "reason": ""}])
    scale["first_finding"] = {"artifact": "intensity_scale", "explanation": "988 vs 273"}
    trace = "Traceback (most recent call last):\n  File \"stages.py\", line 9, in train\nValueError: boom"
    train = stage("train", "error", b={"status": "error", "seconds": 0.1, "error": "ValueError: boom", "traceback": trace})
    train["first_finding"] = {"side": "b", "explanation": "ValueError: boom"}
    stitch = stage("stitch", "break", [finding("O-9", "offsets", "a", "stitch", "error", measured=None,
                                               explanation="check raised KeyError: 'M'", traceback="KeyError: 'M'")],
                   b={"status": "skipped", "reason": "stage 'train' failed"})
    stitch.update(category="other", first_finding=stitch["findings"][0])
    evaluate = stage("evaluate", "skipped", [finding("A-1", "amplitude", "a", "evaluate", "fail", report_only=True,
                                                     measured=0.31, expected=0, tolerance=0.2)],
                     b={"status": "skipped", "reason": "stage 'train' failed"})
    report = {
        "schema_version": REPORT_SCHEMA, "kind": "diff", "created": "2026-01-20T10:18:00+00:00",
        "settings": {"scenario": "gs1_ideal", "profile": "smoke", "seed": 42, "stages_run": ["config", "evaluate"],
                     "command": ["harness", "diff", "--a", "dose_legacy", "--b", "sim_lines"]},
        "sides": {"a": {"pipeline": "dose_legacy", "knobs": {"era": "study"}, "knob_overrides": {}, "fatal": None},
                  "b": {"pipeline": "sim_lines", "knobs": {}, "knob_overrides": {}, "fatal": None}},
        "knob_differences": {"era": {"a": "study", "b": "(absent)"}},
        "stages": [stage("config", "equal"), probe, group, scale, train, stitch, evaluate],
        "warnings": ["plugin <b>x</b> skipped"],
    }
    return Report.from_json(report)


def write_artifacts(run_dir: Path) -> None:
    """Small stored artifacts for every figure; diffraction only on A, training only on A (B's train failed)."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:48, 0:48]
    for k, side in enumerate("ab"):
        folder = run_dir / side
        radius = np.hypot(yy - 24, xx - 24)
        probe = (np.exp(-(radius / 8) ** 2) * np.exp(0.3j * k * xx / 48)).astype(np.complex64)
        StageFiles(folder, "config").write({"config": {"N": 48, "padded_size": 62}}, {"status": "ok"})
        StageFiles(folder, "probe").write({"probe": probe, "probe_mask": radius < 12}, {"status": "ok"})
        StageFiles(folder, "scan").write({"positions": rng.uniform(10, 380, (64, 2))}, {"status": "ok"})
        StageFiles(folder, "group").write({"coords_offsets.train": rng.uniform(10, 380, (16, 1, 2, 1)),
                                           "coords_relative.train": rng.normal(0, 4, (16, 1, 2, 4))}, {"status": "ok"})
        StageFiles(folder, "normalize").write({"gain.train": np.float64(0.55 + k), "gain.infer": np.float64(0.6)},
                                              {"status": "ok"})
        StageFiles(folder, "scale").write({"intensity_scale": np.float32(988.2 / (1 + 3 * k)),
                                           "count_ratio_nominal": np.float64(1 - 0.9 * k),
                                           "count_ratio_true": np.float64(0.95), "expected_scale": np.float64(0.6)},
                                          {"status": "ok"})
        truth = (1 + 0.5 * np.sin(xx / 5.0)).astype(np.complex64)
        coverage = np.clip(2 - radius / 10, 0, 2).astype(np.float32)
        canvas = np.where(coverage > 0, 0.6 * truth * (1 + 0.1 * k), 0).astype(np.complex64)
        StageFiles(folder, "stitch").write({"canvas": canvas, "coverage": coverage,
                                            "canvas_origin": np.array([100.0, 90.5])}, {"status": "ok"})
        StageFiles(folder, "evaluate").write({"truth_on_canvas": truth, "metrics": {"expected_scale": 0.6}},
                                             {"status": "ok"})
    diffraction = rng.poisson(50 * np.exp(-(np.hypot(yy - 24, xx - 24) / 6) ** 2), (4, 48, 48)).astype(np.float32)
    StageFiles(run_dir / "a", "simulate").write({"diffraction": np.sqrt(diffraction)}, {"status": "ok"})
    StageFiles(run_dir / "a", "train").write({"history": {"loss": [3.0, 2.0, float("nan")], "lr": [1e-3, 1e-3, 5e-4]},
                                              "model_config": {"padded_size": 62, "N": 48}}, {"status": "ok"})


def test_handmade_report_with_stage_error_known_break_and_every_figure(tmp_path):
    report = handmade_report()
    assert report.first_break.stage == "probe" and report.exit_code == 3
    run = tmp_path / "hand"
    write_artifacts(run)
    output = io.StringIO()
    console = Console(file=output, width=200)
    for render in (render_figures_format, write_markdown, write_junit):
        render(report, run, console)
    drawn = {path: path.stat().st_mtime_ns for path in (run / "figures").glob("*.png")}
    write_html(report, run, console)
    assert {path: path.stat().st_mtime_ns for path in drawn} == drawn  # same inputs: the PNGs are reused

    markdown = (run / "report.md").read_text()
    _, rows = table_rows(markdown, "stage")
    cells = {row[0].strip("*▶ "): row for row in rows}
    assert cells["probe"][4] == "FAIL (N-1 A)" and cells["probe"][0].startswith("**▶")
    assert cells["group"][5] == "warn (O-5 B)" and cells["group"][4] == "—"
    assert cells["stitch"][5] == "error (O-9 A)" and cells["evaluate"][6] == "warn (A-1 A)"
    assert cells["train"][2] == "error" and cells["scale"][4] == "—"  # n/a is not a result
    _, categories = table_rows(markdown, "category")
    by_category = {row[0]: row for row in categories}
    assert by_category["normalization"][1:4] == ["probe", "N-1", "A"] and by_category["normalization"][5] == KNOWN
    assert by_category["offsets"][1:3] == ["stitch", "O-9"]
    assert "not a known break; knobs differ: era (A study, B (absent))" in by_category["offsets"][5]
    assert by_category["amplitude"][5] == "no failure"
    assert "## First break: `probe` [normalization]" in markdown
    _, findings = table_rows(markdown, "check")
    assert findings[0][:7] == ["N-1", "A", "fail", "error", "2.12579", "1", "1e-06"]
    assert "### `train` on B (sim_lines)" in markdown and "ValueError: boom" in markdown
    for spec in FIGURES:
        assert f"(figures/{spec.name}.png)" in markdown

    root = ET.parse(run / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    counts = {name: {k: int(s.get(k)) for k in ("tests", "failures", "errors", "skipped")} for name, s in suites.items()}
    # A: 7 stages + 5 findings; stages probe and stitch break and N-1 fails; O-9 raised; N-9 is n/a
    assert counts["A dose_legacy"] == {"tests": 12, "failures": 3, "errors": 1, "skipped": 1}
    # B: 7 stages + 2 findings; train errors; stitch and evaluate skipped
    assert counts["B sim_lines"] == {"tests": 9, "failures": 0, "errors": 1, "skipped": 2}
    # cross: probe break and scale differs fail, train errors, evaluate skipped, stitch (break) fails
    assert counts["cross"] == {"tests": 7, "failures": 3, "errors": 1, "skipped": 1}
    assert int(root.get("failures")) == 6 and int(root.get("errors")) == 3
    n1 = next(c for c in suites["A dose_legacy"].iter("testcase") if c.get("name") == "N-1 [normalization] at probe")
    assert KNOWN in n1.find("failure").get("message") and "measured 2.12579" in n1.find("failure").text
    train_b = next(c for c in suites["B sim_lines"].iter("testcase") if c.get("name") == "stage train")
    assert "ValueError: boom" in train_b.find("error").text
    o5 = next(c for c in suites["B sim_lines"].iter("testcase") if c.get("name").startswith("O-5"))
    assert o5.find("failure") is None and o5.find("system-out").text.startswith("warn: canvas 78 < 83.7")

    for spec in FIGURES:
        png_size(run / "figures" / f"{spec.name}.png")
        assert f"figure {spec.name}: " in output.getvalue()

    page = (run / "report.html").read_text()
    first = element_text(page, "first-break")
    assert "probe" in first and "N-1" in first and KNOWN in first and "&lt;legacy&gt;" in first
    assert page.count('src="data:image/png;base64,') == len(FIGURES)
    assert "plugin &lt;b&gt;x&lt;/b&gt; skipped" in page and "<b>x</b>" not in page
    assert "ValueError: boom" in page and "Figures not drawn" not in page


def test_figures_are_skipped_with_a_note_without_artifacts_and_redrawn_only_when_records_change(tmp_path):
    report = handmade_report()
    run = tmp_path / "empty"
    (run / "figures").mkdir(parents=True)
    (run / "figures" / "training.png").write_bytes(PNG_MAGIC)  # stale file from an earlier render
    console = Console(file=io.StringIO(), width=200)
    write_html(report, run, console)
    write_markdown(report, run, console)
    assert not list((run / "figures").glob("*.png"))
    page = (run / "report.html").read_text()
    assert "data:image/png" not in page and page.count("skipped, no side stored") == len(FIGURES)
    assert (run / "report.md").read_text().count("skipped, no side stored") == len(FIGURES)

    StageFiles(run / "a", "scale").write({"intensity_scale": np.float32(988.2)}, {"status": "ok"})
    first = render_figures(report, run)
    assert list(first) == ["scale_chain"]
    stamp = first["scale_chain"].stat().st_mtime_ns
    assert render_figures(report, run) == first and first["scale_chain"].stat().st_mtime_ns == stamp
    StageFiles(run / "a", "scale").write({"intensity_scale": np.float32(272.8)}, {"status": "ok"})
    assert render_figures(report, run) == first and first["scale_chain"].stat().st_mtime_ns != stamp
