"""Dollar figures: effect x base, computed independently (unit and simulator tests)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal.segments.dollars import MONTHS_PER_YEAR, dollars_row, dollars_table, non_adopting_paying_base
from causal.estimate.records import EffectRecord
from tests.causal.synthetic_segments import COHORTS, heterogeneous_panel


def _independent_base(panel: pd.DataFrame, cohorts: list[str], segment_column=None, value=None) -> float:
    """Mean over cohorts of paying (MRR > 0), non-adopting, unflagged customer-months of treatment any."""
    counts = []
    for cohort in cohorts:
        rows = panel[(panel["treatment"] == "any") & (panel["cohort"] == cohort) & (panel["mrr_bom"] > 0)
                     & (panel["treated"] == 0) & (~panel["flagged"])]
        if segment_column:
            rows = rows[rows[segment_column] == value]
        counts.append(rows["customer_id"].nunique())
    return float(np.mean(counts))


def test_dollars_row_flips_sign_and_bounds():
    row = dollars_row(-2.0, -3.0, -1.0, 1000.0)
    assert row["mrr_retained_per_month"] == 2000.0
    assert (row["per_month_ci_low"], row["per_month_ci_high"]) == (1000.0, 3000.0)
    assert row["mrr_retained_per_year"] == MONTHS_PER_YEAR * 2000.0
    assert (row["per_year_ci_low"], row["per_year_ci_high"]) == (12_000.0, 36_000.0)


def test_base_and_table_equal_an_independent_count():
    panel, _ = heterogeneous_panel(1200, 2)
    cohorts = list(COHORTS[:4])
    base = non_adopting_paying_base(panel, cohorts)
    assert base["base_customers_per_month"].iloc[0] == pytest.approx(_independent_base(panel, cohorts))
    overall = EffectRecord("any", "cancel_dollars", 1, "dr", "ATE", -3.0, -5.0, -1.0, 1.0, 10, 5,
                           ";".join(cohorts))
    segment = EffectRecord("any", "cancel_dollars", 1, "dr", "ATE", -4.0, -7.0, -1.0, 1.5, 10, 5,
                           ";".join(cohorts), segment_var="segment", segment_value="NAM Low-touch")
    table = dollars_table(panel, overall, [segment]).set_index("segment_value")
    expected = _independent_base(panel, cohorts)
    assert table.loc["all", "mrr_retained_per_month"] == pytest.approx(3.0 * expected)
    assert table.loc["all", "per_year_ci_high"] == pytest.approx(12 * 5.0 * expected)
    seg_base = _independent_base(panel, cohorts, "customer_segment", "NAM Low-touch")
    assert table.loc["NAM Low-touch", "base_customers_per_month"] == pytest.approx(seg_base)
    assert table.loc["NAM Low-touch", "mrr_retained_per_year"] == pytest.approx(12 * 4.0 * seg_base)


def test_flagged_cohort_is_not_in_the_base():
    """A flagged cohort counts as zero customers: the mean over (clean, flagged) is half the clean count."""
    panel, _ = heterogeneous_panel(800, 3)
    clean, flagged = COHORTS[0], COHORTS[-1]
    assert panel.loc[panel["cohort"] == flagged, "flagged"].all() and len(panel.loc[panel["cohort"] == flagged])
    one = non_adopting_paying_base(panel, [clean])["base_customers_per_month"].iloc[0]
    both = non_adopting_paying_base(panel, [clean, flagged])["base_customers_per_month"].iloc[0]
    assert one > 0
    assert both == pytest.approx(one / 2)


@pytest.mark.slow
def test_simulator_dollars_equal_effect_times_independent_base(pipeline_run):
    results, processed = pipeline_run(40000, 11, stages="segments")
    dollars = pd.read_csv(results / "dollars.csv")
    overall = pd.read_csv(results / "effects_dr_overall.csv")
    panel = pd.read_parquet(processed / "panel.parquet")
    total = dollars.loc[dollars["segment_var"] == "all"].iloc[0]
    source = overall.loc[(overall["treatment"] == "any") & (overall["outcome"] == "cancel_dollars")
                         & (overall["horizon"] == 1)].iloc[0]
    assert total["effect_per_customer_month"] == pytest.approx(source["estimate"], rel=1e-12)
    cohorts = str(source["cohorts"]).split(";")
    base = _independent_base(panel, cohorts)
    assert total["base_customers_per_month"] == pytest.approx(base)
    assert total["mrr_retained_per_month"] == pytest.approx(-source["estimate"] * base)
    assert total["per_month_ci_low"] == pytest.approx(-source["ci_high"] * base)
    assert total["per_month_ci_high"] == pytest.approx(-source["ci_low"] * base)
    assert total["mrr_retained_per_year"] == pytest.approx(12 * -source["estimate"] * base)
    for row in dollars.loc[dollars["segment_var"] == "segment"].itertuples():
        seg_base = _independent_base(panel, cohorts, "customer_segment", row.segment_value)
        assert row.mrr_retained_per_year == pytest.approx(-12 * row.effect_per_customer_month * seg_base)
    assert "Per month" in (results / "dollars_assumptions.md").read_text()
