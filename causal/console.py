"""What the command line prints: stage lines, the end-of-run summary, the re-run's refutation table.

Every line is built from aggregate numbers (counts, estimates, intervals, pass
or fail), never from customer rows. The functions return strings; printing is
left to :mod:`causal.cli`.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import results_contract

HEADLINE_TREATMENT = "any"
HEADLINE_OUTCOMES = ("cancel", "upgrade")
HEADLINE_METHOD = "dml"


def quiet_mode(quiet: bool) -> bool:
    """True with ``--quiet`` or under CI (environment variable ``CI`` set to true): stage lines only."""
    return bool(quiet) or os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def stage_line(report) -> str:
    """One line for a finished stage: name, status, counts of what it wrote, seconds (and why, when not ok).

    ``report`` is a :class:`causal.pipeline.StageReport` (stage, status, seconds, counts, reasons).
    """
    counts = " ".join(f"{name}={value:,}" for name, value in report.counts.items())
    line = f"{report.stage:<9} {report.status:<8} {report.seconds:7.1f} s  {counts}".rstrip()
    if report.status != "ok" and report.reasons:
        line += "  (" + "; ".join(report.reasons) + ")"
    return line


def _pp(value: float) -> str:
    return f"{100 * value:+.1f}"


def headline_lines(results_dir: Path) -> list[str]:
    """The dml effects of adopting any integration on cancel and upgrade, each horizon, with intervals."""
    path = Path(results_dir) / results_contract.EFFECTS_CSV
    if not path.is_file():
        return ["headline: no effects.csv (the estimate stage did not run)"]
    effects = pd.read_csv(path)
    rows = effects.loc[(effects["treatment"] == HEADLINE_TREATMENT) & (effects["method"] == HEADLINE_METHOD)
                       & (effects["estimand"] == "ATE") & effects["outcome"].isin(HEADLINE_OUTCOMES)]
    if rows.empty:
        return [f"headline: no {HEADLINE_METHOD} estimate for treatment {HEADLINE_TREATMENT} in {path}"]
    rows = rows.assign(order=rows["outcome"].map(HEADLINE_OUTCOMES.index)).sort_values(["order", "horizon"])
    interval = str(rows["interval"].iloc[0]) if "interval" in rows and pd.notna(rows["interval"].iloc[0]) else ""
    lines = [f"headline ({HEADLINE_METHOD}, adopting any integration, percentage points, 95% interval"
             + (f": {interval}" if interval else "") + ")"]
    for row in rows.itertuples():
        lines.append(f"  {row.outcome:<8} within {row.horizon} month{'s' if row.horizon != 1 else ''}: "
                     f"{_pp(row.estimate)} [{_pp(row.ci_low)}, {_pp(row.ci_high)}]  ({row.estimand}, "
                     f"{row.n_units:,} customer-months)")
    return lines


def checks_line(results_dir: Path) -> str:
    """How many refutation checks of the run passed."""
    path = Path(results_dir) / results_contract.REFUTATIONS_CSV
    if not path.is_file():
        return "checks: no refutations.csv (the refute stage did not run)"
    frame = pd.read_csv(path)
    passed, failed, unjudged = pass_counts(frame["passed"])
    extra = f", {unjudged} could not be judged" if unjudged else ""
    return f"checks: {passed} of {len(frame)} refutations passed{extra} ({path.name})"


def degraded_lines(results_dir: Path, reports) -> list[str]:
    """Stages that were not ok, with their reasons, and cells the estimate stage skipped."""
    lines = [f"degraded: {r.stage} {r.status}" + (": " + "; ".join(r.reasons) if r.reasons else "")
             for r in reports if r.status != "ok"]
    skipped = Path(results_dir) / results_contract.SKIPPED_CELLS_CSV
    if skipped.is_file():
        frame = pd.read_csv(skipped)
        if len(frame):
            lines.append(f"degraded: {len(frame)} cell-method estimates skipped, reasons in {skipped.name}")
    return lines or ["degraded: nothing"]


def run_summary(results_dir: Path, reports, reports_dir: str = "reports") -> list[str]:
    """The closing lines of ``python -m causal run``: headline, checks, degraded, paths, next command."""
    results_dir = Path(results_dir)
    lines = headline_lines(results_dir) + [checks_line(results_dir)] + degraded_lines(results_dir, reports)
    lines += [f"results: {results_dir.resolve()}",
              f"next: python -m causal report --results {results_dir} --out {reports_dir}"]
    return lines


def _result(new_effect: float, p_value: float) -> str:
    text = f"{new_effect:+.4f}"
    return text + (f" p={p_value:.3f}" if isinstance(p_value, float) and not math.isnan(p_value) else "")


def judged(value) -> bool | None:
    """A ``passed`` cell as True / False, or None for a check that could not be judged (empty in the CSV)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return {"true": True, "false": False}.get(str(value).strip().lower())


def pass_counts(passed: pd.Series) -> tuple[int, int, int]:
    """(passed, failed, not judged) of a ``passed`` column."""
    values = [judged(v) for v in passed]
    return values.count(True), values.count(False), sum(v is None for v in values)


def _verdict(passed) -> str:
    return {True: "pass", False: "FAIL", None: "n/a"}[judged(passed)]


def refute_table(frame: pd.DataFrame, original: pd.DataFrame | None, same_settings: bool) -> list[str]:
    """One line per check: cell, method, refuter, result (new effect, p-value), pass/fail, and the run's beside it.

    The run's result is shown only when it refuted with the same seed and simulations.
    """
    compare = same_settings and original is not None
    beside = {}
    if compare:
        for row in original.itertuples():
            beside[(row.treatment, row.outcome, int(row.horizon), row.method, row.refuter)] = row
    header = f"{'cell':<16} {'method':<6} {'refuter':<22} {'result':<18} {'check':<5}"
    lines = [header + ("  the run" if compare else "")]
    for row in frame.itertuples():
        cell = f"{row.treatment}:{row.outcome}:{int(row.horizon)}"
        line = (f"{cell:<16} {row.method:<6} {row.refuter:<22} {_result(row.new_effect, row.p_value):<18} "
                f"{_verdict(row.passed):<5}")
        run = beside.get((row.treatment, row.outcome, int(row.horizon), row.method, row.refuter))
        if run is not None:
            line += f"  {_result(run.new_effect, run.p_value)} {_verdict(run.passed)}"
        lines.append(line.rstrip())
    return lines


def refute_closing(frame: pd.DataFrame, original: pd.DataFrame | None, settings: dict) -> str:
    """``refutations: 46 passed, 2 failed (the run, same settings: 45 passed, 3 failed)``."""
    passed, failed, unjudged = pass_counts(frame["passed"])
    line = f"refutations: {passed} passed, {failed} failed" + (f", {unjudged} not judged" if unjudged else "")
    if original is None:
        return line + " (the run has no refutations.csv to compare)"
    run_passed, run_failed, run_unjudged = pass_counts(original["passed"])
    run_counts = f"{run_passed} passed, {run_failed} failed" + (f", {run_unjudged} not judged" if run_unjudged else "")
    if settings.get("same_settings_as_run"):
        return line + f" (the run, same settings: {run_counts})"
    run = settings.get("run_refute_settings", {})
    return line + (f" (the run, with seed {run.get('seed')} and {run.get('simulations')} simulations: {run_counts};"
                   " other settings, so not compared check by check)")
