"""Detect month-to-month transitions where what was tracked changed, not what customers did.

Two monthly statistics, each compared with the *other* transitions of the same data
(leave-one-out, so a single jump cannot hide itself):

- the custom share of integration rows: transition t -> t+1 is flagged when
  |change| > ``k`` x the median |change| of the other transitions AND
  |change| > ``custom_share_floor`` (absolute, share points);
- the mean NUM_OF_INTEGRATIONS: flagged when |change| > ``k`` x the median |change| of
  the other transitions AND |relative change| > ``mean_count_rel_floor``.

A transition is flagged when either rule fires; ``tracking_change_months`` lists
its month t. No month is assumed: the rules see only the monthly series.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TrackingRule:
    """Thresholds of the tracking-change rule."""

    k: float = 5.0
    custom_share_floor: float = 0.10
    mean_count_rel_floor: float = 0.25


def monthly_tracking_stats(con: duckdb.DuckDBPyConnection, customer_months: str, integration_months: str) -> pd.DataFrame:
    """Per month: customers, mean integration count, integration rows, custom rows and share.

    Parameters
    ----------
    customer_months, integration_months : str
        DuckDB tables with the columns of ``fct_customer_month`` and
        ``fct_customer_integration_month``.
    """
    return con.execute(
        f"""WITH cm AS (SELECT month, count(*) AS customers, avg(n_integrations) AS mean_n_integrations,
                               avg(CASE WHEN n_integrations = 0 THEN 1.0 ELSE 0.0 END) AS zero_share
                        FROM {customer_months} GROUP BY month),
                 im AS (SELECT month, count(*) AS integration_rows,
                               count(*) FILTER (WHERE integration_kind = 'custom') AS custom_rows
                        FROM {integration_months} GROUP BY month)
            SELECT cm.month, cm.customers, cm.mean_n_integrations, cm.zero_share,
                   coalesce(im.integration_rows, 0) AS integration_rows, coalesce(im.custom_rows, 0) AS custom_rows,
                   CASE WHEN coalesce(im.integration_rows, 0) > 0 THEN im.custom_rows / im.integration_rows
                        ELSE 0.0 END AS custom_share
            FROM cm LEFT JOIN im USING (month) ORDER BY cm.month"""
    ).df()


def _leave_one_out_medians(changes: np.ndarray) -> np.ndarray:
    magnitudes = np.abs(changes)
    medians = np.zeros(len(changes))
    for index in range(len(changes)):
        others = np.delete(magnitudes, index)
        medians[index] = float(np.median(others)) if len(others) else 0.0
    return medians


def detect_tracking_changes(stats: pd.DataFrame, rule: TrackingRule = TrackingRule()) -> tuple[list[str], list[dict]]:
    """Flag tracking-change transitions in a monthly series.

    Parameters
    ----------
    stats : DataFrame
        One row per consecutive month, sorted, with ``month``, ``custom_share`` and
        ``mean_n_integrations`` (as from :func:`monthly_tracking_stats`).
    rule : TrackingRule
        Thresholds.

    Returns
    -------
    (list of str, list of dict)
        The months t whose transition t -> t+1 is flagged, and per transition the
        statistics, thresholds and decision.
    """
    stats = stats.sort_values("month").reset_index(drop=True)
    if len(stats) < 2:
        return [], []
    share = stats["custom_share"].to_numpy(float)
    mean_count = stats["mean_n_integrations"].to_numpy(float)
    d_share = np.diff(share)
    d_mean = np.diff(mean_count)
    rel_mean = np.divide(d_mean, mean_count[:-1], out=np.full(len(d_mean), np.inf), where=mean_count[:-1] > 0)
    share_scale = _leave_one_out_medians(d_share)
    mean_scale = _leave_one_out_medians(d_mean)
    flagged_months, details = [], []
    for i in range(len(d_share)):
        share_flag = bool(abs(d_share[i]) > rule.k * share_scale[i] and abs(d_share[i]) > rule.custom_share_floor)
        mean_flag = bool(abs(d_mean[i]) > rule.k * mean_scale[i] and abs(rel_mean[i]) > rule.mean_count_rel_floor)
        month, next_month = str(stats.loc[i, "month"]), str(stats.loc[i + 1, "month"])
        if share_flag or mean_flag:
            flagged_months.append(month)
        details.append({
            "month": month,
            "next_month": next_month,
            "custom_share_from": float(share[i]),
            "custom_share_to": float(share[i + 1]),
            "custom_share_change": float(d_share[i]),
            "custom_share_scale": float(share_scale[i]),
            "custom_share_threshold": float(max(rule.k * share_scale[i], rule.custom_share_floor)),
            "mean_n_integrations_from": float(mean_count[i]),
            "mean_n_integrations_to": float(mean_count[i + 1]),
            "mean_n_integrations_change": float(d_mean[i]),
            "mean_n_integrations_rel_change": float(rel_mean[i]),
            "mean_n_integrations_scale": float(mean_scale[i]),
            "mean_n_integrations_threshold": float(rule.k * mean_scale[i]),
            "k": rule.k,
            "custom_share_floor": rule.custom_share_floor,
            "mean_count_rel_floor": rule.mean_count_rel_floor,
            "flagged_by_custom_share": share_flag,
            "flagged_by_mean_count": mean_flag,
            "flagged": share_flag or mean_flag,
        })
    return flagged_months, details
