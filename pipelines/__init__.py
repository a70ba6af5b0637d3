"""The two reference pipelines the harness diffs, and the pure physics they share."""
