"""Effects by segment for every outcome and window: tabs of forest plots and tables, and a compact appendix.

``segment_tabs`` gives, per outcome, a Quarto ``panel-tabset`` (one tab per window) holding the
segments stage's forest plot of that outcome and window and a table of every segment's effect with
its 95% interval. It is wrapped in ``content-visible when-format="html"``; ``segment_appendix`` is
the compact PDF version (one table per outcome, every window side by side) wrapped in
``when-format="typst"``. Without Quarto (the fallback renderer) the tabset div is a plain div, so
each tab reads as a heading of its own, and the renderer keeps only the block for its format.
"""
from __future__ import annotations

import pandas as pd

from analysis import results_contract
from causal.report.inputs import MemoInputs
from causal.report.sections.front import PRIMARY
from causal.report.tables import figure, not_available, pipe_table
from causal.report.text import (
    OUTCOME_SHORT,
    direction,
    effect_parts,
    fmt_count,
    good_or_bad,
    md_text,
    scale_of,
)

SEGMENT_METHODS = ("dr", "dml", "psm")  # the estimator of segment effects, in order of preference
GROUPINGS = {"segment": "Team", "tier": "Tier", "employee_size": "Size", "region": "Region"}
READING = {"good": "clear benefit", "bad": "clear harm", None: "cannot tell"}


def _window_label(horizon: int) -> str:
    return "Next month" if int(horizon) == 1 else f"Next {int(horizon)} months"


def _outcomes(seg: pd.DataFrame) -> list[str]:
    found = [str(o) for o in seg["outcome"].dropna().unique()]
    return [o for o in OUTCOME_SHORT if o in found] + sorted(o for o in found if o not in OUTCOME_SHORT)


def segment_rows(m: MemoInputs, outcome: str, horizon: int) -> pd.DataFrame:
    """Segment effects of treatment ``any`` for one outcome and window, one estimator, in table order."""
    seg = m.effects_by_segment
    if seg is None or not len(seg):
        return pd.DataFrame()
    rows = seg[(seg["treatment"].astype(str) == PRIMARY) & (seg["outcome"].astype(str) == outcome)
               & (pd.to_numeric(seg["horizon"], errors="coerce") == horizon)]
    method = next((x for x in SEGMENT_METHODS if (rows["method"] == x).any()), None)
    if method is None:
        return pd.DataFrame()
    rows = rows[rows["method"] == method].copy()
    order = {v: i for i, v in enumerate(GROUPINGS)}
    rows["_group"] = rows["segment_var"].map(lambda v: order.get(str(v), len(order)))
    return rows.sort_values(["_group", "estimate"], kind="stable").drop(columns="_group")


def _reading(outcome: str, row) -> str:
    verdict = good_or_bad(outcome, direction(row))
    return READING.get(verdict if verdict in ("good", "bad") else None)


def _unit_note(outcome: str) -> str:
    _, unit = scale_of(outcome)
    return "percentage points" if unit == "percentage points" else "dollars per customer-month"


def segment_table(rows: pd.DataFrame, outcome: str) -> str:
    """Pipe table: grouping, segment, effect, 95% interval, reading, customer-months and adopters."""
    body = []
    for _, r in rows.iterrows():
        p = effect_parts(r)
        body.append([GROUPINGS.get(str(r["segment_var"]), md_text(r["segment_var"])), md_text(r["segment_value"]),
                     p["estimate"], f"{p['ci_low']} to {p['ci_high']}", _reading(outcome, r),
                     fmt_count(r.get("n_units")), fmt_count(r.get("n_treated"))])
    return pipe_table(["Grouping", "Segment", "Effect", "95% interval", "Reading", "Customer-months", "Adopters"],
                      body, ["l", "l", "r", "r", "l", "r", "r"])


def _horizons(m: MemoInputs, outcome: str) -> list[int]:
    seg = m.effects_by_segment
    part = seg[(seg["treatment"].astype(str) == PRIMARY) & (seg["outcome"].astype(str) == outcome)]
    return sorted({int(h) for h in pd.to_numeric(part["horizon"], errors="coerce").dropna()})


def segment_tabs(m: MemoInputs) -> str:
    """HTML: per outcome a tabset, one tab per window, each a forest plot and the table of segment effects."""
    seg = m.effects_by_segment
    if seg is None or not len(seg):
        return not_available("effects by segment (effects_by_segment.csv)")
    parts = ['::: {.content-visible when-format="html"}']
    for outcome in _outcomes(seg):
        tabs = []
        for horizon in _horizons(m, outcome):
            rows = segment_rows(m, outcome, horizon)
            if not len(rows):
                continue
            name = results_contract.segment_forest_png(outcome, horizon)
            plot = figure(m.results_dir / results_contract.FIGURES_DIR / name,
                          f"{OUTCOME_SHORT.get(outcome, outcome)}, {_window_label(horizon).lower()}: "
                          f"effect of adopting by segment (95% intervals)", width="75%")
            tabs += [f"##### {_window_label(horizon)}", plot, segment_table(rows, outcome)]
        if not tabs:
            continue
        parts += [f"#### {OUTCOME_SHORT.get(outcome, md_text(outcome))} {{#segments-{outcome.replace('_', '-')}}}",
                  f"*Effects in {_unit_note(outcome)}, with 95% intervals clustered by customer.*",
                  "::: {.panel-tabset}", *tabs, ":::"]
    parts.append(":::")
    return "\n\n".join(parts)


def segment_appendix(m: MemoInputs) -> str:
    """PDF: one compact table per outcome, a row per segment, the windows side by side."""
    seg = m.effects_by_segment
    parts = ['::: {.content-visible when-format="typst"}', "## Appendix: effects by segment {#segment-appendix}"]
    if seg is None or not len(seg):
        return "\n\n".join(parts + [not_available("effects by segment (effects_by_segment.csv)"), ":::"])
    parts.append("The effect of adopting an integration in each group of customers, for every outcome and window "
                 "(the HTML memo shows them as forest plots, one tab per window).")
    for outcome in _outcomes(seg):
        horizons = [h for h in _horizons(m, outcome) if len(segment_rows(m, outcome, h))]
        if not horizons:
            continue
        cells: dict[tuple[str, str], dict[int, str]] = {}
        for h in horizons:
            for _, r in segment_rows(m, outcome, h).iterrows():
                p = effect_parts(r)
                mark = {"clear benefit": "+", "clear harm": "!"}.get(_reading(outcome, r), "")
                key = (GROUPINGS.get(str(r["segment_var"]), md_text(r["segment_var"])), md_text(r["segment_value"]))
                cells.setdefault(key, {})[h] = f"{p['estimate']} ({p['ci_low']} to {p['ci_high']}){mark}"
        body = [[g, v] + [by_h.get(h, "") for h in horizons] for (g, v), by_h in cells.items()]
        parts += [f"**{OUTCOME_SHORT.get(outcome, md_text(outcome))}**, effects in {_unit_note(outcome)} "
                  f"(95% interval)",
                  pipe_table(["Grouping", "Segment"] + [_window_label(h) for h in horizons], body,
                             ["l", "l"] + ["r"] * len(horizons))]
    parts.append("*+ a clear benefit, ! a clear harm (the interval excludes zero); no mark: we cannot tell. "
                 "The HTML memo shows the same effects as forest plots.*")
    parts.append(":::")
    return "\n\n".join(parts)
