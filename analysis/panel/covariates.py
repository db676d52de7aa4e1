"""Covariates X_t: only what is known at BOM t (schema.NUMERIC_COVARIATES).

Each array is customer x month; column t uses the state at BOM t and the
customer's earlier months only. ``cancel_t`` and ``mrr_eom_t`` (during month
t) and everything later are never read here.
"""
from __future__ import annotations

import numpy as np

from analysis import schema
from analysis.panel.arrays import CustomerMonthArrays


def _shift_right(values: np.ndarray, fill) -> np.ndarray:
    """Column t of the result holds column t-1 of ``values`` (``fill`` in column 0)."""
    out = np.empty_like(values)
    out[:, 0] = fill
    out[:, 1:] = values[:, :-1]
    return out


def covariate_arrays(arrays: CustomerMonthArrays) -> dict[str, np.ndarray]:
    """Numeric covariates at BOM t for every customer-month, keyed by schema name.

    Returns
    -------
    dict
        One (n, m) array per name in ``schema.NUMERIC_COVARIATES`` (float or
        small int), plus ``mrr_bom`` (dollars at BOM t, NaN when missing).
        Values outside present cells are meaningless.
    """
    present = arrays.present
    tier_missing = np.isnan(arrays.tier_rank)
    mrr_missing = np.isnan(arrays.mrr_bom)
    log_mrr = np.where(mrr_missing, 0.0, np.log1p(np.where(mrr_missing, 0.0, arrays.mrr_bom)))
    previous_present = _shift_right(present, False)
    n_int = np.where(present, arrays.n_int, 0.0)
    cancelled = present & (np.nan_to_num(arrays.cancel, nan=0.0) > 0)
    months_before = np.cumsum(present, axis=1) - present
    covariates = {
        "tier_rank": np.where(tier_missing, -1, arrays.tier_rank).astype(np.int8),
        "tier_missing": tier_missing.astype(np.int8),
        "log_mrr_bom": log_mrr,
        "mrr_missing": mrr_missing.astype(np.int8),
        "n_int": n_int,
        "d_n_int_prev": np.where(previous_present, n_int - _shift_right(n_int, 0.0), 0.0),
        "d_log_mrr_prev": np.where(previous_present, log_mrr - _shift_right(log_mrr, 0.0), 0.0),
        "cancel_prev": (previous_present & _shift_right(cancelled, False)).astype(np.int8),
        "history_missing": (~previous_present).astype(np.int8),
        "months_before": months_before.astype(np.int16),
    }
    assert tuple(covariates) == schema.NUMERIC_COVARIATES
    covariates["mrr_bom"] = arrays.mrr_bom
    return covariates


def negative_control_arrays(arrays: CustomerMonthArrays) -> dict[str, np.ndarray]:
    """Pre-period outcomes for the negative-control check (schema.NEGATIVE_CONTROLS).

    ``cancel_lag2``: 1.0 when the customer had a cancellation in month t-2, 0.0 when
    not, NaN when month t-2 is absent. The covariates use history up to t-1 only
    (``cancel_prev``), so this outcome is outside the adjustment set, and adoption in
    month t cannot have caused it.
    """
    present = arrays.present
    cancelled = np.where(present, (np.nan_to_num(arrays.cancel, nan=0.0) > 0).astype(float), np.nan)
    lag2 = np.full(cancelled.shape, np.nan)
    lag2[:, 2:] = cancelled[:, :-2]
    return {"cancel_lag2": lag2}


def eligibility_arrays(arrays: CustomerMonthArrays) -> dict[str, np.ndarray]:
    """Outcome eligibility from the state at BOM t only.

    ``eligible_cancel``: ``mrr_bom_t > 0`` (missing is not eligible);
    ``eligible_upgrade``: tier known and below Enterprise.
    """
    return {
        schema.ELIGIBLE_CANCEL: arrays.present & (np.nan_to_num(arrays.mrr_bom, nan=0.0) > 0),
        schema.ELIGIBLE_UPGRADE: arrays.present & (np.nan_to_num(arrays.tier_rank, nan=schema.TOP_TIER_RANK)
                                                  < schema.TOP_TIER_RANK),
    }
