"""From the panel to one estimation cell: rows, outcome, treatment, covariates, clusters.

A *cell* is one (treatment, outcome, horizon): the panel rows of that
treatment variant whose outcome column is observed, unflagged cohorts only
unless a sensitivity run asks for the flagged ones.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis import schema


@dataclass
class Cell:
    """The data of one estimation cell."""

    treatment: str
    outcome: str
    horizon: int
    rows: pd.DataFrame  # the panel rows used (covariates, segments, ids)
    y: np.ndarray  # outcome, float
    t: np.ndarray  # treatment, int 0/1
    X: pd.DataFrame  # numeric design matrix: numeric covariates + one-hot categoricals
    groups: np.ndarray  # cluster id per row (customer)

    @property
    def cohorts(self) -> str:
        """Cohort months used, ``;``-separated, as the results files write them."""
        return ";".join(sorted(self.rows["cohort"].astype(str).unique()))

    @property
    def n_units(self) -> int:
        return int(len(self.y))

    @property
    def n_treated(self) -> int:
        return int(self.t.sum())


def covariate_matrix(rows: pd.DataFrame, drop_cohort: bool = False) -> pd.DataFrame:
    """Numeric covariates plus one-hot encoded categoricals (first level dropped).

    Levels are sorted before encoding so the same rows always give the same columns.
    """
    numeric = rows[list(schema.NUMERIC_COVARIATES)].astype(float)
    categorical = [c for c in schema.CATEGORICAL_COVARIATES if not (drop_cohort and c == "cohort")]
    dummies = []
    for column in categorical:
        values = rows[column].astype(str)
        levels = sorted(values.unique())
        for level in levels[1:]:
            dummies.append(pd.Series((values == level).astype(float).to_numpy(), index=rows.index,
                                     name=f"{column}={level}"))
    design = pd.concat([numeric] + dummies, axis=1) if dummies else numeric
    return design.loc[:, design.std(ddof=0) > 0] if len(design) > 1 else design


def select_cell(
    panel: pd.DataFrame,
    treatment: str,
    outcome: str,
    horizon: int,
    include_flagged: bool = False,
    extra_filter: pd.Series | None = None,
) -> Cell:
    """Rows of one (treatment, outcome, horizon) with an observed outcome.

    Parameters
    ----------
    panel : DataFrame
        The panel (``analysis.panel.stage``), all treatment variants.
    include_flagged : bool
        Also use cohorts whose transition is flagged as a tracking change
        (sensitivity analysis only).
    extra_filter : boolean Series aligned with ``panel``, optional
        Further restriction, e.g. one segment.
    """
    column = schema.outcome_column(outcome, horizon)
    mask = (panel["treatment"] == treatment) & panel[column].notna()
    if not include_flagged:
        mask &= ~panel[schema.FLAGGED].astype(bool)
    if extra_filter is not None:
        mask &= extra_filter.reindex(panel.index, fill_value=False).astype(bool)
    rows = panel.loc[mask]
    return Cell(
        treatment=treatment,
        outcome=outcome,
        horizon=horizon,
        rows=rows,
        y=rows[column].to_numpy(dtype=float),
        t=rows[schema.TREATED].to_numpy(dtype=int),
        X=covariate_matrix(rows),
        groups=pd.factorize(rows["customer_id"])[0],
    )


def subset_cell(cell: Cell, mask: np.ndarray) -> Cell:
    """The same cell restricted to the rows where ``mask`` is True.

    Columns of the design matrix that become constant are dropped; cluster ids
    keep their values (they only need to be equal within a customer).
    """
    mask = np.asarray(mask, dtype=bool)
    X = cell.X.loc[mask]
    if len(X) > 1:
        X = X.loc[:, X.std(ddof=0) > 0]
    return replace(cell, rows=cell.rows.loc[mask], y=cell.y[mask], t=cell.t[mask], X=X,
                   groups=cell.groups[mask])


def with_treatment(cell: Cell, treatment: np.ndarray) -> Cell:
    """The same cell with another 0/1 treatment vector (e.g. a placebo)."""
    return replace(cell, t=np.asarray(treatment, dtype=int))


def with_covariate(cell: Cell, name: str, values: np.ndarray) -> Cell:
    """The same cell with one more covariate column (e.g. a random common cause)."""
    X = cell.X.copy()
    X[name] = np.asarray(values, dtype=float)
    return replace(cell, X=X)


def resample_customers(cell: Cell, rng: np.random.Generator) -> Cell:
    """A bootstrap copy of the cell: customers drawn with replacement, all their rows kept.

    A customer drawn k times appears k times under k distinct cluster ids.
    """
    unique_groups, position = np.unique(cell.groups, return_inverse=True)
    draws = rng.integers(0, len(unique_groups), size=len(unique_groups))
    rows_of_group = np.argsort(position, kind="stable")
    starts = np.searchsorted(position[rows_of_group], np.arange(len(unique_groups) + 1))
    chosen = np.sort(draws)
    lengths = (starts[1:] - starts[:-1])[chosen]
    before = np.cumsum(lengths) - lengths
    index = rows_of_group[np.repeat(starts[chosen] - before, lengths) + np.arange(lengths.sum())]
    new_groups = np.repeat(np.arange(len(chosen)), lengths)
    X = cell.X.iloc[index].reset_index(drop=True)
    if len(X) > 1:
        X = X.loc[:, X.std(ddof=0) > 0]
    return replace(cell, rows=cell.rows.iloc[index].reset_index(drop=True), y=cell.y[index],
                   t=cell.t[index], X=X, groups=new_groups)
