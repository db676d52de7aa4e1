"""Segment effects on synthetic panels with a planted, heterogeneous effect (fast)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from analysis import schema
from causal.estimate.design import select_cell
from causal.estimate.inference import (clustered_mean, customer_folds, difference_of_means)
from causal.segments.scores import (MIN_SEGMENT_UNITS, compare_with_stratified, fit_dr_scores, lin_regression_effect,
                             overall_effect, segment_effects, stratified_effects)
from tests.causal.synthetic_segments import heterogeneous_panel

N_CUSTOMERS, SEED = 6000, 3


@pytest.fixture(scope="module")
def synthetic():
    return heterogeneous_panel(N_CUSTOMERS, SEED)


@pytest.fixture(scope="module")
def cancel_scores(synthetic):
    panel, _ = synthetic
    cell = select_cell(panel, "any", "cancel", 1)
    folds = customer_folds(cell.rows["customer_id"], 2, SEED)
    return cell, fit_dr_scores(cell, folds, SEED)


def _true_tau(truth: pd.DataFrame, rows: pd.DataFrame, column: str) -> np.ndarray:
    keyed = truth.set_index(["customer_id", "cohort"])[column]
    return keyed.loc[pd.MultiIndex.from_frame(rows[["customer_id", "cohort"]])].to_numpy()


def test_cluster_se_with_singleton_clusters_is_the_iid_formula():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=500)
    mean, se = clustered_mean(scores, np.arange(500))
    assert se == pytest.approx(np.sqrt(500 / 499) * scores.std(ddof=0) / np.sqrt(500), rel=1e-12)
    assert mean == pytest.approx(scores.mean())


def test_cluster_se_grows_when_a_customer_repeats_its_shock():
    rng = np.random.default_rng(1)
    customer_shock = rng.normal(size=300)
    groups = np.repeat(np.arange(300), 4)
    scores = customer_shock[groups] + 0.1 * rng.normal(size=1200)
    _, se_iid = clustered_mean(scores, np.arange(1200))
    _, se_clustered = clustered_mean(scores, groups)
    assert se_clustered > 1.7 * se_iid  # ~ sqrt(4) when the shock dominates


def test_customer_folds_keep_a_customer_together_and_ignore_other_customers():
    ids = np.array([f"H{k:08d}" for k in range(2000)])
    rows = np.repeat(ids, 3)
    folds = customer_folds(rows, 2, seed=5)
    assert (pd.Series(folds).groupby(rows).nunique() == 1).all()
    assert 0.45 < folds.mean() < 0.55
    subset = customer_folds(ids[::7], 2, seed=5)
    assert np.array_equal(subset, customer_folds(ids, 2, seed=5)[::7])
    assert not np.array_equal(customer_folds(ids, 2, seed=6), customer_folds(ids, 2, seed=5))


def test_joint_difference_se_accounts_for_shared_customers():
    rng = np.random.default_rng(2)
    groups = np.arange(1000)
    common = rng.normal(size=1000)
    a, b = common + 0.2 * rng.normal(size=1000), common + 0.2 * rng.normal(size=1000)
    diff, se = difference_of_means(a, groups, b, groups)
    assert diff == pytest.approx(a.mean() - b.mean())
    naive = np.hypot(clustered_mean(a, groups)[1], clustered_mean(b, groups)[1])
    expected = np.sqrt(1000 / 999) * (a - b).std(ddof=0) / np.sqrt(1000)
    assert se == pytest.approx(expected, rel=1e-9)
    assert se < 0.4 * naive


def test_lin_regression_recovers_a_heterogeneous_linear_effect():
    rng = np.random.default_rng(4)
    n = 4000
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    y = 1 + 2 * x + t * (0.5 + 0.3 * x) + rng.normal(scale=0.5, size=n)
    estimate, se, model = lin_regression_effect(y, t, pd.DataFrame({"x": x}), np.arange(n))
    assert model == "interacted"
    assert abs(estimate - (0.5 + 0.3 * x.mean())) < 3 * se
    assert se < 0.05


def test_overall_effect_covers_the_planted_average(synthetic, cancel_scores):
    _, truth = synthetic
    cell, scores = cancel_scores
    record = overall_effect(scores)
    true_ate = _true_tau(truth, cell.rows, "tau_any_cancel_h1").mean()
    naive = cell.y[cell.t == 1].mean() - cell.y[cell.t == 0].mean()
    assert record.ci_low <= true_ate <= record.ci_high
    assert abs(record.estimate - true_ate) < abs(naive - true_ate)  # the naive difference is confounded


def test_segment_effects_cover_and_rank_the_planted_segment_effects(synthetic, cancel_scores):
    _, truth = synthetic
    cell, scores = cancel_scores
    records, skipped = segment_effects(scores)
    tau = _true_tau(truth, cell.rows, "tau_any_cancel_h1")
    estimated, true, covered = [], [], []
    for record in records:
        mask = cell.rows[schema.SEGMENT_VARS[record.segment_var]].astype(str).to_numpy() == record.segment_value
        true_value = tau[mask].mean()
        estimated.append(record.estimate)
        true.append(true_value)
        covered.append(record.ci_low <= true_value <= record.ci_high)
    assert len(records) >= 12
    assert np.mean(covered) >= 0.8
    assert spearmanr(estimated, true).statistic >= 0.6
    assert {r.segment_var for r in records} == set(schema.SEGMENT_VARS)


def test_small_segments_are_skipped_and_listed():
    panel, _ = heterogeneous_panel(1500, 8)
    cell = select_cell(panel, "any", "cancel", 1)
    scores = fit_dr_scores(cell, customer_folds(cell.rows["customer_id"], 2, 8), 8)
    records, skipped = segment_effects(scores)
    small = [s for s in skipped if s["segment_value"] == "International High-touch"]
    assert small and small[0]["n_units"] < MIN_SEGMENT_UNITS and "fewer than" in small[0]["reason"]
    assert not any(r.segment_value == "International High-touch" for r in records)


def test_stratified_check_agrees_with_pooled_segment_effects(cancel_scores):
    cell, scores = cancel_scores
    pooled, _ = segment_effects(scores)
    stratified = stratified_effects(cell)
    table = compare_with_stratified(pooled, stratified)
    assert len(table) == len(pooled)
    assert table["agree"].mean() >= 0.9
    assert (table["stratified_se"] > 0).all()


def test_same_seed_same_scores_and_another_seed_other_folds(synthetic):
    panel, _ = synthetic
    cell = select_cell(panel, "any", "upgrade", 2)
    folds = customer_folds(cell.rows["customer_id"], 2, 1)
    first, second = fit_dr_scores(cell, folds, 1), fit_dr_scores(cell, folds, 1)
    assert np.array_equal(first.psi, second.psi)
    other = customer_folds(cell.rows["customer_id"], 2, 2)
    assert not np.array_equal(folds, other)
