"""Shared paths for the test suite."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PIPELINES = ROOT / "tests" / "harness" / "sample_pipelines.py"


@pytest.fixture
def sample_plugin() -> str:
    """The `-p` argument that loads the two small test pipelines wave_a and wave_b."""
    return str(SAMPLE_PIPELINES)
