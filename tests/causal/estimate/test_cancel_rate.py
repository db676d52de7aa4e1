"""The dollar cancellation rate's effect: the cancel_dollars effect over the mean beginning MRR of its sample."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal.estimate.cancel_rate import cancel_rate_rows, with_cancel_rate
from causal.estimate.design import Cell


def _cell(mrr: list[float], treated: list[int]) -> Cell:
    rows = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(mrr))], "mrr_bom": mrr})
    t = np.array(treated)
    return Cell("any", "cancel_dollars", 2, rows, np.zeros(len(mrr)), t, rows[["mrr_bom"]], np.arange(len(mrr)))


def _effects() -> pd.DataFrame:
    base = dict(treatment="any", outcome="cancel_dollars", horizon=2, n_units=4, n_treated=2, cohorts="2020-01",
                interval="cluster-robust by customer")
    return pd.DataFrame([
        {**base, "method": "naive", "estimand": "ATE", "estimate": -8.0, "ci_low": -12.0, "ci_high": -4.0, "se": 2.0},
        {**base, "method": "psm", "estimand": "ATT", "estimate": -6.0, "ci_low": -10.0, "ci_high": -2.0, "se": 2.0},
        {**base, "method": "dml", "estimand": "ATE", "estimate": -5.0, "ci_low": -9.0, "ci_high": -1.0, "se": 2.0},
        {**base, "outcome": "cancel", "method": "dml", "estimand": "ATE", "estimate": -0.01, "ci_low": -0.02,
         "ci_high": 0.0, "se": 0.005},
    ])


def test_rate_divides_by_the_mean_beginning_mrr_of_the_estimand_sample():
    whole = _cell([100.0, 300.0, 200.0, 400.0], [1, 1, 0, 0])  # mean 250; adopters 200
    trimmed = _cell([100.0, 300.0, 200.0], [1, 1, 0])  # mean 200; adopters 200
    rows = cancel_rate_rows(_effects(), lambda treatment, horizon: (whole, trimmed)).set_index("method")
    assert set(rows["outcome"]) == {"cancel_rate"} and list(rows.index) == ["naive", "psm", "dml"]
    assert rows.loc["naive", "estimate"] == pytest.approx(-8.0 / 250)  # whole cell, all rows
    assert rows.loc["psm", "estimate"] == pytest.approx(-6.0 / 200)  # trimmed cell, adopters
    assert rows.loc["dml", "estimate"] == pytest.approx(-5.0 / 200)  # trimmed cell, all rows
    assert rows.loc["dml", ["ci_low", "ci_high", "se"]].tolist() == pytest.approx([-9.0 / 200, -1.0 / 200, 2.0 / 200])
    assert "mean beginning MRR" in rows.loc["dml", "interval"]


def test_ratio_of_sums_reading_holds_for_a_constant_effect():
    """With cancelled MRR lowered by d in every row, the ratio of sums moves by d / mean(mrr_bom)."""
    mrr = np.array([120.0, 80.0, 400.0, 50.0])
    cancelled = np.array([10.0, 0.0, 30.0, 5.0])
    d = -4.0
    expected = (cancelled + d).sum() / mrr.sum() - cancelled.sum() / mrr.sum()
    whole = _cell(list(mrr), [1, 0, 1, 0])
    effects = _effects().iloc[[2]].assign(estimate=d, ci_low=d, ci_high=d)
    rows = cancel_rate_rows(effects, lambda treatment, horizon: (whole, whole))
    assert rows["estimate"].iloc[0] == pytest.approx(expected)


def test_skipped_cells_give_no_rate_and_rows_sit_after_their_dollar_rows():
    assert cancel_rate_rows(_effects(), lambda treatment, horizon: None).empty
    whole = _cell([100.0, 300.0], [1, 0])
    combined = with_cancel_rate(_effects(), lambda treatment, horizon: (whole, whole))
    assert list(combined["outcome"]) == ["cancel", "cancel_dollars", "cancel_dollars", "cancel_dollars",
                                         "cancel_rate", "cancel_rate", "cancel_rate"]
