"""The sim_lines pipeline: uniform random scan, spatial split, KD-tree groups, normalize_data (spec 0.1)."""
