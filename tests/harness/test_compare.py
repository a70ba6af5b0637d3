"""Comparators: element-wise arrays with the tolerance that would pass, statistics, scalars, dicts."""
from __future__ import annotations

import numpy as np

from harness.compare import compare_values


def test_equal_shape_arrays_report_max_error_location_and_passing_tolerances():
    a = np.zeros((3, 4))
    b = np.zeros((3, 4))
    b[2, 1] = 1e-3
    result = compare_values("x", b, a, (1e-6, 1e-12))
    assert result.status == "differs"
    assert result.details["where"] == [2, 1]
    assert result.details["max_abs"] == 1e-3
    assert np.isclose(result.details["atol_to_pass"], 1e-3)
    assert result.details["rtol_to_pass"] == float("inf")
    assert compare_values("x", b, a, (0.0, 2e-3)).status == "equal"


def test_relative_tolerance_passes_scaled_values_and_nan_positions_must_match():
    a = np.array([1.0, 2.0, np.nan], dtype=np.float32)
    b = a * (1 + 1e-7)
    assert compare_values("x", b, a, (1e-6, 0.0)).status == "equal"
    c = np.array([1.0, np.nan, 3.0], dtype=np.float32)
    result = compare_values("x", c, a, (1e-6, 0.0))
    assert result.status == "differs" and result.details["nan_mismatch"] == 2


def test_complex_arrays_compare_by_modulus_of_difference():
    a = np.exp(1j * np.linspace(0, 1, 5)).astype(np.complex64)
    result = compare_values("p", a * 1j, a, (1e-6, 0.0))
    assert result.status == "differs"
    assert np.isclose(result.details["max_abs"], np.sqrt(2), rtol=1e-5)


def test_different_shapes_fall_back_to_statistics():
    result = compare_values("positions", np.ones((5, 2)), np.ones((7, 2)) * 2)
    assert result.status == "not_comparable"
    assert result.details["stats_a"]["mean"] == 1.0 and result.details["stats_b"]["mean"] == 2.0
    assert "shape (5, 2) vs (7, 2)" in result.summary


def test_scalars_and_dicts_compare_key_by_key():
    assert compare_values("s", 988.2117919921875, 988.2117, (1e-6, 0)).status == "equal"
    assert compare_values("s", 1.0, 1.1, (1e-6, 0)).status == "differs"
    result = compare_values("config", {"N": 64, "gridsize": 2, "only": 1}, {"N": 64, "gridsize": 1})
    assert result.status == "differs"
    assert list(result.details["differing"]) == ["gridsize"]
    assert result.details["only_a"] == ["only"]
    assert compare_values("c", {"a": [1, 2]}, {"a": [1, 2]}).status == "equal"


def test_lists_of_arrays_compare_item_by_item():
    weights = [np.ones(3), np.zeros(2)]
    assert compare_values("w", weights, [w.copy() for w in weights]).status == "equal"
    changed = [np.ones(3), np.array([0.0, 1.0])]
    result = compare_values("w", weights, changed)
    assert result.status == "differs" and result.details["first_difference"] == 1
