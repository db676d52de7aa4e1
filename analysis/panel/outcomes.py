"""Outcomes Y at horizons h = 1..3 and why an outcome is missing (docs/definitions.md).

For each (outcome, h) two customer x month arrays: the value for cohort t
(NaN when there is none) and a status code saying why (observed, not
eligible, beyond the data, gap, left, missing tier, missing value). Only
months after t are read, plus eligibility (state at BOM t).
"""
from __future__ import annotations

import numpy as np

from analysis import schema
from analysis.panel.arrays import CustomerMonthArrays

# Status of one (customer-month, outcome, horizon), in the order counts are reported.
OBSERVED, NOT_ELIGIBLE, BEYOND_DATA, GAP, LEFT, MISSING_TIER, MISSING_VALUE = range(7)
STATUS_NAMES = ("observed", "not_eligible", "beyond_data", "censored_gap", "censored_left",
                "censored_missing_tier", "censored_missing_value")


def _absence_status(arrays: CustomerMonthArrays, window: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Whether all months of ``window`` are present, and GAP/LEFT for the first absent one.

    LEFT when the customer has no row at or after the first absent month of the
    window (the data never see them again), GAP otherwise.
    """
    present = arrays.present
    window_present = present[:, window]
    complete = window_present.all(axis=1)
    first_absent = np.asarray(window)[np.argmax(~window_present, axis=1)]
    n_months = present.shape[1]
    # last present month of each customer (-1 if none)
    last_present = n_months - 1 - np.argmax(present[:, ::-1], axis=1)
    last_present = np.where(present.any(axis=1), last_present, -1)
    reason = np.where(last_present < first_absent, LEFT, GAP).astype(np.int8)
    return complete, reason


def _cancel(arrays: CustomerMonthArrays, t: int, h: int):
    window = list(range(t + 1, t + h + 1))
    complete, absent_reason = _absence_status(arrays, window)
    cancel = np.where(arrays.present[:, window], np.nan_to_num(arrays.cancel[:, window], nan=0.0), 0.0)
    any_cancel = (cancel > 0).any(axis=1)
    value = np.where(any_cancel, 1.0, np.where(complete, 0.0, np.nan))
    dollars = np.where(np.isnan(value), np.nan, cancel.sum(axis=1))
    status = np.where(np.isnan(value), absent_reason, OBSERVED).astype(np.int8)
    return {"cancel": (value, status), "cancel_dollars": (dollars, status)}


def _upgrade(arrays: CustomerMonthArrays, t: int, h: int):
    window = list(range(t + 2, t + h + 2))
    complete, absent_reason = _absence_status(arrays, window)
    baseline = arrays.tier_rank[:, t + 1]
    tiers = np.where(arrays.present[:, window], arrays.tier_rank[:, window], np.nan)
    higher = (tiers > baseline[:, None]).any(axis=1)  # NaN compares False
    all_known = ~np.isnan(baseline) & ~np.isnan(tiers).any(axis=1)
    value = np.where(higher, 1.0, np.where(complete & all_known, 0.0, np.nan))
    status = np.where(~np.isnan(value), OBSERVED, np.where(~complete, absent_reason, MISSING_TIER))
    return {"upgrade": (value, status.astype(np.int8))}


def _mrr_change(arrays: CustomerMonthArrays, t: int, h: int):
    end = t + h
    complete, absent_reason = _absence_status(arrays, [end])
    value = arrays.mrr_eom[:, end] - arrays.mrr_bom[:, t + 1]
    value = np.where(complete, value, np.nan)
    status = np.where(~np.isnan(value), OBSERVED, np.where(~complete, absent_reason, MISSING_VALUE))
    return {"mrr_change": (value, status.astype(np.int8))}


def outcome_arrays(arrays: CustomerMonthArrays, eligibility: dict[str, np.ndarray]) -> dict[str, tuple]:
    """Every outcome column of the panel as customer x month arrays.

    Parameters
    ----------
    arrays : CustomerMonthArrays
    eligibility : dict
        ``eligible_cancel`` / ``eligible_upgrade`` arrays (panel_covariates.eligibility_arrays).

    Returns
    -------
    dict
        ``{"cancel_h1": (value, status), ...}`` for every outcome and horizon;
        ``value`` is float (NaN unless status is OBSERVED). Order of precedence of
        the status: not eligible, beyond data, then a positive outcome (a
        cancellation or a higher tier seen in a present month is 1 whatever else
        is missing), then gap/left, missing tier, missing value.
    """
    n_customers, n_months = arrays.shape
    eligible_for = {"cancel": schema.ELIGIBLE_CANCEL, "cancel_dollars": schema.ELIGIBLE_CANCEL,
                    "mrr_change": schema.ELIGIBLE_CANCEL, "upgrade": schema.ELIGIBLE_UPGRADE}
    out = {}
    for h in schema.HORIZONS:
        for outcome in schema.OUTCOMES:
            value = np.full((n_customers, n_months), np.nan)
            status = np.full((n_customers, n_months), BEYOND_DATA, dtype=np.int8)
            out[schema.outcome_column(outcome, h)] = (value, status)
        for t in range(n_months - 1):
            computed = {}
            if t + h <= n_months - 1:
                computed.update(_cancel(arrays, t, h))
                computed.update(_mrr_change(arrays, t, h))
            if t + h + 1 <= n_months - 1:
                computed.update(_upgrade(arrays, t, h))
            for outcome, (column_value, column_status) in computed.items():
                value, status = out[schema.outcome_column(outcome, h)]
                value[:, t] = column_value
                status[:, t] = column_status
        for outcome in schema.OUTCOMES:
            value, status = out[schema.outcome_column(outcome, h)]
            not_eligible = ~eligibility[eligible_for[outcome]]
            status[not_eligible] = NOT_ELIGIBLE
            value[not_eligible] = np.nan
    return out
