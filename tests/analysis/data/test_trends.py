"""Descriptive trends: tables and figures written, numbers right on the hand-made set, no IDs."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from analysis.data.model import build_model
from analysis import results_contract
from analysis.data.trends import ALL_CUSTOM
from tests.analysis.data.rawdata import MONTHS, STATES, write_raw_set

FIGURES = ("integrations_by_month_tier", "adoption_by_month", "integration_kind_share_by_month",
           "top_integrations_last_month", "value_by_integration_bucket", "customers_by_month")


@pytest.fixture(scope="module")
def trends_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("trends")
    build_model(write_raw_set(base / "raw"), base / "processed", base / "results")
    return base / "results" / results_contract.TRENDS_DIR


def _rows(month_index):
    return {c: s[month_index] for c, s in STATES.items() if s[month_index]}


def test_files_are_written(trends_dir):
    for name in FIGURES:
        assert (trends_dir / f"{name}.csv").stat().st_size > 0
        assert (trends_dir / f"{name}.png").stat().st_size > 5_000


def test_summary_numbers(trends_dir):
    summary = json.loads((trends_dir / results_contract.TRENDS_SUMMARY_JSON).read_text())
    first, last = _rows(0), _rows(len(MONTHS) - 1)
    assert summary["first_month"] == MONTHS[0] and summary["last_month"] == MONTHS[-1]
    assert summary["mean_integrations_first_month"] == pytest.approx(sum(s[1] for s in first.values()) / len(first))
    assert summary["mean_integrations_last_month"] == pytest.approx(sum(s[1] for s in last.values()) / len(last))
    assert summary["zero_integration_share_first_month"] == pytest.approx(
        sum(s[1] == 0 for s in first.values()) / len(first))
    assert summary["customers_first_month"] == len(first) and summary["customers_last_month"] == len(last)
    assert summary["simulated"] is False and summary["tracking_change_months"] == []


def test_adoption_rates(trends_dir):
    table = pd.read_csv(trends_dir / "adoption_by_month.csv")
    for m in range(len(MONTHS) - 1):
        now, after = _rows(m), _rows(m + 1)
        both = [c for c in now if c in after]
        adopters = sum(after[c][1] > now[c][1] for c in both)
        row = table[table["month"] == MONTHS[m]].iloc[0]
        assert (row["customers_both_months"], row["adopters"]) == (len(both), adopters)


def test_top_integrations_include_all_custom(trends_dir):
    table = pd.read_csv(trends_dir / "top_integrations_last_month.csv", dtype={"integration": str})
    assert ALL_CUSTOM in set(table["integration"])
    assert (table["month"] == MONTHS[-1]).all()
    assert table["rows"].is_monotonic_decreasing
    assert len(table) <= 11


def test_value_retained_uses_paying_customer_months(trends_dir):
    table = pd.read_csv(trends_dir / "value_by_integration_bucket.csv", dtype={"bucket": str})
    pooled = table[table["month"] == "All"].set_index("bucket")
    money = lambda text: float(text.replace("$", "").replace(",", "").replace("-", "")) if text else 0.0
    paying = [s for states in STATES.values() for s in states if s and money(s[2]) > 0]
    ones_to_five = [1 - money(s[4]) / money(s[2]) for s in paying if 1 <= s[1] <= 5]
    assert pooled.loc["1-5", "mean_value_retained"] == pytest.approx(sum(ones_to_five) / len(ones_to_five), rel=1e-5)


def test_no_customer_ids_in_results(trends_dir):
    results = trends_dir.parent
    for path in list(trends_dir.iterdir()) + [results / "ledger.csv", results / "ledger.md",
                                              results / "data_quality.json"]:
        if path.suffix in (".csv", ".json", ".md"):
            assert not re.search(r"H\d{4,8}\b", path.read_text()), path.name


def _customer_months(n_customers: int, n_months: int, seed: int) -> pd.DataFrame:
    """An independent customer-month table: MRR with many digits, some cancellations, some zero BOM MRR."""
    import numpy as np

    rng = np.random.default_rng(seed)
    customers = np.repeat([f"C{i:06d}" for i in range(n_customers)], n_months)
    month_index = np.tile(np.arange(n_months), n_customers)
    mrr_bom = np.where(rng.random(len(customers)) < 0.05, 0.0, rng.lognormal(5.0, 1.0, len(customers)))
    cancelled = rng.random(len(customers)) < 0.03
    return pd.DataFrame({
        "customer_id": customers, "month": [f"2024-{m + 1:02d}" for m in month_index], "month_index": month_index,
        "product_tier": "Pro", "tier_rank": 3, "n_integrations": rng.integers(0, 25, len(customers)),
        "mrr_bom": mrr_bom, "mrr_eom": np.where(cancelled, 0.0, mrr_bom),
        "cancel_dollars": np.where(cancelled, mrr_bom * rng.random(len(customers)), 0.0)})


def test_trend_averages_do_not_depend_on_the_order_of_rows(tmp_path):
    """DuckDB adds a parallel average's rows in the order its threads finish: the trends fix the order."""
    import duckdb

    from analysis.data.trends import value_by_integration_bucket, write_trends

    rows = _customer_months(40_000, 6, seed=3)
    outputs = []
    for name, order in (("stored", rows), ("shuffled", rows.sample(frac=1.0, random_state=8)),
                        ("reversed", rows.iloc[::-1])):
        con = duckdb.connect()
        con.execute("SET threads = 4")
        con.register("months_in_order", order.reset_index(drop=True))
        con.execute("CREATE TABLE fct_customer_month AS SELECT * FROM months_in_order")
        con.execute("""CREATE TABLE fct_customer_integration_month AS
                       SELECT customer_id, month, '7' AS integration_id, 'marketplace' AS integration_kind
                       FROM fct_customer_month WHERE n_integrations > 0""")
        value = value_by_integration_bucket(con)
        summary = write_trends(con, tmp_path / name, [], simulated=False, figures=False)
        outputs.append((value, summary))
        con.close()
    for value, summary in outputs[1:]:
        pd.testing.assert_frame_equal(value, outputs[0][0], check_exact=True)
        assert summary == outputs[0][1]
