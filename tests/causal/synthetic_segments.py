"""Synthetic panels whose adoption effect differs by segment and tier, with per-unit truth.

Every customer-month draws a marketplace adoption ``M`` and a custom adoption
``C`` (each likelier for higher tiers and more MRR: confounded); treatment
``any`` is ``M or C``. Adoption lowers the probability of a cancellation by
``tau_m(x) = SEGMENT_CANCEL_EFFECT[segment] * TIER_MULTIPLIER[tier]`` for a
marketplace adoption and ``CUSTOM_SHARE * tau_m(x)`` for a custom one (upgrade:
the same shape, positive). Potential outcomes share their uniforms, so
``y1 - y0`` per unit is known; forcing ``any = 1`` on a non-adopter adds a
marketplace adoption with probability 0.6, else a custom one (as the
project's simulator does). ``cancel_dollars`` is the cancellation times a fixed
share of BOM MRR.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import schema

COHORTS = ("2019-11", "2019-12", "2020-01", "2020-02", "2020-03")  # last one flagged
TIERS = ("Free", "Starter", "Basic", "Pro", "Enterprise")
SEGMENTS = ("NAM Low-touch", "NAM Direct", "International Direct", "NAM Partner", "NAM High-touch",
            "International High-touch")
SEGMENT_SHARES = (0.36, 0.2, 0.2, 0.12, 0.1, 0.02)  # the last one is too small and gets skipped
SEGMENT_CANCEL_EFFECT = {"NAM Low-touch": -0.04, "NAM Direct": -0.03, "International Direct": -0.02,
                         "NAM Partner": 0.0, "NAM High-touch": -0.06, "International High-touch": -0.03}
TIER_MULTIPLIER = {"Free": 0.5, "Starter": 0.7, "Basic": 1.0, "Pro": 1.2, "Enterprise": 1.4}
UPGRADE_SCALE = -0.8  # upgrade effect = UPGRADE_SCALE * cancel effect
CUSTOM_SHARE = 0.4
MARKETPLACE_KIND_SHARE = 0.6
SIZES = ("1 to 25", "26 to 200", "201 or Above", "Undefined")
DOLLAR_SHARE = 0.6  # cancelled dollars = DOLLAR_SHARE * BOM MRR when a cancellation happens


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def heterogeneous_panel(n_customers: int = 4000, seed: int = 0,
                        effect_scale: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the panel (treatments any, marketplace, custom) and per-unit truth for ``any``.

    ``effect_scale`` multiplies every planted effect. Above 1 a probability can
    leave [0, 1]; the realized ``y1 - y0`` stay exact, the ``tau_*`` columns do not.

    Returns
    -------
    (DataFrame, DataFrame)
        The panel in the schema of ``analysis.panel.stage`` and the truth: one row per
        panel row of treatment ``any`` with ``customer_id``, ``cohort`` and
        ``<outcome>_h<h>_y1`` / ``_y0`` (NaN where the observed outcome is NaN),
        plus ``tau_<outcome>_h<h>`` (expected effect given the unit's state) for
        every variant as ``tau_<variant>_<outcome>_h<h>``.
    """
    rng = np.random.default_rng(seed)
    n_cohorts = len(COHORTS)
    segment = rng.choice(len(SEGMENTS), size=n_customers, p=SEGMENT_SHARES)
    segment_label = np.array(SEGMENTS)[segment]
    tier_idx = rng.choice(5, size=n_customers, p=[0.05, 0.2, 0.1, 0.5, 0.15])
    size = rng.choice(len(SIZES), size=n_customers, p=[0.5, 0.3, 0.12, 0.08])
    base_mrr = np.where(tier_idx == 0, 0.0, np.exp(rng.normal(4.5 + 0.5 * tier_idx, 0.6)))
    ids = np.array([f"H{k:08d}" for k in rng.choice(10**8, size=n_customers, replace=False)])
    seg_effect = effect_scale * np.array([SEGMENT_CANCEL_EFFECT[s] for s in segment_label])
    n_int = rng.poisson(1 + tier_idx).astype(float)
    prev_log_mrr = np.log1p(base_mrr)

    panel_frames, truth_frames = [], []
    for k, cohort in enumerate(COHORTS):
        mrr = base_mrr * np.exp(rng.normal(0, 0.1, n_customers))
        log_mrr = np.log1p(mrr)
        d_log_mrr = log_mrr - prev_log_mrr if k else np.zeros(n_customers)
        prev_log_mrr = log_mrr
        tier_mult = np.array([TIER_MULTIPLIER[TIERS[i]] for i in tier_idx])
        tau_m = seg_effect * tier_mult
        tau_c = CUSTOM_SHARE * tau_m
        score = 0.35 * tier_idx + 0.25 * (log_mrr - 5.5) + 2.0 * d_log_mrr + 0.3 * (size == 2)
        marketplace = (rng.random(n_customers) < _sigmoid(-2.0 + score)).astype(int)
        custom = (rng.random(n_customers) < _sigmoid(-2.4 + 0.8 * score)).astype(int)
        adopted = marketplace | custom
        forced_kind_marketplace = rng.random(n_customers) < MARKETPLACE_KIND_SHARE
        p_cancel0 = np.clip(0.25 - 0.06 * score + 0.03 * np.sin(3 * log_mrr), 0.15, 0.5)
        p_upgrade0 = np.clip(0.12 + 0.04 * score, 0.05, 0.4)
        rows = {
            "customer_id": ids, "cohort": cohort, "flagged": k == n_cohorts - 1,
            "tier_rank": tier_idx.astype(float), "tier_missing": 0.0, "log_mrr_bom": log_mrr,
            "mrr_missing": 0.0, "n_int": n_int.copy(),
            "d_n_int_prev": rng.integers(0, 2, n_customers).astype(float) if k else 0.0,
            "d_log_mrr_prev": d_log_mrr,
            "cancel_prev": (rng.random(n_customers) < 0.1).astype(float) if k else 0.0,
            # the negative-control outcome (a cancellation in t-2), from its own stream so the others are unchanged
            "cancel_lag2": ((np.random.default_rng([seed, 2, k]).random(n_customers) < 0.1).astype(float)
                            if k >= 2 else np.full(n_customers, np.nan)),
            "history_missing": float(k == 0), "months_before": float(k),
            "tier": np.array(TIERS)[tier_idx], "customer_segment": segment_label,
            "region": np.where(np.char.startswith(segment_label.astype(str), "NAM"), "NAM", "International"),
            "team": np.array([s.split(" ", 1)[1] for s in segment_label]),
            "employee_size": np.array(SIZES)[size], "mrr_bom": mrr,
            "eligible_cancel": mrr > 0, "eligible_upgrade": tier_idx < 4,
        }
        # effect of forcing each variant to 1 vs 0, the other kind following its draw
        effect_any1 = np.where(adopted == 1, marketplace * tau_m + custom * tau_c,
                               np.where(forced_kind_marketplace, tau_m, tau_c))
        effects = {  # (effect at 1 relative to 0, baseline share of the factual other kind)
            "any": (effect_any1, np.zeros(n_customers)),
            "marketplace": (tau_m, custom * tau_c),
            "custom": (tau_c, marketplace * tau_m),
        }
        truth = {"customer_id": ids, "cohort": cohort}
        outcome_cols = {}
        for h in schema.HORIZONS:
            observed = k + h < n_cohorts
            scale = 1 + 0.25 * (h - 1)
            u_cancel, u_upgrade = rng.random(n_customers), rng.random(n_customers)
            p_c0 = np.clip(1 - (1 - p_cancel0) ** h, 0.05, 0.8)
            p_u0 = np.clip(1 - (1 - p_upgrade0) ** h, 0.05, 0.8)
            factual_shift = marketplace * tau_m + custom * tau_c
            cancel = (u_cancel < p_c0 + scale * factual_shift).astype(float)
            upgrade = (u_upgrade < p_u0 + UPGRADE_SCALE * scale * factual_shift).astype(float)
            ok_cancel = observed & (mrr > 0)
            ok_upgrade = observed & (tier_idx < 4) & (rng.random(n_customers) > 0.01)  # ~1% censored
            nan = np.full(n_customers, np.nan)
            outcome_cols[f"cancel_h{h}"] = np.where(ok_cancel, cancel, nan)
            outcome_cols[f"upgrade_h{h}"] = np.where(ok_upgrade, upgrade, nan)
            outcome_cols[f"cancel_dollars_h{h}"] = np.where(ok_cancel, cancel * DOLLAR_SHARE * mrr, nan)
            outcome_cols[f"mrr_change_h{h}"] = np.where(ok_cancel, rng.normal(0, 50, n_customers), nan)
            # potential outcomes of `any` from the same uniforms
            y1_c = (u_cancel < p_c0 + scale * effect_any1).astype(float)
            y0_c = (u_cancel < p_c0).astype(float)
            y1_u = (u_upgrade < p_u0 + UPGRADE_SCALE * scale * effect_any1).astype(float)
            y0_u = (u_upgrade < p_u0).astype(float)
            truth[f"cancel_h{h}_y1"], truth[f"cancel_h{h}_y0"] = np.where(ok_cancel, y1_c, nan), np.where(ok_cancel, y0_c, nan)
            truth[f"upgrade_h{h}_y1"], truth[f"upgrade_h{h}_y0"] = np.where(ok_upgrade, y1_u, nan), np.where(ok_upgrade, y0_u, nan)
            truth[f"cancel_dollars_h{h}_y1"] = np.where(ok_cancel, y1_c * DOLLAR_SHARE * mrr, nan)
            truth[f"cancel_dollars_h{h}_y0"] = np.where(ok_cancel, y0_c * DOLLAR_SHARE * mrr, nan)
            for variant, (effect, _) in effects.items():
                truth[f"tau_{variant}_cancel_h{h}"] = scale * effect
                truth[f"tau_{variant}_upgrade_h{h}"] = UPGRADE_SCALE * scale * effect
                truth[f"tau_{variant}_cancel_dollars_h{h}"] = scale * effect * DOLLAR_SHARE * mrr
        base = pd.DataFrame({**rows, **outcome_cols})
        for variant, treated in (("any", adopted), ("marketplace", marketplace), ("custom", custom)):
            variant_rows = base.copy()
            variant_rows["treatment"] = variant
            variant_rows["treated"] = treated.astype(int)
            panel_frames.append(variant_rows)
        truth_frames.append(pd.DataFrame(truth))
        n_int = n_int + adopted
    panel = pd.concat(panel_frames, ignore_index=True)
    panel["flagged"] = panel["flagged"].astype(bool)
    panel = panel.sort_values(list(schema.PANEL_KEY), kind="stable").reset_index(drop=True)
    truth = pd.concat(truth_frames, ignore_index=True)
    return panel, truth
