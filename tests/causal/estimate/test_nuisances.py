"""The DML nuisances shared by the ATT, the segments stage and the refuters, and their cache."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from causal.estimate import agreement, estimators, nuisances
from causal.estimate.balance import trim_mask
from causal.estimate.design import select_cell, subset_cell
from causal.segments.scores import overall_effect, scores_from_nuisances
from tests.causal.synthetic import planted_effect, synthetic_panel


@pytest.fixture(scope="module")
def fitted():
    panel = synthetic_panel(n_customers=2500, seed=11, confounding=2.0)
    cell = select_cell(panel, "any", "cancel", 2)
    cell = subset_cell(cell, trim_mask(estimators.fit_propensity(cell.X, cell.t)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = estimators.dml(cell, seed=4)
    return cell, record


def test_dml_att_covers_the_planted_effect_and_uses_the_att_score(fitted):
    cell, record = fitted
    nuis = record.extra["nuisances"]
    att = estimators.dml_att(cell, nuis)
    assert (att.method, att.estimand) == ("dml", "ATT")
    assert att.ci_low <= planted_effect("cancel") <= att.ci_high
    # the ATT score written out with the recovered outcome model and propensity
    mu0, e, t, y = nuis.mu0, nuis.e, nuis.t, nuis.y
    numerator = t * (y - mu0) - (1 - t) * e / (1 - e) * (y - mu0)
    assert att.estimate == pytest.approx(numerator.sum() / t.sum(), rel=1e-9, abs=1e-12)
    # the ATE scores from the recovered pieces are EconML's
    aipw = nuis.mu1 - mu0 + t * (y - nuis.mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    np.testing.assert_allclose(aipw, nuis.ate_scores, rtol=1e-7, atol=1e-9)


def test_att_standard_error_counts_customers_not_rows(fitted):
    _, record = fitted
    nuis = record.extra["nuisances"]
    theta, se = nuisances.att_with_se(nuis)
    twice = {name: np.concatenate([value, value]) if isinstance(value, np.ndarray) else value
             for name, value in nuis.__dict__.items()}
    same_customers = nuisances.CellNuisances(**twice)  # every row twice, under the same customer
    theta_twice, se_twice = nuisances.att_with_se(same_customers)
    assert theta_twice == pytest.approx(theta, rel=1e-12)
    assert se_twice == pytest.approx(se, rel=1e-3)  # no new information, no smaller interval
    new_customers = nuisances.CellNuisances(**{**twice, "groups": np.concatenate(
        [nuis.groups, nuis.groups + nuis.groups.max() + 1])})
    assert nuisances.att_with_se(new_customers)[1] == pytest.approx(se / np.sqrt(2), rel=1e-2)


def test_cached_sensitivity_equals_econml_learner(fitted):
    cell, record = fitted
    learner = record.extra["learner"]
    low, high, robustness = nuisances.sensitivity(record.extra["nuisances"], 0.05, 0.05)
    expected = learner.sensitivity_interval(T=1, alpha=0.05, c_y=0.05, c_t=0.05)
    assert (low, high) == pytest.approx(expected, rel=1e-9)
    assert robustness == pytest.approx(learner.robustness_value(T=1, alpha=0.05), rel=1e-9)


def test_cache_round_trip_and_refusals(fitted, tmp_path):
    cell, record = fitted
    nuis = record.extra["nuisances"]
    nuisances.save(nuis, tmp_path)
    back = nuisances.load(tmp_path, nuis.key, seed=4, index=np.asarray(cell.rows.index))
    assert back is not None
    np.testing.assert_array_equal(back.pseudo0, nuis.pseudo0)
    np.testing.assert_array_equal(back.folds, nuis.folds)
    assert nuisances.load(tmp_path, nuis.key, seed=5) is None  # another seed
    assert nuisances.load(tmp_path, nuis.key, seed=4, index=np.asarray(cell.rows.index)[1:]) is None
    assert nuisances.load(tmp_path, ("any", "upgrade", 1), seed=4) is None


def test_segment_scores_from_the_cache_give_the_dml_ate(fitted):
    cell, record = fitted
    scores = scores_from_nuisances(cell, record.extra["nuisances"])
    overall = overall_effect(scores)
    assert overall.estimate == pytest.approx(record.estimate, rel=1e-9)
    assert overall.se == pytest.approx(record.se, rel=1e-6)
    # folds are the customers' folds: a customer never in two folds
    folds_per_customer = scores.rows.assign(fold=scores.folds).groupby("customer_id")["fold"].nunique()
    assert folds_per_customer.max() == 1


def test_psm_and_dml_att_agree_with_a_paired_bootstrap_interval(fitted):
    cell, record = fitted
    nuis = record.extra["nuisances"]
    att = estimators.dml_att(cell, nuis)
    psm = estimators.psm(cell, seed=4, n_bootstrap=60, paired=lambda w: nuisances.att(nuis, w))
    row = agreement.agreement_row(psm, att)
    assert row["difference"] == pytest.approx(psm.estimate - att.estimate)
    assert row["ci_low"] < row["difference"] < row["ci_high"]
    assert row["passed"]  # both estimate the same planted ATT
    # the paired draws move together, so the difference is tighter than the two intervals side by side
    assert row["se"] < np.hypot(psm.se, att.se)
    assert np.corrcoef(psm.extra["bootstrap"], psm.extra["paired_draws"])[0, 1] > 0


def test_segments_stage_fits_once_then_reads_the_cache(tmp_path):
    from causal.segments.stage import cell_scores

    panel = synthetic_panel(n_customers=1200, seed=3, confounding=1.0)
    key = ("any", "upgrade", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first, cell = cell_scores(panel, key, 2, tmp_path)  # no cache yet: trims, fits and saves
    assert nuisances.cache_path(tmp_path, key).is_file()
    cached = nuisances.load(tmp_path, key, 2)
    cached.pseudo1 = cached.pseudo1 + 1.0  # a marked cache: reading it must show the mark
    nuisances.save(cached, tmp_path)
    second, _ = cell_scores(panel, key, 2, tmp_path)
    np.testing.assert_allclose(second.psi, first.psi + 1.0)


def test_segments_keep_only_the_cells_they_read_later(tmp_path):
    from causal.segments.stage import fit_all_scores

    panel = synthetic_panel(n_customers=1200, seed=3, confounding=1.0)
    keys = [("any", "upgrade", 1), ("any", "cancel", 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept, _ = fit_all_scores(panel, 2, keys, 1, tmp_path, keep_cell=lambda key: key[1] == "cancel")
        every, _ = fit_all_scores(panel, 2, keys, 1, tmp_path)
    assert kept[("any", "upgrade", 1)][1] is None
    assert kept[("any", "cancel", 1)][1] is not None
    assert all(every[key][1] is not None for key in keys)
    for key in keys:  # the scores do not depend on what is kept
        np.testing.assert_array_equal(kept[key][0].psi, every[key][0].psi)
