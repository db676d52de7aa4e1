"""What the extracts show of the latent path: silent exits, gaps, missing tiers, empty cells.

None of this feeds back into behaviour. Silent exits (rows stop without a
recorded cancellation) depend only on static attributes and calendar time, so
they never depend on adoption.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.simulator.engine import History
from analysis.simulator.params import ModelParameters
from analysis.simulator.population import Population


@dataclass
class Observed:
    """Customer-month values as written, arrays of shape (months, customers)."""

    present: np.ndarray  # bool: a metadata row exists
    tier: np.ndarray  # int8 rank, -1 when the cell is empty (or no row)
    mrr_bom: np.ndarray  # float dollars, NaN when empty
    mrr_eom: np.ndarray
    cancel: np.ndarray  # float dollars >= 0 (0 when empty)
    n_integrations: np.ndarray  # int NUM_OF_INTEGRATIONS
    last_row: np.ndarray  # int per customer: last month with a row
    last_observable: np.ndarray  # int per customer: rows stop after this month (silent exit), else last month
    gap: np.ndarray  # bool: a missing month inside the customer's rows
    ent_label: np.ndarray  # bool: Enterprise written "Ent"
    cancel_empty: np.ndarray  # bool: zero cancellation written as an empty cell


def observe(pop: Population, h: History, p: ModelParameters, rng: np.random.Generator,
            tracking_change: bool, tracking_month: int) -> Observed:
    """Apply the observation process to the latent history."""
    n_months, n = h.alive.shape
    month = np.arange(n_months)[:, None]
    tenure = month - pop.join_month[None, :]
    small = (pop.employee_size == "1 to 25")[None, :]
    hazard = p.silent_exit_base * np.exp(p.silent_exit_small * small
                                         + p.silent_exit_joiner * ((tenure < 2) & (pop.join_month > 0)))
    exits = (rng.random((n_months, n)) < hazard) & (tenure >= 0)
    exits[-1] = True
    last_observable = np.argmax(exits, axis=0)  # rows stop after this month
    latent_last = n_months - 1 - np.argmax(h.alive[::-1], axis=0)
    observable = h.alive & (month <= last_observable[None, :])

    gap_draw = rng.random((n_months, n)) < p.gap_prob
    gap = np.zeros((n_months, n), bool)
    for m in range(1, n_months - 1):
        gap[m] = (gap_draw[m] & observable[m - 1] & observable[m] & observable[m + 1]
                  & (h.cancel[m] == 0) & ~gap[m - 1])
    present = observable & ~gap
    last_row = np.minimum(last_observable, latent_last)

    n_int = h.marketplace.astype(np.int64) + h.custom
    if tracking_change:
        n_int = n_int + (month > tracking_month) * pop.hidden_custom[None, :].astype(np.int64)
    tier = np.where(present & (rng.random((n_months, n)) >= p.missing_tier_prob), h.tier, -1).astype(np.int8)
    mrr_bom = np.where(present & (rng.random((n_months, n)) >= p.empty_money_prob), h.mrr / 100.0, np.nan)
    mrr_eom = np.where(present & (rng.random((n_months, n)) >= p.empty_money_prob), h.eom / 100.0, np.nan)
    cancel = np.where(present, h.cancel / 100.0, 0.0)
    ent_label = rng.random((n_months, n)) < p.ent_label_prob
    cancel_empty = (rng.random((n_months, n)) < p.empty_zero_cancel_prob) & (cancel == 0)
    return Observed(present=present, tier=tier, mrr_bom=mrr_bom, mrr_eom=mrr_eom, cancel=cancel,
                    n_integrations=np.where(present, n_int, 0), last_row=last_row,
                    last_observable=last_observable, gap=gap,
                    ent_label=ent_label, cancel_empty=cancel_empty)
