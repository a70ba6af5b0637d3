"""Normalization-symmetry checks N-0 … N-14 (spec 6.1): configuration reads, probe, photons, model input, scales.

N-0 holds at every stage and is registered once per stage as `N-0@<stage>`. N-3, N-5b and N-14 are
cross checks: N-3 and N-5b compare any two pipelines through their declared probe normalisation and
forward model, N-14 compares two runs that declare the same conventions.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from harness import CheckSpec, NotApplicable, hookimpl
from harness.conventions import differing_conventions
from harness.records import CheckInput, CheckResult
from harness.stages import STAGES
from pipelines.physics.forward import far_field
from pipelines.physics.probe import normalize_probe, normalize_probe_study_era
from pipelines.scenarios import scenario
from plugins.checks.common import (
    GROUPINGS,
    by_design_reads,
    channel_energies,
    describe_reads,
    grouped_rows,
    magnitude_moments,
    noise_tolerance,
    nphotons,
    object_norm_of,
    pattern_energies,
    pattern_roles,
    poisson_tolerance,
    relative,
    result,
    scalar,
    scenario_reads,
    simulation_set,
    stale_reads,
    trace_artifact,
    traced_reads,
    worst,
)

IDEAL_DISK_PX = 376
MASK_PX = 812
IDEAL_NORMALISED = {
    "tip": {"norm_factor": 0.917969, "l2": 20.0205, "energy": 400.82},
    "study": {"norm_factor": 0.431825, "l2": 42.5592, "energy": 1811.29},
}
"""Spec 3.2.4: the ideal probe at probe_scale 10 with the tip/sim_lines and the study-era normalisation."""
PROBE_TOLERANCE = 1e-6
PARSEVAL_TOLERANCE = 1e-5
FORWARD_TOLERANCE = 1e-6
BUDGET_TOLERANCE = "5/sqrt(expected photons) + (2 + log2 N²)·eps32"
"""N-6, N-7: 5 σ of the Poisson total plus float32 rounding (common.poisson_tolerance), no fixed floor."""
INPUT_ENERGY_TOLERANCE = 1e-4
COUNT_RATIO_TOLERANCE = 1e-3
TRUE_RATIO_RANGE = (0.90, 1.10)
SCALER_TOLERANCE = 1e-6
DRIFT_TOLERANCE = 1e-4
FORMULA_TOLERANCE = 1e-9
TEST_BUDGET_TOLERANCE = 0.005
PARITY_TOLERANCES = {"diffraction": 0.01, "probe": 0.01, "X.train": 0.05, "intensity_scale": 0.01}
"""N-14: the debug initiative's parity checklist (raw diffraction, probe, grouped X, intensity_scale)."""

STALE_STORE = {"config_bridge": ("off", "off_all")}
COUNT_BREAKS = {"era": ("tip",), "intensity_scale": ("dataset_raw", "dataset_raw_pp"), "normalize": ("nphotons",)}


def masked_mean(probe: np.ndarray, mask: np.ndarray) -> float:
    """mean over all pixels of |mask·P|, float64."""
    return float(np.mean(np.abs(np.asarray(probe, dtype=np.complex128)) * np.asarray(mask, dtype=bool)))


def study_factor(inp: CheckInput) -> float:
    """k = norm_tip/norm_study of the raw probe under the study-era probe normalisation (spec 3.2.3); 1 at the tip."""
    if inp.conventions["probe_normalisation"] != "study_era":
        return 1.0
    art = inp.artifacts
    raw, mask, scale = art["probe_raw"], np.asarray(art["probe_mask"], dtype=bool), float(art["config"]["probe_scale"])
    return normalize_probe(raw, scale, mask)[1] / normalize_probe_study_era(raw, scale, mask)[1]


def config_trace_check(stage: str) -> Callable[[CheckInput], CheckResult]:
    """N-0 bound to one stage."""

    def check(inp: CheckInput) -> CheckResult:
        """N-0: N, gridsize, probe_scale, probe.big, probe.mask, nphotons, padded_size read here == scenario's."""
        reads = traced_reads(inp, stage)
        if not reads:
            raise NotApplicable(f"{trace_artifact(stage)} records no read of the checked keys")
        wanted = scenario_reads(inp, stage)
        stale = stale_reads(inp, stage)
        if stale:
            text = f"{stage} read {describe_reads(stale)}: stale parameter store (CONFIG-001)"
        else:
            design = [key for key in by_design_reads(inp, stage) if key in reads]
            note = f" ({', '.join(design)} of a single pattern while simulating, by design)" if design else ""
            text = f"{stage} read {', '.join(reads)} as the scenario sets them{note}"
        return result(reads, {key: wanted[key] for key in reads}, "exact", not stale, text)

    return check


def probe_scale_check(inp: CheckInput) -> CheckResult:
    """N-1: mean(|mask·P|)·probe_scale = k, k = 1 (dose_legacy era=study: the study-era factor of spec 3.2.3)."""
    art = inp.artifacts
    measured = masked_mean(art["probe"], art["probe_mask"]) * float(art["config"]["probe_scale"])
    k = study_factor(inp)
    passed = relative(measured, k) <= PROBE_TOLERANCE
    era = " = k of the study-era normalisation (convention probe_normalisation=study_era)" if k != 1.0 else ""
    if passed:
        text = f"mean|mask·P|·probe_scale = {measured:.6f}{era}: the probe is normalised as the model expects"
    else:
        text = (f"mean|mask·P|·probe_scale = {measured:.6f}, expected {k:.6f}: "
                f"the probe is off by {100 * (measured / k - 1):+.3g}%")
    return result(measured, k, PROBE_TOLERANCE, passed, text)


def ideal_probe_check(inp: CheckInput) -> CheckResult:
    """N-2: ideal probe disk px = round(Σ|P_raw|), mask px, norm factor, L2 = sqrt(Σ|P|²), Σ|P|² of spec 3.2.4."""
    if scenario(inp.scenario).is_custom:
        raise NotApplicable(f"scenario {inp.scenario} uses the custom probe; the numbers are the ideal probe's")
    art = inp.artifacts
    energy = float(pattern_energies(np.asarray(art["probe"])[None])[0])
    measured = {
        "disk_px": int(round(float(np.abs(np.asarray(art["probe_raw"], dtype=np.complex128)).sum()))),
        "mask_px": int(np.count_nonzero(art["probe_mask"])),
        "norm_factor": scalar(art["probe_norm_factor"]),
        "l2": math.sqrt(energy),
        "energy": energy,
    }
    era = "study" if inp.conventions["probe_normalisation"] == "study_era" else "tip"
    expected = {"disk_px": IDEAL_DISK_PX, "mask_px": MASK_PX, **IDEAL_NORMALISED[era]}
    wrong = [key for key, want in expected.items()
             if (measured[key] != want if key.endswith("_px") else relative(measured[key], want) > 1e-5)]
    if wrong:
        text = "ideal probe " + ", ".join(f"{key} {measured[key]:.6g} (expected {expected[key]:.6g})" for key in wrong)
        if "disk_px" in wrong:
            text += ": not the 0.7-lowpass disk both pipelines simulate with"
    else:
        text = (f"ideal probe: {IDEAL_DISK_PX}-px disk, {MASK_PX}-px mask, norm {measured['norm_factor']:.6f}, "
                f"L2 {measured['l2']:.4f} ({'study-era' if era == 'study' else 'tip / sim_lines'} normalisation)")
    return result(measured, expected, {"px": "exact", "other": 1e-5}, not wrong, text)


def probe_parity_check(a: CheckInput, b: CheckInput) -> CheckResult:
    """N-3 (cross): max|P_a/k_a − P_b/k_b|, k = 1 (tip normalisation) or the study-era factor (spec 3.2.3)."""
    k = {side.side: study_factor(side) for side in (a, b)}
    p_a = np.asarray(a.artifacts["probe"], dtype=np.complex128)
    p_b = np.asarray(b.artifacts["probe"], dtype=np.complex128)
    scaled = float(np.max(np.abs(p_a / k[a.side] - p_b / k[b.side])))
    unscaled = float(np.max(np.abs(p_a - p_b)))
    factors = ", ".join(f"k_{side} = {value:.6f}" for side, value in k.items())
    text = (f"the probes divided by their normalisation factors ({factors}) differ by at most {scaled:.2g}"
            f"; unscaled {unscaled:.3g}")
    return result(scaled, 0.0, PROBE_TOLERANCE, scaled <= PROBE_TOLERANCE, text, k=k, unscaled_max_difference=unscaled)


def model_input_convention(inp: CheckInput) -> str:
    """`raw` (X = diffraction_grouped, gain 1) or `normalize_data` (mean Σ X² = (N/2)²); others are not known here."""
    value = inp.conventions["model_input"]
    if value not in ("raw", "normalize_data"):
        raise NotApplicable(f"convention model_input={value!r} is not one this check knows (raw, normalize_data)")
    return value


def model_probe_check(inp: CheckInput) -> CheckResult:
    """N-4: ρ_P = mean|mask·P_model| / mean|mask·P_sim| = 1."""
    art = inp.artifacts
    rho = masked_mean(art["model_probe"], art["probe_mask"]) / masked_mean(art["probe"], art["probe_mask"])
    passed = relative(rho, 1.0) <= PROBE_TOLERANCE
    if passed:
        text = f"the model illuminates with the simulated probe (ρ_P = {rho:.7f})"
    else:
        text = f"the model illuminates with {rho:.6g} × the simulated probe: P re-normalised with another probe_scale"
    return result(rho, 1.0, PROBE_TOLERANCE, passed, text)


def parseval_check(inp: CheckInput) -> CheckResult:
    """N-5: max over patterns of |Σ A0² − Σ|Y_norm·P|²| / Σ|Y_norm·P|² (diffraction_clean, exit_energy)."""
    far = pattern_energies(np.asarray(inp.artifacts["diffraction_clean"]))
    near = np.asarray(inp.artifacts["exit_energy"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        errors = np.abs(far - near) / near
    measured = float(np.max(errors)) if np.all(np.isfinite(errors)) else math.nan
    passed = measured <= PARSEVAL_TOLERANCE
    bad = int(np.count_nonzero(~(errors <= PARSEVAL_TOLERANCE)))
    text = (f"far-field energy equals exit-wave energy in all {near.size} patterns (worst {measured:.1e})" if passed
            else f"{bad} of {near.size} patterns lose or gain far-field energy (worst {measured:.3g}): F not unitary")
    return result(measured, 0.0, PARSEVAL_TOLERANCE, passed, text)


def first_pattern_error(inp: CheckInput) -> float:
    """max|A_side − F(ψ)| / max F(ψ) for the side's first pattern, ψ = Y_norm·P and F in float64 (spec 1.5)."""
    art = inp.artifacts
    psi = (np.asarray(art["Y_obj"][0], dtype=np.complex128) / object_norm_of(inp, "train")
           * np.asarray(art["probe"], dtype=np.complex128))
    reference = far_field(psi)
    error = np.abs(np.asarray(art["diffraction_clean"][0], dtype=np.float64) - reference)
    return float(error.max() / reference.max())


def forward_parity_check(a: CheckInput, b: CheckInput) -> CheckResult:
    """N-5b (cross): each side's A0 of its first wave ψ = Y_norm[0]·P equals F(ψ) of spec 1.5 (error ÷ peak)."""
    errors = {f"{side.side} ({side.pipeline})": first_pattern_error(side) for side in (a, b)}
    measured = max(errors.values())
    passed = measured <= FORWARD_TOLERANCE
    text = ("both forward models reproduce F(ψ) on their first exit wave: "
            + ", ".join(f"{name} {value:.1e}" for name, value in errors.items()))
    if not passed:
        text = f"{worst(errors, 0.0)} forward model departs from F(ψ) by {measured:.3g} of the peak"
    return result(measured, 0.0, FORWARD_TOLERANCE, passed, text, errors=errors)


def photon_budget_check(inp: CheckInput) -> CheckResult:
    """N-6: s_sim²·mean_n Σ diffraction²/nphotons = 1 on the patterns that set s_sim (all; legacy train),
    within 5/sqrt(n·nphotons) + float32 rounding: the Poisson total of the set, not a fixed floor."""
    art = inp.artifacts
    chosen = simulation_set(inp)
    energy = pattern_energies(np.asarray(art["diffraction"]))[chosen]
    dose = nphotons(inp)
    measured = scalar(art["s_sim"]) ** 2 * float(energy.mean()) / dose
    tolerance = poisson_tolerance(energy.size * dose)
    passed = abs(measured - 1.0) <= tolerance
    text = (f"the {energy.size} patterns that set s_sim carry {measured:.5f} × nphotons photons each on average"
            if passed else f"photon budget {measured:.6g}: {measured - 1:+.2g} of nphotons off the simulated dose, beyond "
                           f"5 σ of the Poisson total ({tolerance:.2g}): the noise or the photon scale changes the dose")
    return result(measured, 1.0, tolerance, passed, text)


def test_budget_check(inp: CheckInput) -> CheckResult:
    """N-6t: s_sim²·mean_test Σ diffraction²/nphotons = E_test/E_train (legacy test set, train s_sim reused)."""
    art = inp.artifacts
    roles = pattern_roles(inp)
    test, train = roles == "test", roles == "train"
    if not test.any() or not train.any():
        raise NotApplicable("no separate train and test images (object_role)")
    exit_energy = np.asarray(art["exit_energy"], dtype=np.float64)
    expected = float(exit_energy[test].mean() / exit_energy[train].mean())
    noisy = float(pattern_energies(np.asarray(art["diffraction"]))[test].mean())
    measured = scalar(art["s_sim"]) ** 2 * noisy / nphotons(inp)
    passed = abs(measured - expected) <= TEST_BUDGET_TOLERANCE
    text = (f"test patterns carry {measured:.4f} × nphotons: train s_sim reused, E_test/E_train = {expected:.4f}"
            if passed else f"test budget {measured:.4f} × nphotons does not follow E_test/E_train = {expected:.4f}")
    return result(measured, expected, TEST_BUDGET_TOLERANCE, passed, text)


def scale_out_check(inp: CheckInput) -> CheckResult:
    """N-7: mean_n Σ diffraction² / mean_n Σ diffraction_clean² = 1 (noise adds no energy on average), within
    5/sqrt(s_sim²·Σ diffraction_clean²) + float32 rounding: the Poisson total of all expected counts."""
    art = inp.artifacts
    noisy = pattern_energies(np.asarray(art["diffraction"]))
    clean = pattern_energies(np.asarray(art["diffraction_clean"]))
    measured = float(noisy.mean() / clean.mean())
    tolerance = poisson_tolerance(scalar(art["s_sim"]) ** 2 * float(clean.sum()))
    passed = abs(measured - 1.0) <= tolerance
    text = (f"noisy and clean diffraction hold the same energy ({measured:.6f}): the photon scale was divided back out"
            if passed else f"noisy / clean diffraction energy {measured:.6g} ({measured - 1:+.2g}, Poisson allows "
                           f"{tolerance:.2g}): the noise adds or removes photons, or the photon scale is not divided back out")
    return result(measured, 1.0, tolerance, passed, text)


def model_input_energy_check(inp: CheckInput) -> CheckResult:
    """N-8: mean_{b,c} Σ X² per grouping = (N/2)² (sim_lines) or mean Σ|Y_norm·P|² of its patterns (legacy)."""
    art = inp.artifacts
    legacy = model_input_convention(inp) == "raw"
    measured, expected, tolerance = {}, {}, {}
    for grouping in GROUPINGS:
        measured[grouping] = float(channel_energies(np.asarray(art[f"X.{grouping}"])).mean())
        if legacy:
            rows = grouped_rows(inp, grouping)
            expected[grouping] = float(np.asarray(art["exit_energy"], dtype=np.float64)[rows].mean())
            tolerance[grouping] = noise_tolerance(INPUT_ENERGY_TOLERANCE, rows.size * nphotons(inp))
        else:
            expected[grouping] = (int(art["config"]["N"]) / 2) ** 2
            tolerance[grouping] = INPUT_ENERGY_TOLERANCE
    failing = [g for g in GROUPINGS if not relative(measured[g], expected[g]) <= tolerance[g]]
    key = failing[0] if failing else worst({g: measured[g] / expected[g] for g in GROUPINGS}, 1.0)
    values = ", ".join(f"{measured[g]:.6g} ({g})" for g in GROUPINGS)
    if failing:
        text = f"mean Σ X² = {measured[key]:.6g} on {key}, expected {expected[key]:.6g}: wrong model-input energy"
    elif legacy:
        text = f"mean Σ X² = {values} = E of the grouped patterns: gain 1, not 1024 by convention"
    else:
        text = f"mean Σ X² = {values} = (N/2)² after normalize_data"
    return result(measured[key], expected[key], tolerance[key], not failing, text,
                  by_grouping=measured, expected_by_grouping=expected, tolerance_by_grouping=tolerance)


def count_ratio_check(inp: CheckInput) -> CheckResult:
    """N-9: s_m²·mean_{b,c} Σ X²/nphotons per grouping = 1 (sim_lines), s_sim²·mean Σ raw²/nphotons (legacy)."""
    art = inp.artifacts
    s_m, dose = scalar(art["intensity_scale"]), nphotons(inp)
    measured, expected = {}, {}
    for grouping in GROUPINGS:
        measured[grouping] = s_m**2 * float(channel_energies(np.asarray(art[f"X.{grouping}"])).mean()) / dose
        expected[grouping] = 1.0
        if model_input_convention(inp) == "raw":
            raw = float(channel_energies(np.asarray(art[f"diffraction_grouped.{grouping}"])).mean())
            expected[grouping] = scalar(art["s_sim"]) ** 2 * raw / dose
    ratios = {g: measured[g] / expected[g] for g in GROUPINGS}
    key = worst(ratios, 1.0)
    passed = all(abs(ratios[g] - 1.0) <= COUNT_RATIO_TOLERANCE for g in GROUPINGS)
    share = f"{100 * ratios[key]:.3g}% of" if ratios[key] < 1 else f"{ratios[key]:.4g} ×"
    text = (f"count ratio {measured[key]:.6f} ({key}): the model sees the simulated photon count" if passed
            else f"count ratio {measured[key]:.4g} ({key}): the model sees {share} the simulated photons")
    return result(measured[key], expected[key], COUNT_RATIO_TOLERANCE, passed, text,
                  by_grouping=measured, expected_by_grouping=expected)


def true_count_ratio_check(inp: CheckInput) -> CheckResult:
    """N-10: count_ratio_true = s_m²·gain_train²/s_sim² within [0.90, 1.10]."""
    art = inp.artifacts
    measured = (scalar(art["intensity_scale"]) * scalar(art["gain.train"]) / scalar(art["s_sim"])) ** 2
    low, high = TRUE_RATIO_RANGE
    passed = low <= measured <= high
    text = (f"model counts are {measured:.4f} × the simulated counts of the same patterns" if passed
            else f"model counts are {measured:.4g} × the simulated counts: the Poisson loss weights the wrong dose")
    return result(measured, 1.0, [low, high], passed, text)


def scaler_init_check(inp: CheckInput) -> CheckResult:
    """N-11: exp(log_scale_init)/s_m = 1."""
    art = inp.artifacts
    s_m = scalar(art["intensity_scale"])
    measured = math.exp(scalar(art["log_scale_init"])) / s_m
    passed = relative(measured, 1.0) <= SCALER_TOLERANCE
    text = (f"the IntensityScaler starts at s_m (ratio 1 {measured - 1:+.1e})" if passed
            else f"exp(log_scale_init)/s_m = {measured:.4g}: the IntensityScaler starts at {measured * s_m:.6g}, "
                 f"not s_m = {s_m:.6g}")
    return result(measured, 1.0, SCALER_TOLERANCE, passed, text)


def scaler_drift_check(inp: CheckInput) -> CheckResult:
    """N-12: |exp(L_final)/exp(L_init) − 1| ≤ 1e-4."""
    art = inp.artifacts
    drift = abs(math.exp(scalar(art["log_scale_final"]) - scalar(art["log_scale_init"])) - 1.0)
    passed = drift <= DRIFT_TOLERANCE
    text = (f"the IntensityScaler stayed put during training (drift {drift:.1e})" if passed
            else f"the IntensityScaler drifted by {100 * drift:.3g}% during training: its log scale is being optimised")
    return result(drift, 0.0, DRIFT_TOLERANCE, passed, text)


def model_probe_scale_ratio(inp: CheckInput) -> float:
    """ps_model / ps_sim: sim_lines' model re-normalises the probe with the store's probe_scale (3.2.3)."""
    store = inp.artifacts.get("sl_store.group") if "sl_store.group" in inp.artifacts else None
    if store is None:
        return 1.0
    return float(store["probe_scale"]) / float(inp.artifacts["config"]["probe_scale"])


def expected_scale_check(inp: CheckInput) -> CheckResult:
    """N-13: expected_scale = (g_infer/norm_infer)·(s_m/e^L_init)·(ps_model/ps_sim), and s_m/e^L_init = 1
    (so s_m cancels). A stale model probe_scale changes the value through ps_model/ps_sim (×0.4 with
    config_bridge=off); the formula still holds, and the break itself is reported at train by N-0 and N-4."""
    art = inp.artifacts
    convention = scalar(art["gain.infer"]) / object_norm_of(inp, "infer")
    probe_ratio = model_probe_scale_ratio(inp)
    scaler = scalar(art["intensity_scale"]) / math.exp(scalar(art["log_scale_init"]))
    measured = scalar(art["expected_scale"])
    formula_ok = relative(measured, convention * scaler * probe_ratio) <= FORMULA_TOLERANCE
    scaler_ok = abs(scaler - 1.0) <= SCALER_TOLERANCE
    if formula_ok and scaler_ok:
        text = f"expected_scale {measured:.6f} = gain_infer/object_norm_infer: s_m cancels, cannot bias the amplitude"
        if probe_ratio != 1.0:
            text += f"; it carries ps_model/ps_sim = {probe_ratio:.4g} from a stale model probe_scale (see N-4 at train)"
    elif not scaler_ok:
        text = (f"expected_scale {measured:.6g} is {measured / convention:.4g} × {convention:.6g}: "
                f"s_m/exp(log_scale_init) = {scaler:.4g} does not cancel")
    else:
        text = (f"expected_scale {measured:.6g} is {measured / convention:.4g} × {convention:.6g}, "
                f"not the formula's {convention * scaler * probe_ratio:.6g}")
    return result(measured, convention * probe_ratio, {"formula": FORMULA_TOLERANCE, "scaler": SCALER_TOLERANCE},
                  formula_ok and scaler_ok, text, scaler_ratio=scaler, probe_scale_ratio=probe_ratio)


def cross_run_parity_check(a: CheckInput, b: CheckInput) -> CheckResult:
    """N-14 (cross, same conventions): relative differences of mean, std of |diffraction|, |probe|, |X.train| and s_m."""
    differing = differing_conventions(a.conventions, b.conventions)
    if differing:
        raise NotApplicable(f"the sides declare different conventions ({', '.join(differing)}): not two runs of "
                            "one pipeline")
    differences: dict[str, float] = {}
    for name in ("diffraction", "probe", "X.train"):
        first, second = magnitude_moments(a.artifacts[name]), magnitude_moments(b.artifacts[name])
        for stat in ("mean", "std"):
            differences[f"{name} {stat}"] = relative(second[stat], first[stat])
    scales = [scalar(side.artifacts["intensity_scale"]) for side in (a, b)]
    differences["intensity_scale"] = relative(scales[1], scales[0])
    allowed = {item: PARITY_TOLERANCES[item.split(" ")[0]] for item in differences}
    key = max(differences, key=lambda item: differences[item] / allowed[item])
    passed = all(differences[item] <= allowed[item] for item in differences)
    text = (f"the two runs agree (closest to its tolerance: {key}, {100 * differences[key]:.2g}% apart)"
            if passed else f"{key} differs by {100 * differences[key]:.3g}% between the two runs "
                           f"(tolerance {100 * allowed[key]:g}%): the configurations are not equivalent")
    return result(differences[key], 0.0, PARITY_TOLERANCES, passed, text, differences=differences)


PROBE = ("probe", "probe_mask", "config")
GROUPED_ROWS = ("object_role", "image_index", "train_idx", "test_idx", "nn_indices.train", "nn_indices.infer")
PROBE_CONVENTION = ("probe_normalisation",)


@hookimpl
def harness_register_checks() -> list[CheckSpec]:
    """N-0 at every stage, N-1 … N-14."""
    checks = [
        CheckSpec(f"N-0@{stage}", "normalization", stage, "error", config_trace_check(stage), "exact",
                  "configuration values read at the stage equal the scenario's and the knobs'",
                  known_breaks={**STALE_STORE, "canvas": ("c1",)}, requires=(trace_artifact(stage),))
        for stage in STAGES
    ]
    return checks + [
        CheckSpec("N-1", "normalization", "probe", "error", probe_scale_check, PROBE_TOLERANCE,
                  "probe normalisation mean|mask·P|·probe_scale", requires=PROBE,
                  conventions=PROBE_CONVENTION),
        CheckSpec("N-2", "normalization", "probe", "error", ideal_probe_check, 1e-5,
                  "ideal probe pixel counts, norm factor and energy", known_breaks={"ideal_probe_lowpass": ("coupled",)},
                  requires=(*PROBE, "probe_raw", "probe_norm_factor"), conventions=PROBE_CONVENTION),
        CheckSpec("N-3", "normalization", "probe", "error", probe_parity_check, PROBE_TOLERANCE,
                  "the two sides' probes agree up to their normalisation factors k", cross=True,
                  requires=(*PROBE, "probe_raw"), conventions=PROBE_CONVENTION),
        CheckSpec("N-4", "normalization", "train", "error", model_probe_check, PROBE_TOLERANCE,
                  "the model's probe equals the simulation's", known_breaks=STALE_STORE,
                  requires=("model_probe", "probe", "probe_mask")),
        CheckSpec("N-5", "normalization", "simulate", "error", parseval_check, PARSEVAL_TOLERANCE,
                  "Parseval per pattern", requires=("diffraction_clean", "exit_energy")),
        CheckSpec("N-5b", "normalization", "simulate", "error", forward_parity_check, FORWARD_TOLERANCE,
                  "both sides' forward models equal F of spec 1.5 on their first exit wave", cross=True,
                  requires=("Y_obj", "object_norm", "probe", "diffraction_clean")),
        CheckSpec("N-6", "normalization", "simulate", "error", photon_budget_check, BUDGET_TOLERANCE,
                  "photon budget of the set that defined s_sim",
                  requires=("diffraction", "s_sim", "config", "object_role", "image_index")),
        CheckSpec("N-6t", "normalization", "simulate", "info", test_budget_check, TEST_BUDGET_TOLERANCE,
                  "test-set photon budget with the train s_sim (separate test images)",
                  requires=("exit_energy", "diffraction", "s_sim", "config", "object_role", "image_index")),
        CheckSpec("N-7", "normalization", "simulate", "error", scale_out_check, BUDGET_TOLERANCE,
                  "noisy and clean diffraction energies agree", requires=("diffraction", "diffraction_clean", "config")),
        CheckSpec("N-8", "normalization", "normalize", "error", model_input_energy_check, INPUT_ENERGY_TOLERANCE,
                  "model-input energy per grouping", known_breaks={"normalize": ("nphotons",)},
                  requires=("X.train", "X.infer", "config", "exit_energy", *GROUPED_ROWS), conventions=("model_input",)),
        CheckSpec("N-9", "normalization", "scale", "error", count_ratio_check, COUNT_RATIO_TOLERANCE,
                  "the model sees the simulated photon count", known_breaks=COUNT_BREAKS,
                  requires=("intensity_scale", "X.train", "X.infer", "config", "s_sim", "diffraction_grouped.train",
                            "diffraction_grouped.infer"), conventions=("model_input",)),
        CheckSpec("N-10", "normalization", "scale", "error", true_count_ratio_check, list(TRUE_RATIO_RANGE),
                  "model counts / simulated counts", known_breaks=COUNT_BREAKS,
                  requires=("intensity_scale", "gain.train", "s_sim")),
        CheckSpec("N-11", "normalization", "scale", "error", scaler_init_check, SCALER_TOLERANCE,
                  "IntensityScaler starts at s_m", known_breaks={"era": ("tip",)},
                  requires=("intensity_scale", "log_scale_init")),
        CheckSpec("N-12", "normalization", "train", "error", scaler_drift_check, DRIFT_TOLERANCE,
                  "IntensityScaler does not drift", requires=("log_scale_final", "log_scale_init")),
        CheckSpec("N-13", "normalization", "scale", "error", expected_scale_check, FORMULA_TOLERANCE,
                  "expected_scale follows its formula and ignores s_m", known_breaks={**STALE_STORE, "era": ("tip",)},
                  requires=("gain.infer", "object_norm", "intensity_scale", "log_scale_init", "expected_scale", "config")),
        CheckSpec("N-14", "normalization", "scale", "warn", cross_run_parity_check, PARITY_TOLERANCES,
                  "two runs that declare the same conventions agree on diffraction, probe, X and s_m", cross=True,
                  known_breaks={**COUNT_BREAKS, "ideal_probe_lowpass": ("coupled",)},
                  requires=("diffraction", "probe", "X.train", "intensity_scale")),
    ]
