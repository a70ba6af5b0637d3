"""The relation finder (issue 11): for two differing artifacts, the simplest relation B = f(A) with its
parameters and residual, and the category (normalization, amplitude, offsets, other) it points to."""
from harness.relations.finder import find_relation
from harness.relations.model import KINDS, Relation, tolerance
from harness.relations.roles import CATEGORIES, ROLES, category_for, role_for

__all__ = ["CATEGORIES", "KINDS", "ROLES", "Relation", "category_for", "find_relation", "role_for", "tolerance"]
