"""The conventions the built-in checks and the expected-divergence registry read, with their meanings.

A pipeline declares them in `PipelineSpec.conventions` (a value, or a function of the knobs); a
derived pipeline inherits its base's. A check that reads a convention the side does not declare is
reported as not applicable, naming it.
"""
from __future__ import annotations

from typing import Any

CONVENTIONS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "config_system": ("where stages read their parameters", ("global_dict", "bridged_dataclasses")),
    "probe_normalisation": ("how the probe is normalised: tip (mean|mask·P|·probe_scale = 1) or the study-era "
                            "broadcast mean (k·P, spec 3.2.3)", ("tip", "study_era")),
    "object_draw": ("which object images are drawn: separate train and test images, or one image split by "
                    "position", ("per_set_images", "single_image")),
    "object_scale": ("what the network reconstructs: truth/norm_Y_I (object normalised per set, gain 1) or "
                     "g·truth (object as drawn, gain g at normalize)", ("truth_over_norm", "gain_times_truth")),
    "single_pattern_simulation": ("the simulate stage reads gridsize 1 by design (patterns simulated one by one)",
                                  (True, False)),
    "scan": ("scan geometry: grid regions on a lattice, or uniform random positions", ("grid_regions", "uniform_random")),
    "split": ("train/test split: by image role, or by ascending y", ("by_image_role", "by_ascending_y")),
    "grouping": ("groups: grid regions carrying the channel table exactly, or K nearest neighbours",
                 ("grid_regions", "kdtree_neighbours")),
    "model_input": ("what the model sees: raw diffraction (gain 1, mean ΣX² = E) or normalize_data "
                    "(mean ΣX² = (N/2)²)", ("raw", "normalize_data")),
    "intensity_scale": ("the model's intensity scale s_m: s_sim of the train set, or the closed form "
                        "sqrt(nphotons)/(N/2)", ("s_sim", "closed_form")),
    "model": ("the network and loss: the legacy study-era PINN (one amplitude channel, summed NLL) or the "
              "sim_lines PINN (C channels, Keras-mean NLL)", ("study_era_pinn", "sim_lines_pinn")),
    "modulus_excess": ("with probe.big, which predicted pixels may exceed |O| = 1: border-only ones, or any "
                       "(legacy study era: x2 unmasked)", ("border", "any")),
    "stitch": ("how patches become a canvas: legacy tiles, legacy reassemble_position (M = 10, odd pad allowed), "
               "or shift-and-sum (M = reassemble_M, even pad)", ("tiles", "position", "shift_and_sum")),
    "unshuffled_coords": ("groupings whose groups were reordered without their coordinates: grouping → the "
                          "artifact holding that permutation (legacy train shuffle, spec 3.7.1); undeclared: none",
                          ("{}", "{'train': 'legacy_shuffle_perm'}")),
    "amplitude_tolerance": ("tolerance of the amplitude scale A-1 (|k_LS·expected_scale − 1|)", ("a number",)),
}
"""name → (meaning, values the built-in checks know)."""
