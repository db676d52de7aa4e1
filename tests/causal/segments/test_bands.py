"""Simultaneous segment bands and empirical-Bayes shrinkage recover planted truth on synthetic scores."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal.estimate.inference import Z_95, clustered_mean
from causal.estimate.records import EffectRecord
from causal.segments import bands

N_GROUPS = 8
EFFECTS = np.linspace(-0.3, 0.4, N_GROUPS)


def synthetic_scores(rng, n_customers=300, rows_per_customer=3):
    """Scores with a customer random effect; each customer's rows may fall in different groups."""
    customer = np.repeat(np.arange(n_customers), rows_per_customer)
    home = rng.integers(0, N_GROUPS, n_customers)[customer]
    moved = rng.random(len(customer)) < 0.3  # a third of rows change group (a tier change, say)
    labels = np.where(moved, rng.integers(0, N_GROUPS, len(customer)), home)
    psi = EFFECTS[labels] + rng.normal(0, 1.0, n_customers)[customer] + rng.normal(0, 1.0, len(customer))
    return psi, customer, labels


def test_band_matches_clustered_standard_errors():
    psi, customer, labels = synthetic_scores(np.random.default_rng(0))
    band = bands.simultaneous_band(psi, customer, labels, np.random.default_rng(1), draws=200)
    for g in range(N_GROUPS):
        estimate, se = clustered_mean(psi[labels == g], customer[labels == g])
        assert band.loc[g, "estimate"] == pytest.approx(estimate)
        assert band.loc[g, "se"] == pytest.approx(se)


def test_band_covers_all_groups_jointly_about_95_percent():
    joint_band, joint_pointwise, crits = 0, 0, []
    replications = 200
    for rep in range(replications):
        rng = np.random.default_rng(1000 + rep)
        psi, customer, labels = synthetic_scores(rng)
        band = bands.simultaneous_band(psi, customer, labels, rng, draws=500)
        joint_band += bool(((band["band_low"] <= EFFECTS) & (EFFECTS <= band["band_high"])).all())
        pointwise = (band["estimate"] - EFFECTS).abs() <= Z_95 * band["se"]
        joint_pointwise += bool(pointwise.all())
        crits.append(band["band_crit"].iloc[0])
    assert 0.91 <= joint_band / replications <= 0.99
    assert joint_pointwise / replications < 0.80  # 0.95 ** 8 = 0.66 if independent
    # eight nearly independent groups: the Sidak value is 2.73
    assert 2.55 < np.median(crits) < 2.90


def test_band_draws_depend_only_on_seed():
    psi, customer, labels = synthetic_scores(np.random.default_rng(4))
    first = bands.simultaneous_band(psi, customer, labels, np.random.default_rng(9), draws=300)
    again = bands.simultaneous_band(psi, customer, labels, np.random.default_rng(9), draws=300)
    pd.testing.assert_frame_equal(first, again)


def test_shrinkage_reduces_mean_squared_error():
    rng = np.random.default_rng(5)
    raw_error, shrunk_error = [], []
    for _ in range(300):
        truth = rng.normal(0.0, 0.05, 12)
        se = rng.uniform(0.03, 0.12, 12)
        estimates = truth + rng.normal(0, se)
        shrunk, shrunk_se, tau = bands.shrink(estimates, se, centre=0.0)
        assert np.all(np.abs(shrunk) <= np.abs(estimates) + 1e-12)  # pulled towards the centre
        assert np.all(shrunk_se <= se + 1e-12)
        raw_error.append(((estimates - truth) ** 2).mean())
        shrunk_error.append(((shrunk - truth) ** 2).mean())
    assert np.mean(shrunk_error) < 0.8 * np.mean(raw_error)


def test_shrinkage_leaves_estimates_alone_when_groups_clearly_differ():
    estimates, se = np.array([-1.0, 0.0, 1.0]), np.full(3, 0.01)
    shrunk, _, tau = bands.shrink(estimates, se, centre=0.0)
    assert tau == pytest.approx(np.sqrt(2 / 3), rel=1e-3)
    np.testing.assert_allclose(shrunk, estimates, atol=1e-3)


def test_shrinkage_pools_fully_when_no_between_group_variance():
    estimates, se = np.array([0.01, -0.01, 0.0]), np.full(3, 0.5)
    shrunk, shrunk_se, tau = bands.shrink(estimates, se, centre=0.2)
    assert tau == 0.0
    np.testing.assert_allclose(shrunk, 0.2)
    np.testing.assert_allclose(shrunk_se, 0.0)


def _record(value, n_units, n_treated):
    return EffectRecord("any", "cancel", 1, "dr", "ATE", 0.0, 0.0, 0.0, 0.0, n_units, n_treated, "",
                        segment_var="tier", segment_value=value)


def test_segment_inference_flags_small_groups_and_clear_bands():
    rng = np.random.default_rng(2)
    n = 4000
    tier = rng.choice(["Basic", "Pro", "Tiny"], size=n, p=[0.45, 0.45, 0.1])
    customer = np.arange(n) // 2
    psi = np.where(tier == "Pro", -2.0, 0.0) + rng.normal(0, 1, n)
    records = [_record("Basic", int((tier == "Basic").sum()), 600), _record("Pro", int((tier == "Pro").sum()), 600),
               _record("Tiny", int((tier == "Tiny").sum()), 50)]
    table = bands.segment_inference(psi, customer, pd.DataFrame({"tier": tier}), records, seed=1,
                                    cell=("any", "cancel", 1), centre=float(psi.mean()), draws=300)
    table = table.set_index("segment_value")
    assert table.loc["Pro", "clear"] and not table.loc["Basic", "clear"]
    assert table.loc[["Basic", "Pro"], "headline_eligible"].all() and not table.loc["Tiny", "headline_eligible"]
    assert (table["band_crit"] > Z_95).all()
    assert (table["band_high"] - table["band_low"] > 0).all()
    again = bands.segment_inference(psi, customer, pd.DataFrame({"tier": tier}), records, seed=1,
                                    cell=("any", "cancel", 1), centre=float(psi.mean()), draws=300)
    pd.testing.assert_frame_equal(table, again.set_index("segment_value"))


def test_bands_on_a_heterogeneous_panel_cover_every_planted_segment_effect():
    """Dr scores of the synthetic panel: each grouping's band covers its groups' true effects."""
    from analysis import schema
    from causal.estimate.design import select_cell
    from causal.estimate.inference import customer_folds
    from causal.segments.scores import fit_dr_scores, overall_effect, segment_effects
    from tests.causal.synthetic_segments import heterogeneous_panel

    panel, truth = heterogeneous_panel(3000, 7)
    cell = select_cell(panel, "any", "cancel", 1)
    scores = fit_dr_scores(cell, customer_folds(cell.rows["customer_id"], 2, 7), 7)
    records, _ = segment_effects(scores)
    table = bands.segment_inference(scores.psi, scores.groups, scores.rows, records, seed=7,
                                    cell=("any", "cancel", 1), centre=overall_effect(scores).estimate)
    tau = truth.set_index(["customer_id", "cohort"])["tau_any_cancel_h1"].loc[
        pd.MultiIndex.from_frame(cell.rows[["customer_id", "cohort"]])].to_numpy()
    for row in table.itertuples():
        mask = cell.rows[schema.SEGMENT_VARS[row.segment_var]].astype(str).to_numpy() == row.segment_value
        record = next(r for r in records if (r.segment_var, r.segment_value) == (row.segment_var, row.segment_value))
        assert row.band_low < record.ci_low and record.ci_high < row.band_high
        assert row.band_low <= tau[mask].mean() <= row.band_high, (row.segment_var, row.segment_value)
    assert len(table) == len(records) >= 12


def _two_groupings(rng, n=3000):
    tier = rng.choice(["Basic", "Pro"], size=n)
    region = rng.choice(["EU", "US", "APAC"], size=n)
    customer = np.arange(n) // 3
    psi = np.where(tier == "Pro", -1.0, 0.0) + np.where(region == "EU", 0.5, 0.0) + rng.normal(0, 1, n)
    rows = pd.DataFrame({"tier": tier, "region": region})
    records = [_record(v, int((tier == v).sum()), 600) for v in ("Basic", "Pro")]
    records += [EffectRecord("any", "cancel", 1, "dr", "ATE", 0.0, 0.0, 0.0, 0.0, int((region == v).sum()), 600, "",
                             segment_var="region", segment_value=v) for v in ("APAC", "EU", "US")]
    return psi, customer, rows, records


def test_the_groupings_of_a_cell_share_one_joint_draw():
    """segment_inference draws every grouping's deviations jointly, once per cell; each band is its own max-|t|."""
    from causal.estimate.inference import derived_seed

    psi, customer, rows, records = _two_groupings(np.random.default_rng(3))
    table = bands.segment_inference(psi, customer, rows, records, seed=4, cell=("any", "cancel", 1),
                                    centre=float(psi.mean()), draws=400)
    influences, parts = [], []
    for segment_var, values in (("tier", ["Basic", "Pro"]), ("region", ["APAC", "EU", "US"])):
        labels = pd.Categorical(rows[segment_var], categories=values).codes.astype(int)
        estimates, influence, se = bands.customer_influence(psi, customer, labels)
        influences.append(influence)
        parts.append((segment_var, estimates, se))
    drawn = bands.joint_group_draws(influences, np.random.default_rng(derived_seed(4, "segment_bands", "any",
                                                                                  "cancel", 1)), 400)
    assert [d.shape for d in drawn] == [(400, 2), (400, 3)]
    for (segment_var, estimates, se), deviations in zip(parts, drawn):
        band = bands.band_from_draws(estimates, se, deviations)
        mine = table.loc[table["segment_var"] == segment_var]
        np.testing.assert_array_equal(mine["band_low"].to_numpy(), band["band_low"].to_numpy())
        np.testing.assert_array_equal(mine["band_crit"].to_numpy(), band["band_crit"].to_numpy())
    # two groupings, two maxima over different groups: different critical values from the same draws
    assert table.loc[table["segment_var"] == "tier", "band_crit"].iloc[0] != \
        table.loc[table["segment_var"] == "region", "band_crit"].iloc[0]


def test_joint_draws_have_the_law_of_customer_multipliers():
    """The Gaussian draws of xi' S have covariance S'S, and give the critical value one multiplier per customer gives."""
    psi, customer, rows, records = _two_groupings(np.random.default_rng(5), n=1500)
    influences, ses = [], []
    for segment_var, values in (("tier", ["Basic", "Pro"]), ("region", ["APAC", "EU", "US"])):
        labels = pd.Categorical(rows[segment_var], categories=values).codes.astype(int)
        _, influence, se = bands.customer_influence(psi, customer, labels)
        influences.append(influence)
        ses.append(se)
    stacked = np.concatenate(influences, axis=1)
    target = stacked.T @ stacked
    drawn = np.concatenate(bands.joint_group_draws(influences, np.random.default_rng(0), 40_000), axis=1)
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), target, rtol=0, atol=0.04 * np.abs(target).max())
    # the same critical value as the per-customer multiplier bootstrap, up to Monte Carlo error
    multipliers = np.random.default_rng(1).standard_normal((40_000, stacked.shape[0]))
    for k, (influence, se) in enumerate(zip(influences, ses)):
        by_customer = np.quantile((np.abs(multipliers @ influence) / se).max(axis=1), 0.95)
        joint = np.quantile((np.abs(drawn[:, :2] if k == 0 else drawn[:, 2:]) / se).max(axis=1), 0.95)
        assert joint == pytest.approx(by_customer, abs=0.03)
