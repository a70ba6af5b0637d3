"""ORACLE-1 on a sim_lines smoke run (gs2_ideal, seed 42, all 1024 patterns, 30 ePIE iterations).

Skipped without PtyLab (the optional extra `oracle`; CI installs it). The oracle's reconstructions
are cached per test module, so the clean data set is reconstructed once for every test that uses it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PtyLab", reason="the oracle needs PtyLab: pip install '.[oracle]'")

from harness.testing import check_input, run_pipeline  # noqa: E402
from plugins.oracle import engine  # noqa: E402
from plugins.oracle.cache import cache_path  # noqa: E402
from plugins.oracle.plugin import oracle_check  # noqa: E402

CLEAN_ERROR_BOUND = 0.10
GOOD_PINN = {"pearson_r": 0.95, "scale_error_unsaturated": 0.02}
BROKEN_PINN = {"pearson_r": 0.12, "scale_error_unsaturated": -0.85}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The artifacts of a sim_lines smoke run up to split, with the noise-free diffraction as `diffraction`."""
    run = run_pipeline(tmp_path_factory.mktemp("oracle_run"), "sim_lines", "gs2_ideal", stage="split")
    art = {name: run[name] for name in ("probe", "positions", "image_index", "test_idx", "object", "object_norm")}
    art["diffraction"] = run["diffraction_clean"]
    art.update(canvas=np.zeros((8, 8), np.complex64), coverage=np.zeros((8, 8)), canvas_origin=np.zeros(2),
               expected_scale=np.float64(1.0))
    return art


@pytest.fixture(autouse=True)
def shared_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One oracle cache for the module, so each data set is reconstructed once."""
    folder = tmp_path_factory.getbasetemp() / "oracle_cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(folder))
    return folder


def judge(art: dict[str, Any], pinn: dict[str, Any]) -> Any:
    return oracle_check(check_input({**art, "metrics": pinn}))


def test_clean_smoke_data_reconstruct_and_a_good_pinn_is_both(smoke: dict[str, Any]) -> None:
    outcome = judge(smoke, GOOD_PINN)
    print(outcome.explanation, outcome.details)
    assert outcome.details["verdict"] == "both"
    assert outcome.measured < CLEAN_ERROR_BOUND
    assert outcome.details["oracle_pearson_r"] > 0.8


def test_good_data_with_a_broken_network_path_is_network(smoke: dict[str, Any]) -> None:
    outcome = judge(smoke, BROKEN_PINN)
    assert outcome.details["verdict"] == "network"
    assert outcome.explanation.startswith("network: the oracle reconstructs to error")
    assert not outcome.passed


def test_positions_that_do_not_match_the_patterns_are_data(smoke: dict[str, Any]) -> None:
    shuffled = np.random.default_rng(0).permutation(len(smoke["positions"]))
    outcome = judge({**smoke, "positions": smoke["positions"][shuffled]}, BROKEN_PINN)
    print(outcome.explanation)
    assert outcome.details["verdict"] == "data"
    assert outcome.measured > 2 * CLEAN_ERROR_BOUND
    assert outcome.explanation.startswith("data: the oracle fails too")


def test_a_cached_reconstruction_is_not_recomputed(smoke: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    judge(smoke, GOOD_PINN)
    mine = smoke["image_index"] == 0
    assert cache_path(smoke["diffraction"][mine], smoke["probe"], smoke["positions"][mine], (392, 392)).is_file()

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the cached reconstruction was recomputed")

    monkeypatch.setattr("plugins.oracle.cache.reconstruct", refuse)
    assert judge(smoke, GOOD_PINN).details["verdict"] == "both"


def test_without_ground_truth_the_oracle_is_the_reference(smoke: dict[str, Any]) -> None:
    truth = np.asarray(smoke["object"])[0]
    canvas = truth[100:300, 100:300].copy()
    unknown = np.full_like(smoke["object"], np.nan)
    art = {**smoke, "object": unknown, "canvas": canvas, "coverage": np.ones(canvas.shape),
           "canvas_origin": np.array([100.0, 100.0])}
    outcome = judge(art, {})
    assert outcome.details["verdict"] == "reference"
    assert outcome.measured > 0.7  # a perfect canvas against the oracle: the oracle's own pearson (0.76)


def test_the_reconstruction_is_deterministic(smoke: dict[str, Any]) -> None:
    subset = slice(0, 64)
    args = (smoke["diffraction"][subset], smoke["probe"], smoke["positions"][subset], (392, 392), 2)
    assert np.array_equal(engine.reconstruct(*args).object, engine.reconstruct(*args).object)
