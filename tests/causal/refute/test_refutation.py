"""Refuters re-estimate on modified data and state their pass rule; E-values have known values."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from causal.estimate import estimators
from causal.refute import refuters as refutation
from causal.estimate.design import select_cell
from tests.causal.synthetic import synthetic_panel


@pytest.fixture(scope="module")
def cell_and_estimates():
    cell = select_cell(synthetic_panel(n_customers=2500, seed=8, confounding=2.0), "any", "cancel", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        psm = estimators.psm(cell, seed=1, n_bootstrap=60)
        dml = estimators.dml(cell, seed=1)
    return cell, {"psm": psm, "dml": dml}


@pytest.mark.parametrize("method", ["psm", "dml"])
def test_placebo_removes_the_effect(cell_and_estimates, method):
    cell, estimates = cell_and_estimates
    record = estimates[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = refutation.placebo_treatment(cell, record, seed=3, simulations=2)
    assert result.passed and result.p_value >= refutation.PASS_LEVEL
    assert abs(result.new_effect) < abs(record.estimate)  # the planted effect (-0.04) is gone
    assert "permuted" in result.rule
    assert len(result.extra["effects"]) == 2 and result.extra["effects"][0] != result.extra["effects"][1]


@pytest.mark.parametrize("method", ["psm", "dml"])
def test_random_common_cause_subset_and_bootstrap_re_estimate(cell_and_estimates, method):
    cell, estimates = cell_and_estimates
    record = estimates[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [refutation.random_common_cause(cell, record, seed=3),
                   refutation.data_subset(cell, record, seed=3),
                   refutation.bootstrap(cell, record, seed=3)]
    for result in results:
        assert result.new_effect != record.estimate  # really re-estimated on other data
        assert abs(result.new_effect - record.estimate) < 4 * record.se
        assert result.rule and 0 <= result.p_value <= 1


def test_placebo_refits_the_propensity_model(cell_and_estimates):
    """A stored propensity column must not leak into the placebo (py-why/dowhy#1728)."""
    cell, estimates = cell_and_estimates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = refutation.placebo_treatment(cell, estimates["psm"], seed=5)
        placebo_cell = cell.__class__(**{**cell.__dict__, "t": np.random.default_rng(0).permutation(cell.t)})
        placebo = estimators.psm(placebo_cell, seed=1, n_bootstrap=0)
    original_scores = estimates["psm"].extra["propensity"]
    assert np.corrcoef(placebo.extra["propensity"], original_scores)[0, 1] < 0.5
    assert abs(result.new_effect) < 3 * estimates["psm"].se


def test_e_value_known_values():
    assert refutation.e_value(2.0) == pytest.approx(2 + math.sqrt(2))
    assert refutation.e_value(0.5) == pytest.approx(2 + math.sqrt(2))
    assert refutation.e_value(1.0) == pytest.approx(1.0)


@pytest.mark.parametrize("method", ["psm", "dml"])
def test_unobserved_confounder_sensitivity(cell_and_estimates, method):
    cell, estimates = cell_and_estimates
    record = estimates[method]
    result = refutation.unobserved_confounder(cell, record, seed=1, learner=record.extra.get("learner"))
    assert result.extra["e_value_point"] >= result.extra["e_value_ci"] >= 1
    if method == "dml":
        low, high = result.extra["sensitivity_interval"]
        assert low <= record.ci_low and high >= record.ci_high  # confounding widens the interval
        assert 0 <= result.extra["robustness_value"] <= 1
        survives = low > 0 or high < 0
    else:  # the interval bound nearest zero, as a risk ratio, divided by the E-value bias factor
        rr = refutation.CONFOUNDER_RR
        treated_risk = float(cell.y[cell.t == 1].mean())
        nearest = record.ci_high if record.ci_high < 0 else record.ci_low
        ratio = treated_risk / (treated_risk - nearest)
        bias = rr * rr / (2 * rr - 1)
        survives = (record.ci_high < 0 or record.ci_low > 0) and (ratio * bias < 1 if ratio < 1 else ratio / bias > 1)
    assert result.passed == survives
    if survives:
        assert record.ci_high <= result.new_effect < 0  # pulled towards zero, still negative
    else:
        assert result.new_effect == 0.0
    summary = refutation.sensitivity_summary([result])
    assert summary["cells"][0]["text"] and summary["meaning"]
