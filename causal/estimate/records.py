"""The uniform result records every estimator and refuter returns, and their tabulation.

Like DoWhy's ``CausalEstimate`` / ``CausalRefutation``, each causal step is a
plain function returning one record, so every estimate and refutation is
written to the results files the same way.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from analysis import results_contract


@dataclass(frozen=True)
class EffectRecord:
    """One estimate with its 95% interval (a row of effects.csv / effects_by_segment.csv).

    ``interval`` says what the interval accounts for, e.g. "cluster-robust by
    customer" or "bootstrap over customers (200 draws)".
    """

    treatment: str
    outcome: str
    horizon: int
    method: str  # naive | psm | dml | ...
    estimand: str  # ATE | ATT
    estimate: float
    ci_low: float
    ci_high: float
    se: float
    n_units: int
    n_treated: int
    cohorts: str  # "2020-08;2020-09"
    segment_var: str | None = None
    segment_value: str | None = None
    interval: str = ""
    extra: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RefutationRecord:
    """One refutation of one estimate (a row of refutations.csv)."""

    treatment: str
    outcome: str
    horizon: int
    method: str
    refuter: str
    estimate: float
    new_effect: float
    p_value: float | None
    passed: bool
    rule: str = ""  # the stated pass rule, in words
    extra: dict = field(default_factory=dict, compare=False)


def effects_frame(records: list[EffectRecord], by_segment: bool = False) -> pd.DataFrame:
    """Tabulate effect records with the ESTIMANDS.md columns first, then ``interval``."""
    columns = list(results_contract.EFFECT_BY_SEGMENT_COLUMNS if by_segment else results_contract.EFFECT_COLUMNS)
    rows = [{k: v for k, v in asdict(r).items() if k != "extra"} for r in records]
    frame = pd.DataFrame(rows, columns=columns + ["interval"])
    return frame[columns + ["interval"]]


def refutations_frame(records: list[RefutationRecord]) -> pd.DataFrame:
    """Tabulate refutation records with the ESTIMANDS.md columns first, then ``rule``."""
    columns = list(results_contract.REFUTATION_COLUMNS) + ["rule"]
    rows = [{k: v for k, v in asdict(r).items() if k != "extra"} for r in records]
    return pd.DataFrame(rows, columns=columns)[columns]
