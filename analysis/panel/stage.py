"""The analysis panel: one row per eligible customer-month and treatment variant.

``build_panel`` is a pure function of the model tables; ``build_panel_stage``
is the pipeline stage (Parquet in, ``panel.parquet`` + ``panel_counts.csv`` +
a ``panel`` section of ``data_quality.json`` out); ``load_panel`` is what the
estimators call. The rules are those of docs/definitions.md, implemented on
customer x month arrays (analysis.panel.arrays) with loops over months only.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import results_contract, schema
from analysis.errors import InputError
from analysis.panel.arrays import CustomerMonthArrays, pivot_customer_months
from analysis.panel.counts import count_panel
from analysis.panel.covariates import covariate_arrays, eligibility_arrays, negative_control_arrays
from analysis.panel.outcomes import outcome_arrays
from analysis.panel.treatment import new_integration_arrays, treatment_arrays

PANEL_PARQUET = "panel.parquet"
PANEL_COUNTS_CSV = "panel_counts.csv"
_TIER_LABELS = np.array(sorted(schema.TIER_RANK, key=schema.TIER_RANK.get) + [schema.UNKNOWN], dtype=object)
_DIM_CATEGORIES = ("customer_segment", "region", "team", "employee_size")


@dataclass
class PanelResult:
    """What :func:`build_panel` returns.

    Attributes
    ----------
    panel : DataFrame
        One row per (customer_id, cohort, treatment); columns in :func:`panel_columns`.
    counts : DataFrame
        Aggregate counts per (treatment, outcome, horizon, cohort); see analysis.panel.counts.
    summary : dict
        Aggregate figures for the ``panel`` section of data_quality.json.
    """

    panel: pd.DataFrame
    counts: pd.DataFrame
    summary: dict = field(default_factory=dict)


def panel_columns() -> list[str]:
    """Column order of the panel."""
    outcomes = [schema.outcome_column(o, h) for o in schema.OUTCOMES for h in schema.HORIZONS]
    return (list(schema.PANEL_KEY) + [schema.TREATED, schema.FLAGGED]
            + list(schema.NUMERIC_COVARIATES) + [c for c in schema.CATEGORICAL_COVARIATES if c != "cohort"]
            + [schema.ELIGIBLE_CANCEL, schema.ELIGIBLE_UPGRADE, "mrr_bom"] + outcomes + list(schema.NEGATIVE_CONTROLS))


def _customer_categories(customers: pd.DataFrame, customer_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Segment, region, team, size per customer (``Unknown`` when absent from dim_customer)."""
    table = schema.DIM_CUSTOMER
    missing = [c for c in schema.DIM_CUSTOMER_COLUMNS if c not in customers.columns]
    if missing:
        raise InputError(table, None, missing[0], "expected columns " + ", ".join(schema.DIM_CUSTOMER_COLUMNS))
    frame = customers.reset_index(drop=True)
    duplicated = frame["customer_id"].duplicated().to_numpy(dtype=bool)
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise InputError(table, row + 1, "customer_id", "expected one row per customer; found a duplicate")
    position = pd.Index(frame["customer_id"].astype(str)).get_indexer(customer_ids)
    out = {}
    for column in _DIM_CATEGORIES:
        values = frame[column].astype(object).where(frame[column].notna(), schema.UNKNOWN).astype(str).to_numpy()
        values = np.append(values, schema.UNKNOWN).astype(object)
        out[column] = values[np.where(position >= 0, position, len(frame))]
    return out


def build_panel(
    customer_months: pd.DataFrame,
    customers: pd.DataFrame,
    integration_months: pd.DataFrame,
    tracking_change_months: list[str],
) -> PanelResult:
    """Build the panel and its counts from the dimensional model.

    Parameters
    ----------
    customer_months : DataFrame
        ``fct_customer_month`` (schema.FCT_CUSTOMER_MONTH_COLUMNS).
    customers : DataFrame
        ``dim_customer`` (schema.DIM_CUSTOMER_COLUMNS).
    integration_months : DataFrame
        ``fct_customer_integration_month`` (schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS).
    tracking_change_months : list of str
        Months t ("YYYY-MM") whose transition t -> t+1 is a tracking change;
        their rows are kept with ``flagged`` True.

    Returns
    -------
    PanelResult
        Rows ordered by treatment (schema.TREATMENTS order), cohort, customer_id.

    Raises
    ------
    InputError
        A model table lacks a column or breaks its documented form.
    """
    arrays = pivot_customer_months(customer_months)
    eligibility = eligibility_arrays(arrays)
    covariates = covariate_arrays(arrays)
    negative_controls = negative_control_arrays(arrays)
    outcomes = outcome_arrays(arrays, eligibility)
    variants = treatment_arrays(arrays, new_integration_arrays(integration_months, arrays))
    flagged_months = np.isin(np.asarray(arrays.months, dtype=object), list(tracking_change_months))
    categories = _customer_categories(customers, arrays.customer_ids)

    # string columns are built once per distinct value and gathered with take (no per-row Python objects)
    customer_labels = pd.array(arrays.customer_ids, dtype="str")
    month_labels = pd.array(arrays.months, dtype="str")
    tier_labels = pd.array(_TIER_LABELS, dtype="str")
    category_labels = {name: pd.array(values, dtype="str") for name, values in categories.items()}
    frames = []
    for treatment, (risk_set, treated) in variants.items():
        month_idx, customer_idx = np.nonzero(risk_set.T)  # ordered by cohort, then customer
        tier_rank = covariates["tier_rank"][customer_idx, month_idx]
        columns = {
            "customer_id": customer_labels.take(customer_idx),
            "cohort": month_labels.take(month_idx),
            "treatment": pd.array([treatment], dtype="str").take(np.zeros(len(customer_idx), dtype=np.int64)),
            schema.TREATED: treated[customer_idx, month_idx].astype(np.int8),
            schema.FLAGGED: flagged_months[month_idx],
        }
        for name in schema.NUMERIC_COVARIATES:
            columns[name] = covariates[name][customer_idx, month_idx]
        columns["tier"] = tier_labels.take(np.where(tier_rank < 0, len(_TIER_LABELS) - 1, tier_rank))
        for name in _DIM_CATEGORIES:
            columns[name] = category_labels[name].take(customer_idx)
        for name in (schema.ELIGIBLE_CANCEL, schema.ELIGIBLE_UPGRADE):
            columns[name] = eligibility[name][customer_idx, month_idx]
        columns["mrr_bom"] = covariates["mrr_bom"][customer_idx, month_idx]
        for name, (value, _status) in outcomes.items():
            columns[name] = value[customer_idx, month_idx]
        for name, value in negative_controls.items():
            columns[name] = value[customer_idx, month_idx]
        frames.append(pd.DataFrame(columns))
    panel = pd.concat(frames, ignore_index=True)[panel_columns()]

    counts = count_panel(arrays, variants, outcomes, flagged_months)
    return PanelResult(panel=panel, counts=counts, summary=_summary(arrays, panel, counts, flagged_months))


def _summary(arrays: CustomerMonthArrays, panel: pd.DataFrame, counts: pd.DataFrame,
             flagged_months: np.ndarray) -> dict:
    """Aggregate figures of the panel for data_quality.json (no customer IDs)."""
    by_treatment = panel.groupby("treatment", sort=False)
    main = counts[~counts["flagged"]]
    observed = main.groupby(["treatment", "outcome", "horizon"], sort=False)[["n_units", "n_treated"]].sum()
    return {
        "counts_file": PANEL_COUNTS_CSV,
        "months": list(arrays.months),
        "cohorts": sorted(panel["cohort"].unique().tolist()),
        "flagged_cohorts": [m for m, f in zip(arrays.months, flagged_months) if f],
        "customers": int(arrays.present.any(axis=1).sum()),
        "customer_months": int(arrays.present.sum()),
        "rows": int(len(panel)),
        "rows_by_treatment": {k: int(v) for k, v in by_treatment.size().items()},
        "treated_by_treatment": {k: int(v) for k, v in by_treatment[schema.TREATED].sum().items()},
        "flagged_rows_by_treatment": {k: int(v) for k, v in by_treatment[schema.FLAGGED].sum().items()},
        "main_units": [
            {"treatment": t, "outcome": o, "horizon": int(h), "n_units": int(r.n_units), "n_treated": int(r.n_treated)}
            for (t, o, h), r in observed.iterrows()
        ],
    }


def _read_table(processed_dir: Path, name: str) -> pd.DataFrame:
    path = processed_dir / f"{name}.parquet"
    if not path.is_file():
        raise InputError(str(path), None, None, "expected the model table written by the data stage "
                         "(run with --stages data first)")
    return pd.read_parquet(path)


def _read_quality(results_dir: Path) -> dict:
    path = results_dir / results_contract.DATA_QUALITY_JSON
    if not path.is_file():
        raise InputError(str(path), None, None, "expected the ledger written by the data stage "
                         "(run with --stages data first)")
    try:
        quality = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(str(path), error.lineno, None, f"expected JSON: {error.msg}") from None
    months = quality.get("tracking_change_months") if isinstance(quality, dict) else None
    if not isinstance(months, list) or not all(isinstance(m, str) for m in months):
        raise InputError(str(path), None, "tracking_change_months", "expected a list of YYYY-MM months")
    return quality


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def build_panel_stage(processed_dir: Path, results_dir: Path) -> Path:
    """Pipeline stage: model tables -> ``panel.parquet``, ``panel_counts.csv``, ledger section.

    Parameters
    ----------
    processed_dir : Path
        Holds ``dim_customer``, ``fct_customer_month`` and
        ``fct_customer_integration_month`` as Parquet; receives ``panel.parquet``.
    results_dir : Path
        Holds ``data_quality.json`` (read for ``tracking_change_months``, then
        given a ``panel`` section); receives ``panel_counts.csv`` (aggregates only).

    Returns
    -------
    Path
        The written ``panel.parquet``.
    """
    processed_dir, results_dir = Path(processed_dir), Path(results_dir)
    quality = _read_quality(results_dir)
    result = build_panel(
        customer_months=_read_table(processed_dir, schema.FCT_CUSTOMER_MONTH),
        customers=_read_table(processed_dir, schema.DIM_CUSTOMER),
        integration_months=_read_table(processed_dir, schema.FCT_CUSTOMER_INTEGRATION_MONTH),
        tracking_change_months=quality["tracking_change_months"],
    )
    panel_path = processed_dir / PANEL_PARQUET
    _write_atomic(panel_path, lambda p: result.panel.to_parquet(p, index=False))
    _write_atomic(results_dir / PANEL_COUNTS_CSV, lambda p: result.counts.to_csv(p, index=False))
    quality = _read_quality(results_dir)  # read-modify-write: keep keys others added meanwhile
    quality["panel"] = result.summary
    _write_atomic(results_dir / results_contract.DATA_QUALITY_JSON,
                  lambda p: p.write_text(json.dumps(quality, indent=2) + "\n"))
    return panel_path


def _stored_index_columns(path: Path) -> list[str]:
    """Columns of the Parquet file that hold a stored pandas index (none when the index is positional)."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).pandas_metadata or {}
    return [c for c in metadata.get("index_columns", []) if isinstance(c, str)]


def load_panel(processed_dir: Path, treatment: str | None = None) -> pd.DataFrame:
    """Read ``panel.parquet`` written by :func:`build_panel_stage` (or the rows of one treatment variant).

    Parameters
    ----------
    treatment : str, optional
        Read only this variant's rows (a worker that estimates its cells needs no more),
        labelled as in the whole panel: ``load_panel(d, t)`` equals
        ``load_panel(d).loc[lambda p: p["treatment"] == t]``.

    Raises
    ------
    InputError
        The file is absent or lacks a panel column.
    """
    path = Path(processed_dir) / PANEL_PARQUET
    if not path.is_file():
        raise InputError(str(path), None, None, "expected the panel written by the panel stage "
                         "(run with --stages panel first)")
    if treatment is None:
        panel = pd.read_parquet(path)
    else:
        panel = pd.read_parquet(path, filters=[("treatment", "==", treatment)])
        if not _stored_index_columns(path):  # a positional index: give the rows their labels in the whole panel
            whole = pd.read_parquet(path, columns=["treatment"])
            panel.index = whole.index[whole["treatment"].to_numpy() == treatment]
    missing = [c for c in panel_columns() if c not in panel.columns]
    if missing:
        raise InputError(str(path), None, missing[0], "expected every panel column (rebuild the panel)")
    return panel
