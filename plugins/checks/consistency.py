"""Checks that recompute what a stage stored (issue 9, item 4): forward model, Poisson noise, channel contents.

N-5c recomputes the far field of a deterministic sample of patterns from the stored probe, object patches and
object norms; N-6n tests the stored noise against Poisson statistics of the noise-free counts; O-3b checks that
every grouped channel is the pattern whose position it carries. Tolerances follow from float32 precision and
counting statistics, never from fixed floors, and each check reads a sample, so a smoke diff stays fast.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from harness import CheckSpec, NotApplicable, hookimpl
from harness.records import CheckInput, CheckResult
from pipelines.physics.forward import far_field
from plugins.checks.common import (
    FLOAT32_EPS,
    GROUPINGS,
    SIGMAS,
    SPLIT_OF,
    float32_rounding,
    grouped_rows,
    pattern_object_norms,
    poisson_tolerance,
    result,
    sample_rows,
    scalar,
)

SAMPLE_PATTERNS = 32
"""Patterns N-5c and N-6n recompute: evenly spaced over the whole stack (both legacy sets)."""
SAMPLE_GROUPS = 16
"""Groups per grouping whose channels O-3b compares in full; every channel is compared on a pixel lattice."""
ENERGY_ROUNDING = 4 * FLOAT32_EPS
"""N-5c exit energy: each sample of Y_norm·P carries two float32 roundings (≤ eps/2 each); |·|² doubles them."""
COUNT_ROUNDING = 2 * FLOAT32_EPS * (1 + FLOAT32_EPS)
"""N-6n: k = (s_sim·diffraction)² of a whole count k is off by ≤ k·2^-22: the amplitude sqrt(k)/s_sim carries at
most two float32 roundings of 2^-24 each (division and storage), and squaring doubles them."""
RESOLVED_PHOTONS = 0.1
"""N-6n tests counts for whole photons where float32 resolves them to this many photons (k ≤ 0.1/COUNT_ROUNDING)."""
MIN_DISPERSION_COUNT = 1.0
"""N-6n dispersion uses pixels with λ ≥ 1: there Var((k−λ)²/λ) = 2 + 1/λ ≤ 3, so the mean has light tails."""
LATTICE = 4
"""O-3b compares every channel on a LATTICE × LATTICE grid of pixels (odd multiples of N/8)."""
UNSHUFFLED_COORDS = "unshuffled_coords"
"""Convention: grouping → artifact holding the permutation that reordered the grouping's patterns but not its
coordinates (group b's positions are coords_nn[perm[b]]). Default {}: coordinates follow their patterns."""
GROUP_ARTIFACTS = ("diffraction_grouped", "Y_obj_grouped", "coords_nn", "nn_indices")


def relative_l2(stored: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """‖stored − reference‖₂ / ‖reference‖₂ per pattern of two (k, N, N) stacks (0 when both are dark)."""
    error, scale = ((stored - reference) ** 2).sum(axis=(1, 2)), (reference**2).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(error == 0, 0.0, np.sqrt(error / scale))


def exit_waves(inp: CheckInput, rows: np.ndarray) -> np.ndarray:
    """ψ = Y_obj/object_norm·P of the given patterns in complex128, each divided by the norm of its set."""
    art = inp.artifacts
    norms = pattern_object_norms(inp)[rows]
    probe = np.asarray(art["probe"], dtype=np.complex128)
    return np.asarray(art["Y_obj"][rows], dtype=np.complex128) / norms[:, None, None] * probe


def forward_fault(stored: np.ndarray, reference: np.ndarray, tolerance: float) -> str:
    """What an off far field looks like: a pure scale (object norm, probe scale) or a change of shape."""
    gain = float((stored * reference).sum() / (reference**2).sum())
    if np.max(relative_l2(stored, gain * reference)) <= tolerance:
        return (f"diffraction_clean = {gain:.6g} × F(Y_norm·P): the simulation used another object norm or probe "
                f"scale than the stored ones")
    return "the far field differs in shape: shifted, transposed or conjugated probe or patch, or a missing fftshift"


def forward_model_check(inp: CheckInput) -> CheckResult:
    """N-5c: on a sample of patterns, diffraction_clean = F(Y_obj/object_norm·P) and exit_energy = Σ|Y_norm·P|².

    F of spec 1.5 in float64 on the stored complex64 inputs. Tolerance: relative L2 per pattern ≤
    float32_rounding(N²) = (2 + log2 N²)·eps32 for the float32 simulation; energy ≤ 4·eps32.
    """
    art = inp.artifacts
    rows = sample_rows(np.shape(art["diffraction_clean"])[0], SAMPLE_PATTERNS)
    psi = exit_waves(inp, rows)
    reference = far_field(psi)
    stored = np.asarray(art["diffraction_clean"][rows], dtype=np.float64)
    far = relative_l2(stored, reference)
    energy = (psi.real**2 + psi.imag**2).sum(axis=(1, 2))
    near = relative_l2(np.asarray(art["exit_energy"], dtype=np.float64)[rows, None, None], energy[:, None, None])
    tolerance = {"far_field": float32_rounding(psi.shape[-2] * psi.shape[-1]), "exit_energy": ENERGY_ROUNDING}
    measured = {"far_field": float(np.max(far)), "exit_energy": float(np.max(near))}
    bad = {key: int(np.count_nonzero(~(errors <= tolerance[key]))) for key, errors in (("far_field", far),
                                                                                        ("exit_energy", near))}
    problems = []
    if bad["far_field"]:
        worst = int(rows[np.nanargmax(far)]) if np.any(np.isfinite(far)) else int(rows[0])
        problems.append(f"diffraction_clean departs from F(Y_obj/object_norm·P) in {bad['far_field']} of "
                        f"{rows.size} sampled patterns (worst: pattern {worst}, {measured['far_field']:.3g} "
                        f"relative L2); {forward_fault(stored, reference, tolerance['far_field'])}")
    if bad["exit_energy"]:
        problems.append(f"exit_energy is not Σ|Y_norm·P|² in {bad['exit_energy']} of {rows.size} sampled patterns "
                        f"(off by up to {measured['exit_energy']:.3g})")
    text = "; ".join(problems) or (
        f"the stored probe, object patches and object norms reproduce diffraction_clean (relative L2 ≤ "
        f"{measured['far_field']:.2g}) and exit_energy (≤ {measured['exit_energy']:.2g}) on {rows.size} "
        f"sampled patterns")
    return result(measured, {"far_field": 0.0, "exit_energy": 0.0}, tolerance, not problems, text,
                  patterns=rows.tolist())


@dataclass(frozen=True)
class NoiseTest:
    """One part of N-6n: the statistic, what Poisson noise predicts, its tolerance and the pixels it uses."""

    measured: float
    expected: float
    tolerance: float
    pixels: int

    @property
    def passed(self) -> bool:
        return abs(self.measured - self.expected) <= self.tolerance


def photon_counts(inp: CheckInput, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k, λ) = ((s_sim·diffraction)², (s_sim·diffraction_clean)²) of the given patterns, float64."""
    art = inp.artifacts
    s_sim = scalar(art["s_sim"])
    counts = np.square(s_sim * np.asarray(art["diffraction"][rows], dtype=np.float64))
    expected = np.square(s_sim * np.asarray(art["diffraction_clean"][rows], dtype=np.float64))
    return counts, expected


def mean_excess(k: np.ndarray, lam: np.ndarray) -> NoiseTest:
    """Σ(k − λ)/Σλ = 0 ± 5/sqrt(Σλ) + float32 rounding: Poisson noise adds no photons on average."""
    total = float(lam.sum())
    return NoiseTest(float((k - lam).sum()) / total, 0.0, poisson_tolerance(total), k.size)


def dispersion(k: np.ndarray, lam: np.ndarray) -> NoiseTest | None:
    """mean over pixels with λ ≥ 1 of (k − λ)²/λ = 1 ± 5·sqrt(Σ(2 + 1/λ))/M + mean(λ)·(2·float32_rounding)².

    Var((k−λ)²/λ) = 2 + 1/λ for Poisson k; the last term bounds the float32 rounding of λ, whose relative
    error is at most twice that of the far field. None when no pixel reaches λ ≥ 1.
    """
    used = lam >= MIN_DISPERSION_COUNT
    count = int(np.count_nonzero(used))
    if count == 0:
        return None
    lam_used, k_used = lam[used], k[used]
    sigma = math.sqrt(float((2.0 + 1.0 / lam_used).sum())) / count
    rounding = float(lam_used.mean()) * (2 * float32_rounding()) ** 2
    return NoiseTest(float(((k_used - lam_used) ** 2 / lam_used).mean()), 1.0, SIGMAS * sigma + rounding, count)


def fractional_photons(k: np.ndarray) -> NoiseTest | None:
    """Share of resolved pixels whose count is not a whole number: |k − round(k)| > k·2^-22 must never happen.

    Resolved pixels are those where float32 keeps k to RESOLVED_PHOTONS; None when there are none.
    """
    bound = k * COUNT_ROUNDING
    resolved = bound <= RESOLVED_PHOTONS
    count = int(np.count_nonzero(resolved))
    if count == 0:
        return None
    off = np.abs(k[resolved] - np.round(k[resolved])) > bound[resolved]
    return NoiseTest(float(np.count_nonzero(off)) / count, 0.0, 0.0, count)


def noise_faults(tests: Mapping[str, NoiseTest | None]) -> list[str]:
    """One sentence per failing part of N-6n."""
    faults = []
    whole, excess, spread = tests["whole_photons"], tests["mean_excess"], tests["dispersion"]
    if whole is not None and not whole.passed:
        faults.append(f"{100 * whole.measured:.3g}% of the {whole.pixels} pixels where float32 resolves single "
                      f"photons hold fractional counts: noise added to amplitudes or intensities instead of whole "
                      f"Poisson counts, no noise draw, or an s_sim other than the one simulated with")
    if not excess.passed:
        faults.append(f"the noise adds {excess.measured:+.3g} of the {excess.pixels}-pixel expected count (Poisson: "
                      f"0 ± {excess.tolerance:.2g}): a biased noise model")
    if spread is not None and not spread.passed:
        faults.append(f"the per-pixel dispersion (k − λ)²/λ is {spread.measured:.4g} over {spread.pixels} pixels "
                      f"with λ ≥ 1 (Poisson: 1 ± {spread.tolerance:.2g}): the noise variance is "
                      f"{spread.measured:.3g} × the expected count")
    return faults


def noise_summary(patterns: int, tests: Mapping[str, NoiseTest | None]) -> str:
    """The passing N-6n sentence, naming any part the dose leaves untested."""
    whole, excess, spread = tests["whole_photons"], tests["mean_excess"], tests["dispersion"]
    parts = [f"mean excess {excess.measured:+.2g} of {excess.pixels} px (0 ± {excess.tolerance:.2g})"]
    if whole is not None:
        parts.insert(0, f"whole photons in all {whole.pixels} px float32 resolves")
    if spread is not None:
        parts.append(f"dispersion {spread.measured:.4f} over {spread.pixels} px with λ ≥ 1 (1 ± {spread.tolerance:.2g})")
    untested = [name.replace("_", " ") for name, test in tests.items() if test is None]
    note = f"; {' and '.join(untested)} untested at this dose" if untested else ""
    return f"{patterns} sampled patterns hold Poisson counts of the noise-free intensity: {', '.join(parts)}{note}"


def noise_statistics_check(inp: CheckInput) -> CheckResult:
    """N-6n: counts k = (s_sim·diffraction)² are Poisson draws of λ = (s_sim·diffraction_clean)² on a sample.

    Three parts: whole photons where float32 resolves them (|k − round k| ≤ k·2^-22, exact); mean excess
    Σ(k−λ)/Σλ within 5/sqrt(Σλ) + float32_rounding; dispersion mean (k−λ)²/λ over λ ≥ 1 within
    5·sqrt(Σ(2 + 1/λ))/M + mean λ·(2·float32_rounding)².
    """
    rows = sample_rows(np.shape(inp.artifacts["diffraction"])[0], SAMPLE_PATTERNS)
    k, lam = photon_counts(inp, rows)
    if not float(lam.sum()) > 0:
        raise NotApplicable(f"the {rows.size} sampled patterns expect no photons")
    tests = {"whole_photons": fractional_photons(k), "mean_excess": mean_excess(k, lam), "dispersion": dispersion(k, lam)}
    done = {name: test for name, test in tests.items() if test is not None}
    faults = noise_faults(tests)
    text = "; ".join(faults) or noise_summary(rows.size, tests)
    return result({n: t.measured for n, t in done.items()}, {n: t.expected for n, t in done.items()},
                  {n: t.tolerance for n, t in done.items()}, not faults, text,
                  pixels={n: t.pixels for n, t in done.items()}, photons=float(lam.sum()), patterns=rows.tolist())


def lattice_pixels(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of a LATTICE × LATTICE grid of pixels at odd multiples of n/(2·LATTICE)."""
    ticks = (2 * np.arange(LATTICE) + 1) * n // (2 * LATTICE)
    rows, cols = np.meshgrid(ticks, ticks, indexing="ij")
    return rows.ravel(), cols.ravel()


def differs(held: np.ndarray, source: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """True where two arrays are not identical copies along `axes` (NaN equals NaN: a copy keeps it)."""
    same = (held == source) | (np.isnan(held) & np.isnan(source))
    return ~np.all(same, axis=axes)


def foreign_channels(grouped: Any, source: Any, rows: np.ndarray, sampled: np.ndarray) -> np.ndarray:
    """(B, C) True where grouped[b, :, :, c] is not source[rows[b, c]]: every channel on a pixel lattice,
    the sampled groups on every pixel."""
    pr, pc = lattice_pixels(np.shape(grouped)[1])
    held = np.moveaxis(np.asarray(grouped[:, pr, pc, :]), 1, -1)
    foreign = differs(held, np.asarray(source)[rows[..., None], pr, pc], (2,))
    full = np.moveaxis(np.asarray(grouped[sampled]), -1, 1)
    foreign[sampled] |= differs(full, np.asarray(source[rows[sampled]]), (2, 3))
    return foreign


def group_order(inp: CheckInput, grouping: str) -> np.ndarray | None:
    """The declared permutation that reordered a grouping's patterns but not its coordinates, if any."""
    name = inp.conventions.get(UNSHUFFLED_COORDS, {}).get(grouping)
    return None if name is None else np.asarray(inp.artifacts[name], dtype=np.int64)


def foreign_coordinates(inp: CheckInput, grouping: str, rows: np.ndarray) -> np.ndarray:
    """(B, C) True where coords_nn[b, 0, :, c] is not exactly the position of the pattern it describes: that of
    group b, or of group perm⁻¹(b) under a declared permutation (rows stay in coords_nn order, as stored)."""
    stored = np.moveaxis(np.asarray(inp.artifacts[f"coords_nn.{grouping}"], dtype=np.float64)[:, 0], 1, 2)
    order = group_order(inp, grouping)
    if order is None:
        order = np.arange(stored.shape[0])
    foreign = np.ones(rows.shape, dtype=bool)
    if not np.array_equal(np.sort(order), np.arange(rows.shape[0])):
        return foreign  # the declared permutation does not permute these groups: no coordinate is accounted for
    foreign[order] = np.any(stored[order] != np.asarray(inp.artifacts["positions"], dtype=np.float64)[rows], axis=-1)
    return foreign


def group_keys(groups: np.ndarray) -> list[bytes]:
    """Each group's coordinates as bytes, sorted: equal lists hold the same groups in any order."""
    return sorted(map(bytes, np.ascontiguousarray(groups.reshape(groups.shape[0], -1))))


def groups_reordered(inp: CheckInput, grouping: str, rows: np.ndarray) -> bool:
    """Whether coords_nn lists the same groups of positions as the patterns, in another group order."""
    stored = np.moveaxis(np.asarray(inp.artifacts[f"coords_nn.{grouping}"], dtype=np.float64)[:, 0], 1, 2)
    wanted = np.asarray(inp.artifacts["positions"], dtype=np.float64)[rows]
    return group_keys(stored) == group_keys(wanted)


def describe_foreign(what: str, foreign: np.ndarray, grouping: str, role: str) -> str:
    """'diffraction_grouped: channel 2 of 17 train groups holds the diffraction of another position'."""
    per_channel = foreign.sum(axis=0)
    channel = int(np.argmax(per_channel))
    first = int(np.flatnonzero(foreign[:, channel])[0])
    others = int(np.count_nonzero(per_channel)) - 1
    more = f" (and {others} other channel{'s' if others > 1 else ''})" if others else ""
    groups = int(per_channel[channel])
    return (f"{what}: channel {channel} of {groups} {grouping} group{'s' if groups > 1 else ''}{more} {role} "
            f"(first: group {first})")


def grouping_faults(inp: CheckInput, grouping: str) -> tuple[dict[str, int], list[str]]:
    """Foreign channels per artifact of one grouping, and one sentence per artifact that has any."""
    art = inp.artifacts
    rows = grouped_rows(inp, grouping)
    sampled = sample_rows(rows.shape[0], SAMPLE_GROUPS)
    foreign = {
        "diffraction_grouped": foreign_channels(art[f"diffraction_grouped.{grouping}"], art["diffraction"], rows,
                                                sampled),
        "Y_obj_grouped": foreign_channels(art[f"Y_obj_grouped.{grouping}"], art["Y_obj"], rows, sampled),
        "coords_nn": foreign_coordinates(inp, grouping, rows),
    }
    roles = {"diffraction_grouped": "does not hold the diffraction pattern of the position nn_indices names",
             "Y_obj_grouped": "does not hold the object patch of the position nn_indices names",
             "coords_nn": "does not carry the position of the pattern it holds"}
    faults = [describe_foreign(name, mask, grouping, roles[name]) for name, mask in foreign.items() if mask.any()]
    if foreign["coords_nn"].any() and groups_reordered(inp, grouping, rows):
        faults.append(f"the {grouping} groups were reordered without their coordinates; a pipeline that does so by "
                      f"design declares the permutation in the `{UNSHUFFLED_COORDS}` convention")
    return {name: int(mask.sum()) for name, mask in foreign.items()}, faults


def channel_correspondence_check(inp: CheckInput) -> CheckResult:
    """O-3b: with rows = split_idx[nn_indices], diffraction_grouped[b,:,:,c] = diffraction[rows[b,c]],
    Y_obj_grouped[b,:,:,c] = Y_obj[rows[b,c]] and coords_nn[b,0,:,c] = positions[rows[b,c]], exactly.

    They are copies, so the tolerance is 0. Every channel is compared on a 4×4 pixel lattice and all its
    coordinates, the channels of SAMPLE_GROUPS groups per grouping on every pixel. Coordinates follow the
    `unshuffled_coords` permutation when a pipeline declares one.
    """
    sizes = {g: int(np.shape(inp.artifacts[f"nn_indices.{g}"])[0]) for g in GROUPINGS}
    if not any(sizes.values()):
        raise NotApplicable("both groupings are empty")
    counts, faults = {}, []
    for grouping in GROUPINGS:
        if sizes[grouping]:
            counts[grouping], found = grouping_faults(inp, grouping)
            faults += found
    total = sum(sum(per.values()) for per in counts.values())
    declared = {g: name for g, name in inp.conventions.get(UNSHUFFLED_COORDS, {}).items() if g in counts}
    note = "".join(f"; {g} coordinates in the order before the permutation {name} (declared)"
                   for g, name in declared.items())
    text = "; ".join(faults) or (
        f"every channel of {' and '.join(f'{sizes[g]} {g}' for g in counts)} groups holds the diffraction, object "
        f"patch and position of the pattern nn_indices names{note}")
    return result(total, 0, 0, not faults, text, foreign_channels=counts, groups=sizes)


@hookimpl
def harness_register_checks() -> list[CheckSpec]:
    """N-5c, N-6n at simulate; O-3b at group."""
    grouped = tuple(f"{name}.{g}" for name in GROUP_ARTIFACTS for g in GROUPINGS)
    return [
        CheckSpec("N-5c", "normalization", "simulate", "error", forward_model_check, "(2 + log2 N²)·eps32",
                  "forward model recomputed from probe, object patches and object norms on sampled patterns",
                  requires=("Y_obj", "object_norm", "probe", "diffraction_clean", "exit_energy",
                                           "object_role", "image_index")),
        CheckSpec("N-6n", "normalization", "simulate", "error", noise_statistics_check,
                  "whole photons; 5 σ Poisson + float32 rounding",
                  "the noise is Poisson: whole photons, no mean excess, unit dispersion on sampled patterns",
                  requires=("diffraction", "diffraction_clean", "s_sim")),
        CheckSpec("O-3b", "offsets", "group", "error", channel_correspondence_check, "exact (copies)",
                  "each grouped channel holds the diffraction, patch and position of the pattern it names",
                  requires=("diffraction", "Y_obj", "positions", *SPLIT_OF.values(), *grouped)),
    ]
