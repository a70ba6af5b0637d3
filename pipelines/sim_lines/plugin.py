"""Registers the `sim_lines` pipeline: its stages, knobs (spec 5.2, 5.3), scenarios and profiles."""
from __future__ import annotations

from harness import Knob, PipelineSpec, StageSpec, hookimpl
from pipelines.probe_selection import PROBE_KNOBS
from pipelines.scenarios import PROFILE_NAMES, SCENARIO_NAMES
from pipelines.sim_lines import model_stages as m
from pipelines.sim_lines import stages as s

KNOBS: dict[str, Knob] = {
    "intensity_scale": Knob("closed_form", stages=("scale",), choices=("closed_form", "dataset_raw", "dataset_raw_pp"),
                            help="S1: model intensity scale: closed form, or the D4f dataset scale (summed over channels) or per pattern"),
    "combine": Knob("polar", stages=("train", "infer"), choices=("polar", "rect"),
                    help="S2: object composition A·exp(iφ), or the MATH-POLAR-001 bug A + iφ"),
    "config_bridge": Knob("on", stages=("group", "train"), choices=("on", "off", "off_all"),
                          help="S3: bridge the training and inference configs into the global store (CONFIG-001)"),
    "canvas": Knob("default", stages=("group",), choices=("default", "c1"),
                   help="S4: c1 grows max_position_jitter to hold the global offsets (removed plan fix C1)"),
    "reassembly_batching": Knob("per_sample", stages=("train", "infer"), choices=("per_sample", "collapse"),
                                help="S5: collapse sums all patches of a batch into one canvas when B·C >= 64 (main)"),
    "group_limit": Knob("profile", stages=("group",), choices=("profile", "none", "64"),
                        help="S6: inference groups = min(group_count, limit); profile: 64 in stable, none otherwise"),
    "eval_registration": Knob("bookkeeping", stages=("evaluate",), choices=("bookkeeping", "off", "xcorr"),
                              help="S7: register by canvas_origin, not at all (runner crop), or refine by cross-correlation"),
    "normalize": Knob("dataset", stages=("normalize",), choices=("dataset", "nphotons"),
                      help="S8: normalize_data gain, or the photon scale applied twice (D4e, NaN)"),
    "nll_form": Knob("keras_mean", stages=("train",), choices=("keras_mean", "tfp_sum"),
                     help="S9: Poisson NLL as Keras mean of λ − k ln λ, or the legacy per-sample sum with lgamma"),
    "local_offset_sign": Knob(-1, stages=("group",), choices=("-1", "+1"),
                              help="S10: +1 reproduces the pre-2025-07 sign of coords_relative"),
    "nepochs": Knob("profile", stages=("train",), choices=("profile", "5", "30", "60"),
                    help="S11: training epochs; profile: 1 in smoke, 5 in stable and full"),
    "realspace": Knob("off", stages=("train",), choices=("off", "d6a"),
                      help="S12: d6a adds realspace_weight 0.1 and realspace_mae_weight 1.0"),
    "prediction_scale": Knob("none", stages=("evaluate",), choices=("none", "recorded", "least_squares"),
                             help="S13: output scaling before evaluation"),
    "neighbor_count": Knob(4, stages=("group",), choices=("4", "5", "1"),
                           help="S14: K nearest neighbours per group; 1 raises for gs2"),
    "reassembly_norm_eps": Knob(0.001, stages=("train", "infer"), choices=("0.001", "0"),
                                help="S15: epsilon of the in-model reassembly normaliser"),
    "decoder_widths": Knob([128, 64], stages=("train",), choices=("[128,64]", "[256,128]"),
                           help="S16: decoder filters (the legacy study era used [256,128])"),
    "amp_head_channels": Knob("C", stages=("train",), choices=("C", "1"),
                              help="S17: amplitude head channels: C, or the legacy single map broadcast"),
    **PROBE_KNOBS,
}

CONVENTIONS = {
    "config_system": "bridged_dataclasses",
    "probe_normalisation": "tip",
    "object_draw": "single_image",
    "object_scale": "gain_times_truth",
    "single_pattern_simulation": True,
    "scan": "uniform_random",
    "split": "by_ascending_y",
    "grouping": "kdtree_neighbours",
    "model_input": "normalize_data",
    "intensity_scale": "closed_form",
    "model": "sim_lines_pinn",
    "modulus_excess": "border",
    "stitch": "shift_and_sum",
    "unshuffled_coords": {},
    "amplitude_tolerance": 0.20,
}
"""What the sim_lines artifacts mean (plugins/checks/conventions.py lists every name)."""

TRAIN_OUTPUTS = ("history", "log_scale_final", "intensity_scale_final", "param_count", "deviance_per_pixel", "weights",
                 "nonfinite_first_epoch", "model_probe", "model_config", "reassembly_roundtrip")

STAGES = (
    StageSpec("config", s.config, outputs=("config", "derived", "config_trace", "sl_store")),
    StageSpec("probe", s.probe, inputs=("config",),
              outputs=("probe_raw", "probe", "probe_mask", "probe_norm_factor", "probe_source"),
              tolerances={"probe": (1e-6, 1e-9), "probe_raw": (1e-6, 1e-9), "probe_norm_factor": (1e-6, 0.0)}),
    StageSpec("object", s.object_, inputs=("config",), outputs=("object", "object_role")),
    StageSpec("scan", s.scan, inputs=("config",), outputs=("positions", "image_index")),
    StageSpec("simulate", s.simulate, inputs=("config", "sl_store", "probe", "object", "positions"),
              outputs=("Y_obj", "object_norm", "exit_energy", "s_sim", "diffraction_clean", "diffraction",
                       "sl_store.simulate", "config_trace.simulate")),
    StageSpec("split", s.split, inputs=("config", "positions"), outputs=("train_idx", "test_idx")),
    StageSpec("group", s.group,
              inputs=("config", "sl_store.simulate", "positions", "diffraction", "Y_obj", "train_idx", "test_idx"),
              outputs=tuple(f"{name}.{split}" for split in s.SPLITS for name in (
                  "diffraction_grouped", "coords_nn", "coords_offsets", "coords_relative", "nn_indices", "Y_obj_grouped"))
              + ("sl_store.group", "config_trace.group")),
    StageSpec("normalize", s.normalize, inputs=("sl_store.group", "diffraction_grouped.train", "diffraction_grouped.infer"),
              outputs=("X.train", "X.infer", "gain.train", "gain.infer", "config_trace.normalize")),
    StageSpec("scale", s.scale,
              inputs=("config", "sl_store.group", "diffraction_grouped.train", "X.train", "X.infer", "gain.train",
                      "gain.infer", "s_sim", "object_norm"),
              outputs=("intensity_scale", "log_scale_init", "count_ratio_nominal", "count_ratio_nominal.infer",
                       "count_ratio_true", "expected_scale", "config_trace.scale"),
              tolerances={"count_ratio_nominal": (1e-3, 0.0), "count_ratio_nominal.infer": (1e-3, 0.0)}),
    StageSpec("train", m.train, device=True,
              inputs=("config", "sl_store.group", "probe", "object", "X.train", "coords_relative.train",
                      "coords_offsets.train", "Y_obj_grouped.train", "intensity_scale", "log_scale_init"),
              outputs=TRAIN_OUTPUTS + ("config_trace.train",)),
    StageSpec("infer", m.infer, device=True,
              inputs=("sl_store.group", "model_config", "model_probe", "weights", "intensity_scale_final", "X.infer",
                      "coords_relative.infer"),
              outputs=("patches_pred", "pred_amp", "config_trace.infer")),
    StageSpec("stitch", m.stitch, inputs=("config", "patches_pred", "coords_offsets.infer"),
              outputs=("canvas", "coverage", "canvas_origin")),
    StageSpec("evaluate", m.evaluate,
              inputs=("object", "canvas", "coverage", "canvas_origin", "expected_scale", "patches_pred",
                      "intensity_scale_final", "diffraction", "diffraction_grouped.infer", "X.infer"),
              outputs=("truth_on_canvas", "metrics")),
)


@hookimpl
def harness_register_pipelines() -> list[PipelineSpec]:
    return [PipelineSpec("sim_lines", STAGES, knobs=KNOBS, scenarios=SCENARIO_NAMES, profiles=PROFILE_NAMES,
                         description="January-2026 sim_lines_4x study on the PtychoPINN core (spec 0.1)",
                         conventions=CONVENTIONS)]
