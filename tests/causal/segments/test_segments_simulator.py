"""Segment effects recover the simulator's true segment effects (slow, shared 40,000-customer run)."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from scipy.stats import spearmanr

from analysis import results_contract, schema

pytestmark = pytest.mark.slow
MIN_UNITS = 500


@pytest.fixture(scope="module")
def matched(pipeline_run, simulated_data):
    results, _ = pipeline_run(40000, 11, stages="segments")
    truth = pd.DataFrame(json.loads((simulated_data(40000, 11) / "truth.json").read_text())["records"])
    truth = truth.loc[truth["cohort"] == "pooled"]
    effects = pd.read_csv(results / results_contract.EFFECTS_BY_SEGMENT_CSV)
    dr = effects.loc[effects["method"] == "dr"]
    merged = dr.merge(truth, left_on=["treatment", "outcome", "horizon", "segment_var", "segment_value"],
                      right_on=["treatment", "outcome", "horizon", "group_var", "group_value"],
                      suffixes=("", "_true"))
    return results, effects, merged


def test_effects_by_segment_follows_the_contract(matched):
    results, effects, _ = matched
    assert list(effects.columns[:len(results_contract.EFFECT_BY_SEGMENT_COLUMNS)]) == list(results_contract.EFFECT_BY_SEGMENT_COLUMNS)
    assert set(effects["segment_var"]) == set(schema.SEGMENT_VARS)
    primary = effects.loc[(effects["treatment"] == "any") & (effects["method"] == "dr")]
    assert {(o, h) for o, h in zip(primary["outcome"], primary["horizon"])} >= {
        (o, h) for o in ("cancel", "upgrade") for h in (1, 2, 3)}
    assert (effects["ci_low"] <= effects["estimate"]).all() and (effects["estimate"] <= effects["ci_high"]).all()
    assert (results / "figures" / "forest_segments.png").stat().st_size > 10_000
    for outcome, horizon in set(zip(primary["outcome"], primary["horizon"])):  # one forest plot per cell
        assert (results / results_contract.FIGURES_DIR
                / results_contract.segment_forest_png(outcome, horizon)).stat().st_size > 10_000
    assert len(pd.read_csv(results / "segments_vs_stratified.csv")) > 0
    skipped = pd.read_csv(results / "segments_skipped.csv")
    assert (skipped["n_units"] < 200).any() or (skipped["reason"].str.contains("fewer")).all()


def test_segment_intervals_cover_the_true_segment_effects(matched):
    _, _, merged = matched
    primary = merged.loc[(merged["treatment"] == "any") & merged["outcome"].isin(["cancel", "upgrade"])
                         & (merged["n_units"] >= MIN_UNITS)]
    assert len(primary) >= 90  # ~18 segments x 2 outcomes x 3 horizons
    covered = (primary["ci_low"] <= primary["ate"]) & (primary["ate"] <= primary["ci_high"])
    assert covered.mean() >= 0.8
    for (outcome, horizon), group in primary.groupby(["outcome", "horizon"]):
        cov = ((group["ci_low"] <= group["ate"]) & (group["ate"] <= group["ci_high"])).mean()
        assert cov >= 0.8, (outcome, horizon, cov)


def test_segment_effects_rank_like_the_truth_for_cancellation(matched):
    """Spearman >= 0.6 per horizon for cancellations (the simulator's planted heterogeneity).

    For upgrades the true segment effects differ by less than one standard error
    at this size, so their ranking is reported, not asserted.
    """
    _, _, merged = matched
    cancel = merged.loc[(merged["treatment"] == "any") & (merged["outcome"] == "cancel")
                        & (merged["n_units"] >= MIN_UNITS)]
    for horizon, group in cancel.groupby("horizon"):
        rho = spearmanr(group["estimate"], group["ate"]).statistic
        assert rho >= 0.6, (horizon, rho)


def test_marketplace_vs_custom_difference_interval_is_joint(pipeline_run, simulated_data):
    results, _ = pipeline_run(40000, 11, stages="segments")
    table = pd.read_csv(results / "marketplace_vs_custom.csv")
    truth = pd.DataFrame(json.loads((simulated_data(40000, 11) / "truth.json").read_text())["records"])
    truth = truth.loc[(truth["cohort"] == "pooled") & (truth["group_var"] == "all")].set_index(
        ["treatment", "outcome", "horizon"])["ate"]
    assert len(table) >= 4
    covered = []
    for row in table.itertuples():
        true_diff = truth[("marketplace", row.outcome, row.horizon)] - truth[("custom", row.outcome, row.horizon)]
        covered.append(row.difference_ci_low <= true_diff <= row.difference_ci_high)
        assert row.difference == pytest.approx(row.marketplace_estimate - row.custom_estimate)
    assert sum(covered) >= 0.8 * len(covered)
    assert (results / "figures" / "marketplace_vs_custom.png").is_file()
