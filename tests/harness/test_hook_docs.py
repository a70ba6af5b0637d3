"""Meta-tests: every hook is documented and tested, and the documented example plugin works as written."""
from __future__ import annotations

import json
import re
from pathlib import Path

from harness import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugin_hooks.md"
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("harness_"))


def test_every_hook_is_documented_with_its_contract():
    text = DOC.read_text()
    assert len(HOOKS) == 10
    for hook in HOOKS:
        section = re.search(rf"### `{hook}\(.*?\n(.*?)(?=\n### |\n## )", text, re.S)
        assert section, f"{hook} has no section in docs/plugin_hooks.md"
        for field in ("**Summary:**", "**Parameters:**", "**Returns:**", "**Fires:**"):
            assert field in section.group(1), f"{hook}: missing {field}"


def test_every_hook_has_a_test():
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py") if p.name != "test_hook_docs.py")
    for hook in HOOKS:
        assert re.search(rf"def {hook}\b", sources), f"no test implements {hook}"


def test_the_documented_example_plugin_runs_under_run_and_diff(harness_cli, tmp_path):
    code = re.search(r"```python\n(\"\"\"A toy illumination.*?)```", DOC.read_text(), re.S).group(1)
    plugin = tmp_path / "my_plugin.py"
    plugin.write_text(code)
    ran = harness_cli("run", "beam_waist", "-p", str(plugin), "--out", "mine")
    assert ran.exit_code == 0, ran.output
    findings = json.loads(Path("mine/report.json").read_text())["stages"][2]["findings"]
    assert findings[0]["check"] == "BW-1" and findings[0]["status"] == "pass"
    same = harness_cli("diff", "--a", "beam_waist", "--b", "beam_waist", "-p", str(plugin), "--out", "same")
    assert same.exit_code == 0, same.output
    other = harness_cli("diff", "--a", "beam_waist", "--b", "beam_waist", "--set", "b.waist=5", "-p", str(plugin), "--out", "other")
    assert other.exit_code == 1
    assert json.loads(Path("other/report.json").read_text())["first_difference"]["stage"] == "config"
