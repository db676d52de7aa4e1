"""Parameters of the structural model, in one dataclass written to truth.json's ``planted`` block.

Hazards are monthly probabilities. Team and tier terms are indexed by
:data:`constants.TEAMS` and tier rank (Free, Starter, Basic, Pro, Enterprise).
The causal effect of integrations enters ONLY through ``exposure`` =
``log(1 + marketplace + w * custom)`` (behavioural integrations at BOM), scaled
by ``effect_scale``; nothing else in the model depends on integrations.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ModelParameters:
    """Coefficients of the structural model (see docs/simulator.md)."""

    # --- population ---------------------------------------------------------
    share_present_first_month: float = 42896 / 63882  # customers with a row in the first month
    joiner_month_weights: tuple = (1.0, 1.0, 1.0, 1.0, 1.0)  # relative joins in months 1..5
    team_scale: dict = field(default_factory=lambda: {
        "Low-touch": -0.35, "High-touch": 0.7, "Direct": 0.25, "Partner": 0.0, "Unowned": -0.3})
    # initial tier from the latent account scale: cut points for Free|Starter|Pro|Enterprise
    tier_cuts: tuple = (-2.5, -1.2, 1.45)
    joiner_tier_shift: float = -0.45  # new customers start lower
    basic_share_of_starter_pro: float = 0.22  # legacy Basic among existing Starter/Pro customers
    tier_price: tuple = (0.0, 95.0, 260.0, 520.0, 1500.0)  # median BOM MRR by tier, dollars
    mrr_scale_loading: float = 0.35  # log-MRR per unit of account scale
    mrr_noise_sd: float = 0.45
    # initial behavioural integrations: zero with int_zero_prob, else 1 + negative binomial;
    # overall mean by tier, the positive part scaled by exp(loading * within-tier account scale)
    int_mean_by_tier: tuple = (1.2, 1.45, 1.5, 3.25, 5.5)
    int_zero_prob: tuple = (0.38, 0.35, 0.33, 0.13, 0.07)
    int_zero_scale_loading: float = 0.6  # logit of zero integrations falls with within-tier scale
    joiner_extra_zero_prob: float = 0.1
    int_scale_loading: float = 0.5
    int_dispersion: float = 1.2  # negative-binomial shape (smaller = more zeros, longer tail)
    joiner_int_factor: float = 0.6
    custom_share: tuple = (0.065, 0.075, 0.09, 0.11, 0.14)  # behavioural custom share by tier
    hidden_custom_prob: tuple = (0.55, 0.65, 0.8, 0.82, 0.9)  # untracked custom integrations, by tier
    hidden_custom_mean: tuple = (0.4, 0.6, 1.2, 1.45, 2.6)  # extra count beyond the first, by tier

    # --- adoption (logit of a monthly adoption event) -----------------------
    adopt_mkt_intercept: tuple = (-3.0, -3.1, -2.15, -1.7, -1.8, -1.8)  # by calendar month
    adopt_cust_intercept: tuple = (-4.4, -4.5, -3.85, -3.5, -3.6, -3.6)
    adopt_tier: float = 0.22  # per tier rank
    adopt_size: float = 0.25  # per unit of size scale
    adopt_team: dict = field(default_factory=lambda: {
        "Low-touch": -0.25, "High-touch": 0.45, "Direct": 0.15, "Partner": 0.0, "Unowned": -0.3})
    adopt_growth: float = 4.0  # per unit of last month's log-MRR change (clipped to +-0.25)
    adopt_stock: float = 0.25  # per log(1 + integrations)
    adopt_extra_ids_mean: float = 0.6  # new IDs per adoption event = 1 + geometric extra
    removal_prob: float = 0.035  # removal in a month without adoption (needs >= 1 integration)
    forced_kind_marketplace: float = 0.8  # kind of a forced adoption: marketplace with this probability

    # --- cancellation (probability of a cancellation event) -----------------
    cancel_base: tuple = (0.0, 0.055, 0.052, 0.046, 0.040)  # by tier (Free has nothing to cancel)
    cancel_size: float = -0.15
    cancel_team: dict = field(default_factory=lambda: {
        "Low-touch": 0.08, "High-touch": -0.15, "Direct": -0.03, "Partner": 0.0, "Unowned": 0.1})
    cancel_growth: float = -2.0
    cancel_late_months: tuple = (0.0, 0.0, 0.1, 0.15, 0.3, 0.35)  # calendar trend (log hazard)
    full_cancel_share: tuple = (0.0, 0.6, 0.45, 0.4, 0.3)  # by tier
    partial_fraction: tuple = (0.1, 0.65)  # uniform range of the share cancelled

    # --- tier moves ----------------------------------------------------------
    upgrade_base: tuple = (0.03, 0.025, 0.025, 0.02, 0.0)  # by tier
    downgrade_base: tuple = (0.0, 0.004, 0.015, 0.007, 0.006)
    upgrade_size: float = 0.35
    upgrade_team: dict = field(default_factory=lambda: {
        "Low-touch": -0.2, "High-touch": 0.45, "Direct": 0.2, "Partner": 0.0, "Unowned": -0.3})
    upgrade_growth: float = 3.0

    # --- MRR path --------------------------------------------------------------
    growth_trend_sd: float = 0.02  # customer-specific monthly log growth
    growth_trend_mean: float = 0.02
    growth_noise_sd: float = 0.03
    price_change_prob: float = 0.03
    price_change_range: tuple = (-0.1, 0.15)

    # --- observation ---------------------------------------------------------
    silent_exit_base: float = 0.042  # rows stop without a cancellation (monthly)
    silent_exit_small: float = 0.35  # log-hazard shift for size 1 to 25
    silent_exit_joiner: float = 0.5  # log-hazard shift in a joiner's first two months
    gap_prob: float = 0.006  # a missing month without cancellation
    missing_tier_prob: float = 0.015
    ent_label_prob: float = 0.12  # Enterprise written "Ent"
    empty_money_prob: float = 0.002  # BOM / EOM value written as an empty cell
    empty_zero_cancel_prob: float = 0.1  # zero cancellation written as empty instead of 0
    stale_listing_prob: float = 0.3  # a removed integration still listed the next month
    orphan_rows_prob: float = 0.05  # a leaver's integrations listed one more month
    upper_custom_prob: float = 0.03  # custom ID written CUSTOM_...
    lower_custom_prob: float = 0.01  # custom ID written custom_...

    # --- planted causal effect (scaled by effect_scale) ------------------------
    custom_weight_cancel: float = 1.5  # a custom integration counts this much in the cancel exposure
    custom_weight_upgrade: float = 0.5
    cancel_effect_team: dict = field(default_factory=lambda: {
        "Low-touch": 0.45, "High-touch": 0.7, "Direct": 0.6, "Partner": 0.03, "Unowned": 0.4})
    cancel_effect_tier: tuple = (0.0, 0.7, 1.0, 1.0, 1.25)
    upgrade_effect_team: dict = field(default_factory=lambda: {
        "Low-touch": 0.4, "High-touch": 0.55, "Direct": 0.5, "Partner": 0.03, "Unowned": 0.3})
    upgrade_effect_tier: tuple = (1.2, 1.0, 1.0, 0.8, 0.0)

    # --- unmeasured confounding (never written to the extracts) -------------------
    # a stable account factor U ~ N(0, 1) ("how engaged the admin is"): adds
    # hidden_factor * U to the adoption logits and subtracts it from the log
    # cancellation hazard; 0 (the default) leaves the model and its files unchanged
    hidden_factor: float = 0.0

    def as_dict(self) -> dict:
        """Plain-JSON form for truth.json (``hidden_factor`` only when it is not 0)."""
        values = asdict(self)
        if not self.hidden_factor:
            values.pop("hidden_factor")
        return values
