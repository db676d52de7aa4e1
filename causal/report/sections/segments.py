"""For whom: effects by segment, marketplace against custom integrations."""
from __future__ import annotations

import pandas as pd

from causal.report.inputs import MemoInputs
from causal.report.status import stage_status
from causal.report.sections.front import PRIMARY
from causal.report.tables import (
    best_effect,
    figure,
    not_available,
    pipe_table,
)
from causal.report.text import (
    OUTCOME_SHORT,
    direction,
    effect_compact,
    effect_parts,
    good_or_bad,
    md_text,
    window_phrase,
)

# --- segments, marketplace vs custom, targeting, dollars -----------------------------------
SEGMENT_METHODS = ("dml", "dr", "psm")  # preferred estimator for segment effects, in order

SEGMENT_VAR_NAMES = {"segment": "team", "tier": "tier", "employee_size": "size", "region": "region"}

def _segment_label(row) -> str:
    var = SEGMENT_VAR_NAMES.get(str(row.get("segment_var", "")), str(row.get("segment_var", "")))
    return f"{md_text(row['segment_value'])} ({var})" if var else md_text(row["segment_value"])

BAND_FIELDS = ("band_low", "band_high")  # simultaneous 95% band columns of effects_by_segment.csv


def _with_band(row) -> pd.Series:
    out = row.copy()
    out["ci_low"], out["ci_high"] = row["band_low"], row["band_high"]
    return out


def _shrunk_text(row) -> str:
    shrunk = row.get("shrunk_estimate")
    if shrunk is None or pd.isna(shrunk):
        return ""
    out = row.copy()
    out["estimate"] = out["ci_low"] = out["ci_high"] = shrunk
    return f", shrunk {effect_parts(out)['estimate']}"


def segment_rows(seg: pd.DataFrame | None, outcome: str, horizon: int | None = None,
                 treatment: str = PRIMARY) -> tuple[pd.DataFrame, int | None]:
    """The segment rows the memo words for one outcome (latest horizon unless given), preferred method."""
    if seg is None or not len(seg):
        return pd.DataFrame(), None
    rows = seg[(seg["treatment"] == treatment) & (seg["outcome"] == outcome)]
    if not len(rows):
        return rows, None
    horizon = int(rows["horizon"].max()) if horizon is None else int(horizon)
    rows = rows[rows["horizon"] == horizon]
    if not len(rows):
        return rows, horizon
    method = next((x for x in SEGMENT_METHODS if (rows["method"] == x).any()), rows["method"].iloc[0])
    return rows[rows["method"] == method], horizon


def segment_sentence(seg: pd.DataFrame | None, outcome: str, horizon: int | None = None,
                     treatment: str = PRIMARY) -> str:
    """Which groups clearly benefit, in words, for one outcome and window.

    "Clear" means the simultaneous 95% band over the groups of the segment
    variable excludes zero; only groups marked ``headline_eligible`` are
    named; they are listed in the order of their shrunk (partially pooled)
    estimates, each shown as its raw estimate with its simultaneous band.
    Without band columns (an older results folder) no group is called clear.
    """
    rows, horizon = segment_rows(seg, outcome, horizon, treatment)
    if not len(rows):
        return ""
    label = f"**{OUTCOME_SHORT[outcome]} {window_phrase(horizon)}.**"
    if not set(BAND_FIELDS) <= set(rows.columns) or rows["band_low"].isna().all():
        return (f"{label} The segment intervals in this run are not adjusted for comparing {len(rows)} groups "
                "at once, so the memo names no group as a clear case; see the table in effects_by_segment.csv.")
    rows = rows[rows["band_low"].notna()]
    eligible = rows[rows["headline_eligible"].astype(str).str.lower() == "true"] if "headline_eligible" in rows \
        else rows
    small = len(rows) - len(eligible)
    banded = [_with_band(r) for _, r in eligible.iterrows()]
    good = [r for r in banded if good_or_bad(outcome, direction(r)) == "good"]
    bad = [r for r in banded if good_or_bad(outcome, direction(r)) == "bad"]
    sign = 1.0 if outcome in ("cancel", "cancel_dollars") else -1.0  # most benefit first
    rank = "shrunk_estimate" if "shrunk_estimate" in rows.columns else "estimate"
    parts = []
    if good:
        best = sorted(good, key=lambda r: sign * float(r[rank]))
        names = "; ".join(f"{_segment_label(r)}: {effect_compact(r)}{_shrunk_text(r)}" for r in best[:4])
        parts.append(f"{label} A clear benefit in {len(good)} of {len(eligible)} groups, even with 95% bands "
                     f"that hold for all groups of a grouping (team, tier, size, region) at once; largest in "
                     f"{names} (points).")
    else:
        parts.append(f"{label} No group of customers shows a clear benefit once we allow for comparing "
                     f"{len(eligible)} groups: every group's 95% band (holding for all groups of its grouping at "
                     f"once) includes zero"
                     f"{' or points the other way' if bad else ''}. The data cannot yet say for whom "
                     "integrations matter most.")
    if bad:
        parts.append("Clearly worse after adoption: " + "; ".join(
            f"{_segment_label(r)}: {effect_compact(r)}{_shrunk_text(r)}" for r in bad[:4]) + " (points).")
    if good or bad:
        parts.append("Groups are ordered by their shrunk estimates (each pulled towards the overall effect in "
                     "proportion to its noise, which tames lucky small groups); the figures are the raw "
                     "estimates with their simultaneous bands.")
    if small:
        rule = next((str(x) for x in rows.get("headline_rule", pd.Series(dtype=str)).dropna()), "")
        parts.append(f"{small} smaller group{'s' if small > 1 else ''} ({md_text(rule) if rule else 'below the size rule'})"
                     f" {'are' if small > 1 else 'is'} in the table only, never a headline.")
    return " ".join(parts)


def segments_section(m: MemoInputs) -> str:
    """Forest plot and which segments benefit, in words (simultaneous bands, shrunk ranking)."""
    parts = [figure(m.figure("forest"), "Effect of adopting an integration, by segment (95% intervals)",
                    width="90%")]
    seg = m.effects_by_segment
    status = stage_status(m, "segments", "segment_effects", present=seg is not None and len(seg) > 0)
    if not status.usable and status.status != "missing":
        return status.sentence("effects by segment")
    if seg is None or not len(seg):
        parts.append(not_available("effects by segment (effects_by_segment.csv)"))
        return "\n\n".join(parts)
    parts += [text for text in (segment_sentence(seg, outcome) for outcome in ("cancel", "upgrade")) if text]
    return "\n\n".join(parts)

def _interval_row(estimate, low, high, outcome="cancel", method="dr") -> pd.Series:
    return pd.Series({"treatment": "", "outcome": outcome, "horizon": 0, "method": method, "estimand": "",
                      "estimate": estimate, "ci_low": low, "ci_high": high})

def marketplace_rows(m: MemoInputs, outcome: str = "cancel", horizon: int = 1):
    """(marketplace row, custom row, difference row or None) for one outcome and horizon."""
    mvc = m.marketplace_vs_custom
    needed = {"outcome", "horizon", "marketplace_estimate", "custom_estimate", "difference"}
    if mvc is not None and needed <= set(mvc.columns):
        part = mvc[(mvc["outcome"].astype(str) == outcome) & (pd.to_numeric(mvc["horizon"]) == horizon)]
        if len(part):
            r = part.iloc[0]
            def make(prefix):
                return _interval_row(r[f"{prefix}_estimate"], r[f"{prefix}_ci_low"], r[f"{prefix}_ci_high"], outcome)

            return make("marketplace"), make("custom"), _interval_row(
                r["difference"], r.get("difference_ci_low"), r.get("difference_ci_high"), outcome)
    market = best_effect(m.effects, "marketplace", outcome, horizon)
    custom = best_effect(m.effects, "custom", outcome, horizon)
    if market is None or custom is None:
        return None
    return market, custom, None

def marketplace_section(m: MemoInputs) -> str:
    """Marketplace apps against custom integrations, side by side with their difference."""
    status = stage_status(m, "segments", "marketplace_vs_custom", present=m.marketplace_vs_custom is not None)
    if not status.usable and status.status != "missing":
        return status.sentence("comparison of marketplace apps with custom integrations")
    rows, parts = [], []
    for outcome in ("cancel", "upgrade"):
        for horizon in (1, 2, 3):
            found = marketplace_rows(m, outcome, horizon)
            if found is None:
                continue
            market, custom, diff = found
            rows.append([OUTCOME_SHORT[outcome], window_phrase(horizon).replace("over the ", ""),
                         effect_compact(market), effect_compact(custom),
                         effect_compact(diff) if diff is not None else "n/a"])
    if not rows:
        return not_available("marketplace and custom estimates (marketplace_vs_custom.csv)")
    parts.append(_marketplace_sentence(m))
    parts.append(pipe_table(["Outcome", "Window", "Marketplace app", "Custom integration", "Difference"], rows,
                            ["l", "l", "r", "r", "r"]))
    parts.append("*Effects in percentage points (95% intervals). The difference (marketplace minus custom) is "
                 "estimated jointly, because the same customers add both kinds.*")
    parts.append(figure(m.figure("marketplace"), "Marketplace apps against custom integrations", width="85%"))
    return "\n\n".join(parts)

def _marketplace_sentence(m: MemoInputs) -> str:
    found = marketplace_rows(m, "cancel", 1)
    if found is None:
        return ""
    market, custom, diff = found
    words = {"down": "lower", "up": "higher", "unclear": "no clear change in"}
    text = (f"Over the next month, adding a marketplace app goes with {words[direction(market)]} cancellation "
            f"({effect_compact(market)} points) and adding a custom integration with "
            f"{words[direction(custom)]} cancellation ({effect_compact(custom)} points).")
    if diff is not None:
        how = direction(diff)
        text += (" We cannot tell which kind matters more: the interval of the difference includes zero."
                 if how == "unclear" else
                 f" Marketplace apps do {'better' if how == 'down' else 'worse'} than custom integrations "
                 f"(difference {effect_compact(diff)} points).")
    return text

