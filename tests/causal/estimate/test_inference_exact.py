"""Standard errors and intervals checked exactly against an independent computation.

Sizes are chosen so that the CR1 factor G/(G-1) and the centring of the scores
change the answer by several percent: a handful of customers, unequal cluster
sizes, means far from zero. The reference is statsmodels' cluster-robust OLS or
a closed form written out in the test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from causal.estimate import estimators, inference

REL = 1e-10


@pytest.fixture(scope="module")
def clustered_scores():
    """Scores of 12 customers with 1 to 6 rows each, mean about 3 (far from zero next to their spread)."""
    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 7, size=12)
    groups = np.repeat(np.arange(12), sizes)
    scores = 3.0 + rng.normal(size=12)[groups] + rng.normal(scale=0.5, size=len(groups))
    return scores, groups


def _statsmodels_cluster_se_of_mean(scores, groups) -> float:
    """CR1 cluster SE of an intercept-only OLS: G/(G-1) * (N-1)/(N-K) with K = 1, i.e. G/(G-1)."""
    fit = sm.OLS(scores, np.ones((len(scores), 1))).fit(cov_type="cluster", cov_kwds={"groups": groups})
    return float(fit.bse[0])


def test_cluster_se_of_mean_equals_statsmodels_cr1(clustered_scores):
    scores, groups = clustered_scores
    assert estimators.cluster_se_of_mean(scores, groups) == pytest.approx(
        _statsmodels_cluster_se_of_mean(scores, groups), rel=REL)


def test_clustered_mean_equals_statsmodels_cr1(clustered_scores):
    scores, groups = clustered_scores
    mean, se = inference.clustered_mean(scores, groups)
    assert mean == pytest.approx(scores.mean(), rel=REL)
    assert se == pytest.approx(_statsmodels_cluster_se_of_mean(scores, groups), rel=REL)


def test_the_cr1_factor_and_the_centring_matter_at_this_size(clustered_scores):
    """Guards the fixture: without G/(G-1), or without centring, the SE would differ by more than 4%."""
    scores, groups = clustered_scores
    se = estimators.cluster_se_of_mean(scores, groups)
    n_groups = len(np.unique(groups))
    sums = np.bincount(groups, weights=scores - scores.mean())
    without_cr1 = np.sqrt((sums ** 2).sum()) / len(scores)
    uncentred = np.sqrt((np.bincount(groups, weights=scores) ** 2).sum() * n_groups / (n_groups - 1)) / len(scores)
    assert abs(without_cr1 / se - 1) > 0.04 and abs(uncentred / se - 1) > 0.5


def test_hand_worked_cluster_se():
    """Three customers: scores (1, 3 | 2 | 6), mean 3; centred sums (-2, -1, 3); SE = sqrt(3/2 * 14) / 4."""
    scores = np.array([1.0, 3.0, 2.0, 6.0])
    groups = np.array(["a", "a", "b", "c"])
    expected = np.sqrt(1.5 * (4 + 1 + 9)) / 4
    assert estimators.cluster_se_of_mean(scores, groups) == pytest.approx(expected, rel=REL)
    assert inference.clustered_mean(scores, groups) == pytest.approx((3.0, expected), rel=REL)
    assert inference.cluster_se(np.array([0.5, -0.25, 0.25, 1.0]), groups) == pytest.approx(
        np.sqrt(1.5 * (0.25 ** 2 + 0.25 ** 2 + 1.0)), rel=REL)


def test_one_cluster_has_no_standard_error():
    assert np.isnan(estimators.cluster_se_of_mean(np.array([1.0, 2.0]), np.array([7, 7])))
    assert np.isnan(inference.cluster_se(np.array([1.0, 2.0]), np.array([7, 7])))


def test_naive_equals_statsmodels_cluster_ols_slope():
    """Difference in means = OLS slope of y on t; its SE = CR1 with G/(G-1) only (no (N-1)/(N-K))."""
    from causal.estimate.design import Cell

    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(15), rng.integers(1, 5, size=15))
    t = (rng.random(len(groups)) < 0.4).astype(int)
    y = 5.0 + 2.0 * t + rng.normal(size=15)[groups] + rng.normal(size=len(groups))
    cell = _cell(Cell, y, t, groups)
    record = estimators.naive(cell)
    fit = sm.OLS(y, sm.add_constant(t.astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    n_groups = len(np.unique(groups))
    assert record.estimate == pytest.approx(fit.params[1], rel=REL)
    assert record.se == pytest.approx(fit.bse[1] * np.sqrt(n_groups / (n_groups - 1)), rel=1e-9)
    low, high = record.estimate - stats.norm.ppf(0.975) * record.se, record.estimate + stats.norm.ppf(0.975) * record.se
    assert (record.ci_low, record.ci_high) == pytest.approx((low, high), rel=REL)


def test_difference_of_means_on_shared_customers_by_hand():
    """a = (1, 2, 3, 4) on customers (x, x, y, z); b = (2, 6) on (x, w): influence summed per customer."""
    a, ga = np.array([1.0, 2.0, 3.0, 4.0]), np.array(["x", "x", "y", "z"])
    b, gb = np.array([2.0, 6.0]), np.array(["x", "w"])
    # influence of mean(a): (a - 2.5) / 4; of mean(b), with a minus sign: -(b - 4) / 2
    per_customer = {"x": (-1.5 - 0.5) / 4 + 1.0, "y": 0.5 / 4, "z": 1.5 / 4, "w": -1.0}
    expected = np.sqrt(4 / 3 * sum(v ** 2 for v in per_customer.values()))
    difference, se = inference.difference_of_means(a, ga, b, gb)
    assert difference == pytest.approx(2.5 - 4.0, rel=REL)
    assert se == pytest.approx(expected, rel=REL)


def test_normal_interval_is_the_95_percent_normal_quantile():
    assert inference.Z_95 == pytest.approx(stats.norm.ppf(0.975), rel=1e-12)
    assert inference.normal_interval(1.0, 0.5) == pytest.approx((1.0 - 0.5 * inference.Z_95, 1.0 + 0.5 * inference.Z_95))


def test_bootstrap_weights_resample_customers_with_replacement():
    draws = inference.bootstrap_customer_weights(40, 500, np.random.default_rng(2))
    assert draws.shape == (500, 40) and (draws.sum(axis=1) == 40).all()
    # each customer's multiplicity is Binomial(40, 1/40): mean 1, variance 39/40
    assert draws.mean() == pytest.approx(1.0)
    assert draws.var() == pytest.approx(39 / 40, rel=0.05)
    again = inference.bootstrap_customer_weights(40, 500, np.random.default_rng(2))
    assert (draws == again).all()


def test_seeds_do_not_depend_on_the_process():
    """Pinned values: a change of the derivation (or a per-process hash) changes them."""
    assert estimators.seed_for(1, "dml", "any", "cancel", 1) == estimators.seed_for(1, "dml", "any", "cancel", 1)
    import subprocess
    import sys

    code = ("from causal.estimate import estimators, inference;"
            "print(estimators.seed_for(1, 'dml', 'any', 'cancel', 1), inference.derived_seed(1, 'any', 'cancel', 1))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={"PYTHONHASHSEED": str(h), "PATH": "/usr/bin:/bin",
                                   "PYTHONPATH": str(__import__("analysis").paths.PROJ_ROOT)}).stdout
               for h in (0, 1, 2)}
    assert len(outputs) == 1
    here = f"{estimators.seed_for(1, 'dml', 'any', 'cancel', 1)} {inference.derived_seed(1, 'any', 'cancel', 1)}\n"
    assert outputs == {here}


def _cell(Cell, y, t, groups):
    import dataclasses

    import pandas as pd

    fields = {f.name for f in dataclasses.fields(Cell)}
    rows = pd.DataFrame({"customer_id": groups.astype(str), "cohort": "2020-08"})
    values = dict(treatment="any", outcome="cancel", horizon=1, y=y.astype(float), t=t, groups=groups,
                  X=pd.DataFrame({"x": np.zeros(len(y))}), rows=rows, cohorts="2020-08")
    return Cell(**{k: v for k, v in values.items() if k in fields})


def test_two_customers_are_enough_for_a_standard_error():
    """G = 2, the smallest G with an SE: influence (1, 2 | -3) sums to (3, -3); SE = sqrt(2/1 * 18) = 6."""
    groups = np.array(["a", "a", "b"])
    assert inference.cluster_se(np.array([1.0, 2.0, -3.0]), groups) == pytest.approx(6.0, rel=REL)
    # scores (1, 3 | 5): mean 3, centred sums (-2/3, 2/3); SE = sqrt(2 * 8/9) = 4/3, as statsmodels' CR1
    scores = np.array([1.0, 3.0, 5.0])
    assert inference.clustered_mean(scores, groups) == pytest.approx((3.0, 4 / 3), rel=REL)
    assert _statsmodels_cluster_se_of_mean(scores, np.array([0, 0, 1])) == pytest.approx(4 / 3, rel=REL)
    difference, se = inference.difference_of_means(np.array([1.0, 3.0]), np.array(["a", "b"]),
                                                   np.array([2.0]), np.array(["a"]))
    # influence: a (-1/2, +1/2), b -(2 - 2) = 0; per customer a: -1/2, b: 1/2; SE = sqrt(2 * 1/2) = 1
    assert (difference, se) == pytest.approx((0.0, 1.0), rel=REL, abs=1e-15)


def test_influence_given_as_an_object_array_is_read_as_numbers():
    """A pandas object column of Python floats and ints gives the same SE as the float array."""
    groups = np.array(["a", "a", "b", "c"])
    values = [0.5, -0.25, 1, 0.25]
    expected = np.sqrt(1.5 * (0.25 ** 2 + 1.0 + 0.25 ** 2))
    assert inference.cluster_se(np.array(values, dtype=object), groups) == pytest.approx(expected, rel=REL)
    assert inference.cluster_se(pd.Series(values, dtype=object), groups) == pytest.approx(expected, rel=REL)


def test_no_scores_and_one_score():
    mean, se = inference.clustered_mean(np.array([]), np.array([]))
    assert np.isnan(mean) and np.isnan(se)
    mean, se = inference.clustered_mean(np.array([4.0]), np.array(["a"]))
    assert mean == 4.0 and np.isnan(se)
    assert np.isnan(inference.cluster_se(np.array([0.5]), np.array(["a"])))


@pytest.fixture(scope="module")
def customer_rows():
    """600 customers, 1 to 4 rows each, in a shuffled row order."""
    rng = np.random.default_rng(5)
    ids = np.array([f"H{n:08d}" for n in rng.choice(10 ** 8, size=600, replace=False)])
    rows = np.repeat(ids, rng.integers(1, 5, size=600))
    return ids, rng.permutation(rows)


def test_customer_folds_keep_a_customer_together_and_use_every_fold(customer_rows):
    ids, rows = customer_rows
    folds = inference.customer_folds(rows, 5, seed=3)
    assert folds.shape == rows.shape and np.issubdtype(folds.dtype, np.integer)
    per_customer = pd.Series(folds).groupby(rows).nunique()
    assert (per_customer == 1).all()
    fold_of = pd.Series(folds, index=rows).groupby(level=0).first()
    # each customer lands in fold k with probability 1/5: 120 of 600 per fold, sd about 10
    sizes = fold_of.value_counts().reindex(range(5), fill_value=0)
    assert set(fold_of) == set(range(5)) and sizes.between(80, 160).all()
    two = inference.customer_folds(rows, 2, seed=3)
    assert set(two) == {0, 1} and 0.4 < two.mean() < 0.6


def test_a_customer_fold_depends_on_its_id_and_the_seed_only(customer_rows):
    ids, rows = customer_rows
    full = pd.Series(inference.customer_folds(ids, 5, seed=3), index=ids)
    half = ids[::2]
    assert (inference.customer_folds(pd.Series(half), 5, seed=3) == full[half].to_numpy()).all()
    assert (inference.customer_folds(list(half[::-1]), 5, seed=3) == full[half[::-1]].to_numpy()).all()
    other_seed = inference.customer_folds(ids, 5, seed=4)
    # another seed is another split: about 4 in 5 customers move
    assert (other_seed != full.to_numpy()).mean() > 0.6
    numbers = np.arange(50)
    assert (inference.customer_folds(numbers, 3, seed=1) == inference.customer_folds(numbers.astype(str), 3, seed=1)).all()
