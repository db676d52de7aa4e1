"""The ``refute`` stage: the refutation suite of the primary estimates.

Run by ``python -m causal run`` after the estimate stage, and again by
``python -m causal refute`` (a reviewer's re-run, :mod:`causal.refute.rerun`)
from what the run saved: ``effects.csv`` gives the estimates to check,
``estimation_config.json`` the settings, the panel the cells. Outputs of the
run in the results folder (a re-run writes its own copies in its own folder):

``refutations.csv``    one row per (primary estimate, refuter), with the pass rule, and the
                       PSM-vs-DML ATT agreement rows the estimate stage computed
``sensitivity.json``   sensitivity to unmeasured confounding, in numbers and words; key ``benchmarks``:
                       a hidden factor as strong as tier, MRR or segment (:mod:`causal.refute.benchmarks`)
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis import results_contract
from analysis.errors import InputError
from causal.estimate.records import EffectRecord, RefutationRecord
from causal.estimate import agreement
from causal.estimate.step_times import timed
from causal.estimate.stage import PRIMARY_ESTIMANDS, cached_trimmed_cell, prepare_cell, primary_keys
from causal.estimate.tasks import cached_panel, map_cells
from causal.refute import refuters
from causal.refute.benchmarks import benchmark_cell
from causal.refute.design_checks import design_check_records, negative_control_effects
from causal.refute.refuters import (DEFAULT_SIMULATIONS, REFUTERS, agreement_records, refute_estimate,
                                    write_refutations)


def _run_refuter(name: str, cell, original: EffectRecord, seed: int, simulations: int,
                 cached=None) -> RefutationRecord:
    if name == "unobserved_confounder":
        return refuters.unobserved_confounder(cell, original, seed, nuisances=cached)
    return getattr(refuters, name)(cell, original, seed, simulations)


BENCHMARK_METHODS = ("dml",)  # the main cells whose sensitivity is benchmarked against measured factors


def refute_cell(panel: pd.DataFrame, key: tuple, original: EffectRecord, seed: int,
                simulations: int, results_dir: str | None = None,
                only: tuple[str, ...] | None = None) -> list[RefutationRecord]:
    """The refutation suite of one primary estimate, on its trimmed cell (none when too small).

    The trimmed cell is rebuilt from the rows the run's cached DML nuisances of the
    cell were fitted on (``results_dir``, same seed; :func:`causal.estimate.stage.cached_trimmed_cell`),
    without fitting the trimming propensity again; a dml estimate's sensitivity
    analysis reuses those nuisances. Without a usable cache the cell is trimmed here.
    ``only`` restricts the suite to some of :data:`REFUTERS` (kept in that order);
    each refuter draws from its own seed, so a subset gives the numbers of the full suite.
    """
    found = cached_trimmed_cell(panel, key[:3], seed, results_dir)
    if found is not None:
        trimmed, cached = found[0], found[1] if original.method == "dml" else None
    else:  # no cache of this run and seed: trim here
        prepared = prepare_cell(panel, *key[:3])
        if isinstance(prepared, str):
            return []
        trimmed, cached = prepared.trimmed, None
    if only is None:
        records = refute_estimate(trimmed, original, seed, simulations, nuisances=cached)
    else:
        records = [_run_refuter(name, trimmed, original, seed, simulations, cached)
                   for name in REFUTERS if name in only]
    if original.method in BENCHMARK_METHODS and (only is None or "unobserved_confounder" in only):
        attach_benchmarks(records, benchmark_cell(trimmed, original))
    return records


def attach_benchmarks(records: list[RefutationRecord], entries: list[dict]) -> None:
    """Put the benchmarked sensitivity of a cell on its unobserved_confounder record (``extra["benchmarks"]``)."""
    for record in records:
        if record.refuter == "unobserved_confounder":
            record.extra["benchmarks"] = entries


NEGATIVE_CONTROL_TASK = ("any", "negative_control", 1, "design_check")  # its variant's rows are all it reads


def refute_task(panel: pd.DataFrame, key: tuple, *args):
    """One task of the refuting map: a primary estimate's suite (:func:`refute_cell`) or, for
    :data:`NEGATIVE_CONTROL_TASK`, the negative-control estimates of the design checks."""
    if key == NEGATIVE_CONTROL_TASK:
        seed, n_bootstrap = args
        return negative_control_effects(panel, seed, n_bootstrap)
    return refute_cell(panel, key, *args)


def _task_cost(key: tuple) -> int:
    # a dml task refits DML four times, the negative control fits DML and bootstraps PSM once, a psm task
    # only matches: hand the first two out first
    return 1 if key[3] in ("dml", NEGATIVE_CONTROL_TASK[3]) else 0


def _refute_map(processed_dir: Path, originals: dict, seed: int, simulations: int, jobs: int,
                results_dir: Path | None, only: tuple[str, ...] | None, extra: list[tuple[tuple, tuple]]) -> tuple:
    """The refuting map over the primary estimates in ``originals`` and the ``extra`` tasks: (records, extra results)."""
    keys = [k for k in primary_keys() if k in originals]
    cache = None if results_dir is None else str(results_dir)
    tasks = [(key, (originals[key], seed, simulations, cache, only)) for key in keys] + extra
    done = map_cells(processed_dir, refute_task, tasks, jobs, "refuting", cost=_task_cost)
    return [r for records in done[:len(keys)] for r in records], done[len(keys):]


def refute_primary_cells(processed_dir: Path, originals: dict, seed: int, simulations: int,
                         jobs: int = 1, results_dir: Path | None = None,
                         only: tuple[str, ...] | None = None) -> list[RefutationRecord]:
    """The refutation suite for the primary estimates in ``originals`` ((t, o, h, method) -> record)."""
    return _refute_map(processed_dir, originals, seed, simulations, jobs, results_dir, only, [])[0]


def refute_with_negative_control(processed_dir: Path, originals: dict, seed: int, simulations: int, jobs: int,
                                 results_dir: Path | None, n_bootstrap: int
                                 ) -> tuple[list[RefutationRecord], dict[str, EffectRecord]]:
    """:func:`refute_primary_cells` and, in the same map (by whichever worker is free), the design
    checks' negative-control estimates with ``n_bootstrap`` PSM draws: ``(records, {"psm": ..., "dml": ...})``."""
    records, (controls,) = _refute_map(processed_dir, originals, seed, simulations, jobs, results_dir, None,
                                       [(NEGATIVE_CONTROL_TASK, (seed, n_bootstrap))])
    return records, controls


def run_refutation_stage(processed_dir: Path, results_dir: Path, seed: int, jobs: int,
                         simulations: int = DEFAULT_SIMULATIONS) -> pd.DataFrame:
    """Refute the primary estimates in ``results_dir/effects.csv``; write the refutation files.

    Parameters
    ----------
    processed_dir : Path
        Folder with ``panel.parquet``.
    results_dir : Path
        Results folder of the run (``effects.csv`` in, ``refutations.csv`` and ``sensitivity.json`` out).
    seed : int
        Base seed; each refuter derives its own from it and the cell.
    jobs : int
        Worker processes; numbers do not depend on it.
    simulations : int
        Re-estimations per refuter (placebo, random common cause, subset, bootstrap).

    Returns
    -------
    DataFrame
        The table written to ``refutations.csv``.
    """
    processed_dir, results_dir = Path(processed_dir), Path(results_dir)
    rows = effect_records_from_csv(results_dir / results_contract.EFFECTS_CSV)
    effects = {(r.treatment, r.outcome, r.horizon, r.method): r for r in rows
               if r.estimand == PRIMARY_ESTIMANDS.get(r.method)}
    # the design checks compare like with like: the doubly robust ATT where a method has both, and the event study
    design_effects = {(r.treatment, r.outcome, r.horizon, r.method): r for r in rows if r.estimand != "ATT"}
    design_effects.update({(r.treatment, r.outcome, r.horizon, r.method): r for r in rows if r.estimand == "ATT"})
    cached_panel(processed_dir)  # a missing or malformed panel is a one-line input error here
    originals = {key: effects[key] for key in primary_keys() if key in effects}
    config_path = results_dir / results_contract.ESTIMATION_CONFIG_JSON
    config = read_json(config_path) if config_path.is_file() else {}
    with timed("refuters_and_negative_control"):
        records, controls = refute_with_negative_control(processed_dir, originals, seed, simulations, jobs,
                                                         results_dir, n_bootstrap=int(config.get("n_bootstrap", 200)))
    records += agreement_records(agreement.read_agreement(results_dir))
    with timed("design_checks"):
        records += design_check_records(results_dir, design_effects, originals, controls)
    frame = write_refutations(records, results_dir)
    config.update({"simulations": simulations})
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    return frame


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise InputError(path, None, None, "file not found: run `python -m causal run` first")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(path, error.lineno, None, f"expected JSON ({error.msg})") from None


def effect_records_from_csv(path: Path) -> list[EffectRecord]:
    """Read ``effects.csv`` back into records (the estimates the refuters check)."""
    if not path.is_file():
        raise InputError(path, None, None, "file not found: run `python -m causal run` first")
    frame = pd.read_csv(path)
    missing = [c for c in results_contract.EFFECT_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(path, 1, missing[0], "expected the effects.csv columns of ESTIMANDS.md")
    records = []
    for position, row in frame.iterrows():
        try:
            records.append(EffectRecord(
                treatment=str(row["treatment"]), outcome=str(row["outcome"]), horizon=int(row["horizon"]),
                method=str(row["method"]), estimand=str(row["estimand"]), estimate=float(row["estimate"]),
                ci_low=float(row["ci_low"]), ci_high=float(row["ci_high"]), se=float(row["se"]),
                n_units=int(row["n_units"]), n_treated=int(row["n_treated"]), cohorts=str(row["cohorts"]),
                interval=str(row.get("interval", ""))))
        except (TypeError, ValueError) as error:
            raise InputError(path, int(position) + 2, None, f"expected numbers in an effects row ({error})") from None
    return records
