"""The ``estimate`` stage: every cell of the panel through naive, PSM and DML, and balance.

Outputs in ``results_dir`` (aggregate only, no customer ids):

``effects.csv``               every treatment x outcome x horizon x {naive, psm, dml ATE, dml ATT} (ESTIMANDS.md columns + interval)
``cache/nuisances/*.npz``     the DML cross-fitted nuisances per cell (reused by segments and refute)
``cache/estimator_agreement.csv``  PSM ATT minus DML ATT per primary cell (the refute stage reports it)
``skipped_cells.csv``         cells (or methods) left out, with counts and the reason
``trimming.csv``              the trimming rule and how many rows it removed, per cell
``balance.csv``               standardised mean differences before and after matching, per psm cell and covariate
``sensitivity_flagged.csv``   primary cells re-estimated with the flagged (tracking-change) cohorts
``estimation_config.json``    settings the refute stage and ``python -m causal refute`` re-use

The refutation suite of the primary estimates is its own stage (:mod:`causal.refute`).
``figures/causal_graph.png``, ``figures/love_plot.png``, ``figures/propensity_overlap.png``
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import results_contract, schema
from causal.estimate import agreement, balance, estimators, event_study, nuisances
from causal.estimate.step_times import timed
from causal.estimate import cancel_rate
from causal.estimate.design import Cell, select_cell, subset_cell
from causal.estimate.graph import draw_causal_graph
from causal.estimate.records import EffectRecord, effects_frame
from causal.estimate.tasks import cached_panel, map_cells

METHODS = ("naive", "psm", "dml")
PRIMARY_TREATMENT = "any"
PRIMARY_METHODS = ("psm", "dml")
PRIMARY_ESTIMANDS = {"naive": "ATE", "psm": "ATT", "dml": "ATE"}  # the estimate of each method the refuters check
MIN_TREATED = 50
MIN_CONTROL = 50


def primary_keys() -> list[tuple[str, str, int, str]]:
    """(treatment, outcome, horizon, method) of the estimates that get the full refutation suite."""
    return [(PRIMARY_TREATMENT, outcome, h, method) for outcome in schema.BINARY_OUTCOMES
            for h in schema.HORIZONS for method in PRIMARY_METHODS]


def skip_reason(cell: Cell) -> str | None:
    """Why a cell cannot be estimated, or None."""
    n_control = cell.n_units - cell.n_treated
    if cell.n_units == 0:
        return "horizon not observable: no eligible rows with an observed outcome"
    if cell.n_treated < MIN_TREATED:
        return f"not estimable: too few adopters ({cell.n_treated} < {MIN_TREATED})"
    if n_control < MIN_CONTROL:
        return f"not estimable: too few non-adopters for matching ({n_control} < {MIN_CONTROL})"
    if np.unique(cell.y).size < 2:  # every interval would be 0 to 0: nothing to estimate
        return "not estimable: no variation in the outcome (every customer-month has the same value)"
    return None


@dataclass
class PreparedCell:
    """A cell, its logistic propensity scores and the trimmed cell psm and dml use."""

    cell: Cell
    propensity: np.ndarray
    trimmed: Cell
    trim_row: dict


def prepare_cell(panel: pd.DataFrame, treatment: str, outcome: str, horizon: int,
                 include_flagged: bool = False) -> PreparedCell | str:
    """Select a cell, fit the trimming propensity and trim; a skip reason instead when too small."""
    cell = select_cell(panel, treatment, outcome, horizon, include_flagged=include_flagged)
    reason = skip_reason(cell)
    if reason:
        return reason
    propensity = estimators.fit_propensity(cell.X, cell.t)
    keep = balance.trim_mask(propensity)
    trimmed = subset_cell(cell, keep)
    removed_treated = int(cell.t[~keep].sum())
    trim_row = {"treatment": treatment, "outcome": outcome, "horizon": horizon,
                "sample": "with_flagged" if include_flagged else "main", "rule": balance.TRIM_RULE,
                "n_before": cell.n_units, "n_removed": int((~keep).sum()),
                "n_removed_treated": removed_treated, "n_removed_control": int((~keep).sum()) - removed_treated,
                "n_after": trimmed.n_units}
    return PreparedCell(cell=cell, propensity=propensity, trimmed=trimmed, trim_row=trim_row)


def cached_trimmed_cell(panel: pd.DataFrame, key: tuple[str, str, int], seed: int, results_dir: Path | str | None
                        ) -> tuple[Cell, nuisances.CellNuisances] | None:
    """The trimmed cell of ``key`` and its DML nuisances from the run's cache, without fitting anything.

    The estimate stage cached the nuisances of every cell it fitted, with the panel rows
    of its trimmed cell; the cell is selected again and cut to those rows. None when the
    cache is absent, was fitted with another seed, or names rows the cell does not have
    in that order (then the caller trims with :func:`prepare_cell`).
    """
    cached = nuisances.load(Path(results_dir), tuple(key), seed) if results_dir is not None else None
    if cached is None:
        return None
    cell = select_cell(panel, *key)
    cell = subset_cell(cell, np.isin(np.asarray(cell.rows.index), cached.index))
    if not np.array_equal(np.asarray(cell.rows.index), cached.index):
        return None
    return cell, cached


def prepared_for_outcome(prepared: PreparedCell, outcome: str) -> PreparedCell | str:
    """``prepared`` for another outcome observed on exactly its rows, without fitting again.

    What :func:`prepare_cell` would return for ``outcome``: the rows, covariates,
    treatment, trimming propensity and trimmed rows are the same (they depend on the
    rows only); only the outcome differs. A skip reason when that outcome cannot be
    estimated. The caller makes sure that the outcome's rows are ``prepared``'s
    (:func:`same_rows_groups`); a row without the outcome raises.
    """
    cell = prepared.cell
    y = cell.rows[schema.outcome_column(outcome, cell.horizon)].to_numpy(dtype=float)
    if np.isnan(y).any():
        raise ValueError(f"{outcome} is not observed on every row of the {cell.outcome} cell")
    cell = replace(cell, outcome=outcome, y=y)
    reason = skip_reason(cell)
    if reason:
        return reason
    return replace(prepared, cell=cell, trimmed=subset_cell(cell, balance.trim_mask(prepared.propensity)),
                   trim_row={**prepared.trim_row, "outcome": outcome})


@dataclass
class CellResult:
    """Everything one cell contributes to the results files."""

    records: list[EffectRecord] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    trimming: list[dict] = field(default_factory=list)
    balance: pd.DataFrame | None = None
    overlap: tuple | None = None
    agreement: dict | None = None
    rate_samples: dict[tuple[str, int], tuple[Cell, Cell]] = field(default_factory=dict)
    same_as_main: bool = False  # a flagged-cohort cell whose rows are the main cell's (flagged_records)


def rate_sample(cell: Cell) -> Cell:
    """The cell cut down to what the ``cancel_rate`` denominator reads (``mrr_bom`` and the treatment)."""
    return replace(cell, rows=cell.rows[["mrr_bom"]], X=cell.X.iloc[:, :0])


def _skip_row(cell: Cell | None, key: tuple, method: str, reason: str) -> dict:
    n_units = cell.n_units if cell is not None else 0
    n_treated = cell.n_treated if cell is not None else 0
    return {"treatment": key[0], "outcome": key[1], "horizon": key[2], "method": method, "n_units": n_units,
            "n_treated": n_treated, "n_control": n_units - n_treated, "reason": reason}


def estimate_cell(panel: pd.DataFrame, key: tuple[str, str, int], seed: int, n_bootstrap: int,
                  results_dir: str | None = None) -> CellResult:
    """naive, psm and dml (ATE and ATT) for one (treatment, outcome, horizon), with the balance of the matched sample.

    The DML nuisances are saved in ``results_dir``'s cache (:mod:`causal.estimate.nuisances`)
    when it is given; primary cells also get the PSM-vs-DML ATT agreement check.
    """
    return estimate_prepared(panel, key, prepare_cell(panel, *key), seed, n_bootstrap, results_dir)


def estimate_same_rows(panel: pd.DataFrame, treatment: str, outcomes: tuple[str, ...], horizon: int, seed: int,
                       n_bootstrap: int, results_dir: str | None = None) -> list[CellResult]:
    """:func:`estimate_cell` for outcomes observed on the same rows, fitting what depends on the rows once.

    The trimming propensity and the PSM propensity model (both logistic fits on the
    covariates and the treatment of the same rows) are fitted for the first outcome
    and reused for the others; every number is the one :func:`estimate_cell` gives
    for each outcome alone (seeds come from the cell, tested to the last bit).
    """
    first = prepare_cell(panel, treatment, outcomes[0], horizon)
    if isinstance(first, str):  # too small or no variation in the first outcome: each on its own
        return [estimate_cell(panel, (treatment, outcome, horizon), seed, n_bootstrap, results_dir)
                for outcome in outcomes]
    psm_model = estimators.FittedOnce()
    return [estimate_prepared(panel, (treatment, outcome, horizon),
                              first if outcome == outcomes[0] else prepared_for_outcome(first, outcome),
                              seed, n_bootstrap, results_dir, psm_model=psm_model) for outcome in outcomes]


def estimate_prepared(panel: pd.DataFrame, key: tuple[str, str, int], prepared: PreparedCell | str, seed: int,
                      n_bootstrap: int, results_dir: str | None = None,
                      psm_model: "estimators.FittedOnce | None" = None) -> CellResult:
    """:func:`estimate_cell` from the cell :func:`prepare_cell` gave (``psm_model``: a PSM propensity model
    shared by cells with the same trimmed rows, see :func:`estimate_same_rows`)."""
    treatment, outcome, horizon = key
    result = CellResult()
    if isinstance(prepared, str):
        cell = select_cell(panel, treatment, outcome, horizon)
        result.skipped = [_skip_row(cell, key, m, prepared) for m in METHODS]
        return result
    result.records.append(estimators.naive(prepared.cell, seed))
    result.trimming.append(prepared.trim_row)
    if outcome == cancel_rate.SOURCE_OUTCOME:  # the samples its cancel_rate rows divide by (write_results)
        result.rate_samples[(treatment, int(horizon))] = (rate_sample(prepared.cell), rate_sample(prepared.trimmed))
    reason = skip_reason(prepared.trimmed)
    if reason:
        result.skipped = [_skip_row(prepared.trimmed, key, m, "after trimming: " + reason) for m in PRIMARY_METHODS]
        return result
    dml_record = estimators.dml(prepared.trimmed, seed)
    nuis = dml_record.extra["nuisances"]
    att_record = estimators.dml_att(prepared.trimmed, nuis)
    if results_dir is not None:
        nuisances.save(nuis, Path(results_dir))
    # the DML ATT on every PSM bootstrap draw (same customer weights, nuisances held fixed)
    psm_record = estimators.psm(prepared.trimmed, seed, n_bootstrap=n_bootstrap,
                                paired=lambda weights: nuisances.att(nuis, weights), shared_propensity=psm_model)
    if key in {k[:3] for k in primary_keys()} and "paired_draws" in psm_record.extra:
        result.agreement = agreement.agreement_row(psm_record, att_record)
    smd = balance.standardized_mean_differences(
        prepared.trimmed.X, prepared.trimmed.t, psm_record.extra["matches_treated"], psm_record.extra["matches"])
    result.balance = smd.assign(treatment=treatment, outcome=outcome, horizon=horizon)[
        ["treatment", "outcome", "horizon", "covariate", "smd_before", "smd_after"]]
    if treatment == PRIMARY_TREATMENT and outcome in schema.BINARY_OUTCOMES and horizon == min(schema.HORIZONS):
        result.overlap = (f"{treatment} / {outcome} / h={horizon}", prepared.propensity, prepared.cell.t)
    result.records += [slim(psm_record), slim(dml_record), att_record]
    return result


def slim(record: EffectRecord) -> EffectRecord:
    """The record without its large arrays (so results stay small between processes)."""
    return replace(record, extra={})


def estimate_flagged_sensitivity(panel: pd.DataFrame, key: tuple[str, str, int], seed: int, n_bootstrap: int
                                 ) -> CellResult:
    """A primary cell re-estimated with the flagged cohorts (methods ``*_with_flagged``).

    When no flagged cohort has an observed outcome in this cell the rows are the
    main cell's, and so are the numbers: the result only says so (``same_as_main``)
    and :func:`flagged_records` re-labels the main records.
    """
    treatment, outcome, horizon = key[:3]
    result = CellResult()
    cell = select_cell(panel, treatment, outcome, horizon, include_flagged=True)
    flagged_rows = int(cell.rows[schema.FLAGGED].astype(bool).sum()) if cell.n_units else 0
    if flagged_rows == 0:
        result.same_as_main = True
        return result
    prepared = prepare_cell(panel, treatment, outcome, horizon, include_flagged=True)
    if isinstance(prepared, str):
        result.skipped = [_skip_row(cell, key[:3], f"{m}_with_flagged", prepared) for m in METHODS]
        return result
    result.trimming.append(prepared.trim_row)
    dml_record = estimators.dml(prepared.trimmed, seed)
    records = [estimators.naive(prepared.cell, seed), estimators.psm(prepared.trimmed, seed, n_bootstrap),
               dml_record, estimators.dml_att(prepared.trimmed, dml_record.extra["nuisances"])]
    result.records = [replace(slim(r), method=f"{r.method}_with_flagged") for r in records]
    return result


def flagged_records(main: list[EffectRecord], key: tuple[str, str, int], result: CellResult) -> CellResult:
    """A flagged-cohort result with the main cell's records re-labelled when its rows were the main cell's."""
    if not result.same_as_main:
        return result
    return replace(result, records=[replace(r, method=f"{r.method}_with_flagged") for r in main
                                    if (r.treatment, r.outcome, r.horizon) == key[:3]])


FLAGGED_TASK = "with_flagged"  # last item of the key of a flagged-cohort task
SAME_ROWS_TASK = "same_rows"  # last item of the key of a task over outcomes observed on the same rows
EVENT_STUDY_TASK = (event_study.TREATMENT, "event_study", 0, "event_study")  # its variant's rows are all it reads


def estimate_task(panel: pd.DataFrame, key: tuple, seed: int, n_bootstrap: int, results_dir: str,
                  processed_dir: str):
    """One task of the stage's single map: a cell, a primary cell with the flagged cohorts, or the event study.

    One map for all three lets the workers take the flagged cells and the event study
    while the other worker finishes the last cells, instead of waiting for each other
    at the end of three maps.
    """
    if key == EVENT_STUDY_TASK:
        return event_study.write_event_study(panel, Path(processed_dir), Path(results_dir))
    if key[-1] == FLAGGED_TASK:
        return estimate_flagged_sensitivity(panel, key[:3], seed, n_bootstrap)
    if key[-1] == SAME_ROWS_TASK:
        return estimate_same_rows(panel, key[0], key[1], key[2], seed, n_bootstrap, results_dir)
    return estimate_cell(panel, key, seed, n_bootstrap, results_dir)


def cell_cost(key: tuple) -> int:
    """Rough cost of a task for the order of work: the cells it estimates; the first-integration cells are
    a fifth the size of the rest, the event study is cheap."""
    if key[0] == "first" or key == EVENT_STUDY_TASK:
        return 0
    return len(key[1]) if key[-1] == SAME_ROWS_TASK else 1


def cell_keys(panel: pd.DataFrame) -> list[tuple[str, str, int]]:
    present = set(panel["treatment"].astype(str).unique())
    return [(t, o, h) for t in schema.TREATMENTS if t in present for o in schema.OUTCOMES for h in schema.HORIZONS]


def same_rows_groups(panel: pd.DataFrame, keys: list[tuple[str, str, int]]) -> list[tuple[str, tuple[str, ...], int]]:
    """The cells of ``keys`` as (treatment, outcomes, horizon): outcomes of a treatment and horizon
    grouped when they are observed on exactly the same rows (the unflagged cohorts' rows the cells use).

    ``cancel`` and ``cancel_dollars`` always are (the panel derives both from the same months,
    :mod:`analysis.panel.outcomes`); other outcomes are grouped only where the data has them on
    the same rows, never by name. Groups come in the order of their first cell in ``keys``.
    """
    unflagged = ~panel[schema.FLAGGED].astype(bool).to_numpy()
    in_variant = {t: (panel["treatment"] == t).to_numpy() & unflagged for t in {k[0] for k in keys}}
    groups: dict[tuple, list[str]] = {}  # (treatment, horizon, rows observed) -> outcomes, in order of keys
    for treatment, outcome, horizon in keys:  # masks only: no copy of the panel in the process that waits
        observed = panel[schema.outcome_column(outcome, horizon)].notna().to_numpy()[in_variant[treatment]]
        groups.setdefault((treatment, horizon, np.packbits(observed).tobytes()), []).append(outcome)
    return [(treatment, tuple(outcomes), horizon) for (treatment, horizon, _), outcomes in groups.items()]


def cell_tasks(panel: pd.DataFrame, keys: list[tuple[str, str, int]]) -> list[tuple]:
    """Task keys of the estimate map covering ``keys``: ``(t, o, h)`` for a cell alone, ``(t, outcomes, h,
    SAME_ROWS_TASK)`` for outcomes on the same rows (:func:`estimate_same_rows`)."""
    return [(t, outcomes[0], h) if len(outcomes) == 1 else (t, outcomes, h, SAME_ROWS_TASK)
            for t, outcomes, h in same_rows_groups(panel, keys)]


def cells_of_task(key: tuple) -> list[tuple[str, str, int]]:
    """The cells a task of :func:`cell_tasks` estimates, in the order of its results."""
    return [(key[0], outcome, key[2]) for outcome in key[1]] if key[-1] == SAME_ROWS_TASK else [key]


def run_estimation_stage(processed_dir: Path, results_dir: Path, seed: int, jobs: int,
                         n_bootstrap: int = estimators.N_BOOTSTRAP) -> pd.DataFrame:
    """Estimate every cell of the panel, check balance, write the results files.

    Parameters
    ----------
    processed_dir : Path
        Folder with ``panel.parquet`` (``analysis.panel.stage.load_panel``).
    results_dir : Path
        Folder for the results files and ``figures/``.
    seed : int
        Base seed; each cell, estimator and refuter derives its own from it.
    jobs : int
        Worker processes (1: everything in this process). Numbers do not depend on it.
    n_bootstrap : int
        Customer bootstrap draws of the PSM interval.

    Returns
    -------
    DataFrame
        The effects table written to ``effects.csv``.
    """
    processed_dir, results_dir = Path(processed_dir), Path(results_dir)
    figures = results_dir / results_contract.FIGURES_DIR
    figures.mkdir(parents=True, exist_ok=True)
    draw_causal_graph(figures / "causal_graph.png")
    panel = cached_panel(processed_dir)
    keys = cell_keys(panel)
    cell_task_keys = cell_tasks(panel, keys)
    del panel
    nuisances.clear_cache(results_dir)
    flagged_keys = [(*k, FLAGGED_TASK) for k in sorted({k[:3] for k in primary_keys()}, key=lambda k: (k[1], k[2]))]
    tasks = [(key, (seed, n_bootstrap, str(results_dir), str(processed_dir)))
             for key in cell_task_keys + flagged_keys + [EVENT_STUDY_TASK]]
    with timed("cells_flagged_cohorts_event_study"):
        done = map_cells(processed_dir, estimate_task, tasks, jobs, "estimating cells", cost=cell_cost)
    of_cell = {}
    for key, result in zip(cell_task_keys, done):
        of_cell.update(zip(cells_of_task(key), result if key[-1] == SAME_ROWS_TASK else [result]))
    results, study = [of_cell[key] for key in keys], done[-1]
    main = [r for res in results for r in res.records]
    flagged = [flagged_records(main, key, res) for key, res in zip(flagged_keys, done[len(cell_task_keys):-1])]
    with timed("write_results"):
        effects = write_results(results, flagged, results_dir, extra_records=study)
        agreement.write_agreement([res.agreement for res in results if res.agreement is not None], results_dir)
    config = {"seed": seed, "jobs": jobs, "n_bootstrap": n_bootstrap,
              "dml_folds": estimators.DML_FOLDS, "min_propensity": estimators.MIN_PROPENSITY,
              "trimming": [balance.TRIM_LOW, balance.TRIM_HIGH], "min_treated": MIN_TREATED,
              "min_control": MIN_CONTROL, "processed_dir": str(processed_dir.resolve()),
              "primary": [list(k) for k in primary_keys()]}
    (results_dir / results_contract.ESTIMATION_CONFIG_JSON).write_text(json.dumps(config, indent=2) + "\n")
    return effects


def write_results(results: list[CellResult], flagged: list[CellResult], results_dir: Path,
                  extra_records: list[EffectRecord] = ()) -> pd.DataFrame:
    """Write the tables and figures of the stage from the per-cell results (``extra_records`` last).

    effects.csv also gets the ``cancel_rate`` rows derived from the ``cancel_dollars``
    rows (:mod:`causal.estimate.cancel_rate`), divided by the mean beginning MRR of
    the samples each ``cancel_dollars`` estimate used (``CellResult.rate_samples``).
    """
    records = [r for res in results for r in res.records]
    order = {m: i for i, m in enumerate(METHODS)}
    records.sort(key=lambda r: (schema.TREATMENTS.index(r.treatment), schema.OUTCOMES.index(r.outcome),
                                r.horizon, order.get(r.method, 99)))
    effects = effects_frame(records + list(extra_records))
    rate_samples = {key: sample for res in results for key, sample in res.rate_samples.items()}
    effects = cancel_rate.with_cancel_rate(effects, lambda treatment, horizon: rate_samples.get((treatment, horizon)))
    effects.to_csv(results_dir / results_contract.EFFECTS_CSV, index=False)
    skipped = [row for res in results + flagged for row in res.skipped]
    pd.DataFrame(skipped, columns=["treatment", "outcome", "horizon", "method", "n_units", "n_treated",
                                   "n_control", "reason"]).to_csv(results_dir / results_contract.SKIPPED_CELLS_CSV, index=False)
    trimming = [row for res in results + flagged for row in res.trimming]
    pd.DataFrame(trimming, columns=["treatment", "outcome", "horizon", "sample", "rule", "n_before", "n_removed",
                                    "n_removed_treated", "n_removed_control", "n_after"]
                 ).to_csv(results_dir / results_contract.TRIMMING_CSV, index=False)
    balances = [res.balance for res in results if res.balance is not None]
    balance_table = (pd.concat(balances, ignore_index=True) if balances else
                     pd.DataFrame(columns=["treatment", "outcome", "horizon", "covariate", "smd_before", "smd_after"]))
    balance_table.to_csv(results_dir / results_contract.BALANCE_CSV, index=False)
    effects_frame([r for res in flagged for r in res.records]).to_csv(results_dir / results_contract.SENSITIVITY_FLAGGED_CSV, index=False)
    primary = balance_table.loc[(balance_table["treatment"] == PRIMARY_TREATMENT)
                                & balance_table["outcome"].isin(schema.BINARY_OUTCOMES)
                                & (balance_table["horizon"] == min(schema.HORIZONS))]
    if len(primary):
        labelled = primary.assign(cell=primary["treatment"] + " / " + primary["outcome"] + " / h="
                                  + primary["horizon"].astype(str))
        balance.love_plot(labelled, results_dir / results_contract.FIGURES_DIR / "love_plot.png",
                          "Covariate balance before and after propensity-score matching")
    overlaps = [res.overlap for res in results if res.overlap is not None]
    if overlaps:
        balance.overlap_plot(overlaps, results_dir / results_contract.FIGURES_DIR / "propensity_overlap.png")
    return effects
