"""dose_legacy registration, knobs and the `config` stage against spec 3.1, 4.2 and 5.1."""
from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.knobs import effective_knobs
from harness.stages import STAGES
from pipelines.scenarios import SCENARIO_NAMES



def test_pipeline_registers_stages_in_canonical_order_with_scenarios_and_profiles(dose_legacy_spec):
    assert [stage.name for stage in dose_legacy_spec.stages] == list(STAGES)
    assert dose_legacy_spec.scenarios == SCENARIO_NAMES and dose_legacy_spec.default_scenario == "gs2_ideal"
    assert dose_legacy_spec.profiles == ("smoke", "stable", "full")


def test_every_master_table_artifact_is_declared_and_extras_are_prefixed(dose_legacy_spec):
    outputs = {name for stage in dose_legacy_spec.stages for name in stage.outputs}
    master = {"config", "derived", "config_trace", "probe_raw", "probe", "probe_mask", "probe_norm_factor",
              "probe_source", "object", "object_role", "positions", "image_index", "Y_obj", "object_norm",
              "exit_energy", "s_sim", "diffraction_clean", "diffraction", "train_idx", "test_idx",
              "intensity_scale", "log_scale_init", "count_ratio_nominal", "count_ratio_true", "expected_scale",
              "history", "log_scale_final", "intensity_scale_final", "param_count", "deviance_per_pixel", "weights",
              "patches_pred", "pred_amp", "canvas", "coverage", "canvas_origin", "truth_on_canvas", "metrics"}
    master |= {f"{name}.{split}" for split in ("train", "infer") for name in (
        "diffraction_grouped", "coords_nn", "coords_offsets", "coords_relative", "nn_indices", "Y_obj_grouped",
        "X", "gain")}
    assert master <= outputs
    shared_extras = {"count_ratio_nominal.infer", "nonfinite_first_epoch", "model_probe", "model_config",
                     "reassembly_roundtrip"}  # same meaning on both sides (docs/stages.md)
    extras = outputs - master - shared_extras
    assert all(name.startswith(("legacy_", "config_trace.")) for name in extras), sorted(extras)


def test_every_knob_has_help_and_declares_the_stages_that_read_it(dose_legacy_spec):
    knobs = dose_legacy_spec.knobs
    assert set(knobs) == {"era", "loss_fn", "nphotons", "max_position_jitter", "stitch", "model_rebuild", "grouping",
                          "decoder_widths", "ideal_probe_lowpass", "probe_source"}
    assert all(knob.help for knob in knobs.values())
    assert knobs["era"].stages == ("probe", "scale", "train")
    assert {name for name, knob in knobs.items() if "config" in knob.stages} == {"loss_fn", "nphotons",
                                                                                 "max_position_jitter"}


@pytest.mark.parametrize("setting, text, value", [
    ("era", "tip", "tip"), ("decoder_widths", "[128, 64]", [128, 64]), ("decoder_widths", "by_era", "by_era"),
    ("nphotons", "1e5", 1e5), ("max_position_jitter", "3", 3), ("probe_source", "file:/data/p.npz", "file:/data/p.npz")])
def test_knob_values_parse_from_command_line_text(dose_legacy_spec, setting, text, value):
    assert effective_knobs(dose_legacy_spec, {setting: text})[setting] == value


@pytest.mark.parametrize("setting, text", [("nphotons", "-1"), ("nphotons", "lots"), ("probe_source", "file:"),
                                           ("probe_source", "run1084"), ("era", "2025"), ("max_position_jitter", "5")])
def test_invalid_knob_values_are_usage_errors(dose_legacy_spec, setting, text):
    with pytest.raises(UsageError, match=setting):
        effective_knobs(dose_legacy_spec, {setting: text})


def test_config_holds_dose_run_values_sizes_and_run_identity(legacy_run):
    config = legacy_run("gs2_ideal", until="config")["config"]
    assert config["max_position_jitter"] == 10 and config["intensity_scale.trainable"] is True
    assert (config["nimgs_train"], config["nimgs_test"], config["outer_offset_train"], config["outer_offset_test"]) == (
        1, 1, 92, 64)
    assert (config["bigN"], config["padded_size"], config["padding_size"], config["C"]) == (68, 78, 14, 4)
    assert (config["scenario"], config["profile"], config["run_seed"], config["loss_fn"]) == (
        "gs2_ideal", "smoke", 42, "nll")
    assert (config["mae_weight"], config["nll_weight"], config["nphotons"]) == (0.0, 1.0, 1e9)


def test_derived_sizes_and_closed_form_scale_follow_spec_3_1(legacy_run):
    assert legacy_run("gs1_ideal", until="config")["derived"] == {
        "bigN": 64, "padded_size": 74, "padding_size": 10, "C": 1, "closed_form_scale": pytest.approx(988.2117688)}
    jitter3 = legacy_run("gs2_ideal", until="config", max_position_jitter="3")["derived"]
    assert jitter3["padded_size"] == 71


def test_custom_scenarios_and_full_profile_set_probe_flags_and_counts(legacy_run):
    config = legacy_run("gs1_custom", profile="full", until="config")["config"]
    assert (config["gridsize"], config["probe_scale"], config["probe.big"], config["probe.mask"]) == (1, 4.0, True, False)
    assert (config["nimgs_train"], config["outer_offset_train"], config["outer_offset_test"], config["nepochs"]) == (
        2, 8, 20, 60)


def test_loss_and_dose_knobs_act_on_config(legacy_run):
    config = legacy_run("gs2_ideal", until="config", loss_fn="mae", nphotons="1e5")["config"]
    assert (config["mae_weight"], config["nll_weight"], config["loss_fn"], config["nphotons"]) == (1.0, 0.0, "mae", 1e5)


def test_config_trace_lists_what_config_read(legacy_run):
    assert legacy_run("gs2_ideal", until="config")["config_trace"] == [
        ["config", "N", 64], ["config", "gridsize", 2], ["config", "offset", 4], ["config", "max_position_jitter", 10],
        ["config", "nphotons", 1e9]]


def test_later_stages_trace_their_reads_of_the_legacy_dictionary(legacy_run):
    run = legacy_run("gs2_ideal")
    assert run["config_trace.probe"] == [["probe", "N", 64], ["probe", "probe_scale", 10.0]]
    assert run["config_trace.simulate"] == [["simulate", "N", 64], ["simulate", "gridsize", 2],
                                            ["simulate", "nphotons", 1e9]]
    assert run["config_trace.scale"] == [["scale", "nphotons", 1e9], ["scale", "probe_scale", 10.0]]
    assert legacy_run("gs2_ideal", era="tip")["config_trace.scale"][-1] == ["scale", "N", 64]  # closed form reads N
    assert run["config_trace.normalize"] == [["normalize", "data_source", "lines"]]
    group_keys = [key for _, key, _ in run["config_trace.group"]]
    assert group_keys == ["nimgs_train", "size", "N", "gridsize", "offset", "outer_offset_train", "nimgs_test",
                          "outer_offset_test"]
    assert {stage for stage, _, _ in run["config_trace.group"]} == {"group"}

