"""Unit tests of the estimators on small synthetic panels with a planted, confounded effect."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from causal.estimate import estimators
from causal.estimate.balance import standardized_mean_differences, trim_mask
from causal.estimate.design import select_cell, subset_cell
from tests.causal.synthetic import planted_effect, synthetic_panel


@pytest.fixture(scope="module")
def panel():
    return synthetic_panel(n_customers=3000, seed=5, confounding=2.0)


@pytest.fixture(scope="module")
def cancel_cell(panel):
    return select_cell(panel, "any", "cancel", 1)


def test_naive_is_difference_in_means_with_cluster_robust_se(cancel_cell):
    import statsmodels.api as sm

    record = estimators.naive(cancel_cell)
    y, t = cancel_cell.y, cancel_cell.t
    assert record.estimate == pytest.approx(y[t == 1].mean() - y[t == 0].mean(), abs=1e-12)
    ols = sm.OLS(y, sm.add_constant(t.astype(float))).fit(cov_type="cluster",
                                                          cov_kwds={"groups": cancel_cell.groups,
                                                                    "use_correction": False})
    # influence-function CR1 (G/(G-1)) equals statsmodels' cluster SE up to its (n-1)/(n-k) factor
    n, groups = len(y), len(np.unique(cancel_cell.groups))
    expected = ols.bse[1] * np.sqrt(groups / (groups - 1))
    assert record.se == pytest.approx(expected, rel=1e-6)
    assert record.ci_low < record.estimate < record.ci_high


def test_cluster_se_of_mean_counts_customers_not_rows():
    rng = np.random.default_rng(0)
    customer_effect = rng.normal(size=500)
    groups = np.repeat(np.arange(500), 4)
    scores = customer_effect[groups] + rng.normal(scale=0.1, size=2000)
    clustered = estimators.cluster_se_of_mean(scores, groups)
    independent = scores.std(ddof=1) / np.sqrt(len(scores))
    assert clustered > 1.7 * independent  # four nearly identical rows per customer: about twice the iid se
    per_customer = np.bincount(groups, weights=scores) / 4
    assert clustered == pytest.approx(per_customer.std(ddof=1) / np.sqrt(500), rel=0.01)


def test_own_matcher_reproduces_dowhy_matching(cancel_cell):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = estimators.psm(cancel_cell, seed=1, n_bootstrap=0)
    assert record.extra["att_own_matcher"] == pytest.approx(record.estimate, abs=1e-12)
    assert np.isnan(record.se)


def test_a_bootstrap_draw_matches_as_the_whole_matcher_does_ties_included():
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(200):
        n = int(rng.integers(20, 2000))
        t = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
        ps = np.round(rng.random(n), int(rng.integers(1, 4)))  # coarse scores: many ties
        y = rng.integers(0, 2, n).astype(float)
        point = estimators.Matcher(ps=ps, t=t, y=y)
        draw_ps = np.clip(ps + rng.normal(0, 0.01, n) * (rng.random() < 0.7), 0, 1)  # some draws keep the ties
        weights = rng.poisson(1, n).astype(float)
        if weights[t == 1].sum() == 0 or weights[t == 0].sum() == 0:
            continue
        whole = estimators.Matcher(ps=draw_ps, t=t, y=y, hint=point).att(weights)
        assert estimators.bootstrap_draw_att(draw_ps, y, weights, point) == whole  # to the last bit
        checked += 1
    assert checked > 150


def test_one_step_propensity_update_tracks_a_full_refit(cancel_cell):
    X, t = cancel_cell.X.to_numpy(dtype=float), cancel_cell.t
    fitted = estimators.propensity_model().fit(X, t)
    updater = estimators.PropensityUpdater(fitted, X, t)
    unit = np.ones(len(t))
    assert np.abs(updater.propensity(unit) - fitted.predict_proba(X)[:, 1]).max() < 1e-4
    weights = estimators.customer_bootstrap_weights(np.unique(cancel_cell.groups, return_inverse=True)[1],
                                                    np.random.default_rng(3))
    refit = estimators.propensity_model().fit(X, t, logisticregression__sample_weight=weights)
    change = refit.predict_proba(X)[:, 1] - fitted.predict_proba(X)[:, 1]
    error = updater.propensity(weights) - refit.predict_proba(X)[:, 1]
    assert np.sqrt(np.mean(error ** 2)) < 0.1 * np.sqrt(np.mean(change ** 2))  # captures >90% of the change


def test_a_block_of_propensity_updates_is_each_draw_alone_up_to_rounding(cancel_cell):
    X, t = cancel_cell.X.to_numpy(dtype=float), cancel_cell.t
    updater = estimators.PropensityUpdater(estimators.propensity_model().fit(X, t), X, t)
    position = np.unique(cancel_cell.groups, return_inverse=True)[1]
    rng = np.random.default_rng(4)
    weights = np.stack([estimators.customer_bootstrap_weights(position, rng) for _ in range(16)])
    block = updater.propensities(weights)
    assert block.shape == weights.shape and block.flags.c_contiguous  # one contiguous row per draw
    for split in ([2, 14], [5, 11], [3, 4, 9], [8, 8]):
        parts = np.split(weights, np.cumsum(split)[:-1])
        np.testing.assert_allclose(np.concatenate([updater.propensities(part) for part in parts]), block,
                                   rtol=0, atol=1e-12)
    for j in (0, 7, 15):
        np.testing.assert_allclose(block[j], updater.propensity(weights[j]), rtol=0, atol=1e-12)
    assert np.abs(block - updater.propensity(np.ones(len(t)))).max() > 1e-3  # the draws do move the scores


def test_the_psm_bootstrap_draws_do_not_depend_on_the_block_size(cancel_cell, monkeypatch):
    def draws(block_rows: int, min_block: int) -> np.ndarray:
        monkeypatch.setattr(estimators, "BOOTSTRAP_BLOCK_ROWS", block_rows)
        monkeypatch.setattr(estimators, "BOOTSTRAP_MIN_BLOCK", min_block)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return estimators.psm(cancel_cell, seed=3, n_bootstrap=23).extra["bootstrap"]

    reference = draws(estimators.BOOTSTRAP_BLOCK_ROWS, estimators.BOOTSTRAP_MIN_BLOCK)
    assert np.unique(reference).size > 10
    for block in (2, 5, 16):  # 23 draws in blocks of 2 (the last of 1), 5 (the last of 3), 16 (the last of 7)
        assert np.array_equal(draws(0, block), reference), block


@pytest.mark.parametrize("outcome", ["cancel", "upgrade"])
def test_psm_and_dml_recover_the_planted_effect_better_than_naive(panel, outcome):
    cell = select_cell(panel, "any", outcome, 1)
    truth = planted_effect(outcome)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naive = estimators.naive(cell)
        matched = estimators.psm(cell, seed=2, n_bootstrap=60)
        double_ml = estimators.dml(cell, seed=2)
    assert matched.estimand == "ATT" and double_ml.estimand == "ATE"
    for record in (matched, double_ml):
        assert record.ci_low <= truth <= record.ci_high, record
        assert abs(record.estimate - truth) < abs(naive.estimate - truth)
        assert record.se > 0 and record.n_units == cell.n_units
    assert abs(naive.estimate - truth) > 3 * naive.se  # the synthetic panel is confounded


def test_dml_interval_is_the_cr1_interval_of_its_scores_and_same_seed_same_number(cancel_cell):
    import statsmodels.api as sm
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = estimators.dml(cancel_cell, seed=4)
        second = estimators.dml(cancel_cell, seed=4)
    scores = first.extra["scores"]
    fit = sm.OLS(scores, np.ones((len(scores), 1))).fit(cov_type="cluster", cov_kwds={"groups": cancel_cell.groups})
    assert first.se == pytest.approx(float(fit.bse[0]), rel=1e-10)  # intercept-only CR1: G/(G-1) exactly
    z = stats.norm.ppf(0.975)
    assert (first.ci_low, first.ci_high) == pytest.approx((first.estimate - z * first.se, first.estimate + z * first.se))
    assert (first.estimate, first.se) == (second.estimate, second.se)
    assert "cluster-robust by customer" in first.interval


def test_trimming_and_balance_after_matching(cancel_cell):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = estimators.psm(cancel_cell, seed=1, n_bootstrap=0)
    smd = standardized_mean_differences(cancel_cell.X, cancel_cell.t, record.extra["matches_treated"],
                                        record.extra["matches"])
    assert smd["smd_before"].abs().max() > 0.2  # confounded before matching
    assert smd["smd_after"].abs().max() < smd["smd_before"].abs().max() / 2
    propensity = np.array([0.005, 0.01, 0.5, 0.99, 0.995])
    assert trim_mask(propensity).tolist() == [False, True, True, True, False]
    trimmed = subset_cell(cancel_cell, np.arange(cancel_cell.n_units) % 2 == 0)
    assert trimmed.n_units == (cancel_cell.n_units + 1) // 2
    assert len(trimmed.X) == trimmed.n_units == len(trimmed.groups)


def test_seed_for_depends_on_every_label():
    assert estimators.seed_for(1, "psm", "any", 1) != estimators.seed_for(2, "psm", "any", 1)
    assert estimators.seed_for(1, "psm", "any", 1) != estimators.seed_for(1, "psm", "any", 2)
    assert estimators.seed_for(1, "psm", "any", 1) != estimators.seed_for(1, "dml", "any", 1)
