"""Benchmarked sensitivity bounds reduce to Cinelli & Hazlett's formulas and recover a planted bias."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from causal.estimate.design import Cell
from causal.estimate.records import EffectRecord
from causal.refute import benchmarks

# Cinelli & Hazlett (2020), Darfur example (peacefactor on directlyharmed, 783 residual df): estimate
# 0.0973, se 0.0232; the benchmark "female" has partial R2 0.00908 with the treatment and 0.109 with the
# outcome. Bounds of confounders 1x, 2x, 3x as strong as female and the adjusted estimates and se
# (their Table 3; values to full precision from PySensemakr 0.0.8's ovb_partial_r2_bound / adjusted_*).
DARFUR = dict(estimate=0.09731581928495897, se=0.02325653780981118, df=783,
              r2_dxj=0.009081065190328759, r2_yxj=0.10903391542784283)
DARFUR_BOUNDS = [  # k, r2_dz, r2_yz, adjusted estimate, adjusted se
    (1, 0.009164286675047728, 0.1246409230363712, 0.07522027121445382, 0.021873327743756985),
    (2, 0.018328573350095457, 0.249324064199978, 0.05291517238445768, 0.020350062077963464),
    (3, 0.027492860025143187, 0.3740504710380986, 0.03039602346416191, 0.01867006481709215),
]


@pytest.mark.parametrize("k, r2_dz, r2_yz, estimate, se", DARFUR_BOUNDS)
def test_bounds_match_the_published_darfur_benchmarks(k, r2_dz, r2_yz, estimate, se):
    got_dz, got_yz = benchmarks.partial_r2_bounds(DARFUR["r2_dxj"], DARFUR["r2_yxj"], k)
    assert got_dz == pytest.approx(r2_dz, rel=1e-10) and got_yz == pytest.approx(r2_yz, rel=1e-10)
    bias = benchmarks.bias_bound(got_dz, got_yz, DARFUR["se"], DARFUR["df"])
    assert benchmarks.adjusted_estimate(DARFUR["estimate"], bias) == pytest.approx(estimate, rel=1e-10)
    assert DARFUR["se"] * benchmarks.se_factor(got_dz, got_yz, DARFUR["df"]) == pytest.approx(se, rel=1e-10)


def test_impossible_strength_gives_no_bound():
    assert all(math.isnan(v) for v in benchmarks.partial_r2_bounds(0.6, 0.1, k=2))


def _residual_ss(target, design):
    """The tall least-squares fit NumPy gives (the reference the one-QR fits are checked against)."""
    design = np.column_stack([np.ones(len(target)), design])
    residual = target - design @ np.linalg.lstsq(design, target, rcond=None)[0]
    return float(residual @ residual)


def reference_partial_r2(target, full, reduced):
    return benchmarks.partial_r2(_residual_ss(target, full), _residual_ss(target, reduced))


def _linear_case(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2, z = rng.normal(size=(3, n))
    t = (0.8 * x1 + 0.3 * x2 + 0.6 * z + rng.normal(size=n) > 0).astype(float)
    y = 0.5 * t + 1.0 * x1 + 0.5 * x2 + 0.8 * z + rng.normal(size=n)
    return x1, x2, z, t, y


def test_bias_formula_is_the_omitted_variable_bias_of_a_planted_confounder():
    """In sample, OLS omitting z differs from OLS with z by exactly the C&H bias at z's own partial R2s."""
    x1, x2, z, t, y = _linear_case()
    short = np.column_stack([x1, x2])
    full = np.column_stack([x1, x2, z])
    estimate, se, df = benchmarks.ols_treatment_effect(y, t, short)
    with_z, _, _ = benchmarks.ols_treatment_effect(y, t, full)
    r2_dz = reference_partial_r2(t, full, short)
    r2_yz = reference_partial_r2(y, np.column_stack([t, full]), np.column_stack([t, short]))
    bias = benchmarks.bias_bound(r2_dz, r2_yz, se, df)
    assert abs(estimate - with_z) == pytest.approx(bias, rel=1e-9)
    assert benchmarks.adjusted_estimate(estimate, bias) == pytest.approx(with_z, rel=1e-9)


def test_partial_r2_of_one_column_is_its_t_statistic_formula():
    import statsmodels.api as sm

    x1, x2, _, t, y = _linear_case(seed=1)
    fit = sm.OLS(y, sm.add_constant(np.column_stack([t, x1, x2]))).fit()
    t_x1, df = fit.tvalues[2], fit.df_resid
    design = benchmarks.LinearDesign(y, t, np.column_stack([x1, x2]))
    got = design.partial_r2s(np.array([False, True]))[1]
    assert got == pytest.approx(t_x1 ** 2 / (t_x1 ** 2 + df), rel=1e-9)
    estimate, se, dof = benchmarks.ols_treatment_effect(y, t, np.column_stack([x1, x2]))
    assert (estimate, se, dof) == (pytest.approx(fit.params[1]), pytest.approx(fit.bse[1]), int(df))


def test_benchmark_cell_moves_the_estimate_towards_zero_for_each_benchmark():
    rng = np.random.default_rng(3)
    n = 2000
    tier = rng.choice(["Basic", "Pro", "Enterprise"], size=n)
    segment = rng.choice(["NAM Direct", "NAM Low-touch"], size=n)
    log_mrr = rng.normal(size=n) + (tier == "Enterprise")
    t = (rng.random(n) < 0.2 + 0.4 * (tier == "Enterprise")).astype(int)
    y = -0.05 * t + 0.1 * (tier == "Pro") + 0.05 * log_mrr + rng.normal(0, 0.3, n)
    X = pd.DataFrame({"tier_rank": (tier == "Pro") + 2.0 * (tier == "Enterprise"), "log_mrr_bom": log_mrr,
                      "n_int": rng.poisson(2, n).astype(float),
                      "customer_segment=NAM Low-touch": (segment == "NAM Low-touch").astype(float)})
    cell = Cell("any", "cancel", 1, pd.DataFrame({"cohort": ["2020-01"] * n}), y, t, X, np.arange(n))
    rec = EffectRecord("any", "cancel", 1, "dml", "ATE", -0.05, -0.08, -0.02, 0.0153, n, int(t.sum()), "2020-01")
    entries = {e["benchmark"]: e for e in benchmarks.benchmark_cell(cell, rec)}
    assert entries["tier"]["columns"] == ["tier_rank"] and entries["segment"]["columns"] == [
        "customer_segment=NAM Low-touch"]
    for e in entries.values():
        assert 0 <= e["r2_dz"] < 1 and 0 <= e["r2_yz"] <= 1
        assert e["adjusted_estimate"] == pytest.approx(rec.estimate + e["bias"])  # towards zero
        assert e["adjusted_ci_high"] - e["adjusted_ci_low"] == pytest.approx(
            2 * 1.959964 * rec.se * benchmarks.se_factor(e["r2_dz"], e["r2_yz"], e["df"]), rel=1e-5)
    assert entries["tier"]["bias"] > entries["segment"]["bias"]  # tier drives adoption; segment does not
    assert "as strong as tier" in benchmarks.benchmark_text(rec, list(entries.values()))
    # the partial R2s of one QR are those of the tall least-squares fits of each design
    X_np, with_t = X.to_numpy(dtype=float), np.column_stack([t, X.to_numpy(dtype=float)])
    for name, e in entries.items():
        keep = np.array([c not in e["columns"] for c in X.columns])
        assert e["r2_dxj"] == pytest.approx(reference_partial_r2(t.astype(float), X_np, X_np[:, keep]), rel=1e-9)
        assert e["r2_yxj"] == pytest.approx(
            reference_partial_r2(y, with_t, np.column_stack([t, X_np[:, keep]])), rel=1e-9)


@pytest.mark.parametrize("collinear", [False, True])
def test_fits_from_one_qr_are_the_tall_fits(collinear):
    """Coefficients, residual sums of squares and ranks of the k-row problems equal NumPy's tall lstsq,
    also when dummies of a category sum to the intercept (a rank-deficient design, as a cell can have)."""
    rng = np.random.default_rng(5)
    n = 4000
    level = rng.integers(0, 3, n)
    dummies = np.column_stack([level == j for j in range(3 if collinear else 2)]).astype(float)
    x = rng.lognormal(size=(n, 2))
    t = (rng.random(n) < 0.3 + 0.2 * (level == 1)).astype(float)
    y = 0.4 * t + x @ [0.3, -0.2] + dummies[:, 0] + rng.normal(size=n)
    columns = np.column_stack([np.ones(n), dummies, x, t, y])
    fits = benchmarks.LeastSquares(columns)
    k = columns.shape[1]
    for target, design in [(k - 1, list(range(k - 1))), (k - 2, list(range(k - 2))), (k - 1, [0, 1, k - 2]),
                           (k - 1, [0, *range(dummies.shape[1] + 1, k - 1)])]:
        coefficients, residual_ss, rank = fits.fit(target, design)
        tall, tall_ss, tall_rank, _ = np.linalg.lstsq(columns[:, design], columns[:, target], rcond=None)
        assert rank == tall_rank
        assert residual_ss == pytest.approx(float(tall_ss[0]) if len(tall_ss) else _residual_ss(
            columns[:, target], columns[:, design[1:]]), rel=1e-9)
        assert np.allclose(coefficients, tall, rtol=1e-7, atol=1e-9)
    assert fits.fit(k - 1, list(range(k - 1)))[2] == k - 1 - collinear


def test_partial_r2_is_nan_without_residual_variation():
    assert math.isnan(benchmarks.partial_r2(0.0, 0.0))
    assert benchmarks.partial_r2(2.0, 1.0) == 0.0 and benchmarks.partial_r2(1.0, 4.0) == 0.75


def test_sensitivity_json_gets_a_benchmarks_key(tmp_path):
    import json

    from causal.estimate.records import RefutationRecord
    from causal.refute.refuters import write_refutations
    from causal.refute.stage import attach_benchmarks

    x1, x2, _, t, y = _linear_case(n=800, seed=2)
    X = pd.DataFrame({"tier_rank": x1, "log_mrr_bom": x2})  # no segment column: that benchmark is empty
    cell = Cell("any", "cancel", 3, pd.DataFrame({"cohort": ["2020-01"] * 800}), y, t.astype(int), X, np.arange(800))
    rec = EffectRecord("any", "cancel", 3, "dml", "ATE", 0.5, 0.3, 0.7, 0.1, 800, int(t.sum()), "2020-01")
    records = [RefutationRecord("any", "cancel", 3, "dml", "unobserved_confounder", 0.5, 0.2, None, True)]
    attach_benchmarks(records, benchmarks.benchmark_cell(cell, rec))
    write_refutations(records, tmp_path)
    content = json.loads((tmp_path / "sensitivity.json").read_text(),
                         parse_constant=lambda name: pytest.fail(f"{name} in sensitivity.json"))
    (entry,) = content["benchmarks"]
    assert (entry["outcome"], entry["horizon"], entry["method"]) == ("cancel", 3, "dml")
    assert set(entry["by_covariate"]) == {"tier", "MRR", "segment"}
    assert entry["by_covariate"]["segment"]["adjusted_estimate"] is None
    tier = entry["by_covariate"]["tier"]
    assert 0 < tier["r2_dz"] < 1 and tier["adjusted_ci_low"] < tier["adjusted_estimate"] < tier["adjusted_ci_high"]
    assert "benchmarks" not in content["cells"][0]
