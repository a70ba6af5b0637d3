"""Hypotheses as plugins: the host side that runs, judges and reports them (`harness hypotheses run`).

- `judge`: prediction kinds on observations, seed spreads, and the verdict logic;
- `runs`: planning each distinct run once, executing it, and reading a check off its report;
- `ledger`: judging each hypothesis and writing the ledger (console, JSON, Markdown).
"""
from __future__ import annotations

from harness.hypotheses.judge import Judgement, Observation, decide, judge, judge_runs, spread, within_spread
from harness.hypotheses.ledger import judge_hypothesis, run_ledger
from harness.hypotheses.runs import LedgerOptions, RunResult, observe, sweep

__all__ = [
    "Judgement",
    "Observation",
    "RunResult",
    "LedgerOptions",
    "decide",
    "judge",
    "judge_runs",
    "judge_hypothesis",
    "observe",
    "run_ledger",
    "spread",
    "sweep",
    "within_spread",
]
