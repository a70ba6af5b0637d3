"""Registers the `dose_legacy` pipeline: its thirteen stages, its knobs (spec 5.1, 5.3), scenarios and profiles."""
from __future__ import annotations

from harness import Knob, PipelineSpec, StageSpec, hookimpl
from pipelines.dose_legacy import model_stages as m
from pipelines.dose_legacy.model_input import group_stage, normalize_stage, scale_stage
from pipelines.dose_legacy.stages import (
    config_stage,
    object_stage,
    probe_stage,
    scan_stage,
    simulate_stage,
    split_stage,
)
from pipelines.probe_selection import PROBE_KNOBS
from pipelines.scenarios import PROFILE_NAMES, SCENARIO_NAMES


def positive_float(text: str) -> float:
    """Knob L3: a photon dose > 0."""
    value = float(text)
    if not value > 0:
        raise ValueError("must be > 0")
    return value


KNOBS = {
    "era": Knob("study", stages=("probe", "scale", "train"), choices=("study", "tip"),
                help="L1: study-era probe normalisation and s_m = s_sim, or the 2024-11 tip (closed-form s_m)"),
    "loss_fn": Knob("nll", stages=("config",), choices=("nll", "mae"),
                    help="L2: loss weights written by the dose notebook's init (mae: mae_weight 1, nll_weight 0)"),
    "nphotons": Knob(1e9, stages=("config",), parse=positive_float,
                     help="L3: photon dose per pattern (any value > 0)"),
    "max_position_jitter": Knob(10, stages=("config",), choices=("10", "3"),
                                help="L4: final jitter (execute resets init's 3 to 10); 3 gives an odd padded_size"),
    "stitch": Knob("tiles", stages=("stitch",), choices=("tiles", "position"),
                   help="L5: tile the test regions, or reassemble_position with M = 10 at the region centres"),
    "model_rebuild": Knob("per_run", stages=("train",), choices=("per_run", "stale"),
                          help="L6: build the model per run, or keep weights and log_scale of a previous dose"),
    "grouping": Knob("grid", stages=("group",), choices=("grid", "nongrid_legacy"),
                     help="L7: regions as groups, or the legacy KD-tree path (K = 7 incl. self, sign +1)"),
    "decoder_widths": Knob("by_era", stages=("train",), choices=("by_era", "[256,128]", "[128,64]"),
                           help="L8: decoder widths of the era ([256,128] study, [128,64] tip) or fixed ones"),
    **PROBE_KNOBS,
}
"""dose_legacy knobs (X1, X2 shared with sim_lines); `stages` lists every stage that reads one, later ones included."""

def by_era(study: str, tip: str):
    """A convention that knob L1 `era` switches: its value in the study era and at the tip."""
    def convention(knobs) -> str:
        return study if knobs["era"] == "study" else tip
    return convention


def stitch_mode(knobs) -> str:
    """Knob L5 chooses the stitcher: `tiles` or `position` (reassemble_position, M = 10)."""
    return knobs["stitch"]


CONVENTIONS = {
    "config_system": "global_dict",
    "probe_normalisation": by_era("study_era", "tip"),
    "object_draw": "per_set_images",
    "object_scale": "truth_over_norm",
    "single_pattern_simulation": False,
    "scan": "grid_regions",
    "split": "by_image_role",
    "grouping": "grid_regions",
    "model_input": "raw",
    "intensity_scale": by_era("s_sim", "closed_form"),
    "model": "study_era_pinn",
    "modulus_excess": by_era("any", "border"),
    "stitch": stitch_mode,
    "unshuffled_coords": {"train": "legacy_shuffle_perm"},
    "amplitude_tolerance": 0.05,
}
"""What the legacy artifacts mean (plugins/checks/conventions.py lists every name); knobs that merely break a
check (grouping=nongrid_legacy, say) are known breaks, not conventions."""

PROBE_TOLERANCE = (1e-6, 1e-12)
"""Spec 2.3: probe and norm factor agree within 1e-6 across pipelines (measured ≤ 5e-7)."""

STAGES = (
    StageSpec("config", config_stage, outputs=("config", "derived", "config_trace"),
              description="legacy dictionary written as init/execute did, derived sizes (3.1.1)"),
    StageSpec("probe", probe_stage, inputs=("config",),
              outputs=("probe_raw", "probe", "probe_mask", "probe_norm_factor", "probe_source", "config_trace.probe"),
              tolerances={"probe_raw": PROBE_TOLERANCE, "probe": PROBE_TOLERANCE,
                          "probe_norm_factor": PROBE_TOLERANCE},
              description="ideal or custom probe, mask, era normalisation (3.2)"),
    StageSpec("object", object_stage, inputs=("config",), outputs=("object", "object_role", "config_trace.object"),
              description="lines images: train from seed 1, test from seed 2, drawn sequentially (3.3.2)"),
    StageSpec("scan", scan_stage, inputs=("config",),
              outputs=("positions", "image_index", "legacy_region_origin", "config_trace.scan"),
              description="grid regions and their 2x2 (or 1x1) patches, train then test (3.4.1)"),
    StageSpec("simulate", simulate_stage, inputs=("config", "probe", "object", "object_role", "positions", "image_index"),
              outputs=("Y_obj", "object_norm", "exit_energy", "s_sim", "diffraction_clean", "diffraction",
                       "config_trace.simulate"),
              description="object normalised per set, train s_sim reused for test, Poisson noise (3.5.2)"),
    StageSpec("split", split_stage, inputs=("object_role", "image_index"), outputs=("train_idx", "test_idx"),
              description="train and test patterns by image role (3.6)"),
    StageSpec("group", group_stage,
              inputs=("config", "probe", "object", "positions", "image_index", "object_norm", "diffraction", "train_idx",
                      "test_idx"),
              outputs=tuple(f"{name}.{split}" for split in ("train", "infer") for name in (
                  "diffraction_grouped", "coords_nn", "coords_offsets", "coords_relative", "nn_indices",
                  "Y_obj_grouped", "legacy_Y_illum")) + ("legacy_shuffle_perm", "config_trace.group"),
              description="regions as groups, train shuffled, infer = test set in region order (3.7.1)"),
    StageSpec("normalize", normalize_stage, inputs=("config", "diffraction_grouped.train", "diffraction_grouped.infer"),
              outputs=("X.train", "X.infer", "gain.train", "gain.infer", "config_trace.normalize"),
              description="identity: X = diffraction_grouped, gain 1 (3.8)"),
    StageSpec("scale", scale_stage,
              inputs=("config", "s_sim", "object_norm", "X.train", "X.infer", "gain.train", "gain.infer"),
              outputs=("intensity_scale", "log_scale_init", "count_ratio_nominal", "count_ratio_nominal.infer",
                       "count_ratio_true", "expected_scale", "config_trace.scale"),
              tolerances={name: (1e-6, 0.0) for name in ("intensity_scale", "log_scale_init", "count_ratio_true")}
              | {"count_ratio_nominal": (1e-3, 0.0), "count_ratio_nominal.infer": (1e-3, 0.0), "expected_scale": (1e-9, 0.0)},
              description="s_m and log_scale_init by era, count ratios, expected_scale (3.9)"),
    StageSpec("train", m.train, device=True,
              inputs=("config", "probe", "object", "positions", "image_index", "train_idx", "nn_indices.train",
                      "X.train", "coords_relative.train", "Y_obj_grouped.train", "intensity_scale", "log_scale_init"),
              outputs=("history", "log_scale_final", "intensity_scale_final", "param_count", "deviance_per_pixel",
                       "weights", "nonfinite_first_epoch", "model_probe", "model_config", "reassembly_roundtrip",
                       "config_trace.train"),
              description="the study-era PINN on the shuffled train regions, TFP-form NLL (3.10)"),
    StageSpec("infer", m.infer, device=True,
              inputs=("config", "model_config", "model_probe", "weights", "intensity_scale", "X.infer",
                      "coords_relative.infer"),
              outputs=("patches_pred", "pred_amp", "config_trace.infer"),
              description="diffraction_to_obj on the test regions, batch 32 (3.11)"),
    StageSpec("stitch", m.stitch, inputs=("config", "derived", "patches_pred", "coords_offsets.infer"),
              outputs=("canvas", "coverage", "canvas_origin", "legacy_canvas_stack"),
              description="central t x t of each region tiled edge to edge (3.12.1)"),
    StageSpec("evaluate", m.evaluate,
              inputs=("object", "object_role", "canvas", "coverage", "canvas_origin", "expected_scale", "patches_pred",
                      "intensity_scale", "diffraction", "diffraction_grouped.infer", "X.infer"),
              outputs=("truth_on_canvas", "metrics"),
              description="harness metrics against raw test image 0, legacy_eval, runner_eval (3.13)"),
)


@hookimpl
def harness_register_pipelines() -> list[PipelineSpec]:
    """The dose_legacy pipeline."""
    return [PipelineSpec(
        name="dose_legacy",
        stages=STAGES,
        knobs=KNOBS,
        scenarios=SCENARIO_NAMES,
        profiles=PROFILE_NAMES,
        description="2024 dose-dependence study: grid simulation of lines objects, regions as groups (spec 0.1)",
        conventions=CONVENTIONS,
    )]
