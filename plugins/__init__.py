"""Optional plugins shipped with the harness: checks, hypotheses and reporters."""
