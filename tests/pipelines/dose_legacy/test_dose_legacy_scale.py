"""dose_legacy stage scale: s_m and log_scale_init by era, count ratios and expected_scale (spec 3.9, 6.1)."""
from __future__ import annotations

import numpy as np
import pytest

CLOSED_FORM = np.float32(988.2117919921875)


def mean_pattern_energy(x: np.ndarray) -> float:
    return float(np.einsum("bxyc,bxyc->bc", x, x, dtype=np.float64).mean())


@pytest.mark.parametrize("scenario", ["gs2_ideal", "gs1_ideal", "gs2_custom"])
def test_study_era_uses_train_photon_scale_and_keeps_photon_counts(legacy_run, scenario):
    run = legacy_run(scenario)
    s_sim = float(run["s_sim"])
    assert run["intensity_scale"].dtype == run["log_scale_init"].dtype == np.float32
    assert float(run["intensity_scale"]) == pytest.approx(s_sim, rel=1e-7)
    assert float(run["log_scale_init"]) == pytest.approx(np.log(s_sim), rel=1e-7)
    assert float(run["count_ratio_nominal"]) == pytest.approx(1.0, abs=1e-3)  # N-9
    assert float(run["count_ratio_true"]) == pytest.approx(1.0, abs=1e-6)  # N-10
    assert float(run["expected_scale"]) == pytest.approx(1 / run["object_norm"][1], rel=1e-6)


def test_study_era_gs2_ideal_smoke_numbers(legacy_run):
    run = legacy_run("gs2_ideal")
    assert float(run["intensity_scale"]) == pytest.approx(1085.21, abs=5e-3)
    assert float(run["expected_scale"]) == pytest.approx(1 / 4.2397, rel=2e-5)
    # infer counts relative to train: E_test / E_train of the smoke table
    assert float(run["count_ratio_nominal.infer"]) == pytest.approx(864.09 / 849.12, rel=1e-4)


@pytest.mark.parametrize("scenario, e_train, s_sim", [("gs2_ideal", 187.90, 2306.93), ("gs1_ideal", 189.71, 2295.92),
                                                      ("gs2_custom", 848.47, 1085.63)])
def test_tip_era_closed_form_scale_breaks_count_ratio_as_its_formula_predicts(legacy_run, scenario, e_train, s_sim):
    run = legacy_run(scenario, era="tip")
    assert run["intensity_scale"] == CLOSED_FORM
    assert float(run["log_scale_init"]) == pytest.approx(np.log(float(run["s_sim"])), rel=1e-7)
    # smoke analogue of the full-profile 0.1821 (ideal) / 0.829 (custom): s_m^2 * E_train / nphotons
    nominal = float(CLOSED_FORM) ** 2 * e_train / 1e9
    assert float(run["count_ratio_nominal"]) == pytest.approx(nominal, rel=1e-4)
    assert float(run["count_ratio_true"]) == pytest.approx((float(CLOSED_FORM) / s_sim) ** 2, rel=1e-5)
    assert float(run["count_ratio_nominal"]) == pytest.approx(float(run["count_ratio_true"]), rel=2e-4)


def test_count_ratios_follow_their_definitions(legacy_run):
    for era in ("study", "tip"):
        run = legacy_run("gs2_ideal", era=era)
        s_m = float(run["intensity_scale"])
        for name, x in (("count_ratio_nominal", run["X.train"]), ("count_ratio_nominal.infer", run["X.infer"])):
            assert float(run[name]) == pytest.approx(s_m**2 * mean_pattern_energy(x) / 1e9, rel=1e-12)
        assert float(run["count_ratio_true"]) == pytest.approx((s_m / float(run["s_sim"])) ** 2, rel=1e-12)


def test_tip_expected_scale_is_study_value_times_closed_form_over_s_sim(legacy_run):
    study, tip = legacy_run("gs2_ideal"), legacy_run("gs2_ideal", era="tip")
    ratio = float(CLOSED_FORM) / np.exp(np.float64(tip["log_scale_init"]))
    assert float(tip["expected_scale"]) == pytest.approx(ratio / tip["object_norm"][1], rel=1e-9)  # N-13 formula
    assert float(tip["expected_scale"]) / float(study["expected_scale"]) == pytest.approx(988.2118 / 2306.93, rel=1e-5)


def test_expected_scale_does_not_change_with_dose(legacy_run):
    low = legacy_run("gs2_ideal", nphotons="1e5")
    assert float(low["expected_scale"]) == pytest.approx(float(legacy_run("gs2_ideal")["expected_scale"]), rel=1e-6)
    assert float(low["s_sim"]) == pytest.approx(1085.21 / 100, rel=1e-5)
    assert float(low["count_ratio_nominal"]) == pytest.approx(1.0, abs=1e-2)
