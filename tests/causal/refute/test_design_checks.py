"""Design checks and the memo's design verdict: rules on constructed inputs, behaviour on simulated data."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from causal.estimate.records import EffectRecord, refutations_frame
from causal.refute import design_checks
from causal.report.inputs import MemoInputs
from causal.report.sections.robustness import design_verdict


def _effect(outcome, method, estimate, se, estimand="ATT"):
    return EffectRecord(treatment="first", outcome=outcome, horizon=1, method=method, estimand=estimand,
                        estimate=estimate, ci_low=estimate - 1.96 * se, ci_high=estimate + 1.96 * se, se=se,
                        n_units=1000, n_treated=100, cohorts="2020-10")


def test_strategy_agreement_uses_the_difference_and_its_se():
    effects = {("first", "cancel_month", 1, "event_study"): _effect("cancel_month", "event_study", -0.02, 0.01),
               ("first", "cancel", 1, "dml"): _effect("cancel", "dml", -0.05, 0.01)}
    (record,) = design_checks.strategy_agreement_records(effects)
    z = 0.03 / np.sqrt(2 * 0.01 ** 2)
    assert record.extra["difference"] == pytest.approx(0.03)
    assert record.p_value == pytest.approx(2 * (1 - __import__("scipy").stats.norm.cdf(z)))
    assert not record.passed  # z = 2.12 > 1.96
    effects[("first", "cancel", 1, "dml")] = _effect("cancel", "dml", -0.03, 0.01)
    assert design_checks.strategy_agreement_records(effects)[0].passed


def test_pre_trend_is_bonferroni_over_pre_adoption_coefficients():
    gt = pd.DataFrame({"outcome": "cancel", "cohort": ["2020-10", "2020-11", "2020-11", "2020-11"],
                       "event_time": [-2, -3, -2, 0], "effect": [0.001, 0.03, 0.0, 0.5],
                       "se": [0.01, 0.01, 0.01, 0.01], "n_treated": [100, 80, 80, 80]})
    (record,) = design_checks.pre_trend_records(gt, {})
    assert record.extra["n_coefficients"] == 3  # the post-adoption coefficient is not a pre-trend
    assert record.p_value == pytest.approx(min(1, 3 * 2 * (1 - __import__("scipy").stats.norm.cdf(3.0))))
    assert not record.passed


def _memo(passed_control: bool, effect: float, passed_trend: bool = True) -> MemoInputs:
    rows = []
    for method in ("psm", "dml"):
        rows.append(dict(treatment="any", outcome="cancel", horizon=1, method=method, refuter="negative_control",
                         estimate=-0.03, new_effect=effect, p_value=0.5 if passed_control else 0.001,
                         passed=passed_control))
    rows.append(dict(treatment="first", outcome="cancel_month", horizon=1, method="event_study",
                     refuter="pre_trend", estimate=-0.02, new_effect=0.0, p_value=0.6 if passed_trend else 0.001,
                     passed=passed_trend))
    rows.append(dict(treatment="first", outcome="cancel", horizon=1, method="dml", refuter="strategy_agreement",
                     estimate=-0.03, new_effect=-0.02, p_value=0.4, passed=True))
    return MemoInputs(results_dir=".", refutations=pd.DataFrame(rows))


def test_design_verdict_calls_robust_only_when_every_check_passes():
    good = design_verdict(_memo(True, 0.0004))
    assert good["robust"] and "robust" in good["sentence"] and "overstated" not in good["sentence"]
    bad = design_verdict(_memo(False, -0.0058))
    assert not bad["robust"]
    assert "may be overstated" in bad["sentence"] and "-0.6 points" in bad["sentence"]
    assert design_verdict(MemoInputs(results_dir="."))["sentence"] == ""


def test_passed_design_checks_do_not_make_an_unclear_effect_robust():
    verdict = design_verdict(_memo(True, 0.0004), effect_is_clear=False)
    assert verdict["passed"] and not verdict["robust"]
    assert "nothing to call robust" in verdict["sentence"] and "we call" not in verdict["sentence"]


def _nc_and_truth(tmp_path, hidden_factor):
    from analysis.simulator import simulate
    from causal.estimate.stage import prepare_cell
    from causal.estimate import estimators
    from causal.pipeline import run_pipeline

    data, processed = tmp_path / "data", tmp_path / "processed"
    simulate(out_dir=data, n_customers=6000, seed=2, hidden_factor=hidden_factor)
    run_pipeline(data_dir=data, results_dir=tmp_path / "results", processed_dir=processed, seed=2, jobs=1,
                 stages="data,panel")
    panel = pd.read_parquet(processed / "panel.parquet")
    controls = design_checks.negative_control_effects(panel, seed=2, n_bootstrap=50)
    dml = estimators.dml(prepare_cell(panel, "any", "cancel", 3).trimmed, 2)
    truth = pd.DataFrame(json.loads((data / paths.TRUTH_JSON).read_text())["records"])
    truth = truth.loc[(truth["cohort"] == "pooled") & (truth["group_var"] == "all") & (truth["treatment"] == "any")
                      & (truth["outcome"] == "cancel") & (truth["horizon"] == 3)].iloc[0]
    return controls, dml, float(truth["ate"])


@pytest.mark.slow
def test_negative_control_fails_with_a_hidden_factor_and_passes_without(tmp_path):
    controls, dml, true_ate = _nc_and_truth(tmp_path / "hidden", hidden_factor=1.5)
    print(f"hidden factor 1.5: dml ATE cancel h3 {dml.estimate:+.4f} vs truth {true_ate:+.4f}; "
          + "; ".join(f"NC {m} {r.estimate:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]" for m, r in controls.items()))
    assert dml.estimate < true_ate and not (dml.ci_low <= true_ate <= dml.ci_high)  # overstated (more negative)
    assert all(r.ci_high < 0 for r in controls.values())  # adopters "cancelled less" two months before
    controls, dml, true_ate = _nc_and_truth(tmp_path / "default", hidden_factor=0.0)
    assert all(r.ci_low <= 0 <= r.ci_high for r in controls.values())


def test_a_failed_pre_trend_alone_withholds_robust_without_calling_the_effect_overstated():
    """Parallel trends failing is the event study's problem: no robust claim, but no sign of a hidden factor."""
    verdict = design_verdict(_memo(True, 0.0004, passed_trend=False))
    assert not verdict["robust"] and not verdict["passed"]
    assert "overstated" not in verdict["sentence"] and "do not call it robust" in verdict["sentence"]
    assert "already differed before they adopted" in verdict["sentence"]
    both = design_verdict(_memo(False, -0.0058, passed_trend=False))  # with a negative-control signal: overstated
    assert "may be overstated" in both["sentence"] and "already differed before they adopted" in both["sentence"]
