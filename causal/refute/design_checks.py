"""Design checks: failures that say something the re-estimation refuters cannot.

``negative_control``    the main estimators (psm, dml) on an outcome adoption cannot cause and the
                        adjustment set leaves out (a cancellation in month t-2; covariates use t-1
                        history only); its effect should be zero.
``pre_trend``           the event study's pre-adoption coefficients (survivor-consistent cohort fits,
                        :mod:`causal.estimate.event_study`) should be jointly zero.
``strategy_agreement``  the event-study effect and the doubly robust (dml) effect of the same ``first``
                        treatment on the same outcome and window should agree within their noise.

The selection-on-observables estimates and their refuters all rest on "no factor we did not
measure"; each of these checks rests on a different assumption, so a hidden factor that
drives both adoption and cancellation can make them fail (docs/methods.md, "Design checks").
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis import results_contract, schema
from causal.estimate import balance, estimators
from causal.estimate.design import Cell, covariate_matrix, subset_cell
from causal.estimate.records import EffectRecord, RefutationRecord

NEGATIVE_CONTROL = "cancel_lag2"
PASS_LEVEL = 0.05  # a design check passes when its 95% interval covers the null (p >= 0.05)
PRE_PERIOD_MAX = -2  # event times <= -2 are pre-adoption (e = -1 is the adoption month itself)
AGREEMENT = {"cancel": "cancel_month", "cancel_dollars": "cancel_dollars_month"}  # dml outcome -> event study

RULES = {
    "negative_control": ("passes when the estimated effect of adoption in month t on a cancellation in month t-2 "
                         "(which adoption cannot cause, and which the covariates, built from t-1 history only, "
                         "do not contain) has a customer-clustered 95% interval covering zero (p >= 0.05)"),
    "pre_trend": ("passes when the event study's pre-adoption coefficients (event times <= -2, one "
                  "survivor-consistent fit per cohort) are jointly zero: Bonferroni over their customer-clustered "
                  "z-tests, p >= 0.05"),
    "strategy_agreement": ("passes when the event-study ATT in the first month after adoption and the dml estimate "
                           "of the `first` treatment at h = 1 differ by less than 1.96 standard errors of the "
                           "difference (sqrt(se1^2 + se2^2), conservative for positively correlated estimates)"),
}


def _p_two_sided(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")


def negative_control_cell(panel: pd.DataFrame) -> Cell:
    """Eligible, unflagged customer-months of the primary treatment with month t-2 observed."""
    mask = ((panel["treatment"] == "any") & ~panel[schema.FLAGGED].astype(bool)
            & panel[schema.ELIGIBLE_CANCEL].astype(bool) & panel[NEGATIVE_CONTROL].notna())
    rows = panel.loc[mask]
    return Cell(treatment="any", outcome=NEGATIVE_CONTROL, horizon=1, rows=rows,
                y=rows[NEGATIVE_CONTROL].to_numpy(dtype=float), t=rows[schema.TREATED].to_numpy(dtype=int),
                X=covariate_matrix(rows), groups=pd.factorize(rows["customer_id"])[0])


def negative_control_effects(panel: pd.DataFrame, seed: int, n_bootstrap: int) -> dict[str, EffectRecord]:
    """psm and dml "effects" on the negative-control outcome, trimmed as the main cells are."""
    cell = negative_control_cell(panel)
    if cell.n_treated < 50 or cell.n_units - cell.n_treated < 50:
        return {}
    keep = balance.trim_mask(estimators.fit_propensity(cell.X, cell.t))
    trimmed = subset_cell(cell, keep)
    return {"psm": estimators.psm(trimmed, seed, n_bootstrap=n_bootstrap), "dml": estimators.dml(trimmed, seed)}


def negative_control_records(originals: dict, controls: dict[str, EffectRecord]) -> list[RefutationRecord]:
    """One ``negative_control`` row per primary estimate, judged by the control of its method."""
    records = []
    for (treatment, outcome, horizon, method), rec in originals.items():
        control = controls.get(method)
        if control is None:
            continue
        p_value = _p_two_sided(control.estimate / control.se) if control.se > 0 else float("nan")
        records.append(RefutationRecord(
            treatment=treatment, outcome=outcome, horizon=int(horizon), method=method, refuter="negative_control",
            estimate=float(rec.estimate), new_effect=float(control.estimate), p_value=p_value,
            passed=bool(p_value >= PASS_LEVEL), rule=RULES["negative_control"],
            extra={"ci": [control.ci_low, control.ci_high], "n_units": control.n_units}))
    return records


def pre_trend_records(group_time: pd.DataFrame, effects: dict) -> list[RefutationRecord]:
    """One ``pre_trend`` row per event-study outcome (Bonferroni over the pre-adoption coefficients)."""
    records = []
    pre = group_time.loc[group_time["event_time"] <= PRE_PERIOD_MAX].dropna(subset=["effect", "se"])
    for outcome, part in pre.groupby("outcome"):
        part = part.loc[part["se"] > 0]
        if not len(part):
            continue
        p_each = [_p_two_sided(e / s) for e, s in zip(part["effect"], part["se"])]
        p_value = min(1.0, len(p_each) * min(p_each))
        main = effects.get(("first", f"{outcome}_month", 1, "event_study"))
        weights = part["n_treated"].to_numpy(float)
        records.append(RefutationRecord(
            treatment="first", outcome=f"{outcome}_month", horizon=1, method="event_study", refuter="pre_trend",
            estimate=float(main.estimate) if main is not None else float("nan"),
            new_effect=float(weights @ part["effect"].to_numpy(float) / weights.sum()), p_value=p_value,
            passed=bool(p_value >= PASS_LEVEL), rule=RULES["pre_trend"],
            extra={"n_coefficients": len(p_each)}))
    return records


def _dml_first(effects: dict, outcome: str) -> EffectRecord | None:
    candidates = [r for k, r in effects.items() if k == ("first", outcome, 1, "dml")]
    attt = [r for r in candidates if r.estimand == "ATT"]
    return (attt or candidates or [None])[0]


def strategy_agreement_records(effects: dict) -> list[RefutationRecord]:
    """Event study vs dml for the ``first`` treatment at h = 1 (the same month t + 1 outcome)."""
    records = []
    for outcome, study_outcome in AGREEMENT.items():
        study = effects.get(("first", study_outcome, 1, "event_study"))
        dml = _dml_first(effects, outcome)
        if study is None or dml is None:
            continue
        difference = study.estimate - dml.estimate
        se = math.sqrt(study.se ** 2 + dml.se ** 2)
        p_value = _p_two_sided(difference / se) if se > 0 else float("nan")
        records.append(RefutationRecord(
            treatment="first", outcome=outcome, horizon=1, method="dml", refuter="strategy_agreement",
            estimate=float(dml.estimate), new_effect=float(study.estimate), p_value=p_value,
            passed=bool(p_value >= PASS_LEVEL), rule=RULES["strategy_agreement"] + f" (dml estimand {dml.estimand})",
            extra={"difference": difference, "ci": [difference - 1.96 * se, difference + 1.96 * se]}))
    return records


def design_check_records(results_dir: Path, effects: dict, originals: dict, controls: dict[str, EffectRecord]
                         ) -> list[RefutationRecord]:
    """Every design check of a run, from the estimate stage's results and the negative-control
    estimates (:func:`negative_control_effects`, which the refute stage runs beside the refuters)."""
    records = negative_control_records(originals, controls)
    path = Path(results_dir) / results_contract.EVENT_STUDY_CSV
    if path.is_file():
        group_time = pd.read_csv(path)
        if len(group_time):
            records += pre_trend_records(group_time, effects)
    records += strategy_agreement_records(effects)
    draw_design_figure(results_dir, records, path, effects)
    return records


def draw_design_figure(results_dir: Path, records: list[RefutationRecord], event_study_path: Path,
                       effects: dict) -> None:
    """One figure: event-time cancellation effects, and the two strategies with the negative control."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    if event_study_path.is_file():
        gt = pd.read_csv(event_study_path)
        gt = gt.loc[(gt["outcome"] == "cancel")].dropna(subset=["effect", "se"])
        for position, (cohort, part) in enumerate(gt.groupby("cohort")):
            left.errorbar(part["event_time"] + 0.08 * (position - 1), part["effect"] * 100,
                          yerr=1.96 * part["se"] * 100, fmt="o", capsize=2, label=f"adopted {cohort}")
        left.axhline(0, color="grey", lw=0.8)
        left.axvline(-1, color="grey", lw=0.8, ls=":")
        left.set_xlabel("months since first adoption (-1 = adoption month)")
        left.set_ylabel("effect on cancellation in the month (points)")
        left.set_title("Event study: before adoption should be zero", fontsize=10)
        left.legend(fontsize=7)
    labels, values, lows, highs = [], [], [], []
    for key, name in ((("first", "cancel_month", 1, "event_study"), "event study, month after adoption"),
                      (("first", "cancel", 1, "dml"), "double ML (first), month after adoption")):
        rec = effects.get(key)
        if rec is not None:
            labels.append(name)
            values.append(rec.estimate)
            lows.append(rec.ci_low)
            highs.append(rec.ci_high)
    for r in records:
        if r.refuter == "negative_control" and r.outcome == "cancel" and r.horizon == 1 and "ci" in r.extra:
            labels.append(f"negative control ({r.method}): cancellation 2 months before")
            values.append(r.new_effect)
            lows.append(r.extra["ci"][0])
            highs.append(r.extra["ci"][1])
    y = np.arange(len(labels))
    values, lows, highs = (np.asarray(v, float) * 100 for v in (values, lows, highs))
    right.errorbar(values, y, xerr=[values - lows, highs - values], fmt="o", capsize=3)
    right.set_yticks(y, labels, fontsize=8)
    right.axvline(0, color="grey", lw=0.8)
    right.set_xlabel("effect (percentage points), 95% interval")
    right.set_title("Both strategies and the negative control", fontsize=10)
    fig.tight_layout()
    figures = Path(results_dir) / results_contract.FIGURES_DIR
    figures.mkdir(parents=True, exist_ok=True)
    fig.savefig(figures / results_contract.DESIGN_CHECKS_PNG, dpi=110)
    plt.close(fig)
