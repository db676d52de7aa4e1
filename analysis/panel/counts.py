"""Aggregate counts of the panel for the ledger (``panel_counts.csv``).

One row per (treatment, outcome, horizon, cohort). The columns add up:
``customer_months = no_next_month + panel_rows``,
``panel_rows = not_eligible + eligible`` and
``eligible = beyond_data + censored_gap + censored_left + censored_missing_tier
+ censored_missing_value + n_units``. ``excluded_flagged`` is ``n_units`` in a
cohort flagged as a tracking change (kept for the sensitivity run only).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import schema
from analysis.panel.arrays import CustomerMonthArrays
from analysis.panel.outcomes import NOT_ELIGIBLE, OBSERVED, STATUS_NAMES

COUNT_COLUMNS = (
    "treatment", "outcome", "horizon", "cohort", "flagged",
    "customer_months", "no_next_month", "panel_rows", "panel_treated",
    "not_eligible", "eligible", "beyond_data", "censored_gap", "censored_left",
    "censored_missing_tier", "censored_missing_value", "n_units", "n_treated", "excluded_flagged",
)


def count_panel(
    arrays: CustomerMonthArrays,
    variants: dict[str, tuple],
    outcomes: dict[str, tuple],
    flagged_months: np.ndarray,
) -> pd.DataFrame:
    """Counts per treatment, outcome, horizon and cohort (every month of the data is a cohort row).

    Parameters
    ----------
    arrays : CustomerMonthArrays
    variants : dict
        ``{treatment: (risk_set, treated)}`` (panel_treatment.treatment_arrays).
    outcomes : dict
        ``{"cancel_h1": (value, status), ...}`` (panel_outcomes.outcome_arrays).
    flagged_months : bool array (m,)

    Returns
    -------
    DataFrame
        Columns :data:`COUNT_COLUMNS`, integers except the keys and ``flagged``.
    """
    n_status = len(STATUS_NAMES)
    n_months = arrays.shape[1]
    rows = []
    for treatment, (risk_set, treated) in variants.items():
        at_risk_month = arrays.present
        if treatment == "first":
            at_risk_month = arrays.present & (arrays.n_int == 0)
        customer_months = at_risk_month.sum(axis=0)
        panel_rows = risk_set.sum(axis=0)
        panel_treated = treated.sum(axis=0)
        cells = np.flatnonzero(risk_set)  # row-major: cell // n_months = customer, cell % n_months = month
        cell_month = cells % n_months
        cell_treated = treated.ravel()[cells]
        for h in schema.HORIZONS:
            for outcome in schema.OUTCOMES:
                _value, status = outcomes[schema.outcome_column(outcome, h)]
                cell_status = status.ravel()[cells].astype(np.int64)
                by_status = np.bincount(cell_status * n_months + cell_month,
                                        minlength=n_status * n_months).reshape(n_status, n_months)
                n_treated = np.bincount(cell_month[cell_treated & (cell_status == OBSERVED)], minlength=n_months)
                for t in range(n_months):
                    record = {
                        "treatment": treatment, "outcome": outcome, "horizon": h,
                        "cohort": arrays.months[t], "flagged": bool(flagged_months[t]),
                        "customer_months": int(customer_months[t]),
                        "no_next_month": int(customer_months[t] - panel_rows[t]),
                        "panel_rows": int(panel_rows[t]), "panel_treated": int(panel_treated[t]),
                    }
                    for s, name in enumerate(STATUS_NAMES):
                        record["n_units" if s == OBSERVED else name] = int(by_status[s, t])
                    record["eligible"] = int(panel_rows[t] - by_status[NOT_ELIGIBLE, t])
                    record["n_treated"] = int(n_treated[t])
                    record["excluded_flagged"] = record["n_units"] if flagged_months[t] else 0
                    rows.append(record)
    return pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
