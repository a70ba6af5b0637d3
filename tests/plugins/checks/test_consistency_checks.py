"""Consistency checks N-5c, N-6n, O-3b and the Poisson budget tolerance of N-6/N-7 (issue 9, item 4).

Each check passes on real default runs of both pipelines (gs2_ideal smoke, run once per module) and fails on
those artifacts with a fault of its class planted: the physics must be what the check measures.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import NotApplicable
from harness.records import CheckInput, CheckResult
from harness.testing import check_input, run_pipeline
from pipelines.physics.forward import far_field
from plugins.checks import consistency, normalization
from plugins.checks.common import float32_rounding, pattern_object_norms, poisson_tolerance, sample_rows

CHECKS = {spec.id: spec for spec in consistency.harness_register_checks() + normalization.harness_register_checks()}
PIPELINES = ("dose_legacy", "sim_lines")
LEGACY_CONVENTIONS = {"unshuffled_coords": {"train": "legacy_shuffle_perm"}}
"""What dose_legacy declares: its train shuffle reorders patterns, not coordinates (spec 3.7.1)."""
CONVENTIONS = {"dose_legacy": LEGACY_CONVENTIONS, "sim_lines": {}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Artifacts of a default gs2_ideal smoke run up to `group` of each pipeline, run once for the module."""
    out = {}
    for pipeline in PIPELINES:
        run = run_pipeline(Path(tmp_path_factory.mktemp(pipeline)), pipeline, "gs2_ideal", stage="group")
        assert run.error("group") is None
        out[pipeline] = run.artifacts
    return out


def side(runs: dict[str, dict[str, Any]], pipeline: str, conventions: dict[str, Any] | None = None,
         **changes: Any) -> CheckInput:
    """One side over a run's artifacts with some replaced (keyword `a__b` names artifact `a.b`)."""
    artifacts = {**runs[pipeline], **{name.replace("__", "."): value for name, value in changes.items()}}
    declared = CONVENTIONS[pipeline] if conventions is None else conventions
    return check_input(artifacts, pipeline, conventions=declared)


def check(check_id: str, inp: CheckInput) -> CheckResult:
    return CHECKS[check_id].func(inp)


def counts(art: dict[str, Any]) -> tuple[float, np.ndarray]:
    """(s_sim, λ = (s_sim·diffraction_clean)²) of a run, float64."""
    s_sim = float(art["s_sim"])
    return s_sim, np.square(s_sim * art["diffraction_clean"].astype(np.float64))


def amplitudes(photons: np.ndarray, s_sim: float) -> np.ndarray:
    """Stored diffraction of given counts: sqrt(k)/s_sim in float32, as the simulator stores it."""
    return (np.sqrt(np.maximum(photons, 0.0)) / s_sim).astype(np.float32)


# Registration -------------------------------------------------------------------------------------------


def test_the_checks_are_registered_with_what_they_read() -> None:
    specs = {spec.id: spec for spec in consistency.harness_register_checks()}
    assert {i: (s.category, s.stage, s.severity) for i, s in specs.items()} == {
        "N-5c": ("normalization", "simulate", "error"), "N-6n": ("normalization", "simulate", "error"),
        "O-3b": ("offsets", "group", "error")}
    assert {"Y_obj", "object_norm", "probe", "diffraction_clean", "exit_energy"} <= set(specs["N-5c"].requires)
    assert {"coords_nn.train", "nn_indices.infer", "train_idx", "test_idx"} <= set(specs["O-3b"].requires)
    assert specs["O-3b"].conventions == (), "unshuffled_coords is optional: undeclared, coordinates follow their patterns"


def test_the_ids_do_not_clash_with_the_other_check_modules() -> None:
    from plugins.checks import amplitude, expected, offsets

    others = {s.id for module in (normalization, offsets, amplitude, expected)
              for s in getattr(module, "harness_register_checks", lambda: [])()}
    assert not others & {"N-5c", "N-6n", "O-3b"}


# N-5c forward model -------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_n5c_recomputes_the_stored_far_field_to_float32_precision(runs, pipeline: str) -> None:
    outcome = check("N-5c", side(runs, pipeline))
    assert outcome.passed, outcome.explanation
    assert outcome.tolerance["far_field"] == pytest.approx(14 * np.finfo(np.float32).eps)  # (2 + log2 64²)·eps
    assert outcome.measured["far_field"] < outcome.tolerance["far_field"] / 5
    assert len(outcome.details["patterns"]) == consistency.SAMPLE_PATTERNS


def exit_waves(art: dict[str, Any], pipeline: str, probe: np.ndarray) -> np.ndarray:
    """Y_norm·probe of every pattern, complex64, with the run's per-set object norms."""
    norms = pattern_object_norms(check_input(art, pipeline))
    return (art["Y_obj"] / norms[:, None, None].astype(np.float32) * probe).astype(np.complex64)


def phase_probe(art: dict[str, Any]) -> np.ndarray:
    """The run's probe with an asymmetric phase, so that conjugating it changes the far field."""
    v, u = np.mgrid[0:64, 0:64] - 32.0
    return (art["probe"] * np.exp(1j * (0.002 * v**2 + 2e-5 * (u + 12) ** 3))).astype(np.complex64)


FORWARD_FAULTS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "probe shifted by a pixel": lambda art, p: {"probe": np.roll(art["probe"], 1, axis=1)},
    "transposed object patches": lambda art, p: {"Y_obj": np.swapaxes(art["Y_obj"], 1, 2)},
    "simulated with the conjugate probe": lambda art, p: {
        "probe": phase_probe(art), "diffraction_clean": far_field(exit_waves(art, p, np.conj(phase_probe(art))))},
    "fftshift missing": lambda art, p: {"diffraction_clean": np.fft.ifftshift(art["diffraction_clean"], axes=(1, 2))},
}


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("fault", FORWARD_FAULTS)
def test_n5c_fails_when_the_far_field_is_not_that_of_the_stored_inputs(runs, pipeline: str, fault: str) -> None:
    outcome = check("N-5c", side(runs, pipeline, **FORWARD_FAULTS[fault](runs[pipeline], pipeline)))
    assert not outcome.passed
    assert outcome.measured["far_field"] > 100 * outcome.tolerance["far_field"]
    assert "differs in shape" in outcome.explanation and "32 of 32 sampled patterns" in outcome.explanation


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_n5c_names_an_object_norm_other_than_the_simulated_one(runs, pipeline: str) -> None:
    norm = np.asarray(runs[pipeline]["object_norm"]) * (1 + 1e-5)  # 6 × the float32 tolerance
    outcome = check("N-5c", side(runs, pipeline, object_norm=norm))
    assert not outcome.passed and outcome.measured["far_field"] == pytest.approx(1e-5, rel=0.05)
    assert outcome.measured["exit_energy"] == pytest.approx(2e-5, rel=0.05)
    assert "another object norm or probe scale" in outcome.explanation


@settings(max_examples=15, deadline=None)
@given(phase=st.floats(-math.pi, math.pi))
def test_n5c_is_blind_to_a_global_phase_of_the_probe(runs, phase: float) -> None:
    probe = (runs["sim_lines"]["probe"] * np.complex64(np.exp(1j * phase))).astype(np.complex64)
    outcome = check("N-5c", side(runs, "sim_lines", probe=probe))
    assert outcome.passed, outcome.explanation


# N-6n noise statistics -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_n6n_finds_poisson_counts_in_default_runs(runs, pipeline: str) -> None:
    outcome = check("N-6n", side(runs, pipeline))
    assert outcome.passed, outcome.explanation
    assert outcome.measured["whole_photons"] == 0.0
    assert outcome.measured["dispersion"] == pytest.approx(1.0, abs=outcome.tolerance["dispersion"])
    assert outcome.tolerance["dispersion"] < 0.03 and outcome.tolerance["mean_excess"] < 5e-5
    assert outcome.details["pixels"]["whole_photons"] > 100_000


def noise_faults(art: dict[str, Any]) -> dict[str, np.ndarray]:
    """Stored diffraction under noise models that are not Poisson counts of λ."""
    s_sim, lam = counts(art)
    rng = np.random.default_rng(7)
    return {
        "Gaussian counts of 1.5 × the variance": amplitudes(lam + rng.normal(size=lam.shape) * np.sqrt(1.5 * lam), s_sim),
        "Gaussian noise on the amplitudes": (art["diffraction_clean"] + rng.normal(0, 0.5 / s_sim, lam.shape)).astype(
            np.float32),
        "no noise draw": art["diffraction_clean"].copy(),
        "twice Poisson of half the counts (keeps the budget)": amplitudes(2.0 * rng.poisson(lam / 2), s_sim),
    }


FAULT_PARTS = {
    "Gaussian counts of 1.5 × the variance": ("whole_photons", "dispersion"),
    "Gaussian noise on the amplitudes": ("whole_photons",),
    "no noise draw": ("whole_photons", "dispersion"),
    "twice Poisson of half the counts (keeps the budget)": ("dispersion",),
}


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("fault", FAULT_PARTS)
def test_n6n_fails_on_noise_that_is_not_poisson(runs, pipeline: str, fault: str) -> None:
    outcome = check("N-6n", side(runs, pipeline, diffraction=noise_faults(runs[pipeline])[fault]))
    assert not outcome.passed
    failing = {part for part, value in outcome.measured.items()
               if abs(value - outcome.expected[part]) > outcome.tolerance[part]}
    assert failing == set(FAULT_PARTS[fault])
    if "whole_photons" in failing:
        assert "fractional counts" in outcome.explanation
    if "dispersion" in failing:
        assert "the noise variance is" in outcome.explanation


def test_n6n_doubled_counts_show_twice_the_variance(runs) -> None:
    doubled = noise_faults(runs["sim_lines"])["twice Poisson of half the counts (keeps the budget)"]
    outcome = check("N-6n", side(runs, "sim_lines", diffraction=doubled))
    assert outcome.measured["dispersion"] == pytest.approx(2.0, abs=0.05)


def budget_shift(art: dict[str, Any], shift: float = 1.5e-4) -> np.ndarray:
    """Poisson counts of λ·(1 + shift): a noise model that moves the photon budget by `shift`."""
    s_sim, lam = counts(art)
    return amplitudes(np.random.default_rng(3).poisson(lam * (1 + shift)).astype(np.float64), s_sim)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_n6n_sees_a_noise_model_that_adds_photons(runs, pipeline: str) -> None:
    outcome = check("N-6n", side(runs, pipeline, diffraction=budget_shift(runs[pipeline])))
    assert not outcome.passed and outcome.measured["mean_excess"] == pytest.approx(1.5e-4, abs=3e-5)
    assert "a biased noise model" in outcome.explanation


def poisson_artifacts(s_sim: float, amplitude: float, seed: int, n: int = 8, size: int = 32) -> dict[str, Any]:
    """Hand-made simulate artifacts: random noise-free amplitudes and true Poisson draws of their counts."""
    rng = np.random.default_rng(seed)
    clean = (amplitude * rng.uniform(0.0, 1.0, (n, size, size)) ** 2).astype(np.float32)
    lam = np.square(s_sim * clean.astype(np.float64))
    return {"diffraction_clean": clean, "diffraction": amplitudes(rng.poisson(lam).astype(np.float64), s_sim),
            "s_sim": np.float64(s_sim)}


@settings(max_examples=25, deadline=None)
@given(s_sim=st.floats(0.05, 3000.0), amplitude=st.floats(0.1, 30.0), seed=st.integers(0, 2**32 - 1))
def test_n6n_accepts_true_poisson_draws_at_any_dose(s_sim: float, amplitude: float, seed: int) -> None:
    data = poisson_artifacts(s_sim, amplitude, seed)
    if not np.any(data["diffraction_clean"] > 0):
        return
    outcome = check("N-6n", check_input(data))
    assert outcome.passed, outcome.explanation


def test_n6n_leaves_the_dispersion_untested_below_one_photon_per_pixel() -> None:
    outcome = check("N-6n", check_input(poisson_artifacts(0.01, 1.0, seed=1)))
    assert outcome.passed and "dispersion" not in outcome.measured and "untested at this dose" in outcome.explanation


def test_n6n_does_not_apply_without_expected_photons() -> None:
    data = poisson_artifacts(10.0, 1.0, seed=1)
    data["diffraction_clean"][:] = 0
    with pytest.raises(NotApplicable):
        check("N-6n", check_input(data))


# N-6, N-7 at the Poisson tolerance -----------------------------------------------------------------------


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_photon_budgets_hold_at_five_sigma_of_the_poisson_total(runs, pipeline: str) -> None:
    inp = side(runs, pipeline)
    budget, scale_out = check("N-6", inp), check("N-7", inp)
    assert budget.passed and scale_out.passed
    assert budget.tolerance < 2e-5 and scale_out.tolerance < 2e-5  # no 1e-3 floor
    patterns = 256 if pipeline == "dose_legacy" else 1024  # the set that defined s_sim
    assert budget.tolerance == pytest.approx(5 / math.sqrt(patterns * 1e9) + float32_rounding())


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("check_id", ("N-6", "N-7"))
def test_a_noise_model_moving_the_budget_by_1_5e_4_fails(runs, pipeline: str, check_id: str) -> None:
    outcome = check(check_id, side(runs, pipeline, diffraction=budget_shift(runs[pipeline])))
    assert not outcome.passed and outcome.measured == pytest.approx(1 + 1.5e-4, abs=2e-5)
    assert "+0.00015" in outcome.explanation


def test_the_poisson_tolerance_is_five_sigma_plus_float32_rounding() -> None:
    assert poisson_tolerance(1e12) == pytest.approx(5e-6 + 14 * 2.0**-23)
    assert float32_rounding(16 * 16) == pytest.approx(10 * 2.0**-23)


# O-3b channel / position correspondence -------------------------------------------------------------------


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_o3b_every_channel_holds_the_pattern_of_its_position(runs, pipeline: str) -> None:
    outcome = check("O-3b", side(runs, pipeline))
    assert outcome.passed and outcome.measured == 0, outcome.explanation
    assert outcome.details["foreign_channels"] == {
        g: {"diffraction_grouped": 0, "Y_obj_grouped": 0, "coords_nn": 0} for g in ("train", "infer")}


def test_o3b_legacy_train_coordinates_keep_the_order_before_the_shuffle(runs) -> None:
    """The legacy shuffle permutes patterns, not coords_nn: true of the original (spec 3.7.1), so declared."""
    undeclared = check("O-3b", side(runs, "dose_legacy", conventions={}))
    assert not undeclared.passed
    assert undeclared.details["foreign_channels"]["train"]["diffraction_grouped"] == 0
    assert undeclared.details["foreign_channels"]["infer"]["coords_nn"] == 0
    assert "train groups were reordered without their coordinates" in undeclared.explanation
    declared = check("O-3b", side(runs, "dose_legacy"))
    assert declared.passed and "before the permutation legacy_shuffle_perm (declared)" in declared.explanation


def test_o3b_fails_when_a_declared_permutation_was_not_applied(runs) -> None:
    perm = np.roll(np.arange(runs["sim_lines"]["nn_indices.train"].shape[0]), 1)
    inp = side(runs, "sim_lines", conventions={"unshuffled_coords": {"train": "perm"}}, perm=perm)
    assert not check("O-3b", inp).passed


def unsampled_group(art: dict[str, Any], grouping: str) -> int:
    """A group that O-3b does not compare in full: only its pixel lattice can reveal a swap."""
    count = art[f"nn_indices.{grouping}"].shape[0]
    return int(np.setdiff1d(np.arange(count), sample_rows(count, consistency.SAMPLE_GROUPS))[0])


def swap_channels(array: np.ndarray, group: int, first: int, second: int) -> np.ndarray:
    out = array.copy()
    out[group, ..., [first, second]] = out[group, ..., [second, first]]
    return out


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("artifact, grouping", [("diffraction_grouped", "train"), ("Y_obj_grouped", "infer"),
                                                ("coords_nn", "infer"), ("coords_nn", "train")])
def test_o3b_finds_two_swapped_channels_of_one_group(runs, pipeline: str, artifact: str, grouping: str) -> None:
    art = runs[pipeline]
    group = unsampled_group(art, grouping)
    swapped = swap_channels(art[f"{artifact}.{grouping}"], group, 1, 2)
    outcome = check("O-3b", side(runs, pipeline, **{f"{artifact}__{grouping}": swapped}))
    assert not outcome.passed and outcome.measured == 2
    assert outcome.details["foreign_channels"][grouping][artifact] == 2
    assert f"{artifact}: channel 1 of 1 {grouping} group (and 1 other channel)" in outcome.explanation
    assert f"(first: group {group})" in outcome.explanation


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_o3b_finds_a_transposed_pattern_in_a_sampled_group(runs, pipeline: str) -> None:
    grouped = runs[pipeline]["diffraction_grouped.infer"].copy()
    grouped[0, :, :, 3] = grouped[0, :, :, 3].T
    outcome = check("O-3b", side(runs, pipeline, diffraction_grouped__infer=grouped))
    assert not outcome.passed and outcome.details["foreign_channels"]["infer"]["diffraction_grouped"] == 1
