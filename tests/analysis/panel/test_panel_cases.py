"""Hand-built panels of a few customers, one per case of the timing diagram (docs/definitions.md)."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis import results_contract, schema
from analysis.errors import InputError
from analysis.panel.stage import build_panel, build_panel_stage, load_panel, panel_columns
from analysis.panel.counts import COUNT_COLUMNS

MONTHS = ["2020-08", "2020-09", "2020-10", "2020-11", "2020-12", "2021-01"]
NAN = float("nan")


def customer_months(rows) -> pd.DataFrame:
    """fct_customer_month from tuples (customer, month, tier, n_int, mrr_bom, mrr_eom, cancel)."""
    frame = pd.DataFrame(rows, columns=["customer_id", "month", "product_tier", "n_integrations",
                                        "mrr_bom", "mrr_eom", "cancel_dollars"])
    months = sorted(frame["month"].unique())
    frame["month_index"] = frame["month"].map({m: i for i, m in enumerate(months)})
    frame["tier_rank"] = frame["product_tier"].map(schema.TIER_RANK)
    return frame[list(schema.FCT_CUSTOMER_MONTH_COLUMNS)]


def dim_customers(ids, segment="NAM Direct") -> pd.DataFrame:
    region, team = segment.split(" ", 1)
    return pd.DataFrame({"customer_id": list(ids), "customer_segment": segment, "region": region,
                         "team": team, "employee_size": "1 to 25"})[list(schema.DIM_CUSTOMER_COLUMNS)]


def integrations(rows=()) -> pd.DataFrame:
    """fct_customer_integration_month from tuples (customer, month, integration_id)."""
    frame = pd.DataFrame(list(rows), columns=["customer_id", "month", "integration_id"])
    frame["integration_kind"] = np.where(frame["integration_id"].astype(str).str.lower().str.startswith("custom"),
                                         "custom", "marketplace")
    return frame[list(schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS)]


def path(customer, tiers, n_ints, mrr_bom, mrr_eom=None, cancel=None, months=MONTHS):
    """Rows of one customer, one per month; tier ``"absent"`` leaves that month out, ``None`` is a missing tier."""
    mrr_eom = mrr_bom if mrr_eom is None else mrr_eom
    cancel = [0.0] * len(months) if cancel is None else cancel
    rows = []
    for m, tier, n, bom, eom, c in zip(months, tiers, n_ints, mrr_bom, mrr_eom, cancel):
        if tier == "absent":
            continue
        rows.append((customer, m, tier, n, bom, eom, c))
    return rows


def build(rows, integration_rows=(), flagged=(), dim_ids=None):
    fct = customer_months(rows)
    ids = sorted(fct["customer_id"].unique()) if dim_ids is None else dim_ids
    return build_panel(fct, dim_customers(ids), integrations(integration_rows), list(flagged))


def row(result, customer, cohort, treatment="any") -> pd.Series:
    panel = result.panel
    hit = panel[(panel.customer_id == customer) & (panel.cohort == cohort) & (panel.treatment == treatment)]
    assert len(hit) == 1, f"expected one row for {customer} {cohort} {treatment}, found {len(hit)}"
    return hit.iloc[0]


def counts_row(result, treatment, outcome, horizon, cohort) -> pd.Series:
    c = result.counts
    hit = c[(c.treatment == treatment) & (c.outcome == outcome) & (c.horizon == horizon) & (c.cohort == cohort)]
    assert len(hit) == 1
    return hit.iloc[0]


STEADY = dict(tiers=["Pro"] * 6, n_ints=[2] * 6, mrr_bom=[100.0] * 6)
# a customer present in every month, so the data span 2020-08..2021-01 when the case customer leaves early
BACKGROUND = path("H99999999", **STEADY)


def test_columns_and_order():
    result = build(path("H00000001", **STEADY))
    assert list(result.panel.columns) == panel_columns()
    for column in list(schema.NUMERIC_COVARIATES) + list(schema.CATEGORICAL_COVARIATES):
        assert column in result.panel.columns
    assert list(result.counts.columns) == list(COUNT_COLUMNS)
    # five cohorts (the last month has no t+1) for any/marketplace/custom, none for first (n_int > 0)
    assert result.panel.groupby("treatment").size().to_dict() == {"any": 5, "marketplace": 5, "custom": 5}


def test_adoption_in_last_month_has_no_outcome_beyond_data():
    n_ints = [1, 1, 1, 1, 1, 2]  # adoption during 2020-12 (seen at BOM 2021-01), the last transition
    result = build(path("H00000001", ["Pro"] * 6, n_ints, [100.0] * 6))
    assert "2021-01" not in set(result.panel.cohort)  # no t+1: A_t unknown, not in the panel
    last = row(result, "H00000001", "2020-12")
    assert last.treated == 1
    assert last.cancel_h1 == 0.0  # cancellations during 2021-01 are observed
    for column in ("cancel_h2", "cancel_h3", "upgrade_h1", "upgrade_h2", "upgrade_h3", "mrr_change_h2"):
        assert math.isnan(last[column]), column
    assert counts_row(result, "any", "upgrade", 1, "2020-12").beyond_data == 1
    assert counts_row(result, "any", "cancel", 3, "2020-11").beyond_data == 1
    assert counts_row(result, "any", "cancel", 2, "2020-11").n_units == 1


def test_cancellation_during_adoption_month_is_not_an_outcome():
    cancel = [0.0, 30.0, 0.0, 0.0, 0.0, 0.0]  # partial cancellation during 2020-09 = month t
    result = build(path("H00000001", ["Pro"] * 6, [1, 1, 2, 2, 2, 2], [100.0] * 6, cancel=cancel))
    unit = row(result, "H00000001", "2020-09")
    assert unit.treated == 1
    assert unit.cancel_h1 == 0.0 and unit.cancel_h3 == 0.0 and unit.cancel_dollars_h3 == 0.0
    # it is history for the next cohort, and the outcome of the previous one
    assert row(result, "H00000001", "2020-10").cancel_prev == 1
    assert row(result, "H00000001", "2020-08").cancel_h1 == 1.0
    assert row(result, "H00000001", "2020-08").cancel_dollars_h1 == 30.0


def test_full_cancellation_then_no_rows_is_an_outcome_not_censored():
    tiers = ["Pro", "Pro", "Pro", "absent", "absent", "absent"]
    result = build(path("H00000001", tiers, [1, 1, 1, 0, 0, 0], [100.0] * 6,
                        mrr_eom=[100.0, 100.0, 0.0, 0, 0, 0], cancel=[0.0, 0.0, 100.0, 0, 0, 0]) + BACKGROUND)
    unit = row(result, "H00000001", "2020-09")  # cancels everything during 2020-10 = t+1, then leaves
    assert unit.cancel_h1 == 1.0 and unit.cancel_h2 == 1.0 and unit.cancel_h3 == 1.0
    assert unit.cancel_dollars_h3 == 100.0
    assert unit.mrr_change_h1 == -100.0
    assert math.isnan(unit.mrr_change_h2)  # no row at t+2
    assert math.isnan(unit.upgrade_h1)  # window t+2 absent: censored, the customer left
    assert counts_row(result, "any", "upgrade", 1, "2020-09").censored_left == 1
    assert counts_row(result, "any", "cancel", 3, "2020-09").n_units == 2  # with the background customer
    case = result.panel[result.panel.customer_id == "H00000001"]
    assert set(case.cohort) == {"2020-08", "2020-09"}  # 2020-10 has no t+1


def test_gap_without_cancellation_is_censored():
    tiers = ["Pro", "Pro", "absent", "Pro", "Pro", "Pro"]
    cancel = [0.0, 0.0, 0.0, 0.0, 20.0, 0.0]
    result = build(path("H00000001", tiers, [1] * 6, [100.0] * 6, cancel=cancel) + BACKGROUND)
    unit = row(result, "H00000001", "2020-08")
    assert unit.cancel_h1 == 0.0
    assert math.isnan(unit.cancel_h2) and math.isnan(unit.cancel_dollars_h2)  # 2020-10 missing
    assert math.isnan(unit.cancel_h3)
    assert counts_row(result, "any", "cancel", 2, "2020-08").censored_gap == 1
    assert math.isnan(unit.upgrade_h1)
    case = result.panel[result.panel.customer_id == "H00000001"]
    assert "2020-09" not in set(case.cohort)  # no row at t+1
    back = row(result, "H00000001", "2020-11")  # first month after the gap
    assert back.history_missing == 1 and back.months_before == 2 and back.d_n_int_prev == 0
    assert back.cancel_h1 == 1.0  # cancellation during 2020-12
    later = row(result, "H00000001", "2020-12")
    assert later.history_missing == 0 and later.months_before == 3 and later.cancel_prev == 0
    assert later.cancel_h1 == 0.0  # its own month's cancellation is not its outcome


def test_cancellation_after_a_gap_is_still_an_outcome():
    tiers = ["Pro", "Pro", "absent", "Pro", "Pro", "Pro"]
    cancel = [0.0, 0.0, 0.0, 40.0, 0.0, 0.0]
    result = build(path("H00000001", tiers, [1] * 6, [100.0] * 6, cancel=cancel) + BACKGROUND)
    unit = row(result, "H00000001", "2020-08")  # window t+1..t+3 = 09, (10 absent), 11 with a cancellation
    assert math.isnan(unit.cancel_h2)
    assert unit.cancel_h3 == 1.0 and unit.cancel_dollars_h3 == 40.0


def test_leaving_without_cancellation_is_censored_left():
    tiers = ["Pro", "Pro", "Pro", "absent", "absent", "absent"]
    result = build(path("H00000001", tiers, [1] * 6, [100.0] * 6) + BACKGROUND)
    unit = row(result, "H00000001", "2020-09")
    assert unit.cancel_h1 == 0.0 and math.isnan(unit.cancel_h2)
    assert counts_row(result, "any", "cancel", 2, "2020-09").censored_left == 1
    assert counts_row(result, "any", "cancel", 2, "2020-09").censored_gap == 0


def test_upgrade_to_enterprise_during_month_t():
    tiers = ["Pro", "Enterprise", "Enterprise", "Enterprise", "Enterprise", "Enterprise"]
    result = build(path("H00000001", tiers, [1] * 6, [100.0] * 6))
    unit = row(result, "H00000001", "2020-08")
    assert unit.eligible_upgrade and unit.tier == "Pro"
    assert unit.upgrade_h1 == 0.0 and unit.upgrade_h3 == 0.0  # baseline is tier at t+1 = Enterprise
    later = row(result, "H00000001", "2020-09")
    assert not later.eligible_upgrade and math.isnan(later.upgrade_h1)
    assert counts_row(result, "any", "upgrade", 1, "2020-09").not_eligible == 1


def test_upgrade_is_seen_at_the_next_snapshot():
    tiers = ["Starter", "Starter", "Starter", "Pro", "Pro", "Pro"]
    result = build(path("H00000001", tiers, [1] * 6, [100.0] * 6))
    # the move happens during 2020-10 and is seen at BOM 2020-11 = t+2 for cohort 2020-09
    assert row(result, "H00000001", "2020-09").upgrade_h1 == 1.0
    assert row(result, "H00000001", "2020-08").upgrade_h1 == 0.0
    assert row(result, "H00000001", "2020-08").upgrade_h2 == 1.0
    assert row(result, "H00000001", "2020-10").upgrade_h1 == 0.0  # baseline t+1 is already Pro


def test_free_customers_have_no_cancellation_outcome():
    tiers = ["Free", "Free", "Starter", "Starter", "Starter", "Starter"]
    result = build(path("H00000001", tiers, [0] * 6, [0.0, 0.0, 50.0, 50.0, 50.0, 50.0]))
    unit = row(result, "H00000001", "2020-08")
    assert not unit.eligible_cancel and unit.eligible_upgrade
    for column in ("cancel_h1", "cancel_dollars_h1", "mrr_change_h1"):
        assert math.isnan(unit[column])
    assert unit.upgrade_h1 == 1.0  # Free at t+1, Starter at t+2
    assert unit.log_mrr_bom == 0.0 and unit.mrr_missing == 0
    assert row(result, "H00000001", "2020-10").eligible_cancel


def test_missing_mrr_is_not_eligible_and_flagged():
    result = build(path("H00000001", ["Pro"] * 6, [1] * 6, [NAN, 100.0, 100.0, 100.0, 100.0, 100.0]))
    unit = row(result, "H00000001", "2020-08")
    assert not unit.eligible_cancel and unit.mrr_missing == 1 and unit.log_mrr_bom == 0.0
    nxt = row(result, "H00000001", "2020-09")
    assert nxt.d_log_mrr_prev == pytest.approx(math.log1p(100.0))


def test_missing_eom_censors_mrr_change_only():
    eom = [100.0, 100.0, NAN, 100.0, 100.0, 100.0]
    result = build(path("H00000001", ["Pro"] * 6, [1] * 6, [100.0] * 6, mrr_eom=eom))
    unit = row(result, "H00000001", "2020-08")
    assert unit.mrr_change_h1 == 0.0 and math.isnan(unit.mrr_change_h2) and unit.mrr_change_h3 == 0.0
    assert unit.cancel_h2 == 0.0
    assert counts_row(result, "any", "mrr_change", 2, "2020-08").censored_missing_value == 1


def test_first_variant_risk_set_and_treatment():
    rows = (path("H00000001", ["Pro"] * 6, [0, 0, 1, 3, 3, 3], [100.0] * 6)
            + path("H00000002", ["Pro"] * 6, [0, 0, 0, 0, 0, 0], [100.0] * 6))
    result = build(rows)
    first = result.panel[result.panel.treatment == "first"]
    assert set(zip(first.customer_id, first.cohort, first.treated)) == {
        ("H00000001", "2020-08", 0), ("H00000001", "2020-09", 1),
        ("H00000002", "2020-08", 0), ("H00000002", "2020-09", 0), ("H00000002", "2020-10", 0),
        ("H00000002", "2020-11", 0), ("H00000002", "2020-12", 0)}
    assert (first.n_int == 0).all()
    assert row(result, "H00000001", "2020-10").treated == 1  # any: 1 -> 3
    c = counts_row(result, "first", "cancel", 1, "2020-10")
    assert c.customer_months == 1 and c.panel_rows == 1


def test_marketplace_and_custom_variants_from_integration_ids():
    rows = path("H00000001", ["Pro"] * 6, [1, 2, 2, 2, 3, 3], [100.0] * 6)
    ids = [("H00000001", "2020-08", "21"),
           ("H00000001", "2020-09", "021"), ("H00000001", "2020-09", "Custom_9"),  # 021 == 21: custom new
           ("H00000001", "2020-10", "21"), ("H00000001", "2020-10", "CUSTOM_9"),  # case differs: not new
           ("H00000001", "2020-11", "7"), ("H00000001", "2020-11", "custom_9"),  # swap 21 -> 7: marketplace new
           ("H00000001", "2020-12", "7"), ("H00000001", "2020-12", "Custom_9"),
           ("H00000001", "2021-01", "7"), ("H00000001", "2021-01", "Custom_9"), ("H00000001", "2021-01", "1")]
    result = build(rows, ids)
    got = {(t, c): row(result, "H00000001", c, t).treated
           for t in ("any", "marketplace", "custom") for c in MONTHS[:-1]}
    assert [got[("marketplace", c)] for c in MONTHS[:-1]] == [0, 0, 1, 0, 1]
    assert [got[("custom", c)] for c in MONTHS[:-1]] == [1, 0, 0, 0, 0]
    assert [got[("any", c)] for c in MONTHS[:-1]] == [1, 0, 0, 1, 0]  # counts, not IDs


def test_integration_rows_of_months_without_metadata_are_ignored():
    rows = path("H00000001", ["Pro", "Pro", "absent", "Pro", "Pro", "Pro"], [1] * 6, [100.0] * 6)
    ids = [("H00000001", "2020-10", "5"), ("H00000002", "2020-09", "5")]
    result = build(rows, ids)
    assert (result.panel.loc[result.panel.treatment == "marketplace", "treated"] == 0).all()


def test_flagged_month_stays_in_panel():
    result = build(path("H00000001", ["Pro"] * 6, [1, 1, 1, 1, 1, 4], [100.0] * 6), flagged=["2020-12"])
    unit = row(result, "H00000001", "2020-12")
    assert unit.flagged and unit.treated == 1
    assert not row(result, "H00000001", "2020-11").flagged
    c = counts_row(result, "any", "cancel", 1, "2020-12")
    assert c.flagged and c.excluded_flagged == 1 == c.n_units
    assert counts_row(result, "any", "cancel", 1, "2020-11").excluded_flagged == 0


def test_missing_tier():
    tiers = [None, "Starter", None, "Starter", "Starter", "Starter"]
    result = build(path("H00000001", tiers, [1] * 6, [100.0] * 6))
    unit = row(result, "H00000001", "2020-08")
    assert unit.tier == schema.UNKNOWN and unit.tier_rank == -1 and unit.tier_missing == 1
    assert not unit.eligible_upgrade and math.isnan(unit.upgrade_h1)
    assert unit.eligible_cancel and unit.cancel_h1 == 0.0
    sep = row(result, "H00000001", "2020-09")  # baseline t+1 missing
    assert sep.eligible_upgrade and math.isnan(sep.upgrade_h1)
    assert counts_row(result, "any", "upgrade", 1, "2020-09").censored_missing_tier == 1
    assert row(result, "H00000001", "2020-11").upgrade_h1 == 0.0


def test_missing_tier_in_window_but_higher_tier_seen_is_an_upgrade():
    tiers = ["Starter", "Starter", None, "Pro", "Pro", "Pro"]
    result = build(path("H00000001", tiers, [1] * 6, [100.0] * 6))
    unit = row(result, "H00000001", "2020-08")
    assert math.isnan(unit.upgrade_h1) and unit.upgrade_h2 == 1.0


def test_months_spanning_a_year_in_any_order():
    months = ["2019-11", "2019-12", "2020-01", "2020-02", "2020-03"]
    rows = path("H00000001", ["Basic", "Basic", "Pro", "Pro", "Pro"], [0, 1, 1, 1, 2], [10.0] * 5, months=months)
    rows = rows[::-1]  # unsorted
    result = build(rows, flagged=["2020-02"])
    cohorts = result.panel.loc[result.panel.treatment == "any", "cohort"].tolist()
    assert cohorts == ["2019-11", "2019-12", "2020-01", "2020-02"]
    assert row(result, "H00000001", "2019-11").treated == 1
    assert row(result, "H00000001", "2019-11", "first").treated == 1
    assert row(result, "H00000001", "2019-11").upgrade_h1 == 1.0  # Basic at 2019-12, Pro at 2020-01
    assert row(result, "H00000001", "2019-12").upgrade_h1 == 0.0  # baseline is Pro at 2020-01
    assert row(result, "H00000001", "2020-01").months_before == 2
    assert row(result, "H00000001", "2020-02").flagged
    assert row(result, "H00000001", "2019-12").cancel_h3 == 0.0
    assert math.isnan(row(result, "H00000001", "2020-01").cancel_h3)


def test_covariates_from_before_t():
    cancel = [5.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    result = build(path("H00000001", ["Pro"] * 6, [1, 3, 3, 3, 3, 3], [100.0, 150.0, 150.0, 150.0, 150.0, 150.0],
                        cancel=cancel))
    first = row(result, "H00000001", "2020-08")
    assert first.history_missing == 1 and first.d_n_int_prev == 0 and first.cancel_prev == 0
    second = row(result, "H00000001", "2020-09")
    assert second.n_int == 3 and second.d_n_int_prev == 2 and second.cancel_prev == 1
    assert second.d_log_mrr_prev == pytest.approx(math.log1p(150.0) - math.log1p(100.0))
    assert second.mrr_bom == 150.0 and second.months_before == 1


def test_customer_absent_from_dim_customer_is_unknown():
    result = build(path("H00000001", **STEADY), dim_ids=[])
    unit = row(result, "H00000001", "2020-08")
    assert (unit.customer_segment, unit.region, unit.team, unit.employee_size) == (schema.UNKNOWN,) * 4


def test_counts_add_up():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(40):
        present = rng.random(6) > 0.15
        tiers = [rng.choice(["Free", "Starter", "Basic", "Pro", "Enterprise", None]) if p else "absent"
                 for p in present]
        rows += path(f"H{i:08d}", tiers, rng.integers(0, 3, 6).cumsum().tolist(),
                     np.where(rng.random(6) < 0.2, 0.0, 100.0).tolist(),
                     cancel=np.where(rng.random(6) < 0.2, 10.0, 0.0).tolist())
    result = build(rows, flagged=["2020-11"])
    c = result.counts
    assert (c.customer_months == c.no_next_month + c.panel_rows).all()
    assert (c.panel_rows == c.not_eligible + c.eligible).all()
    assert (c.eligible == c.beyond_data + c.censored_gap + c.censored_left + c.censored_missing_tier
            + c.censored_missing_value + c.n_units).all()
    for (treatment, outcome, horizon), group in c.groupby(["treatment", "outcome", "horizon"]):
        column = schema.outcome_column(outcome, horizon)
        cell = result.panel[result.panel.treatment == treatment]
        assert group.n_units.sum() == cell[column].notna().sum()
        assert group.n_treated.sum() == cell.loc[cell[column].notna(), "treated"].sum()
        assert group.panel_rows.sum() == len(cell)


def test_bad_model_tables_raise_input_error():
    good = customer_months(path("H00000001", **STEADY))
    bad_tier = good.copy()
    bad_tier.loc[2, "product_tier"] = "Gold"
    with pytest.raises(InputError, match=r"fct_customer_month, line 3, column product_tier"):
        build_panel(bad_tier, dim_customers(["H00000001"]), integrations(), [])
    with pytest.raises(InputError, match="column customer_id: expected one row per customer and month"):
        build_panel(pd.concat([good, good.iloc[[1]]]), dim_customers(["H00000001"]), integrations(), [])
    with pytest.raises(InputError, match="column n_integrations"):
        build_panel(good.assign(n_integrations=-1), dim_customers(["H00000001"]), integrations(), [])
    with pytest.raises(InputError, match="column mrr_bom"):
        build_panel(good.drop(columns="mrr_bom"), dim_customers(["H00000001"]), integrations(), [])


def _write_model(processed, results, rows, integration_rows=(), quality=None):
    processed.mkdir()
    results.mkdir()
    fct = customer_months(rows)
    fct.to_parquet(processed / f"{schema.FCT_CUSTOMER_MONTH}.parquet")
    dim_customers(sorted(fct.customer_id.unique())).to_parquet(processed / f"{schema.DIM_CUSTOMER}.parquet")
    integrations(integration_rows).to_parquet(processed / f"{schema.FCT_CUSTOMER_INTEGRATION_MONTH}.parquet")
    if quality is not None:
        (results / results_contract.DATA_QUALITY_JSON).write_text(json.dumps(quality))


def test_stage_writes_panel_counts_and_ledger_section(tmp_path):
    processed, results = tmp_path / "processed", tmp_path / "results"
    rows = path("H00000001", **STEADY) + path("H00000002", ["Free"] * 6, [0, 1, 1, 1, 1, 1], [0.0] * 6)
    _write_model(processed, results, rows,
                 quality={"tracking_change_months": ["2020-12"], "ledger": [{"file": "x"}], "months": MONTHS})
    out = build_panel_stage(processed, results)
    panel = load_panel(processed)
    assert out == processed / "panel.parquet"
    expected = build(rows, flagged=["2020-12"]).panel
    pd.testing.assert_frame_equal(panel, expected, check_dtype=False)
    quality = json.loads((results / results_contract.DATA_QUALITY_JSON).read_text())
    assert quality["ledger"] == [{"file": "x"}]  # other keys kept
    assert quality["panel"]["flagged_cohorts"] == ["2020-12"]
    assert quality["panel"]["rows_by_treatment"] == {"any": 10, "first": 1, "marketplace": 10, "custom": 10}
    counts = pd.read_csv(results / "panel_counts.csv")
    assert "customer_id" not in counts.columns and not counts.astype(str).apply(
        lambda s: s.str.contains("H0000000")).any().any()


def test_stage_errors_name_the_missing_input(tmp_path):
    processed, results = tmp_path / "processed", tmp_path / "results"
    _write_model(processed, results, path("H00000001", **STEADY))
    with pytest.raises(InputError, match="data_quality.json: expected the ledger"):
        build_panel_stage(processed, results)
    (results / results_contract.DATA_QUALITY_JSON).write_text(json.dumps({"months": MONTHS}))
    with pytest.raises(InputError, match="column tracking_change_months"):
        build_panel_stage(processed, results)
    with pytest.raises(InputError, match="panel.parquet: expected the panel"):
        load_panel(processed)


def test_worked_example_of_docs_definitions():
    """The worked example of docs/definitions.md, claim by claim."""
    tiers = ["Starter", "Starter", "Starter", "Pro", "Pro", "Pro"]
    cancel = [0.0, 30.0, 0.0, 0.0, 0.0, 0.0]
    result = build(path("H00000001", tiers, [1, 1, 2, 2, 2, 2], [100.0] * 6, cancel=cancel))
    sep = row(result, "H00000001", "2020-09")
    assert sep.treated == 1
    assert (sep.cancel_h1, sep.cancel_h2, sep.cancel_h3) == (0.0, 0.0, 0.0)
    assert sep.upgrade_h1 == 1.0
    aug = row(result, "H00000001", "2020-08")
    assert aug.treated == 0 and aug.cancel_h1 == 1.0
    assert "2021-01" not in set(result.panel.cohort)
    dec = row(result, "H00000001", "2020-12")
    assert dec.cancel_h1 == 0.0
    assert all(math.isnan(dec[c]) for c in ("cancel_h2", "cancel_h3", "upgrade_h1", "upgrade_h2", "upgrade_h3"))


def test_cli_panel_stage_without_model_exits_2_with_one_line(tmp_path):
    import subprocess
    import sys

    from analysis import paths

    done = subprocess.run([sys.executable, "-m", "causal", "run", "--data", str(tmp_path), "--results",
                           str(tmp_path / "results"), "--processed", str(tmp_path / "processed"),
                           "--stages", "panel"], cwd=paths.PROJ_ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "data_quality.json" in done.stderr
