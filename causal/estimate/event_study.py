"""Event study around the first adoption (0 -> >= 1 integrations): Callaway-Sant'Anna group-time ATTs.

The second identification strategy: parallel trends (conditional on pre-adoption
covariates) between first adopters and customers not yet (or never) adopting,
instead of selection on observables. Estimated with diff-diff's
``CallawaySantAnna`` (doubly robust, not-yet-treated and never-treated
controls, influence-function standard errors clustered by customer).

Timing (docs/methods.md, "Event study"): a customer adopting during month t
(A_t of the ``first`` treatment) has ``first_treat`` = t + 1 and the fit uses
``anticipation=1``, so month t itself (partly treated) is never a base period;
event time e = k - 1 is month t + k, the month whose outcome the h = k window
of ESTIMANDS.md ends with.

Survivor-consistent comparison: one fit per adoption cohort t, on the customers
present in every month 0 .. t + 1 with MRR > 0 and no integration at BOM t
(the adopters' own requirement, ESTIMANDS.md ``first`` risk set). A customer
who leaves after a full cancellation keeps its rows after it left with
cancellation 0, cancelled MRR 0 and MRR 0 (the loss stays in the outcome).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import results_contract, schema
from analysis.paths import model_path  # not analysis.data: its package imports DuckDB and matplotlib
from causal.estimate.records import EffectRecord

TREATMENT = "first"
OUTCOMES = {"cancel": "cancellation in the month", "cancel_dollars": "cancelled MRR in the month",
            "mrr": "MRR at the end of the month"}
COVARIATES = ("log_mrr_0", "tier_rank_0")
MIN_COHORT = 20  # adopters a cohort needs to be fitted
INTERVAL = "Callaway-Sant'Anna doubly robust, influence-function SE clustered by customer"


@dataclass
class EventStudyResult:
    """Group-time ATTs per cohort fit, the event-time effects and why cohorts were left out."""

    group_time: pd.DataFrame  # outcome, cohort, group, time, event_time, effect, se, n_treated, n_units
    event_time: pd.DataFrame  # outcome, event_time, effect, se, ci_low, ci_high, n_treated, cohorts
    skipped: list[dict]


def monthly_outcomes(processed_dir: Path) -> tuple[list[str], dict[str, pd.DataFrame]]:
    """Customer x month arrays of presence and outcomes from ``fct_customer_month``."""
    months = pd.read_parquet(model_path(processed_dir, schema.FCT_CUSTOMER_MONTH),
                             columns=["customer_id", "month", "tier_rank", "mrr_bom", "mrr_eom", "cancel_dollars"])
    labels = sorted(months["month"].astype(str).unique())
    wide = {name: months.pivot(index="customer_id", columns="month", values=name).reindex(columns=labels)
            for name in ("tier_rank", "mrr_bom", "mrr_eom", "cancel_dollars")}
    wide["present"] = months.assign(one=1).pivot(index="customer_id", columns="month", values="one"
                                                 ).reindex(columns=labels).notna()
    return labels, wide


def adoption_months(panel: pd.DataFrame) -> pd.Series:
    """Month of first adoption per customer of the ``first`` risk set ('' when never in the data).

    Customers whose first adoption falls in a flagged (tracking-change) transition keep
    that month: they serve only as not-yet-treated controls before it.
    """
    rows = panel.loc[panel["treatment"] == TREATMENT, ["customer_id", "cohort", schema.TREATED]]
    adopted = rows.loc[rows[schema.TREATED] == 1].groupby("customer_id")["cohort"].min()
    return adopted.reindex(rows["customer_id"].unique()).fillna("").astype(str)


def cohort_frame(labels: list[str], wide: dict, adoption: pd.Series, risk: set, month: int) -> pd.DataFrame:
    """Long balanced panel for the fit of adoption cohort ``labels[month]``.

    Units: customers in the ``first`` risk set at BOM ``month`` (``risk``), present in every
    month 0 .. month + 1, adopting in that month or later (or never). Rows after a customer
    left carry zeros.
    """
    present = wide["present"]
    keep = present.iloc[:, : month + 2].all(axis=1) & present.index.isin(list(risk))
    later = adoption.reindex(present.index).fillna("")
    keep &= (later == "") | (later >= labels[month])
    ids = present.index[keep]
    index = {m: i for i, m in enumerate(labels)}
    first_treat = later.loc[ids].map(lambda m: index[m] + 1 if m else 0).to_numpy()
    frame = pd.DataFrame({
        "unit": np.repeat(np.arange(len(ids)), len(labels)),
        "customer": np.repeat(np.arange(len(ids)), len(labels)),
        "time": np.tile(np.arange(len(labels)), len(ids)),
        "first_treat": np.repeat(first_treat, len(labels)),
        "cancel": (wide["cancel_dollars"].loc[ids].fillna(0.0).to_numpy() > 0).astype(float).ravel(),
        "cancel_dollars": wide["cancel_dollars"].loc[ids].fillna(0.0).to_numpy().ravel(),
        "mrr": wide["mrr_eom"].loc[ids].fillna(0.0).to_numpy().ravel(),
        "log_mrr_0": np.repeat(np.log1p(wide["mrr_bom"].loc[ids].iloc[:, 0].fillna(0.0).to_numpy()), len(labels)),
        "tier_rank_0": np.repeat(wide["tier_rank"].loc[ids].iloc[:, 0].fillna(-1.0).to_numpy(), len(labels)),
    })
    return frame


def fit_cohort(frame: pd.DataFrame, outcome: str, group: int) -> pd.DataFrame:
    """ATT(g, t) of one cohort (group ``group``) on one outcome, doubly robust, clustered by customer."""
    from diff_diff import CallawaySantAnna

    model = CallawaySantAnna(control_group="not_yet_treated", estimation_method="dr", anticipation=1,
                             cluster="customer", base_period="varying")
    covariates = [c for c in COVARIATES if frame[c].std() > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(frame, outcome=outcome, unit="unit", time="time", first_treat="first_treat",
                           covariates=covariates or None)
    gt = result.to_dataframe("group_time")
    gt = gt.loc[gt["group"] == group, ["group", "time", "effect", "se"]].copy()
    gt["event_time"] = gt["time"] - gt["group"]
    return gt


def run_event_study(panel: pd.DataFrame, processed_dir: Path) -> EventStudyResult:
    """Cohort-by-cohort CS fits on every monthly outcome, and their event-time averages.

    Cohorts: unflagged months t >= 1 (month 0 has no earlier month to serve as base) with
    at least ``MIN_COHORT`` adopters. The event-time effect is the adopter-weighted mean
    of the cohorts' ATT(g, g + e); its standard error is the sum of the weighted cohort
    standard errors (the bound for perfectly correlated cohorts: the fits share controls).
    """
    empty = pd.DataFrame(columns=["group", "time", "effect", "se", "event_time", "outcome", "cohort",
                                  "n_treated", "n_units"])
    if not model_path(processed_dir, schema.FCT_CUSTOMER_MONTH).is_file():
        reason = "no customer-month table beside the panel (the data stage did not run here): no event study"
        return EventStudyResult(group_time=empty, event_time=aggregate_event_time(empty),
                                skipped=[{"cohort": "all", "reason": reason}])
    if TREATMENT not in set(panel["treatment"].astype(str)):
        reason = f"no '{TREATMENT}' treatment rows in the panel: no event study"
        return EventStudyResult(group_time=empty, event_time=aggregate_event_time(empty),
                                skipped=[{"cohort": "all", "reason": reason}])
    labels, wide = monthly_outcomes(processed_dir)
    adoption = adoption_months(panel)
    first = panel.loc[(panel["treatment"] == TREATMENT) & panel[schema.ELIGIBLE_CANCEL].astype(bool)]
    flagged = set(first.loc[first[schema.FLAGGED].astype(bool), "cohort"].astype(str))
    rows, skipped = [], []
    for month in range(1, len(labels) - 1):
        label = labels[month]
        risk = set(first.loc[first["cohort"] == label, "customer_id"])
        if label in flagged:
            skipped.append({"cohort": label, "reason": "adoption month flagged as a tracking change"})
            continue
        frame = cohort_frame(labels, wide, adoption, risk, month)
        n_treated = int((frame.loc[frame["time"] == 0, "first_treat"] == month + 1).sum())
        if n_treated < MIN_COHORT:
            skipped.append({"cohort": label, "reason": f"too few adopters ({n_treated} < {MIN_COHORT})"})
            continue
        n_units = int(frame["unit"].nunique())
        for outcome in OUTCOMES:
            gt = fit_cohort(frame, outcome, month + 1)
            rows.append(gt.assign(outcome=outcome, cohort=label, n_treated=n_treated, n_units=n_units))
    group_time = pd.concat(rows, ignore_index=True) if rows else empty
    return EventStudyResult(group_time=group_time, event_time=aggregate_event_time(group_time), skipped=skipped)


def aggregate_event_time(group_time: pd.DataFrame) -> pd.DataFrame:
    """Adopter-weighted mean of ATT(g, g + e) over cohorts, per outcome and event time."""
    out = []
    valid = group_time.dropna(subset=["effect", "se"])
    for (outcome, event_time), part in valid.groupby(["outcome", "event_time"]):
        weights = part["n_treated"].to_numpy(float) / part["n_treated"].sum()
        effect = float(weights @ part["effect"].to_numpy(float))
        se = float(weights @ part["se"].to_numpy(float))
        out.append({"outcome": outcome, "event_time": int(event_time), "effect": effect, "se": se,
                    "ci_low": effect - 1.96 * se, "ci_high": effect + 1.96 * se,
                    "n_treated": int(part["n_treated"].sum()), "n_units": int(part["n_units"].sum()),
                    "cohorts": ";".join(sorted(part["cohort"]))})
    return pd.DataFrame(out, columns=["outcome", "event_time", "effect", "se", "ci_low", "ci_high", "n_treated",
                                      "n_units", "cohorts"])


def effect_records(result: EventStudyResult) -> list[EffectRecord]:
    """Post-adoption event times as ``event_study`` rows of effects.csv (horizon h = e + 1)."""
    records = []
    post = result.event_time.loc[(result.event_time["event_time"] >= 0)
                                 & (result.event_time["event_time"] + 1).isin(schema.HORIZONS)]
    for row in post.itertuples():
        records.append(EffectRecord(
            treatment=TREATMENT, outcome=f"{row.outcome}_month", horizon=int(row.event_time) + 1,
            method="event_study", estimand="ATT", estimate=row.effect, ci_low=row.ci_low, ci_high=row.ci_high,
            se=row.se, n_units=int(row.n_units), n_treated=int(row.n_treated), cohorts=row.cohorts,
            interval=INTERVAL + "; cohorts combined with the perfectly-correlated bound"))
    return records


def write_event_study(panel: pd.DataFrame, processed_dir: Path, results_dir: Path) -> list[EffectRecord]:
    """Run the event study, write ``event_study.csv`` and ``event_study_skipped.csv``; the effect rows."""
    result = run_event_study(panel, processed_dir)
    result.group_time.to_csv(Path(results_dir) / results_contract.EVENT_STUDY_CSV, index=False)
    pd.DataFrame(result.skipped, columns=["cohort", "reason"]).to_csv(
        Path(results_dir) / results_contract.EVENT_STUDY_SKIPPED_CSV, index=False)
    return effect_records(result)
