"""Why the raw comparison misleads, and the effects themselves."""
from __future__ import annotations

import pandas as pd

from causal.report.inputs import MemoInputs
from causal.report.sections.front import PRIMARY
from causal.report.tables import (
    best_effect,
    figure,
    not_available,
    pipe_table,
    select_effects,
)
from causal.report.text import (
    METHOD_NAMES,
    OUTCOME_SHORT,
    compare_naive,
    direction,
    effect_compact,
    effect_sentence,
    fmt_count,
    window_phrase,
)


# --- naive against causal -------------------------------------------------------------
COMPARISON_COLUMNS = (("naive", "ATE"), ("psm", "ATT"), ("dml", "ATT"), ("dml", "ATE"))  # like with like


def naive_vs_causal(m: MemoInputs) -> str:
    """Raw comparison against matched and DML estimates, with balance and the graph."""
    if m.effects is None:
        return not_available("effect estimates (effects.csv)")
    rows, sentences = [], []
    for outcome in ("cancel", "upgrade"):
        for horizon in sorted(select_effects(m.effects, treatment=PRIMARY, outcome=outcome)["horizon"].unique()):
            cells = [OUTCOME_SHORT[outcome], window_phrase(horizon).replace("over the ", "")]
            for method, estimand in COMPARISON_COLUMNS:
                found = select_effects(m.effects, treatment=PRIMARY, outcome=outcome, horizon=int(horizon),
                                       method=method, estimand=estimand)
                cells.append(effect_compact(found.iloc[0]) if len(found) else "")
            rows.append(cells)
        adjusted = best_effect(m.effects, PRIMARY, outcome)
        naive = (best_effect(m.effects, PRIMARY, outcome, int(adjusted["horizon"]), ("naive",))
                 if adjusted is not None else None)
        if adjusted is not None and naive is not None:
            comparison = compare_naive(naive, adjusted)
            sentences.append(f"For {OUTCOME_SHORT[outcome].lower()} {window_phrase(adjusted['horizon'])}, "
                             + comparison[:1].lower() + comparison[1:])
    if not rows:
        return not_available(f"estimates for treatment '{PRIMARY}'")
    table = pipe_table(["Outcome", "Window", "Raw comparison", "On adopters: matched", "On adopters: doubly robust",
                        "On everyone: doubly robust"], rows, ["l", "l", "r", "r", "r", "r"])
    parts = [" ".join(sentences), table,
             "*Effects in percentage points, with 95% intervals in brackets. Raw: adopters minus non-adopters. "
             "The two middle columns answer the same question, the effect on the customers who adopted (ATT): "
             "matching compares each adopter with similar non-adopters; the doubly robust estimate uses the "
             "double machine learning fits. They should agree within their intervals (the agreement check in "
             "\"How sure are we?\"). The last column is the average effect over all eligible customers (ATE), "
             "a different question: it differs from the effect on adopters when adopters gain more or less "
             "than others.*",
             _balance_sentence(m),
             figure(m.figure("causal", "graph"), "What we adjust for: the causal graph", width="70%"),
             figure(m.figure("love") or m.figure("balance"), "Balance before and after matching", width="70%")]
    return "\n\n".join(p for p in parts if p)

COVARIATE_WORDS = {  # panel covariate -> (phrase when adopters are higher, phrase when lower)
    "log_mrr_bom": ("higher MRR", "lower MRR"),
    "tier_rank": ("a higher tier", "a lower tier"),
    "n_int": ("more integrations", "fewer integrations"),
    "months_before": ("a longer history with us", "a shorter history with us"),
    "d_n_int_prev": ("faster recent integration growth", "slower recent integration growth"),
    "d_log_mrr_prev": ("faster recent MRR growth", "slower recent MRR growth"),
    "cancel_prev": ("more cancellations the month before", "fewer cancellations the month before"),
    "history_missing": ("more newcomers", "fewer newcomers"),
    "tier_missing": ("more missing tiers", "fewer missing tiers"),
    "mrr_missing": ("more missing MRR values", "fewer missing MRR values"),
}

def _balance_rows(m: MemoInputs) -> tuple[pd.DataFrame | None, str | None, str | None, int | None]:
    """(rows of the headline cancellation cell, before column, after column, horizon) of balance.csv."""
    balance = m.balance
    if balance is None:
        return None, None, None, None
    numeric = [c for c in balance.columns if pd.api.types.is_numeric_dtype(balance[c])]
    before = next((c for c in numeric if "before" in c.lower() or "unmatched" in c.lower()), None)
    after = next((c for c in numeric if "after" in c.lower()), None)
    if before is None or after is None:
        return None, None, None, None
    if not {"treatment", "outcome", "horizon"} <= set(balance.columns):
        return balance, before, after, None
    cell = best_effect(m.effects, PRIMARY, "cancel", methods=("psm", "dml"))
    horizon = int(cell["horizon"]) if cell is not None else int(balance["horizon"].min())
    rows = balance[(balance["treatment"] == PRIMARY) & (balance["outcome"] == "cancel")
                   & (balance["horizon"] == horizon)]
    return (rows if len(rows) else None), before, after, horizon

def who_adopts(m: MemoInputs, top: int = 3) -> str | None:
    """``... adopters already differ: higher MRR and a higher tier`` from the largest pre-matching gaps."""
    rows, before, _, _ = _balance_rows(m)
    if rows is None or "covariate" not in rows.columns:
        return None
    named = rows[rows["covariate"].isin(list(COVARIATE_WORDS))]
    named = named.reindex(named[before].abs().sort_values(ascending=False).index)
    named = named[named[before].abs() > 0.1].head(top)
    if not len(named):
        return "Adopters and non-adopters look alike on what we measure before adoption"
    phrases = [COVARIATE_WORDS[c][0 if v > 0 else 1] for c, v in zip(named["covariate"], named[before])]
    return "Before adopting, adopters already differ from non-adopters: " + _join(phrases)

def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

def _balance_sentence(m: MemoInputs) -> str:
    """How many characteristics differed before and after matching, for the headline cancellation cell."""
    if m.balance is None:
        return not_available("balance table (balance.csv)")
    rows, before, after, horizon = _balance_rows(m)
    if rows is None:
        return "The balance table is in the results folder (balance.csv)."
    where = f" (cancellation, {window_phrase(horizon)})" if horizon is not None else ""
    n_before = int((rows[before].abs() > 0.1).sum())
    n_after = int((rows[after].abs() > 0.1).sum())
    text = (f"Before matching, adopters and non-adopters differed notably (standardised difference above 0.1) "
            f"on {n_before} of {len(rows)} characteristics{where}; after matching, on {n_after}.")
    return text + _trimming_sentence(m, horizon)

def _trimming_sentence(m: MemoInputs, horizon: int | None) -> str:
    trim = m.trimming
    if trim is None or not {"n_before", "n_removed"} <= set(trim.columns):
        return ""
    rows = trim
    if {"treatment", "outcome", "horizon"} <= set(trim.columns) and horizon is not None:
        rows = trim[(trim["treatment"] == PRIMARY) & (trim["outcome"] == "cancel") & (trim["horizon"] == horizon)]
        if "sample" in rows.columns:
            rows = rows[rows["sample"].astype(str) == "main"]
    if len(rows) != 1:
        return ""
    row = rows.iloc[0]
    return (f" Customer-months whose chance of adopting was extreme (below 1% or above 99%) have no comparable "
            f"counterpart and are left out of the matched and adjusted estimates: {fmt_count(row['n_removed'])} "
            f"of {fmt_count(row['n_before'])} here.")

# --- effects by horizon -------------------------------------------------------------------
def effects_section(m: MemoInputs) -> str:
    """Effects of the primary treatment on every outcome and horizon, with intervals."""
    if m.effects is None:
        return not_available("effect estimates (effects.csv)")
    rows, sentences, methods_used = [], [], set()
    for outcome in ("cancel_rate", "cancel_dollars", "cancel", "upgrade", "mrr_change"):
        for horizon in sorted(select_effects(m.effects, treatment=PRIMARY, outcome=outcome)["horizon"].unique()):
            row = best_effect(m.effects, PRIMARY, outcome, int(horizon))
            if row is None:
                continue
            how = direction(row)
            reading = {"down": "lower", "up": "higher", "unclear": "cannot tell"}[how]
            rows.append([OUTCOME_SHORT.get(outcome, outcome), window_phrase(horizon).replace("over the ", ""),
                         effect_compact(row), reading, fmt_count(row.get("n_units")),
                         _cohort_span(row.get("cohorts"))])
            methods_used.add(METHOD_NAMES.get(row["method"], row["method"]))
        for horizon in (1,):
            row = best_effect(m.effects, PRIMARY, outcome, horizon)
            if row is not None and outcome in ("cancel_rate", "cancel", "upgrade"):
                sentences.append(effect_sentence(row))
    if not rows:
        return not_available(f"estimates for treatment '{PRIMARY}'")
    table = pipe_table(["Outcome", "Window", "Effect (95% interval)", "Reading", "Customer-months",
                        "Adoption months"], rows, ["l", "l", "r", "l", "r", "l"])
    return "\n\n".join([" ".join(sentences), table,
                        f"*Rates in percentage points (the dollar cancellation rate: points of beginning MRR); money in "
                        f"dollars per customer-month. Estimator: "
                        f"{', '.join(sorted(methods_used))}. \"Cannot tell\": the interval includes zero.*"])

def _cohort_span(cohorts) -> str:
    """``2020-08;2020-09;2020-10`` -> ``2020-08 to 2020-10 (3)``."""
    months = sorted(m for m in str(cohorts or "").split(";") if m.strip() and m != "nan")
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]} ({len(months)})"

