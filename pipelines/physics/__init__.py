"""Pure, explicit-argument physics shared by both pipelines: one implementation of each convention."""
