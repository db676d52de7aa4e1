"""The targeting rule against the simulator's per-unit truth (slow, shared 40,000-customer run)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.panel.stage import load_panel
from causal.segments import targeting
from causal.estimate.design import select_cell
from causal.estimate.inference import customer_folds

pytestmark = pytest.mark.slow
N, SEED = 40000, 11


def test_policy_beats_random_in_truth_and_estimate(pipeline_run, simulated_data):
    """In MRR kept per 1,000 customer-months targeted, against the per-unit truth of cancelled dollars."""
    results, processed = pipeline_run(N, SEED, stages="segments")
    rule = targeting.PolicyRule.from_json((results / "targeting_rule.json").read_text())
    cell = select_cell(load_panel(processed), rule.treatment, rule.outcome, rule.horizon)
    held = customer_folds(cell.rows["customer_id"], 2, SEED) == targeting.HELDOUT_FOLD
    rows = cell.rows.loc[held, ["customer_id", "cohort", "treated"] + [
        "customer_segment", "employee_size", "tier_rank", "n_int", "mrr_bom"]]
    units = pd.read_parquet(simulated_data(N, SEED) / "truth_units.parquet")
    units = units.loc[units["treatment"] == rule.treatment]
    column = f"{rule.outcome}_h{rule.horizon}"
    merged = rows.merge(units[["customer_id", "cohort", f"{column}_y1", f"{column}_y0"]],
                        on=["customer_id", "cohort"], how="left")
    assert merged[f"{column}_y1"].notna().mean() > 0.99
    benefit = -(merged[f"{column}_y1"] - merged[f"{column}_y0"]).to_numpy()
    mask = targeting.targeted_mask(rule, merged)
    true_policy = 1000 * np.nanmean(benefit[mask])
    true_random = 1000 * np.nanmean(benefit)
    true_adopters = 1000 * np.nanmean(benefit[merged["treated"].to_numpy() == 1])
    values = pd.read_csv(results / "targeting.csv").set_index(["strategy", "metric"])
    assert rule.outcome == "cancel_dollars"  # the rule is learnt on the company's metric, MRR kept
    metric = "mrr_kept_per_1000"
    policy, random = values.loc[("policy_rule", metric)], values.loc[("random", metric)]
    assert true_policy > true_random  # the rule truly picks customers who gain more
    assert policy["estimate"] > random["estimate"]  # and its estimated value says so
    assert policy["ci_low"] <= true_policy <= policy["ci_high"]
    assert random["ci_low"] <= true_random <= random["ci_high"]
    adopters = values.loc[("todays_adopters", metric)]
    assert adopters["ci_low"] <= true_adopters <= adopters["ci_high"]
    assert policy["share_targeted"] == pytest.approx(mask.mean())


def test_targeting_outputs_are_aggregate(pipeline_run):
    results, processed = pipeline_run(N, SEED, stages="segments")
    ids = pd.read_parquet(processed / "panel.parquet", columns=["customer_id"])["customer_id"].unique()
    sample = set(ids[:: max(len(ids) // 2000, 1)])
    for name in ("targeting.csv", "targeting_rule.txt", "targeting_rule.json", "ranking_validation.csv",
                 "targeting_curves.csv", "heterogeneity_summary.json", "dollars.csv"):
        text = (results / name).read_text()
        assert not any(cid in text for cid in sample), name
    summary = json.loads((results / "heterogeneity_summary.json").read_text())
    assert {"segment_effects", "targeting", "dollars"} <= set(summary)
    for name in ("policy_tree.png", "ranking_qini_toc.png"):
        assert (results / "figures" / name).stat().st_size > 10_000
