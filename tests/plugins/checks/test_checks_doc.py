"""docs/checks.md is the output of `harness list checks --format markdown`, and stays current."""
from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "checks.md"


def test_checks_doc_matches_the_registered_checks(harness_cli):
    table = harness_cli("list", "checks", "--format", "markdown").output
    assert table.count("\n") > 50, "every check of spec section 6 is registered"
    assert table in DOC.read_text(), "docs/checks.md is stale: regenerate it with `harness list checks --format markdown`"
