"""The ``refute`` stage: the refutation suite of the primary estimates.

Run by ``python -m causal run`` after the estimate stage, and again by
``python -m causal refute`` (a reviewer's re-run) from what the run saved:
``effects.csv`` gives the estimates to check, ``estimation_config.json`` the
settings, the panel the cells. Outputs in the results folder:

``refutations.csv``    one row per (primary estimate, refuter), with the pass rule
``sensitivity.json``   sensitivity to unmeasured confounding, in numbers and words
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis import results_contract
from analysis.errors import InputError
from causal.estimate.records import EffectRecord, RefutationRecord
from causal.estimate.stage import prepare_cell, primary_keys
from causal.estimate.tasks import cached_panel, map_cells
from causal.refute.design_checks import design_check_records
from causal.refute.refuters import DEFAULT_SIMULATIONS, refute_estimate, write_refutations


def refute_cell(panel: pd.DataFrame, key: tuple, original: EffectRecord, seed: int,
                simulations: int) -> list[RefutationRecord]:
    """The refutation suite of one primary estimate, on its trimmed cell (none when too small)."""
    prepared = prepare_cell(panel, *key[:3])
    if isinstance(prepared, str):
        return []
    return refute_estimate(prepared.trimmed, original, seed, simulations)


def refute_primary_cells(processed_dir: Path, originals: dict, seed: int, simulations: int,
                         jobs: int = 1) -> list[RefutationRecord]:
    """The refutation suite for the primary estimates in ``originals`` ((t, o, h, method) -> record)."""
    keys = [k for k in primary_keys() if k in originals]
    tasks = [(key, (originals[key], seed, simulations)) for key in keys]
    return [r for records in map_cells(processed_dir, refute_cell, tasks, jobs, "refuting") for r in records]


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
    effects = {(r.treatment, r.outcome, r.horizon, r.method): r
               for r in effect_records_from_csv(results_dir / results_contract.EFFECTS_CSV)}
    cached_panel(processed_dir)  # a missing or malformed panel is a one-line input error here
    originals = {key: effects[key] for key in primary_keys() if key in effects}
    records = refute_primary_cells(processed_dir, originals, seed=seed, simulations=simulations, jobs=jobs)
    config_path = results_dir / results_contract.ESTIMATION_CONFIG_JSON
    config = read_json(config_path) if config_path.is_file() else {}
    records += design_check_records(cached_panel(processed_dir), results_dir, effects, originals, seed,
                                    n_bootstrap=int(config.get("n_bootstrap", 200)))
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


def refute_from_results(results_dir: Path, simulations: int | None = None, seed: int = 1) -> pd.DataFrame:
    """Re-run the refutation suite from what ``python -m causal run`` saved.

    Reads ``run_info.json`` (processed_dir), ``estimation_config.json`` and
    ``effects.csv`` in ``results_dir``, rebuilds the primary cells from the panel,
    re-runs every refuter and rewrites ``refutations.csv`` and ``sensitivity.json``.
    The same seed gives the same numbers (and those of the run, when the run
    used that seed and number of simulations).
    """
    results_dir = Path(results_dir)
    run_info = read_json(results_dir / results_contract.RUN_INFO_JSON)
    config = read_json(results_dir / results_contract.ESTIMATION_CONFIG_JSON)
    if "processed_dir" not in run_info:
        raise InputError(results_dir / results_contract.RUN_INFO_JSON, None, "processed_dir", "expected the panel folder")
    simulations = int(simulations if simulations is not None else config.get("simulations", DEFAULT_SIMULATIONS))
    frame = run_refutation_stage(Path(run_info["processed_dir"]), results_dir, seed=seed,
                                 jobs=int(config.get("jobs", 1)), simulations=simulations)
    config = read_json(results_dir / results_contract.ESTIMATION_CONFIG_JSON)
    config.update({"refute_seed": seed, "refute_simulations": simulations})
    (results_dir / results_contract.ESTIMATION_CONFIG_JSON).write_text(json.dumps(config, indent=2) + "\n")
    return frame
