"""Normalization checks N-0 … N-14 (spec 6.1) on small hand-made artifacts: pass, fail, and the known-break label."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from harness.records import CheckInput, CheckResult
from harness.testing import check_input, run_check
from harness.stages import STAGES
from pipelines.physics.forward import far_field
from pipelines.physics.probe import ideal_probe_raw, normalize_probe, normalize_probe_study_era, probe_mask
from plugins.checks import normalization

CHECKS = {spec.id: spec for spec in normalization.harness_register_checks()}
NPHOTONS = 1e9
CLOSED_FORM = float(np.float32(np.float32(math.sqrt(NPHOTONS)) / np.float32(32)))


def side(artifacts: dict[str, Any], pipeline: str = "sim_lines", scenario: str = "gs2_ideal",
         knobs: dict[str, Any] | None = None, name: str = "a") -> CheckInput:
    return check_input(artifacts, pipeline, knobs, scenario, side=name)


def run(check_id: str, *inputs: CheckInput) -> tuple[CheckResult | None, str | None]:
    return run_check(CHECKS[check_id], *inputs)


def ideal_probe(era: str = "tip", lowpass: float = 0.7) -> dict[str, Any]:
    raw, mask = ideal_probe_raw(64, lowpass), probe_mask(64)
    normalise = normalize_probe_study_era if era == "study" else normalize_probe
    probe, norm = normalise(raw, 10.0, mask)
    return {"probe_raw": raw, "probe": probe, "probe_mask": mask, "probe_norm_factor": np.float64(norm),
            "config": {"probe_scale": 10.0}}


def simulated(n: int = 6, size: int = 16, seed: int = 0, roles: tuple[str, ...] = ("all",)) -> dict[str, Any]:
    """Exit waves ψ, their far fields, energies and s_sim over the first role's patterns (noise-free)."""
    rng = np.random.default_rng(seed)
    psi = (rng.uniform(0.5, 1.5, (n, size, size)) * np.exp(1j * rng.uniform(0, 1, (n, size, size))))
    clean = far_field(psi).astype(np.float32)
    energy = (np.abs(psi) ** 2).sum(axis=(1, 2))
    image_index = np.repeat(np.arange(len(roles)), n // len(roles))
    first = image_index == 0
    return {"Y_obj": psi.astype(np.complex64), "probe": np.ones((size, size), np.complex64),
            "object_norm": np.float64(1.0), "exit_energy": energy, "diffraction_clean": clean,
            "diffraction": clean.copy(), "s_sim": np.float64(math.sqrt(NPHOTONS / energy[first].mean())),
            "object_role": np.array(roles), "image_index": image_index, "config": {"nphotons": NPHOTONS}}


def grouped(energy: float, b: int = 8, c: int = 4, seed: int = 1) -> np.ndarray:
    """(B, 8, 8, C) float32 patterns whose mean per-channel Σ x² equals `energy`."""
    data = np.random.default_rng(seed).uniform(0.5, 1.5, (b, 8, 8, c))
    return (data * math.sqrt(energy / (data**2).sum(axis=(1, 2)).mean())).astype(np.float32)


def scale_artifacts(s_m: float = CLOSED_FORM, energy: float = 1024.0, gain: float = 0.58, s_sim: float = 560.0,
                    log_scale: float | None = None, expected_scale: float | None = None) -> dict[str, Any]:
    log_scale = np.float32(math.log(s_m)) if log_scale is None else log_scale
    scale = gain * s_m / math.exp(float(log_scale)) if expected_scale is None else expected_scale
    return {"config": {"nphotons": NPHOTONS, "N": 64}, "intensity_scale": np.float32(s_m),
            "log_scale_init": np.float32(log_scale), "X.train": grouped(energy), "X.infer": grouped(energy, seed=2),
            "gain.train": np.float64(gain), "gain.infer": np.float64(gain), "s_sim": np.float64(s_sim),
            "object_norm": np.float64(1.0), "expected_scale": np.float64(scale)}


# N-0 -----------------------------------------------------------------------------------------------


def trace_artifacts(stage: str, **reads: Any) -> dict[str, Any]:
    name = "config_trace" if stage == "config" else f"config_trace.{stage}"
    trace = [[stage, key, value] for key, value in reads.items()]
    return {"config": {"nphotons": NPHOTONS, "padded_size": 78}, name: trace}


def test_n0_is_registered_at_every_stage() -> None:
    assert [f"N-0@{stage}" for stage in STAGES] == [i for i in CHECKS if i.startswith("N-0@")]
    assert all(CHECKS[f"N-0@{stage}"].stage == stage for stage in STAGES)


def test_n0_passes_when_the_stage_reads_the_scenario() -> None:
    reads = {"N": 64, "gridsize": 2, "probe_scale": 10.0, "probe.big": False, "probe.mask": True, "padded_size": 78}
    outcome, _ = run("N-0@train", side(trace_artifacts("train", **reads, batch_size=16)))
    assert outcome.passed and set(outcome.measured) == set(reads)


def test_n0_fails_on_a_stale_store_and_names_config_bridge() -> None:
    inp = side(trace_artifacts("train", probe_scale=4.0, **{"probe.big": True}), knobs={"config_bridge": "off"})
    outcome, label = run("N-0@train", inp)
    assert not outcome.passed and "probe_scale 4.0 (scenario 10.0)" in outcome.explanation
    assert label == "known break of sim_lines config_bridge=off"


def test_n0_accepts_single_pattern_gridsize_only_in_sim_lines_simulate() -> None:
    assert run("N-0@simulate", side(trace_artifacts("simulate", gridsize=1, N=64)))[0].passed
    assert not run("N-0@simulate", side(trace_artifacts("simulate", gridsize=1), pipeline="dose_legacy"))[0].passed


def test_n0_does_not_apply_without_a_trace_or_traced_keys() -> None:
    assert run("N-0@probe", side({"config": {}}))[0] is None
    assert run("N-0@normalize", side(trace_artifacts("normalize", data_source="lines")))[0] is None


# N-1, N-2, N-3, N-4 ---------------------------------------------------------------------------------


def test_n1_expects_one_and_the_study_era_factor() -> None:
    assert run("N-1", side(ideal_probe()))[0].passed
    outcome, _ = run("N-1", side(ideal_probe("study"), pipeline="dose_legacy", knobs={"era": "study"}))
    assert outcome.passed and outcome.expected == pytest.approx(2.125787, abs=1e-6)


def test_n1_fails_when_the_era_and_the_normalisation_disagree() -> None:
    outcome, label = run("N-1", side(ideal_probe("tip"), pipeline="dose_legacy", knobs={"era": "study"}))
    assert not outcome.passed and outcome.measured == pytest.approx(1.0) and label is None


def test_n2_reproduces_the_ideal_probe_numbers_of_both_eras() -> None:
    assert run("N-2", side(ideal_probe()))[0].passed
    assert run("N-2", side(ideal_probe("study"), pipeline="dose_legacy", knobs={"era": "study"}))[0].passed
    assert run("N-2", side(ideal_probe(), scenario="gs1_custom"))[0] is None


def test_n2_flags_the_coupled_lowpass_report_artefact() -> None:
    outcome, label = run("N-2", side(ideal_probe(lowpass=10.0), knobs={"ideal_probe_lowpass": "coupled"}))
    assert not outcome.passed and outcome.measured["disk_px"] == 4
    assert outcome.measured["norm_factor"] == pytest.approx(0.009766, rel=1e-4)
    assert label == "known break of sim_lines ideal_probe_lowpass=coupled"


def test_n3_compares_the_probes_after_dividing_by_k() -> None:
    legacy = side(ideal_probe("study"), pipeline="dose_legacy", knobs={"era": "study"})
    outcome, _ = run("N-3", legacy, side(ideal_probe(), name="b"))
    assert outcome.passed and outcome.details["k"]["a"] == pytest.approx(2.125787, abs=1e-6)
    assert outcome.details["k"]["b"] == 1.0
    same, _ = run("N-3", side(ideal_probe()), side(ideal_probe(), name="b"))
    assert same.passed and same.measured == 0.0, "any pair of pipelines: a pipeline against itself too"


def test_n3_fails_when_the_legacy_probe_is_not_k_times_the_sim_lines_probe() -> None:
    legacy = side(ideal_probe("study"), pipeline="dose_legacy", knobs={"era": "tip"})
    outcome, _ = run("N-3", legacy, side(ideal_probe(), name="b"))
    assert not outcome.passed and outcome.measured > 1.0


def test_n4_compares_model_and_simulation_probes() -> None:
    probe = ideal_probe()
    assert run("N-4", side({**probe, "model_probe": probe["probe"]}))[0].passed
    stale = side({**probe, "model_probe": 2.5 * probe["probe"]}, knobs={"config_bridge": "off"})
    outcome, label = run("N-4", stale)
    assert not outcome.passed and outcome.measured == pytest.approx(2.5)
    assert label == "known break of sim_lines config_bridge=off"


# N-5 … N-7 -------------------------------------------------------------------------------------------


def test_n5_parseval_holds_per_pattern_and_catches_a_lossy_transform() -> None:
    data = simulated()
    assert run("N-5", side(data))[0].passed
    data["diffraction_clean"][2] *= 1.01
    outcome, _ = run("N-5", side(data))
    assert not outcome.passed and outcome.measured == pytest.approx(0.0201, rel=1e-3)


def test_n5b_checks_both_forward_models_against_f() -> None:
    legacy = simulated(roles=("train", "test"))
    legacy["object_norm"] = np.array([1.0, 1.0])
    assert run("N-5b", side(legacy, pipeline="dose_legacy"), side(simulated(seed=3), name="b"))[0].passed
    legacy["diffraction_clean"][0] = legacy["diffraction_clean"][0].T
    outcome, _ = run("N-5b", side(legacy, pipeline="dose_legacy"), side(simulated(seed=3), name="b"))
    assert not outcome.passed and outcome.details["errors"]["a (dose_legacy)"] > 1e-3


def test_n6_photon_budget_over_the_set_that_set_s_sim() -> None:
    data = simulated(roles=("train", "test"))
    data["diffraction"][3:] *= 1.3  # test patterns do not count for the legacy budget
    assert run("N-6", side(data, pipeline="dose_legacy"))[0].passed
    data["s_sim"] = data["s_sim"] * 1.1
    outcome, _ = run("N-6", side(data, pipeline="dose_legacy"))
    assert not outcome.passed and outcome.measured == pytest.approx(1.21)


def test_n6t_legacy_test_budget_follows_the_energy_ratio() -> None:
    data = simulated(roles=("train", "test"))
    outcome, _ = run("N-6t", side(data, pipeline="dose_legacy"))
    energy = data["exit_energy"]
    assert outcome.passed and outcome.expected == pytest.approx(energy[3:].mean() / energy[:3].mean())
    data["diffraction"][3:] *= 1.1
    assert not run("N-6t", side(data, pipeline="dose_legacy"))[0].passed
    assert run("N-6t", side(simulated(), pipeline="dose_legacy"))[0] is None


def test_n7_noise_keeps_the_mean_energy() -> None:
    data = simulated()
    assert run("N-7", side(data))[0].passed
    data["diffraction"] = data["diffraction"] * 1.01
    outcome, _ = run("N-7", side(data))
    assert not outcome.passed and outcome.measured == pytest.approx(1.0201, rel=1e-5)


# N-8 … N-13 --------------------------------------------------------------------------------------------


def test_n8_sim_lines_model_input_has_1024() -> None:
    assert run("N-8", side(scale_artifacts()))[0].passed
    outcome, label = run("N-8", side(scale_artifacts(energy=NPHOTONS), knobs={"normalize": "nphotons"}))
    assert not outcome.passed and outcome.measured == pytest.approx(NPHOTONS)
    assert label == "known break of sim_lines normalize=nphotons"


def test_n8_legacy_model_input_has_the_energy_of_its_patterns() -> None:
    data = simulated(n=8, roles=("train", "test"))
    data.update({"train_idx": np.arange(4), "test_idx": np.arange(4, 8), "config": {"nphotons": NPHOTONS, "N": 16},
                 "nn_indices.train": np.array([[0, 1, 2, 3], [3, 2, 1, 0]]),
                 "nn_indices.infer": np.array([[0, 1, 2, 3]])})
    for grouping, rows in (("train", data["nn_indices.train"]), ("infer", data["nn_indices.infer"] + 4)):
        data[f"X.{grouping}"] = np.moveaxis(data["diffraction_clean"][rows], 1, -1)
    outcome, _ = run("N-8", side(data, pipeline="dose_legacy"))
    assert outcome.passed
    assert outcome.details["expected_by_grouping"]["infer"] == pytest.approx(data["exit_energy"][4:].mean())
    data["X.infer"] = data["X.infer"] * np.float32(1.1)
    assert not run("N-8", side(data, pipeline="dose_legacy"))[0].passed


def test_n9_count_ratio_and_the_channel_summed_dataset_scale() -> None:
    assert run("N-9", side(scale_artifacts()))[0].passed
    raw = side(scale_artifacts(s_m=CLOSED_FORM * math.sqrt(0.0765)), knobs={"intensity_scale": "dataset_raw"})
    outcome, label = run("N-9", raw)
    assert not outcome.passed and outcome.measured == pytest.approx(0.0765, rel=1e-4)
    assert "sees 7.65% of the simulated photons" in outcome.explanation
    assert label == "known break of sim_lines intensity_scale=dataset_raw"


def test_n9_legacy_counts_against_the_simulated_photons_of_the_same_patterns() -> None:
    data = scale_artifacts(s_m=1089.33, energy=842.72, gain=1.0, s_sim=1089.33)
    data["diffraction_grouped.train"], data["diffraction_grouped.infer"] = data["X.train"], data["X.infer"]
    assert run("N-9", side(data, pipeline="dose_legacy", knobs={"era": "study"}))[0].passed
    data["intensity_scale"] = np.float32(CLOSED_FORM)
    outcome, label = run("N-9", side(data, pipeline="dose_legacy", knobs={"era": "tip"}))
    assert not outcome.passed and outcome.measured == pytest.approx(CLOSED_FORM**2 * 842.72 / NPHOTONS, rel=1e-5)
    assert label == "known break of dose_legacy era=tip"


def test_n10_true_count_ratio_range() -> None:
    assert run("N-10", side(scale_artifacts(gain=0.55, s_sim=560.0)))[0].passed
    outcome, label = run("N-10", side(scale_artifacts(s_m=988.21, gain=1.0, s_sim=2315.68), pipeline="dose_legacy",
                                      knobs={"era": "tip"}))
    assert not outcome.passed and outcome.measured == pytest.approx(0.1821, abs=1e-4)
    assert label == "known break of dose_legacy era=tip"


def test_n11_scaler_starts_at_s_m() -> None:
    assert run("N-11", side(scale_artifacts()))[0].passed
    outcome, label = run("N-11", side(scale_artifacts(log_scale=math.log(2315.68)), pipeline="dose_legacy",
                                      knobs={"era": "tip"}))
    assert not outcome.passed and outcome.measured == pytest.approx(2.3433, abs=1e-4)
    assert label == "known break of dose_legacy era=tip"


def test_n12_scaler_drift() -> None:
    base = {"log_scale_init": np.float32(6.895897), "log_scale_final": np.float32(6.895897)}
    assert run("N-12", side(base))[0].passed
    outcome, _ = run("N-12", side({**base, "log_scale_final": np.float32(6.9)}))
    assert not outcome.passed and outcome.measured == pytest.approx(math.exp(6.9 - 6.895897) - 1, rel=1e-4)


def test_n13_expected_scale_follows_its_formula() -> None:
    outcome, _ = run("N-13", side(scale_artifacts()))
    assert outcome.passed and outcome.expected == pytest.approx(0.58)
    stale_store = {"probe_scale": 4.0}
    stale = scale_artifacts()
    stale["expected_scale"] = stale["expected_scale"] * 0.4
    stale.update({"sl_store.group": stale_store, "config": {**stale["config"], "probe_scale": 10.0}})
    outcome, _ = run("N-13", side(stale, knobs={"config_bridge": "off"}))
    assert outcome.passed, "the formula holds; the stale probe is reported at train by N-0 and N-4"
    assert outcome.details["probe_scale_ratio"] == pytest.approx(0.4) and "stale" in outcome.explanation
    wrong = scale_artifacts()
    wrong["expected_scale"] = wrong["expected_scale"] * 0.5
    outcome, _ = run("N-13", side(wrong))
    assert not outcome.passed and "not the formula" in outcome.explanation


def test_n13_tip_scaler_does_not_cancel() -> None:
    data = scale_artifacts(s_m=CLOSED_FORM, gain=1.0, log_scale=np.float32(math.log(2315.68)))
    data["object_norm"] = np.array([4.179567, 4.296015])
    outcome, label = run("N-13", side(data, pipeline="dose_legacy", knobs={"era": "tip"}))
    assert not outcome.passed and outcome.expected == pytest.approx(0.232774, abs=1e-6)
    assert outcome.details["scaler_ratio"] == pytest.approx(0.4268, abs=1e-4)
    assert label == "known break of dose_legacy era=tip"


# N-14 ----------------------------------------------------------------------------------------------------


def parity_side(s_m: float = CLOSED_FORM, knobs: dict[str, Any] | None = None,
                pipeline: str = "sim_lines") -> CheckInput:
    data = {**simulated(), **ideal_probe(), "X.train": grouped(1024.0), "intensity_scale": np.float32(s_m)}
    return side(data, pipeline=pipeline, knobs=knobs)


def test_n14_two_equivalent_runs_agree() -> None:
    outcome, _ = run("N-14", parity_side(), parity_side())
    assert outcome.passed and outcome.measured == 0.0
    assert run("N-14", parity_side(pipeline="dose_legacy"), parity_side())[0] is None


def test_n14_names_the_knob_that_changed_the_scale() -> None:
    outcome, label = run("N-14", parity_side(), parity_side(s_m=273.35, knobs={"intensity_scale": "dataset_raw"}))
    assert not outcome.passed and "intensity_scale differs" in outcome.explanation
    assert label == "known break of sim_lines intensity_scale=dataset_raw"
