"""Common random numbers: every uniform the model uses, drawn once per customer, month and event.

The factual run and every counterfactual replay read the same draws, so two
replays of a customer differ only where the forced adoption changes a
probability (never through a different random number).
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

EVENTS = (
    "cancel",  # a cancellation event
    "full",  # full (rather than partial) cancellation
    "fraction",  # share cancelled in a partial cancellation
    "tier",  # tier upgrade / downgrade
    "adopt_marketplace",  # marketplace adoption event
    "adopt_custom",  # custom adoption event
    "extra_marketplace",  # further IDs added in a marketplace adoption
    "extra_custom",
    "forced_kind",  # kind of a forced adoption when none was drawn
    "remove",  # removal of an integration (months without adoption)
    "remove_kind",
    "price",  # price change
    "price_size",
    "growth_noise",  # uniform turned into a normal MRR shock
)


class Draws:
    """Uniforms of shape (months, customers) per event, float32 to keep 10x-scale runs small."""

    def __init__(self, rng: np.random.Generator, n_months: int, n_customers: int):
        self._u = {
            name: rng.random((n_months, n_customers), dtype=np.float32) for name in EVENTS
        }
        # a standard normal from its own uniform keeps one number per event
        growth_uniform = self._u.pop("growth_noise").astype(np.float64)
        self.normal = ndtri(np.clip(growth_uniform, 1e-7, 1 - 1e-7))

    def __getitem__(self, name: str) -> np.ndarray:
        return self._u[name]
