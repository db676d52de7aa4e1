"""Small synthetic panels with a known, confounded effect, in the panel's schema.

The panel has every column of ``analysis.schema`` (keys, ``treated``, ``flagged``,
covariates, eligibility, outcomes ``<outcome>_h<h>``, ``mrr_bom``) for the four
treatment variants. Adoption is likelier for higher tiers, more MRR and growing
customers; the same customers cancel less and upgrade more without any
adoption, so the naive difference overstates the benefit. The planted effect is
additive on the probability scale and the same for every unit, so ATE = ATT =
the planted value (up to the clipping of probabilities, which the generator
avoids by keeping baseline probabilities inside [0.04, 0.6]).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import schema

SYNTHETIC_COHORTS = ("2019-11", "2019-12", "2020-01", "2020-02", "2020-03")
_TIERS = ("Free", "Starter", "Basic", "Pro", "Enterprise")
_SEGMENTS = ("NAM Low-touch", "NAM Direct", "International Direct", "NAM Partner", "NAM High-touch")
_SIZES = ("1 to 25", "26 to 200", "201 or Above", "Undefined")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def synthetic_panel(
    n_customers: int = 3000,
    seed: int = 0,
    effect_cancel: float = -0.04,
    effect_upgrade: float = 0.05,
    confounding: float = 1.0,
    cohorts: tuple[str, ...] = SYNTHETIC_COHORTS,
    flagged_last: bool = True,
) -> pd.DataFrame:
    """Build a panel with a planted effect of adoption on ``cancel`` and ``upgrade``.

    Parameters
    ----------
    n_customers : int
        Customers; each appears in every cohort (clustered rows).
    seed : int
        Seed of the numpy Generator.
    effect_cancel, effect_upgrade : float
        Planted additive effect on the probability of the binary outcome at every
        horizon (and ``effect * 500`` on ``cancel_dollars``).
    confounding : float
        Scale of the covariates' shared influence on adoption and outcomes.
    cohorts : tuple of str
        Cohort months ``YYYY-MM`` in calendar order.
    flagged_last : bool
        Mark the last cohort as a tracking-change transition (``flagged``).

    Returns
    -------
    DataFrame
        One row per customer, cohort and treatment variant.
    """
    rng = np.random.default_rng(seed)
    n_cohorts = len(cohorts)
    # customer-level traits
    tier_idx = rng.choice(5, size=n_customers, p=[0.05, 0.2, 0.1, 0.5, 0.15])
    segment = rng.choice(len(_SEGMENTS), size=n_customers)
    size = rng.choice(len(_SIZES), size=n_customers, p=[0.5, 0.3, 0.12, 0.08])
    frailty = rng.normal(0, 1.0, size=n_customers)  # outcome-only, shared by a customer's rows
    base_mrr = np.where(tier_idx == 0, 0.0, np.exp(rng.normal(4.5 + 0.5 * tier_idx, 0.6)))
    ids = np.array([f"H{k:08d}" for k in rng.choice(10**8, size=n_customers, replace=False)])

    frames = []
    n_int = rng.poisson(1 + tier_idx, size=n_customers).astype(float)
    prev_log_mrr = np.log1p(base_mrr)
    for k, cohort in enumerate(cohorts):
        growth = rng.normal(0, 0.1, size=n_customers)
        mrr = base_mrr * np.exp(growth)
        log_mrr = np.log1p(mrr)
        d_log_mrr = log_mrr - prev_log_mrr if k > 0 else np.zeros(n_customers)
        prev_log_mrr = log_mrr
        score = confounding * (0.35 * tier_idx + 0.25 * (log_mrr - 5.5) + 2.0 * d_log_mrr
                               + 0.3 * (size == 2))  # observed confounders only
        p_adopt = _sigmoid(-1.6 + score)
        treated = (rng.random(n_customers) < p_adopt).astype(int)
        p_cancel0 = np.clip(0.22 - 0.05 * score + 0.05 * frailty, 0.04, 0.6)
        p_upgrade0 = np.clip(0.08 + 0.04 * score - 0.03 * frailty, 0.04, 0.6)
        row = {
            "customer_id": ids,
            "cohort": cohort,
            "flagged": flagged_last and k == n_cohorts - 1,
            "tier_rank": tier_idx.astype(float),
            "tier_missing": 0.0,
            "log_mrr_bom": log_mrr,
            "mrr_missing": 0.0,
            "n_int": n_int.copy(),
            "d_n_int_prev": rng.integers(0, 2, size=n_customers).astype(float) if k else 0.0,
            "d_log_mrr_prev": d_log_mrr,
            "cancel_prev": (rng.random(n_customers) < 0.1).astype(float) if k else 0.0,
            # the negative-control outcome (a cancellation in t-2), from its own stream so the others are unchanged
            "cancel_lag2": ((np.random.default_rng([seed, 2, k]).random(n_customers) < 0.1).astype(float)
                            if k >= 2 else np.full(n_customers, np.nan)),
            "history_missing": float(k == 0),
            "months_before": float(k),
            "tier": np.array(_TIERS)[tier_idx],
            "customer_segment": np.array(_SEGMENTS)[segment],
            "region": np.where(np.array(_SEGMENTS)[segment] == "International Direct", "International", "NAM"),
            "team": np.array(["Low-touch", "Direct", "Direct", "Partner", "High-touch"])[segment],
            "employee_size": np.array(_SIZES)[size],
            "mrr_bom": mrr,
            "eligible_cancel": mrr > 0,
            "eligible_upgrade": tier_idx < 4,
        }
        for h in schema.HORIZONS:
            observed = k + h < n_cohorts + 1  # the window fits in the data
            u_c, u_u = rng.random(n_customers), rng.random(n_customers)
            p_c = np.clip(1 - (1 - p_cancel0) ** h, 0.04, 0.6) + effect_cancel * treated
            p_u = np.clip(1 - (1 - p_upgrade0) ** h, 0.04, 0.6) + effect_upgrade * treated
            cancel = (u_c < p_c).astype(float)
            upgrade = (u_u < p_u).astype(float)
            nan = np.full(n_customers, np.nan)
            row[f"cancel_h{h}"] = np.where(observed & (mrr > 0), cancel, nan)
            row[f"upgrade_h{h}"] = np.where(observed & (tier_idx < 4) & (h + k < n_cohorts), upgrade, nan)
            dollars = cancel * mrr * rng.uniform(0.2, 1.0, n_customers)
            row[f"cancel_dollars_h{h}"] = np.where(np.isnan(row[f"cancel_h{h}"]), nan, dollars)
            row[f"mrr_change_h{h}"] = np.where(observed & (mrr > 0), rng.normal(0, 50, n_customers), nan)
        n_int = n_int + treated
        base = pd.DataFrame(row)
        base["treated"] = treated
        for variant in schema.TREATMENTS:
            variant_rows = base.copy()
            variant_rows["treatment"] = variant
            if variant == "first":
                variant_rows = variant_rows.loc[variant_rows["n_int"] == 0]
            frames.append(variant_rows)
    panel = pd.concat(frames, ignore_index=True)
    panel["treated"] = panel["treated"].astype(int)
    panel["flagged"] = panel["flagged"].astype(bool)
    return panel.sort_values(list(schema.PANEL_KEY), kind="stable").reset_index(drop=True)


def planted_effect(outcome: str, effect_cancel: float = -0.04, effect_upgrade: float = 0.05) -> float:
    """The planted ATE (= ATT) of a binary outcome in :func:`synthetic_panel`."""
    return {"cancel": effect_cancel, "upgrade": effect_upgrade}[outcome]
