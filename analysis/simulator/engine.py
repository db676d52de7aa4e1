"""The month-by-month structural model: one vectorised step per month, replayable under forcing.

State at the beginning of month m (BOM) -> what happens during m -> state at BOM m+1:

1. cancellation (full or partial), tier moves and MRR change during m depend only on the
   BOM state (tier, MRR, last month's MRR growth, behavioural integrations) and static
   attributes; never on the adoption in month m;
2. adoption in month m (a marketplace and a custom event, each Bernoulli given the BOM
   state) adds >= 1 integrations at BOM m+1; removals happen only in months without
   adoption, so the count rises exactly when an adoption happens.

Integrations change outcomes only through ``exposure`` (scaled by ``effect_scale``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.simulator import constants as C
from analysis.simulator.draws import Draws
from analysis.simulator.params import ModelParameters
from analysis.simulator.population import Population

VARIANTS_FORCED = ("any", "marketplace", "custom")
_UP = np.array([C.STARTER, C.PRO, C.PRO, C.ENTERPRISE, C.ENTERPRISE], dtype=np.int8)
_DOWN = np.array([C.FREE, C.FREE, C.STARTER, C.STARTER, C.PRO], dtype=np.int8)
_GROWTH_CLIP = 0.25
_MAX_EXTRA_IDS = 4


@dataclass
class Forcing:
    """Adoption in one month set by hand: ``variant`` in any / marketplace / custom, ``value`` 0 or 1."""

    variant: str
    value: int


@dataclass
class MonthState:
    """BOM state of a subset ``idx`` of customers."""

    idx: np.ndarray
    tier: np.ndarray  # int8
    mrr: np.ndarray  # int64 cents
    marketplace: np.ndarray  # int16 behavioural marketplace integrations
    custom: np.ndarray  # int16 behavioural (tracked) custom integrations
    prev_log_mrr: np.ndarray  # float, log1p(BOM MRR dollars) of the month before; NaN if none

    def take(self, keep: np.ndarray) -> "MonthState":
        return MonthState(self.idx[keep], self.tier[keep], self.mrr[keep], self.marketplace[keep],
                          self.custom[keep], self.prev_log_mrr[keep])


@dataclass
class MonthEvents:
    """What happened during one month to the customers of a MonthState."""

    cancel: np.ndarray  # int64 cents cancelled (>= 1 when a cancellation happened)
    full: np.ndarray  # bool, full cancellation: the customer leaves
    eom: np.ndarray  # int64 cents, MRR at the end of the month
    tier_next: np.ndarray  # int8, tier at BOM m+1
    adopt_marketplace: np.ndarray  # bool
    adopt_custom: np.ndarray  # bool
    add_marketplace: np.ndarray  # int16, IDs added
    add_custom: np.ndarray
    remove_marketplace: np.ndarray  # int16, IDs removed
    remove_custom: np.ndarray


def exposure(marketplace: np.ndarray, custom: np.ndarray, custom_weight: float) -> np.ndarray:
    """``log(1 + marketplace + w * custom)``: how integrations enter the hazards."""
    return np.log1p(marketplace + custom_weight * custom)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def adoption_probabilities(m: int, s: MonthState, pop: Population, p: ModelParameters) -> tuple:
    """Monthly probabilities of a marketplace and of a custom adoption event, given BOM state."""
    i = s.idx
    growth = _growth(s)
    team = np.array([p.adopt_team[t] for t in C.TEAMS])[pop.team_code[i]]
    common = (p.adopt_tier * s.tier + p.adopt_size * pop.size_scale[i] + team
              + p.adopt_growth * growth + p.adopt_stock * np.log1p(s.marketplace + s.custom))
    if p.hidden_factor and pop.engagement is not None:
        common = common + p.hidden_factor * pop.engagement[i]
    return _sigmoid(p.adopt_mkt_intercept[m] + common), _sigmoid(p.adopt_cust_intercept[m] + common)


def _growth(s: MonthState) -> np.ndarray:
    log_mrr = np.log1p(s.mrr / 100.0)
    growth = np.where(np.isnan(s.prev_log_mrr), 0.0, log_mrr - np.nan_to_num(s.prev_log_mrr))
    return np.clip(growth, -_GROWTH_CLIP, _GROWTH_CLIP)


def _extra_ids(u: np.ndarray, mean_extra: float) -> np.ndarray:
    """Geometric number of further IDs (0, 1, ...) with the given mean, by inverse CDF."""
    q = mean_extra / (1.0 + mean_extra)
    extra = np.floor(np.log1p(-np.minimum(u.astype(np.float64), 1 - 1e-12)) / np.log(q))
    return np.minimum(extra, _MAX_EXTRA_IDS).astype(np.int16)


def step(m: int, s: MonthState, pop: Population, draws: Draws, p: ModelParameters,
         effect_scale: float, forcing: Forcing | None = None) -> MonthEvents:
    """Simulate month ``m`` for the customers of ``s``; ``forcing`` overrides this month's adoption."""
    i = s.idx
    u = {name: draws[name][m, i] for name in (
        "cancel", "full", "fraction", "tier", "adopt_marketplace", "adopt_custom",
        "extra_marketplace", "extra_custom", "forced_kind", "remove", "remove_kind", "price", "price_size")}
    tier = s.tier.astype(np.int64)
    growth = _growth(s)
    team = pop.team_code[i]
    size = pop.size_scale[i]

    # --- cancellation: depends on BOM state only ------------------------------------
    cancel_effect = (np.array([p.cancel_effect_team[t] for t in C.TEAMS])[team]
                     * np.array(p.cancel_effect_tier)[tier])
    x_cancel = exposure(s.marketplace, s.custom, p.custom_weight_cancel)
    log_hazard = (p.cancel_size * size + np.array([p.cancel_team[t] for t in C.TEAMS])[team]
                  + p.cancel_growth * growth + p.cancel_late_months[m]
                  - effect_scale * cancel_effect * x_cancel)
    if p.hidden_factor and pop.engagement is not None:
        log_hazard = log_hazard - p.hidden_factor * pop.engagement[i]
    p_cancel = np.minimum(np.array(p.cancel_base)[tier] * np.exp(log_hazard), 0.6) * (s.mrr > 0)
    cancel_event = u["cancel"] < p_cancel
    full = cancel_event & (u["full"] < np.array(p.full_cancel_share)[tier])
    partial = cancel_event & ~full
    lo, hi = p.partial_fraction
    fraction = np.where(partial, lo + (hi - lo) * u["fraction"], 0.0)

    # --- tier moves -----------------------------------------------------------------
    upgrade_effect = (np.array([p.upgrade_effect_team[t] for t in C.TEAMS])[team]
                      * np.array(p.upgrade_effect_tier)[tier])
    x_upgrade = exposure(s.marketplace, s.custom, p.custom_weight_upgrade)
    p_up = np.array(p.upgrade_base)[tier] * np.exp(
        p.upgrade_size * size + np.array([p.upgrade_team[t] for t in C.TEAMS])[team]
        + p.upgrade_growth * growth + effect_scale * upgrade_effect * x_upgrade)
    p_up = np.minimum(p_up, 0.5)
    p_down = np.array(p.downgrade_base)[tier]
    up = (u["tier"] < p_up) & ~full
    down = (u["tier"] >= p_up) & (u["tier"] < p_up + p_down) & ~full
    tier_next = np.where(up, _UP[tier], np.where(down, _DOWN[tier], tier)).astype(np.int8)

    # --- MRR during the month -----------------------------------------------------------
    price = np.array(p.tier_price)
    shock = np.exp(pop.growth_trend[i] + p.growth_noise_sd * draws.normal[m, i])
    lo_p, hi_p = p.price_change_range
    change = np.where(u["price"] < p.price_change_prob, 1.0 + lo_p + (hi_p - lo_p) * u["price_size"], 1.0)
    eom = s.mrr * shock * change * (1.0 - fraction)
    moved = tier_next != tier
    from_free = moved & (s.mrr == 0)
    ratio = np.divide(price[tier_next], price[tier], out=np.ones(tier.size), where=price[tier] > 0)
    eom = np.where(moved, eom * ratio, eom)
    eom = np.where(from_free, price[tier_next] * pop.price_multiplier[i] * 100.0, eom)
    eom = np.where(tier_next == C.FREE, 0.0, eom)
    cancel = np.where(full, s.mrr, np.maximum(np.round(s.mrr * fraction), 1) * partial).astype(np.int64)
    eom = np.where(full, 0, np.round(eom)).astype(np.int64)

    # --- adoption in month m (affects BOM m+1 and later only) ---------------------------
    p_mkt, p_cust = adoption_probabilities(m, s, pop, p)
    adopt_mkt = u["adopt_marketplace"] < p_mkt
    adopt_cust = u["adopt_custom"] < p_cust
    if forcing is not None:
        value = bool(forcing.value)
        if forcing.variant == "any":
            if value:
                none = ~(adopt_mkt | adopt_cust)
                kind_mkt = u["forced_kind"] < p.forced_kind_marketplace
                adopt_mkt = adopt_mkt | (none & kind_mkt)
                adopt_cust = adopt_cust | (none & ~kind_mkt)
            else:
                adopt_mkt = np.zeros_like(adopt_mkt)
                adopt_cust = np.zeros_like(adopt_cust)
        elif forcing.variant == "marketplace":
            adopt_mkt = np.full_like(adopt_mkt, value)
        elif forcing.variant == "custom":
            adopt_cust = np.full_like(adopt_cust, value)
        else:
            raise ValueError(f"unknown forced variant {forcing.variant!r}")
    adopt_mkt &= ~full
    adopt_cust &= ~full
    add_mkt = adopt_mkt * (1 + _extra_ids(u["extra_marketplace"], p.adopt_extra_ids_mean))
    add_cust = adopt_cust * (1 + _extra_ids(u["extra_custom"], p.adopt_extra_ids_mean))
    total = s.marketplace.astype(np.int64) + s.custom
    remove = ~(adopt_mkt | adopt_cust) & ~full & (total > 0) & (u["remove"] < p.removal_prob)
    remove_mkt_kind = u["remove_kind"] * total < s.marketplace
    rem_mkt = (remove & remove_mkt_kind).astype(np.int16)
    rem_cust = (remove & ~remove_mkt_kind).astype(np.int16)
    return MonthEvents(cancel=cancel, full=full, eom=eom, tier_next=tier_next,
                       adopt_marketplace=adopt_mkt, adopt_custom=adopt_cust,
                       add_marketplace=add_mkt.astype(np.int16), add_custom=add_cust.astype(np.int16),
                       remove_marketplace=rem_mkt, remove_custom=rem_cust)


def next_state(s: MonthState, e: MonthEvents) -> MonthState:
    """BOM state of month m+1 for the customers that did not cancel fully."""
    stay = ~e.full
    return MonthState(
        idx=s.idx[stay], tier=e.tier_next[stay], mrr=e.eom[stay],
        marketplace=(s.marketplace + e.add_marketplace - e.remove_marketplace)[stay].astype(np.int16),
        custom=(s.custom + e.add_custom - e.remove_custom)[stay].astype(np.int16),
        prev_log_mrr=np.log1p(s.mrr / 100.0)[stay],
    )


@dataclass
class History:
    """Latent path of every customer, arrays of shape (months, customers).

    ``alive`` is True at BOM m when the customer has joined and not cancelled fully
    before m (observation gaps and silent exits are applied later, in ``observe``).
    """

    alive: np.ndarray
    tier: np.ndarray  # int8, -1 when not alive
    mrr: np.ndarray  # int64 cents BOM
    marketplace: np.ndarray
    custom: np.ndarray
    prev_log_mrr: np.ndarray
    cancel: np.ndarray  # int64 cents during m
    full: np.ndarray
    eom: np.ndarray
    adopt_marketplace: np.ndarray
    adopt_custom: np.ndarray
    add_marketplace: np.ndarray
    add_custom: np.ndarray
    remove_marketplace: np.ndarray
    remove_custom: np.ndarray

    def state(self, m: int, idx: np.ndarray) -> MonthState:
        """BOM state of month m for customers ``idx`` (all must be alive at m)."""
        return MonthState(idx, self.tier[m, idx], self.mrr[m, idx], self.marketplace[m, idx],
                          self.custom[m, idx], self.prev_log_mrr[m, idx])


def _empty_history(n_months: int, n: int) -> History:
    z = lambda dtype, fill=0: np.full((n_months, n), fill, dtype=dtype)  # noqa: E731
    return History(
        alive=z(bool, False), tier=z(np.int8, -1), mrr=z(np.int64), marketplace=z(np.int16),
        custom=z(np.int16), prev_log_mrr=z(float, np.nan), cancel=z(np.int64), full=z(bool, False),
        eom=z(np.int64), adopt_marketplace=z(bool, False), adopt_custom=z(bool, False),
        add_marketplace=z(np.int16), add_custom=z(np.int16), remove_marketplace=z(np.int16),
        remove_custom=z(np.int16),
    )


def _record(h: History, m: int, s: MonthState, e: MonthEvents) -> None:
    i = s.idx
    h.alive[m, i] = True
    h.tier[m, i], h.mrr[m, i] = s.tier, s.mrr
    h.marketplace[m, i], h.custom[m, i], h.prev_log_mrr[m, i] = s.marketplace, s.custom, s.prev_log_mrr
    h.cancel[m, i], h.full[m, i], h.eom[m, i] = e.cancel, e.full, e.eom
    h.adopt_marketplace[m, i], h.adopt_custom[m, i] = e.adopt_marketplace, e.adopt_custom
    h.add_marketplace[m, i], h.add_custom[m, i] = e.add_marketplace, e.add_custom
    h.remove_marketplace[m, i], h.remove_custom[m, i] = e.remove_marketplace, e.remove_custom


def simulate_history(pop: Population, draws: Draws, p: ModelParameters, effect_scale: float,
                     n_months: int) -> History:
    """The factual latent path of every customer."""
    h = _empty_history(n_months, pop.size)
    state: MonthState | None = None
    for m in range(n_months):
        joiners = np.flatnonzero(pop.join_month == m)
        new = MonthState(joiners, pop.tier0[joiners], pop.mrr0[joiners], pop.marketplace0[joiners],
                         pop.custom0[joiners], np.full(joiners.size, np.nan))
        state = new if state is None else _concat(state, new)
        events = step(m, state, pop, draws, p, effect_scale)
        _record(h, m, state, events)
        state = next_state(state, events)
    return h


def _concat(a: MonthState, b: MonthState) -> MonthState:
    return MonthState(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in
                        ("idx", "tier", "mrr", "marketplace", "custom", "prev_log_mrr")))


@dataclass
class Replay:
    """Latent path of units replayed from BOM t; arrays (months, units), rows <= t unused."""

    alive: np.ndarray
    tier: np.ndarray
    mrr: np.ndarray
    cancel: np.ndarray
    eom: np.ndarray


def replay(t: int, idx: np.ndarray, h: History, pop: Population, draws: Draws, p: ModelParameters,
           effect_scale: float, forcing: Forcing | None) -> Replay:
    """Re-simulate months t .. end for customers ``idx`` (alive at t) with month t's adoption forced.

    Uses the same draws as the factual run, so ``forcing`` equal to the factual
    adoption reproduces the factual path exactly.
    """
    n_months, k = h.alive.shape[0], idx.size
    out = Replay(alive=np.zeros((n_months, k), bool), tier=np.full((n_months, k), -1, np.int8),
                 mrr=np.zeros((n_months, k), np.int64), cancel=np.zeros((n_months, k), np.int64),
                 eom=np.zeros((n_months, k), np.int64))
    position = np.arange(k)
    state = h.state(t, idx)
    for m in range(t, n_months):
        events = step(m, state, pop, draws, p, effect_scale, forcing if m == t else None)
        out.alive[m, position] = True
        out.tier[m, position], out.mrr[m, position] = state.tier, state.mrr
        out.cancel[m, position], out.eom[m, position] = events.cancel, events.eom
        position = position[~events.full]
        state = next_state(state, events)
    return out
