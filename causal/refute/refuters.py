"""Refutations that re-estimate, each ``(cell, estimate_record, seed, ...) -> RefutationRecord``.

Every refuter builds a fresh cell (hence a fresh DoWhy data frame with no stored
propensity column, py-why/dowhy#1728) and runs the same estimator again:

``placebo_treatment``      treatment permuted within cohort; the effect should vanish.
``random_common_cause``    an independent N(0, 1) column added as a confounder; the estimate should not move.
``data_subset``            a random 80% of customers; the estimate should move only by sampling noise.
``bootstrap``              customers resampled with replacement; the estimate should be stable.
``unobserved_confounder``  sensitivity to a confounder that was not measured (EconML's
                           sensitivity interval and robustness value for dml, from the run's
                           cached nuisances; E-value bound for psm).
``estimator_agreement``    (method ``psm_vs_dml``) PSM ATT minus DML ATT, interval from the paired
                           customer bootstrap (:mod:`causal.estimate.agreement`); passes when it covers 0.

The refuters that change the data refit; ``unobserved_confounder`` does not.

The stage that runs them over the primary cells is :mod:`causal.refute.stage`.
"""
from __future__ import annotations

import json
from dataclasses import replace
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis import results_contract, schema
from causal.estimate import agreement, estimators
from causal.estimate.nuisances import CellNuisances, sensitivity
from causal.estimate.design import Cell, resample_customers, subset_cell, with_covariate, with_treatment
from causal.estimate.records import EffectRecord, RefutationRecord, refutations_frame
from causal.refute import benchmarks

REFUTERS = ("placebo_treatment", "random_common_cause", "data_subset", "bootstrap", "unobserved_confounder")
DEFAULT_SIMULATIONS = 1
SUBSET_FRACTION = 0.8
PASS_LEVEL = 0.01  # refuters with a p-value pass when p >= 0.01 (48 tests per run: few false alarms)
CONFOUNDER_C = 0.05  # dml: share of residual variation of outcome and of adoption explained by U
CONFOUNDER_RR = 1.5  # psm: risk ratio of U with adoption and with the outcome

RULES = {
    "placebo_treatment": ("passes when the mean effect of the permuted treatment is within "
                          "2.58 standard errors of zero (p >= 0.01; se = original se / sqrt(simulations))"),
    "random_common_cause": ("passes when adding an independent random confounder moves the estimate by "
                            "less than 2.58 original standard errors (p >= 0.01)"),
    "data_subset": (f"passes when the estimate on {int(SUBSET_FRACTION * 100)}% of customers (f) differs from the "
                    "original by less than 2.58 times the noise expected from subsetting (p >= 0.01): "
                    "se * sqrt((1 - f) / f) for dml, whose estimate is smooth in the data; the conservative "
                    "se * sqrt(1 + 1 / f) for psm, whose nearest-neighbour matches change non-smoothly"),
    "bootstrap": ("passes when the mean estimate on customer-bootstrap samples is within 2.58 "
                  "bootstrap standard errors (se / sqrt(simulations)) of the original (p >= 0.01)"),
    "unobserved_confounder_dml": (f"passes when EconML's sensitivity interval for a confounder explaining "
                                  f"{CONFOUNDER_C:.0%} of the residual variation of both adoption and outcome "
                                  "still excludes zero (new_effect: its bound nearest zero)"),
    "unobserved_confounder_psm": (f"passes when the 95% interval still excludes zero after allowing for a "
                                  f"confounder with risk ratio {CONFOUNDER_RR} on both adoption and outcome "
                                  "(E-value bounding factor; new_effect: the adjusted bound nearest zero)"),
}


def _reestimate(method: str, cell: Cell, seed: int) -> float:
    if method == "psm":
        return estimators.psm(cell, seed, n_bootstrap=0).estimate
    if method == "dml":
        return estimators.dml(cell, seed).estimate
    if method == "naive":
        return estimators.naive(cell, seed).estimate
    raise ValueError(f"unknown method {method!r}")


def _p_two_sided(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")


def _record(rec: EffectRecord, refuter: str, new_effect: float, p_value: float | None, passed: bool,
            rule: str, extra: dict | None = None) -> RefutationRecord:
    return RefutationRecord(treatment=rec.treatment, outcome=rec.outcome, horizon=int(rec.horizon),
                            method=rec.method, refuter=refuter, estimate=float(rec.estimate),
                            new_effect=float(new_effect), p_value=None if p_value is None else float(p_value),
                            passed=bool(passed), rule=rule, extra=extra or {})


def _rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng(estimators.seed_for(seed, *keys))


def placebo_treatment(cell: Cell, rec: EffectRecord, seed: int, simulations: int = DEFAULT_SIMULATIONS
                      ) -> RefutationRecord:
    """Permute the treatment within each cohort, re-estimate; the effect should be zero."""
    rng = _rng(seed, "placebo", rec.method, rec.treatment, rec.outcome, rec.horizon)
    cohorts = cell.rows["cohort"].astype(str).to_numpy()
    effects = []
    for _ in range(simulations):
        permuted = cell.t.copy()
        for cohort in np.unique(cohorts):
            rows = np.flatnonzero(cohorts == cohort)
            permuted[rows] = rng.permutation(cell.t[rows])
        effects.append(_reestimate(rec.method, with_treatment(cell, permuted), seed))
    new_effect = float(np.mean(effects))
    p_value = _p_two_sided(new_effect / (rec.se / math.sqrt(simulations)))
    return _record(rec, "placebo_treatment", new_effect, p_value, p_value >= PASS_LEVEL,
                   RULES["placebo_treatment"], {"effects": effects})


def random_common_cause(cell: Cell, rec: EffectRecord, seed: int, simulations: int = DEFAULT_SIMULATIONS
                        ) -> RefutationRecord:
    """Add an independent standard-normal covariate, re-estimate; the estimate should not move."""
    rng = _rng(seed, "random_common_cause", rec.method, rec.treatment, rec.outcome, rec.horizon)
    effects = [_reestimate(rec.method, with_covariate(cell, "random_common_cause", rng.standard_normal(cell.n_units)),
                           seed) for _ in range(simulations)]
    new_effect = float(np.mean(effects))
    p_value = _p_two_sided((new_effect - rec.estimate) / rec.se)
    return _record(rec, "random_common_cause", new_effect, p_value, p_value >= PASS_LEVEL,
                   RULES["random_common_cause"], {"effects": effects})


def data_subset(cell: Cell, rec: EffectRecord, seed: int, simulations: int = DEFAULT_SIMULATIONS,
                fraction: float = SUBSET_FRACTION) -> RefutationRecord:
    """Keep a random ``fraction`` of customers (all their rows), re-estimate."""
    rng = _rng(seed, "data_subset", rec.method, rec.treatment, rec.outcome, rec.horizon)
    customers, position = np.unique(cell.groups, return_inverse=True)
    effects = []
    for _ in range(simulations):
        keep = rng.random(len(customers)) < fraction
        effects.append(_reestimate(rec.method, subset_cell(cell, keep[position]), seed))
    new_effect = float(np.mean(effects))
    spread = math.sqrt(1 + 1 / fraction) if rec.method == "psm" else math.sqrt((1 - fraction) / fraction)
    noise = rec.se * spread / math.sqrt(simulations)
    p_value = _p_two_sided((new_effect - rec.estimate) / noise)
    return _record(rec, "data_subset", new_effect, p_value, p_value >= PASS_LEVEL, RULES["data_subset"],
                   {"effects": effects})


def bootstrap(cell: Cell, rec: EffectRecord, seed: int, simulations: int = DEFAULT_SIMULATIONS) -> RefutationRecord:
    """Resample customers with replacement, re-estimate."""
    rng = _rng(seed, "bootstrap", rec.method, rec.treatment, rec.outcome, rec.horizon)
    effects = [_reestimate(rec.method, resample_customers(cell, rng), seed) for _ in range(simulations)]
    new_effect = float(np.mean(effects))
    p_value = _p_two_sided((new_effect - rec.estimate) / (rec.se / math.sqrt(simulations)))
    return _record(rec, "bootstrap", new_effect, p_value, p_value >= PASS_LEVEL, RULES["bootstrap"],
                   {"effects": effects})


def e_value(risk_ratio: float) -> float:
    """VanderWeele-Ding E-value of a risk ratio (1 when the ratio is 1 or undefined)."""
    if not np.isfinite(risk_ratio) or risk_ratio <= 0:
        return float("nan")
    rr = risk_ratio if risk_ratio >= 1 else 1 / risk_ratio
    return float(rr + math.sqrt(rr * (rr - 1)))


def _risk_ratio(treated_risk: float, effect: float) -> float:
    baseline = treated_risk - effect
    return treated_risk / baseline if baseline > 0 else float("nan")


def e_values(cell: Cell, rec: EffectRecord) -> dict:
    """E-values of the estimate and of its interval bound nearest the null (binary outcomes).

    The risk ratio compares the adopters' risk with their risk had they not
    adopted (adopters' risk minus the effect).
    """
    treated_risk = float(cell.y[cell.t == 1].mean())
    point = _risk_ratio(treated_risk, rec.estimate)
    if rec.ci_low > 0 or rec.ci_high < 0:
        nearest = rec.ci_low if rec.ci_low > 0 else rec.ci_high
        bound = e_value(_risk_ratio(treated_risk, nearest))
    else:
        bound = 1.0
    return {"treated_risk": treated_risk, "risk_ratio": point, "e_value_point": e_value(point),
            "e_value_ci": bound}


def unobserved_confounder(cell: Cell, rec: EffectRecord, seed: int, learner=None,
                          nuisances: CellNuisances | None = None) -> RefutationRecord:
    """Sensitivity of the interval to a confounder that was not measured.

    dml: EconML's ``sensitivity_interval`` (Chernozhukov et al. 2022) for a confounder
    explaining ``CONFOUNDER_C`` of the residual variation of both adoption and
    outcome, and its ``robustness_value``; ``learner`` is the fitted EconML model
    (refitted with the same seed when absent). psm: the interval bound nearest
    zero divided by the E-value bounding factor of a confounder with risk ratio
    ``CONFOUNDER_RR`` on both. Both also report E-values (binary outcomes).
    """
    extra = e_values(cell, rec) if rec.outcome in schema.BINARY_OUTCOMES else {}
    if rec.method == "dml":
        if nuisances is None and learner is None:
            nuisances = estimators.dml(cell, seed).extra["nuisances"]
        if nuisances is not None:
            low, high, robustness = sensitivity(nuisances, CONFOUNDER_C, CONFOUNDER_C)
        else:
            low, high = learner.sensitivity_interval(T=1, alpha=0.05, c_y=CONFOUNDER_C, c_t=CONFOUNDER_C)
            robustness = float(learner.robustness_value(T=1, alpha=0.05))
        extra["sensitivity_interval"] = [float(low), float(high)]
        extra["robustness_value"] = float(robustness)
        if not (np.isfinite(low) and np.isfinite(high)):
            extra["not_computable"] = ("the sensitivity analysis is not defined here: the nuisance fits give a "
                                       "negative residual or Riesz-representer variance (too few rows)")
            return replace(_record(rec, "unobserved_confounder", float("nan"), None, False,
                                   RULES["unobserved_confounder_dml"], extra), passed=None)
        excludes_zero = low > 0 or high < 0
        new_effect = (low if low > 0 else high) if excludes_zero else 0.0
        return _record(rec, "unobserved_confounder", new_effect, None, excludes_zero,
                       RULES["unobserved_confounder_dml"], extra)
    bias = CONFOUNDER_RR * CONFOUNDER_RR / (2 * CONFOUNDER_RR - 1)
    treated_risk = float(cell.y[cell.t == 1].mean())
    excludes_zero, new_effect = False, 0.0
    if rec.ci_low > 0 or rec.ci_high < 0:
        nearest = rec.ci_low if rec.ci_low > 0 else rec.ci_high
        ratio = _risk_ratio(treated_risk, nearest)
        adjusted = ratio / bias if ratio > 1 else ratio * bias
        excludes_zero = bool(np.isfinite(adjusted) and (adjusted > 1 if ratio > 1 else adjusted < 1))
        new_effect = treated_risk - treated_risk / adjusted if excludes_zero else 0.0
    extra["bias_factor"] = bias
    return _record(rec, "unobserved_confounder", new_effect, None, excludes_zero,
                   RULES["unobserved_confounder_psm"], extra)


def refute_estimate(cell: Cell, rec: EffectRecord, seed: int, simulations: int = DEFAULT_SIMULATIONS,
                    learner=None, nuisances: CellNuisances | None = None) -> list[RefutationRecord]:
    """The full suite for one estimate, in :data:`REFUTERS` order (``nuisances``: the run's cached fit)."""
    return [
        placebo_treatment(cell, rec, seed, simulations),
        random_common_cause(cell, rec, seed, simulations),
        data_subset(cell, rec, seed, simulations),
        bootstrap(cell, rec, seed, simulations),
        unobserved_confounder(cell, rec, seed, learner=learner, nuisances=nuisances),
    ]


def agreement_records(table: pd.DataFrame | None) -> list[RefutationRecord]:
    """The PSM-vs-DML ATT agreement rows (``causal.estimate.agreement``) as refutation records.

    ``estimate`` is the PSM ATT, ``new_effect`` the DML ATT; ``extra`` keeps the
    difference and its interval.
    """
    if table is None:
        return []
    records = []
    for row in table.itertuples(index=False):
        p_value = float(row.p_value) if pd.notna(row.p_value) else None
        records.append(RefutationRecord(
            treatment=str(row.treatment), outcome=str(row.outcome), horizon=int(row.horizon),
            method=agreement.METHOD, refuter=agreement.REFUTER, estimate=float(row.psm_att),
            new_effect=float(row.dml_att), p_value=p_value, passed=bool(row.passed), rule=agreement.RULE,
            extra={"difference": float(row.difference), "ci_low": float(row.ci_low),
                   "ci_high": float(row.ci_high), "se": float(row.se)}))
    return records


def sensitivity_summary(records: list[RefutationRecord]) -> dict:
    """Sensitivity to unmeasured confounding in numbers and words, for the memo."""
    cells, benchmarked = [], []
    for r in records:
        if r.refuter != "unobserved_confounder":
            continue
        entry = {"treatment": r.treatment, "outcome": r.outcome, "horizon": r.horizon, "method": r.method,
                 "estimate": r.estimate, "bound_after_confounder": r.new_effect, "survives": r.passed}
        entry.update({k: v for k, v in r.extra.items() if not isinstance(v, np.ndarray) and k != "benchmarks"})
        if r.extra.get("benchmarks"):
            benchmarked.append(benchmark_summary(r, r.extra["benchmarks"]))
        parts = []
        if "e_value_point" in entry and np.isfinite(entry["e_value_point"]):
            parts.append(
                f"To explain away the {r.method} estimate, an unmeasured factor would have to make both adoption "
                f"and the outcome about {entry['e_value_point']:.2f} times as likely (E-value); to make the 95% "
                f"interval include no effect, {entry['e_value_ci']:.2f} times.")
        if "robustness_value" in entry:
            parts.append(
                f"A hidden factor would have to explain {entry['robustness_value']:.1%} of the remaining variation "
                "in both adoption and the outcome for the interval to include zero (robustness value).")
        entry["text"] = " ".join(parts)
        cells.append(entry)
    return {
        "meaning": ("These numbers say how strong a factor we did not measure (for example, how engaged a "
                    "customer's admin is) would have to be to change the conclusion. Larger is more robust; "
                    "an E-value near 1 or a robustness value near 0 means a weak hidden factor could explain "
                    "the result away. They cannot prove there is no such factor."),
        "settings": {"dml_confounder_share": CONFOUNDER_C, "psm_confounder_risk_ratio": CONFOUNDER_RR,
                     "note": "EconML's sensitivity analysis uses its own (not customer-clustered) variance."},
        "cells": cells,
        "benchmarks": benchmarked,
    }


def _finite_or_none(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def benchmark_summary(r: RefutationRecord, entries: list[dict]) -> dict:
    """The ``benchmarks`` record of one cell in sensitivity.json (see :mod:`causal.refute.benchmarks`)."""
    return {"treatment": r.treatment, "outcome": r.outcome, "horizon": r.horizon, "method": r.method,
            "estimate": r.estimate, "k": entries[0]["k"] if entries else None, "design": benchmarks.DESIGN,
            "by_covariate": {e["benchmark"]: {k: _finite_or_none(v) for k, v in e.items()
                                              if k not in ("benchmark", "design")} for e in entries},
            "text": benchmarks.benchmark_text({"estimate": r.estimate}, entries)}


def write_refutations(records: list[RefutationRecord], results_dir: Path) -> pd.DataFrame:
    """Write ``refutations.csv`` and ``sensitivity.json``; return the table."""
    frame = refutations_frame(records)
    results_dir.mkdir(parents=True, exist_ok=True)
    frame.to_csv(results_dir / results_contract.REFUTATIONS_CSV, index=False)
    (results_dir / results_contract.SENSITIVITY_JSON).write_text(json.dumps(sensitivity_summary(records), indent=2, default=float)
                                                 + "\n")
    return frame
