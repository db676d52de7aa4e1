"""Targeting rule, its held-out value and the ranking check on synthetic panels (fast)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal.estimate.design import select_cell
from causal.estimate.inference import customer_folds
from causal.segments.scores import fit_dr_scores
from causal.segments import targeting
from tests.causal.synthetic_segments import SEGMENT_CANCEL_EFFECT, heterogeneous_panel

N_CUSTOMERS, SEED, HORIZON, EFFECT_SCALE = 10000, 4, 1, 2.0


@pytest.fixture(scope="module")
def fitted():
    panel, truth = heterogeneous_panel(N_CUSTOMERS, SEED, effect_scale=EFFECT_SCALE)
    cells, scores = {}, {}
    for outcome in ("cancel", "cancel_dollars"):
        cell = select_cell(panel, "any", outcome, HORIZON)
        folds = customer_folds(cell.rows["customer_id"], 2, SEED)
        cells[outcome], scores[outcome] = cell, fit_dr_scores(cell, folds, SEED)
    cell, cancel = cells["cancel"], scores["cancel"]
    train_scores = targeting.training_scores(cell, cancel.folds, SEED)
    train = cancel.folds == targeting.TRAIN_FOLD
    predicted = targeting.fit_effect_model(cell, train_scores, cancel.folds, SEED)
    features, levels = targeting.interpretable_features(cancel.rows.loc[train])
    tree = targeting.fit_policy_tree(features, -predicted[train], SEED)
    rule = targeting.tree_rule(tree, list(features.columns), -predicted[train], cancel, levels)
    return dict(panel=panel, truth=truth, cell=cell, cancel=cancel, dollars=scores["cancel_dollars"],
                train_scores=train_scores, predicted=predicted, tree=tree, features=features, rule=rule)


def _true_effect(truth, rows, outcome_column):
    """Realized y1 - y0 per row (exact even where a probability was clipped)."""
    keyed = truth.set_index(["customer_id", "cohort"])
    keyed = keyed[f"{outcome_column}_y1"] - keyed[f"{outcome_column}_y0"]
    return keyed.loc[pd.MultiIndex.from_frame(rows[["customer_id", "cohort"]])].to_numpy()


def test_training_scores_use_only_training_customers(fitted):
    train_ids = set(fitted["train_scores"].rows["customer_id"])
    held = fitted["cancel"].folds == targeting.HELDOUT_FOLD
    assert not train_ids & set(fitted["cancel"].rows.loc[held, "customer_id"])


def test_rule_mask_reproduces_the_tree_leaves(fitted):
    rule = targeting.PolicyRule.from_json(fitted["rule"].to_json())
    train = fitted["cancel"].folds == targeting.TRAIN_FOLD
    mask = targeting.targeted_mask(rule, fitted["cancel"].rows.loc[train])
    leaf_values = fitted["tree"].predict(fitted["features"].to_numpy())
    assert np.array_equal(mask, leaf_values > rule.average_benefit)
    assert sum(leaf["share"] for leaf in rule.leaves) == pytest.approx(1.0)
    assert 0 < mask.mean() < 1


def test_rule_targets_truly_better_customers_and_its_value_says_so(fitted):
    cancel, truth = fitted["cancel"], fitted["truth"]
    held = cancel.folds == targeting.HELDOUT_FOLD
    rows = cancel.rows.loc[held]
    mask = targeting.targeted_mask(fitted["rule"], rows)
    benefit = -_true_effect(truth, rows, f"cancel_h{HORIZON}")
    true_policy, true_random = 1000 * benefit[mask].mean(), 1000 * benefit.mean()
    assert true_policy > true_random + 5  # the planted effects differ by segment and tier
    values = targeting.policy_values(cancel, fitted["dollars"], fitted["rule"], SEED, draws=200).set_index(
        ["strategy", "metric"])
    policy = values.loc[("policy_rule", "cancellations_avoided_per_1000")]
    gain = values.loc[("policy_rule_minus_random", "cancellations_avoided_per_1000")]
    assert policy["ci_low"] <= true_policy <= policy["ci_high"]
    assert gain["estimate"] > 0
    assert policy["share_targeted"] == pytest.approx(mask.mean())


def test_policy_values_are_deterministic_and_intervals_ordered(fitted):
    first = targeting.policy_values(fitted["cancel"], fitted["dollars"], fitted["rule"], SEED, draws=100)
    second = targeting.policy_values(fitted["cancel"], fitted["dollars"], fitted["rule"], SEED, draws=100)
    pd.testing.assert_frame_equal(first, second)
    assert (first["ci_low"] <= first["ci_high"]).all()
    assert set(first["strategy"]) == {"policy_rule", "random", "todays_adopters", "policy_rule_minus_random",
                                      "policy_rule_minus_todays_adopters"}


def test_ranking_validation_finds_the_planted_heterogeneity(fitted):
    cell, cancel = fitted["cell"], fitted["cancel"]
    predicted = fitted["predicted"]
    metrics, curves = targeting.ranking_validation(cancel, fitted["train_scores"], predicted, SEED)
    metrics = metrics.set_index("metric")
    assert metrics.loc["blp_slope", "estimate"] > 0
    assert metrics.loc["qini", "estimate"] > 0
    assert set(curves) == {"qini", "toc", "calibration"}
    again, _ = targeting.ranking_validation(cancel, fitted["train_scores"], predicted, SEED)
    assert np.allclose(again.set_index("metric")["estimate"], metrics["estimate"])


def test_rule_text_is_aggregate_and_names_segments(fitted):
    text = targeting.rule_text(fitted["rule"], "cancellations avoided")
    assert "TARGET" in text and "skip" in text
    assert not any(cid in text for cid in fitted["panel"]["customer_id"].unique()[:500])
    assert "H0" not in text


def test_partner_segment_with_no_effect_is_not_the_best_leaf(fitted):
    assert SEGMENT_CANCEL_EFFECT["NAM Partner"] == 0.0
    best = max(fitted["rule"].leaves, key=lambda leaf: leaf["predicted_benefit"])
    assert ["segment=NAM Partner", ">", 0.5] not in best["conditions"]
