"""The hypotheses ledger: judge each hypothesis on its runs, then write it as JSON and Markdown and print it.

A verdict is `supported`, `refuted` or `inconclusive` (with the reason), or `needs <profile>` for a
hypothesis the chosen profile cannot decide. Each prediction keeps its evidence: the measured value
of its check in every run it read, and for seed sweeps the spread across seeds. The ledger folder
holds `ledger.json`, `ledger.md` and one report folder per run under `runs/`.
"""
from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

from rich.console import Console
from rich.text import Text

from harness.layout import print_rows

from harness.hypotheses.judge import Judgement, decide, judge_runs, show, spread
from harness.hypotheses.statistics import ALPHA, adjust, hypothesis_statistics, prediction_statistics
from harness.hypotheses.runs import (
    LedgerOptions, Plan, RunResult, execute_plan, needs_profile_above, observe, plan, reference, results_for, targets,
)
from harness.manager import Registry
from harness.records import HypothesisSpec, Prediction
from harness.store import atomic_write_bytes, atomic_write_json

LEDGER_SCHEMA = 1
STYLES = {"supported": "green", "refuted": "red", "inconclusive": "yellow"}
BRIEF = 120
NUMBER_COLUMNS = ("n", "rate [95% CI]", "p", "q")
"""Seeds decided, the share showing the predicted response with its Wilson interval, Fisher's p, BH's q."""


def default_ledger_dir() -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return Path("runs") / f"{stamp}-hypotheses"


def judge_prediction(spec: HypothesisSpec, prediction: Prediction, results: Mapping[str, list[RunResult]]) -> tuple[Judgement, dict[str, Any]]:
    """Judge one prediction over every run it reads; return the judgement and its evidence record.

    With several interventions (no `intervention` named) each must show the response.
    """
    base = reference(prediction)
    readings = {label: [observe(prediction, r) for r in results[label]]
                for label in ([base] if base else []) + targets(spec, prediction)}
    references = readings.get(base, []) if base else []
    judgement = every(judge_runs(prediction, readings[label], references) for label in targets(spec, prediction))
    spreads = {label: stats for label, observed in readings.items() if (stats := spread(observed))}
    statistics = prediction_statistics(prediction, readings, base, targets(spec, prediction))
    record = {"check": prediction.check, "stage": prediction.stage, "change": prediction.change,
              "value": prediction.value, "field": prediction.field, "role": prediction.role,
              "intervention": prediction.intervention, "reference": base, "note": prediction.note,
              "holds": judgement.holds, "text": judgement.text,
              "evidence": [obs.to_dict() for observed in readings.values() for obs in observed], "spread": spreads,
              "statistics": statistics}
    return judgement, record


def every(judgements: Iterable[Judgement]) -> Judgement:
    """All must hold: the first that fails, else the first undecided, else all their texts."""
    judgements = list(judgements)
    failed = next((j for j in judgements if j.holds is False), None)
    pending = next((j for j in judgements if j.holds is None), None)
    return failed or pending or Judgement(True, "; ".join(j.text for j in judgements))


def custom_evaluation(spec: HypothesisSpec, results: Mapping[str, list[RunResult]]) -> Judgement:
    """The hypothesis's own `evaluate(results)`; one that raises leaves the verdict undecided."""
    try:
        return spec.evaluate(results)
    except Exception as exc:  # a plugin's bug must not stop the ledger; it is reported as the reason
        return Judgement(None, f"evaluate() raised {type(exc).__name__}: {exc}")


def judge_hypothesis(spec: HypothesisSpec, results: Mapping[str, list[RunResult]] | None, profile: str) -> dict[str, Any]:
    """The ledger entry of one hypothesis: verdict, reason, agreement with the spec, evidence, runs."""
    entry = {"id": spec.id, "title": spec.title, "statement": spec.statement, "spec_section": spec.spec_section,
             "published_verdict": spec.published_verdict, "expected_verdict": spec.expected_verdict,
             "notes": spec.notes, "predictions": [], "runs": {}}
    if results is None:
        return {**entry, "verdict": f"needs {spec.needs_profile}", "run_failed": False,
                "statistics": hypothesis_statistics([], spec.require),
                "reason": f"needs {spec.needs_profile}: {spec.needs_reason or 'the ' + profile + ' profile cannot decide it'}",
                "agreement": "not run"}
    tests, controls = [], []
    for prediction in spec.predictions:
        judgement, record = judge_prediction(spec, prediction, results)
        entry["predictions"].append(record)
        if prediction.role == "test":
            tests.append(judgement)
        elif prediction.role == "control":
            controls.append(judgement)
    if spec.evaluate is not None:
        custom = custom_evaluation(spec, results)
        tests.append(custom)
        entry["predictions"].append({"check": "evaluate()", "stage": "", "change": "custom", "role": "test",
                                     "holds": custom.holds, "text": custom.text, "evidence": [], "spread": {},
                                     "statistics": None})
    verdict, reason, run_failed = decide(tests, controls, spec.require)
    entry["runs"] = {label: [{"name": r.name, "seed": r.seed, "error": r.error} for r in runs]
                     for label, runs in results.items() if runs}
    statistics = hypothesis_statistics([p["statistics"] for p in entry["predictions"] if p["role"] == "test"], spec.require)
    return {**entry, "verdict": verdict, "reason": reason, "run_failed": run_failed, "statistics": statistics,
            "agreement": agreement(verdict, spec.expected_verdict)}


def agreement(verdict: str, expected: str | None) -> str:
    """How the verdict reached compares with the one the spec's evidence implies."""
    if expected is None:
        return "new (spec: untested)"
    if verdict not in ("supported", "refuted"):
        return "not reached"
    return "agrees" if verdict == expected else f"disagrees (spec: {expected})"


def run_ledger(specs: list[HypothesisSpec], registry: Registry, options: LedgerOptions, console: Console,
               progress: Console) -> dict[str, Any]:
    """Run what the hypotheses need, judge them, write the ledger folder and print the table."""
    folder = Path(options.out) if options.out else default_ledger_dir()
    runnable = [spec for spec in specs if not needs_profile_above(spec, options.profile)]
    planned: Plan = plan(runnable, options, registry)
    folder.mkdir(parents=True, exist_ok=True)
    done = execute_plan(planned, options, registry, folder, progress)
    entries = [judge_hypothesis(spec, results_for(spec, planned, done) if spec.id in planned.uses else None,
                                options.profile) for spec in specs]
    adjust(entries)
    inconclusive = [e["id"] for e in entries if e["verdict"] == "inconclusive"]
    ledger = {
        "schema_version": LEDGER_SCHEMA,
        "kind": "hypotheses",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"profile": options.profile, "scenario": options.scenario, "seeds": options.seeds,
                     "cache": options.use_cache, "command": sys.argv[:], "folder": str(folder), "alpha": ALPHA},
        "runs": [{"name": ex.name, "description": run.describe(), "setup": run.describe(seed=False), "stage": planned.stages[run],
                  "folder": f"runs/{ex.name}", "seconds": round(ex.seconds, 2), "error": ex.error,
                  "summary": ex.report["summary"] if ex.report else None} for run, ex in done.items()],
        "hypotheses": entries,
        "counts": {v: sum(1 for e in entries if e["verdict"] == v) for v in sorted({e["verdict"] for e in entries})},
        "warnings": list(registry.loaded.warnings),
        "exit_code": 1 if inconclusive else 0,
    }
    atomic_write_json(folder / "ledger.json", ledger)
    atomic_write_bytes(folder / "ledger.md", markdown(ledger).encode())
    print_table(ledger, console)
    return ledger


def print_table(ledger: dict[str, Any], console: Console) -> None:
    """The ledger as one table (compact rows where it does not fit): verdict, the spec's verdict,
    agreement and the deciding evidence."""
    rows = [[entry["id"], Text(entry["verdict"], style=STYLES.get(entry["verdict"], "cyan")), *numbers(entry["statistics"]),
             entry["expected_verdict"] or "untested", entry["agreement"], Text(brief(entry["reason"]))]
            for entry in ledger["hypotheses"]]
    print_rows(console, f"hypotheses ({ledger['settings']['profile']})",
               ("id", "verdict", *NUMBER_COLUMNS, "spec", "agreement", "evidence"), rows)
    counts = ", ".join(f"{n} {verdict}" for verdict, n in ledger["counts"].items())
    console.print(f"{counts}; ledger: {Path(ledger['settings']['folder']) / 'ledger.md'}", highlight=False)


def numbers(stats: Mapping[str, Any] | None) -> list[str]:
    """n, rate [CI], p and q of a prediction or hypothesis as short cells ("-" where there is none)."""
    stats = stats or {}
    n = str(stats["n"]) if stats.get("n") else "-"
    rate = f"{stats['rate']:.2f} [{stats['ci'][0]:.2f}, {stats['ci'][1]:.2f}]" if stats.get("n") else "-"
    return [n, rate, *(f"{stats[key]:.2g}" if stats.get(key) is not None else "-" for key in ("p", "q"))]


def significance(stats: Mapping[str, Any], alpha: float) -> str:
    """The statistics line of a hypothesis in words: n, rate, p with how it was chosen, q and significance."""
    n, rate, p, q = numbers(stats)
    if n == "-":
        return "no seed decided a test prediction"
    words = f"n {n}, rate {rate}; " + (f"p {p} ({stats['p_rule']})" if stats.get("p") is not None else f"no p: {stats['p_rule']}")
    if stats.get("q") is None:
        return words
    return words + f"; q {q} (Benjamini–Hochberg): {'' if stats['significant'] else 'not '}significant at q ≤ {alpha:g}"


def brief(text: str, limit: int = BRIEF) -> str:
    """The first `limit` characters of a reason, marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(ledger: dict[str, Any]) -> str:
    """The ledger as Markdown: a summary table, then each hypothesis with its predictions and evidence."""
    settings = ledger["settings"]
    lines = [f"# Hypotheses ledger ({settings['profile']} profile)", "",
             f"Created {ledger['created']}; scenario {settings['scenario'] or 'per hypothesis'}; "
             f"seed sweeps {settings['seeds'] or 'as declared'}.", "",
             "| id | verdict | " + " | ".join(NUMBER_COLUMNS) + " | spec verdict | agreement | reason |", "|---" * 9 + "|"]
    for e in ledger["hypotheses"]:
        lines.append(f"| [{e['id']}](#{e['id'].lower()}) | **{e['verdict']}** | " + " | ".join(numbers(e["statistics"]))
                     + f" | {_cell(e['expected_verdict'] or 'untested')} "
                     f"| {_cell(e['agreement'])} | {_cell(brief(e['reason']))} |")
    names = {run["name"]: run for run in ledger["runs"]}
    for e in ledger["hypotheses"]:
        lines += ["", f"## {e['id']}", "", f"**{e['title']}** (spec {e['spec_section'] or '-'}). {e['statement']}", "",
                  f"- verdict: **{e['verdict']}**: {e['reason']}",
                  f"- statistics: {significance(e['statistics'], settings.get('alpha', ALPHA))}",
                  f"- published: {e['published_verdict'] or '-'}; the verdict reached: {e['agreement']}"]
        if e["notes"]:
            lines.append(f"- notes: {e['notes']}")
        for label, runs in e["runs"].items():
            links = ", ".join(f"[seed {r['seed']}](runs/{r['name']}/)" + (f" (failed: {r['error']})" if r["error"] else "")
                              for r in runs)
            lines.append(f"- run `{label}`: {names[runs[0]['name']]['setup']}: {links}")
        if e["predictions"]:
            lines += ["", "| role | check | predicted | held | n | rate [95% CI] | p | evidence |", "|---" * 8 + "|"]
        for p in e["predictions"]:
            target = f" {show(p['value'])}" if p.get("value") is not None else ""
            where = (p["check"] if "@" in p["check"] or not p["stage"] else f"{p['check']}@{p['stage']}") + (
                f" `{p['field']}`" if p.get("field") else "")
            readings = "; ".join(f"{o['run']} s{o['seed']}: {o['status']} {show(o['measured'])}" for o in p["evidence"])
            spreads = "; ".join(f"{label} spread {show(s['spread'])} (mean {show(s['mean'])})" for label, s in p["spread"].items())
            held = {True: "yes", False: "no", None: "undecided"}[p["holds"]]
            n, rate, pvalue, _ = numbers(p.get("statistics"))
            lines.append(f"| {p['role']} | {_cell(where)} | {p['change']}{_cell(target)} | {held} | {n} | {rate} | {pvalue} | "
                         f"{_cell(p['text'])}" + (f"<br>{_cell(readings)}" if readings else "")
                         + (f"<br>{_cell(spreads)}" if spreads else "") + " |")
    if ledger["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {_cell(w)}" for w in ledger["warnings"]]
    return "\n".join(lines) + "\n"
