"""Effects in dollars: MRR retained per month and per year for the customer base.

Scenario: every paying customer who does not adopt an integration in a month
would adopt one. The monthly MRR retained is the effect of adoption on next
month's cancelled dollars (ATE of ``cancel_dollars`` at h = 1, per eligible
customer-month, sign flipped) times the base: the number of paying, eligible,
non-adopting customers per month (mean over the cohort months the estimate
used). The year is twelve such months. The base is taken as fixed, so the
interval is the effect's interval times the base.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import schema

MONTHS_PER_YEAR = 12
DOLLAR_OUTCOME, DOLLAR_HORIZON = "cancel_dollars", 1

ASSUMPTIONS = """# How the dollar figures are computed (written by the segments stage)

- **Effect**: the average effect (ATE) of adopting at least one integration in a month on the
  dollars of MRR cancelled in the following month (`cancel_dollars`, h = 1), per eligible
  paying customer-month; doubly robust estimate ({method}), 95% interval clustered by customer.
  A negative effect means fewer dollars cancelled; *MRR retained* is minus the effect.
- **Base**: paying customers (BOM MRR > 0) who did not adopt in the month, counted per cohort
  month among the unflagged cohorts the estimate used ({cohorts}), and averaged: {base:,.0f} per month.
- **Per month** = -effect x base; **per year** = 12 x per month. The base is held fixed, so the
  interval is the effect's interval scaled by the base.
- **Scenario**: every such customer adopts one more integration each month. That is an upper
  bound on what an adoption campaign can move: a campaign reaches only some customers, and the
  effect on the customers it persuades may differ from the ATE (the average over all eligible
  customer-months, adopters included).
- The effect is on the month after adoption only; dollars kept in later months (a customer who
  stays keeps paying) are not added, and effects of adoptions in successive months are assumed
  not to overlap. Dollars are monthly recurring revenue at the prices in the data.
- Per-segment rows use the segment's own effect (GATE) and base; segments with too few rows are
  left out, so segment rows need not sum to the total.
- Months flagged as tracking changes (see data_quality.json) are excluded from effect and base.
"""


def non_adopting_paying_base(panel: pd.DataFrame, cohorts: list[str], treatment: str = "any",
                             segment_column: str | None = None) -> pd.DataFrame:
    """Paying, non-adopting customers per cohort month, and their mean over months.

    Parameters
    ----------
    panel : DataFrame
        The panel.
    cohorts : list of str
        Cohort months the effect estimate used.
    treatment : str
        Treatment variant whose rows define adoption.
    segment_column : str, optional
        Panel column to break the base down by (e.g. ``customer_segment``).

    Returns
    -------
    DataFrame
        ``segment_value`` (``"all"`` when not broken down) and
        ``base_customers_per_month`` (mean over ``cohorts`` of the monthly count;
        a cohort without such customers counts as zero).
    """
    rows = panel.loc[(panel["treatment"] == treatment) & ~panel[schema.FLAGGED].astype(bool)
                     & panel["cohort"].isin(cohorts) & panel[schema.ELIGIBLE_CANCEL].astype(bool)
                     & (panel[schema.TREATED] == 0)]
    key = rows[segment_column].astype(str) if segment_column else pd.Series("all", index=rows.index)
    counts = rows.groupby([key.rename("segment_value"), rows["cohort"]]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=sorted(cohorts), fill_value=0)
    return counts.mean(axis=1).rename("base_customers_per_month").reset_index()


def dollars_row(estimate: float, ci_low: float, ci_high: float, base: float) -> dict:
    """MRR retained per month and per year (estimate and interval) from one effect and base."""
    per_month = -np.array([estimate, ci_high, ci_low]) * base  # sign flip swaps the bounds
    return {
        "mrr_retained_per_month": per_month[0], "per_month_ci_low": per_month[1],
        "per_month_ci_high": per_month[2],
        "mrr_retained_per_year": MONTHS_PER_YEAR * per_month[0],
        "per_year_ci_low": MONTHS_PER_YEAR * per_month[1],
        "per_year_ci_high": MONTHS_PER_YEAR * per_month[2],
    }


def dollars_table(panel: pd.DataFrame, overall, segment_records: list) -> pd.DataFrame:
    """Dollar figures for the whole base and per segment.

    Parameters
    ----------
    panel : DataFrame
        The panel (for the base).
    overall : EffectRecord
        The ATE of ``cancel_dollars`` at h = 1 for treatment ``any``.
    segment_records : list of EffectRecord
        Its segment effects (GATEs), same cell.

    Returns
    -------
    DataFrame
        One row per scope: ``segment_var`` (``all`` or a schema.SEGMENT_VARS key),
        ``segment_value``, the effect and its interval, the base, and
        :func:`dollars_row` figures.
    """
    cohorts = overall.cohorts.split(";")
    rows = []
    total = non_adopting_paying_base(panel, cohorts, overall.treatment)
    base = float(total["base_customers_per_month"].iloc[0]) if len(total) else 0.0
    rows.append(_row("all", "all", overall, base))
    for segment_var, column in schema.SEGMENT_VARS.items():
        bases = non_adopting_paying_base(panel, cohorts, overall.treatment, column)
        bases = dict(zip(bases["segment_value"], bases["base_customers_per_month"]))
        for record in segment_records:
            if record.segment_var == segment_var:
                rows.append(_row(segment_var, record.segment_value, record,
                                 float(bases.get(record.segment_value, 0.0))))
    return pd.DataFrame(rows)


def _row(segment_var: str, segment_value: str, record, base: float) -> dict:
    return {
        "treatment": record.treatment, "outcome": record.outcome, "horizon": record.horizon,
        "method": record.method, "segment_var": segment_var, "segment_value": segment_value,
        "effect_per_customer_month": record.estimate, "effect_ci_low": record.ci_low,
        "effect_ci_high": record.ci_high, "base_customers_per_month": base,
        **dollars_row(record.estimate, record.ci_low, record.ci_high, base), "cohorts": record.cohorts,
    }
