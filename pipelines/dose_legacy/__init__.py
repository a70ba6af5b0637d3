"""The `dose_legacy` pipeline: the 2024 dose-dependence study's grid simulation (spec 0.1, 3)."""
