"""The dollar cancellation rate (``cancel_rate``), derived from the ``cancel_dollars`` estimates.

ESTIMANDS.md: the rate is cancelled MRR over t+1 .. t+h divided by beginning
MRR at t, a ratio of sums over the eligible customer-months. Its effect is the
effect on ``cancel_dollars`` divided by the mean ``mrr_bom`` of the same
customer-months (all of them for an ATE, the adopters for an ATT). ``mrr_bom``
is known before adoption, so the denominator is held fixed and the interval and
standard error are those of ``cancel_dollars`` divided by it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from analysis import schema
from causal.estimate.design import Cell

OUTCOME = "cancel_rate"
SOURCE_OUTCOME = "cancel_dollars"
SCALED_COLUMNS = ("estimate", "ci_low", "ci_high", "se")


def mean_beginning_mrr(rows: pd.DataFrame, treated: np.ndarray, estimand: str) -> float:
    """Mean ``mrr_bom`` of the customer-months an estimand averages over (adopters for ATT)."""
    mrr = rows["mrr_bom"].to_numpy(dtype=float)
    if str(estimand).upper() == "ATT":
        mrr = mrr[np.asarray(treated) == 1]
    mrr = mrr[np.isfinite(mrr)]
    return float(mrr.mean()) if len(mrr) else float("nan")


def cancel_rate_rows(effects: pd.DataFrame, samples: Callable[[str, int], tuple[Cell, Cell] | None]
                     ) -> pd.DataFrame:
    """One ``cancel_rate`` row per ``cancel_dollars`` row of ``effects`` (same columns).

    The naive comparison uses the whole cell; every other method the trimmed
    cell it was estimated on.

    Parameters
    ----------
    effects : DataFrame
        Rows of effects.csv (ESTIMANDS.md columns and ``interval``).
    samples : callable
        ``samples(treatment, horizon)`` -> (whole cell, trimmed cell) of the
        ``cancel_dollars`` cell the effects were estimated on, or None when skipped.

    Returns
    -------
    DataFrame
        The derived rows, ``outcome == "cancel_rate"``; rows whose denominator is
        not positive are left out.
    """
    source = effects.loc[effects["outcome"] == SOURCE_OUTCOME]
    cells, rows = {}, []
    for _, row in source.iterrows():
        key = (row["treatment"], int(row["horizon"]))
        if key not in cells:
            cells[key] = samples(*key)
        if cells[key] is None:
            continue
        whole, trimmed = cells[key]
        cell = whole if row["method"] == "naive" else trimmed
        denominator = mean_beginning_mrr(cell.rows, cell.t, row["estimand"])
        if not np.isfinite(denominator) or denominator <= 0:
            continue
        derived = row.copy()
        derived["outcome"] = OUTCOME
        for column in SCALED_COLUMNS:
            if column in derived.index:
                derived[column] = row[column] / denominator
        if "interval" in derived.index:
            derived["interval"] = (f"{row['interval']}; divided by the mean beginning MRR "
                                   f"(${denominator:,.2f}) of the same customer-months").lstrip("; ")
        rows.append(derived)
    return pd.DataFrame(rows, columns=effects.columns)


def with_cancel_rate(effects: pd.DataFrame, samples: Callable[[str, int], tuple[Cell, Cell] | None]
                     ) -> pd.DataFrame:
    """``effects`` with the derived ``cancel_rate`` rows placed after their ``cancel_dollars`` rows."""
    derived = cancel_rate_rows(effects, samples)
    if derived.empty:
        return effects
    combined = pd.concat([effects, derived], ignore_index=True)
    rank = {o: i for i, o in enumerate(schema.OUTCOMES)}
    rank[OUTCOME] = rank.get(SOURCE_OUTCOME, len(rank)) + 0.5
    order = combined.assign(_t=combined["treatment"].map({t: i for i, t in enumerate(schema.TREATMENTS)}),
                            _o=combined["outcome"].map(rank), _n=np.arange(len(combined)))
    order = order.sort_values(["_t", "_o", "horizon", "_n"], kind="stable")
    return combined.loc[order.index].reset_index(drop=True)
