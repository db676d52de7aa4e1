"""The segments stage's guards: whether its inputs allow a ranking, a rule, segment effects, a comparison.

Each returns ``None`` (or an ``ok`` output record) when the input allows the
output, else the plain reason recorded in ``run_info.json`` and quoted by the memo.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import schema

PRIMARY_TREATMENT = "any"
VARIANTS = ("marketplace", "custom")
NO_RULE = "no targeting rule found"


def output(status: str, reason: str = "") -> dict:
    """One output's record for ``run_info.json``: its status and the reason when not plainly ok."""
    return {"status": status, "reason": reason}


def spread_reason(predicted: np.ndarray, n_groups: int) -> str | None:
    """Why predicted effects cannot rank customers (fewer distinct values than ranking groups), or None."""
    distinct = np.unique(np.round(np.asarray(predicted, dtype=float), 12)).size
    if distinct < max(n_groups, 2):
        return (f"no spread in predicted effects ({distinct} distinct value(s) on held-out customers, "
                f"{n_groups} ranking groups needed)")
    return None


def degenerate_rule_reason(share_train: float, share_heldout: float) -> str | None:
    """Why a rule is no rule: it targets every customer-month or none (on training or held-out customers)."""
    for label, share in (("training", share_train), ("held-out", share_heldout)):
        if share <= 0.0:
            return f"{NO_RULE}: the rule targets no {label} customer-month"
        if share >= 1.0:
            return f"{NO_RULE}: the rule targets every {label} customer-month"
    return None


def skipped_text(skipped: list[dict], treatments: tuple[str, ...]) -> str:
    reasons = pd.Series([s["reason"] for s in skipped if s["treatment"] in treatments and s["segment_var"] == "all"])
    if reasons.empty:
        return "no cell was estimable"
    return "; ".join(f"{reason} ({n} cell(s))" for reason, n in reasons.value_counts().head(2).items())


def segment_effects_status(panel: pd.DataFrame, gates: list, skipped: list[dict]) -> dict:
    """``ok``; ``degraded`` when no segment effect could be estimated or no segment variable varies."""
    if not gates:
        return output("degraded", "not estimable: " + skipped_text(skipped, (PRIMARY_TREATMENT,)))
    single = [var for var, column in schema.SEGMENT_VARS.items() if panel[column].astype(str).nunique() < 2]
    if len(single) == len(schema.SEGMENT_VARS):
        return output("degraded", "every segment variable has one level in the data "
                                   f"({', '.join(single)}): the segment effects are the overall effect")
    if single:
        return output("ok", f"one level only, no contrast: {', '.join(single)}")
    return output("ok")


def variants_status(panel: pd.DataFrame, mvc: pd.DataFrame, skipped: list[dict]) -> dict:
    """``ok``; ``degraded`` with the reason when there is no marketplace-vs-custom comparison."""
    if len(mvc):
        return output("ok")
    for variant in VARIANTS:
        rows = panel.loc[panel["treatment"] == variant]
        if rows.empty or int(rows[schema.TREATED].sum()) == 0:
            what = "custom integrations" if variant == "custom" else "marketplace integrations"
            return output("degraded", f"no {what} in the data: no marketplace-vs-custom comparison")
    return output("degraded", "not estimable: " + skipped_text(skipped, VARIANTS))
