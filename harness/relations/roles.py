"""What a relation means for an artifact: the artifact's role (spec 2.2) and the category a relation
on it is filed under. A factor on a normalised quantity is a normalization finding, on an amplitude an
amplitude finding; shifts, flips, swaps and reorderings are offsets findings whatever the artifact."""
from __future__ import annotations

from fnmatch import fnmatchcase

from harness.relations.model import Relation

ROLES: tuple[str, ...] = ("normalized", "amplitude", "coordinates", "indices", "generic")
CATEGORIES: tuple[str, ...] = ("normalization", "amplitude", "offsets", "other")

ROLE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("X", "normalized"), ("gain", "normalized"), ("intensity_scale*", "normalized"), ("log_scale*", "normalized"),
    ("diffraction*", "normalized"), ("s_sim", "normalized"), ("count_ratio_*", "normalized"),
    ("expected_scale", "normalized"), ("exit_energy", "normalized"), ("object_norm", "normalized"),
    ("probe*", "normalized"),
    ("patches_pred", "amplitude"), ("canvas", "amplitude"), ("pred_amp", "amplitude"),
    ("truth_on_canvas", "amplitude"), ("object", "amplitude"), ("Y_obj*", "amplitude"),
    ("legacy_Y_illum", "amplitude"), ("legacy_canvas_stack", "amplitude"), ("coverage", "amplitude"),
    ("positions", "coordinates"), ("coords_*", "coordinates"), ("canvas_origin", "coordinates"),
    ("legacy_region_origin", "coordinates"),
    ("nn_indices", "indices"), ("train_idx", "indices"), ("test_idx", "indices"), ("image_index", "indices"),
    ("legacy_shuffle_perm", "indices"),
)
"""(pattern on the artifact name without stage prefix and split suffix, role): the first match wins."""

_ROLE_CATEGORY = {"normalized": "normalization", "amplitude": "amplitude", "coordinates": "offsets",
                  "indices": "offsets", "generic": "other"}
_GEOMETRIC = frozenset({"shift", "flip", "transpose", "swap_xy", "fftshift", "ifftshift", "permutation", "subset",
                        "superset"})


def role_for(artifact: str) -> str:
    """The role of an artifact name such as "X.train" or "normalize/X.train"; "generic" when unknown."""
    base = artifact.rsplit("/", 1)[-1].split(".", 1)[0]
    return next((role for pattern, role in ROLE_PATTERNS if fnmatchcase(base, pattern)), "generic")


def category_for(relation: Relation, artifact_role: str) -> str:
    """normalization / amplitude / offsets / other: geometric relations are offsets, a different random
    stream is other, and value relations (factor, affine, NaN introduced, none, ...) follow the role."""
    if artifact_role not in ROLES:
        raise ValueError(f"unknown artifact role {artifact_role!r}; roles are {', '.join(ROLES)}")
    if relation.kind in _GEOMETRIC:
        return "offsets"
    if relation.kind == "resampled":
        return "other"
    return _ROLE_CATEGORY[artifact_role]
