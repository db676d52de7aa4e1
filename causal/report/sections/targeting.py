"""Whom to target, and what it is worth in dollars."""
from __future__ import annotations

import pandas as pd

from causal.report.inputs import MemoInputs
from causal.report.status import stage_status, targeting_status
from causal.report.tables import (
    frame_table,
    not_available,
    pipe_table,
)
from causal.report.text import (
    direction,
    fmt_count,
    fmt_dollars,
    fmt_number,
    fmt_percent,
    is_missing,
    md_text,
    window_phrase,
)


def _targeting_values(m: MemoInputs) -> pd.DataFrame | None:
    frame = m.targeting
    if frame is None or not {"strategy", "metric", "estimate", "ci_low", "ci_high"} <= set(frame.columns):
        return None
    return frame

def targeting_value(m: MemoInputs, strategy: str, metric: str) -> pd.Series | None:
    """One row of targeting.csv (strategy, metric), or None."""
    values = _targeting_values(m)
    if values is None:
        return None
    row = values[(values["strategy"] == strategy) & (values["metric"] == metric)]
    return row.iloc[0] if len(row) else None

def targeting_verdict(m: MemoInputs, metric: str = "mrr_kept_per_1000") -> tuple[str | None, pd.Series | None]:
    """Whether the rule beats random targeting on held-out customers (MRR kept): better / unclear / worse."""
    row = targeting_value(m, "policy_rule_minus_random", metric)
    if row is None:
        return None, None
    return {"up": "better", "down": "worse", "unclear": "unclear"}[direction(row)], row

def targeting_rule_lines(m: MemoInputs, with_detail: bool = True) -> list[str]:
    """The targeted groups in words (lines starting with TARGET in targeting_rule.txt)."""
    if not m.targeting_rule:
        return []
    lines = [ln.strip() for ln in m.targeting_rule.splitlines() if ln.strip().upper().startswith("TARGET ")]
    groups = []
    for line in lines:
        body = line[len("TARGET "):].strip()
        where, _, detail = body.partition(": ")
        who = "every customer" if where.strip() == "every customer" else f"customers with {where}"
        groups.append(md_text(f"{who} ({detail})" if detail and with_detail else who))
    return groups

def _learnt_on(m: MemoInputs) -> str:
    text = m.targeting_rule or ""
    return "avoid the most cancellations" if "learnt on: cancellations" in text or "outcome: cancellation" in text \
        else "keep the most MRR (cancelled MRR avoided)"

def targeting_section(m: MemoInputs) -> str:
    """The targeting rule in words and what it buys against random targeting and today's adopters."""
    status = targeting_status(m)
    if not status.usable:
        if status.status == "missing":
            return not_available("targeting rule (targeting.csv)")
        return "No targeting rule found. " + status.sentence("targeting step")
    parts = []
    rule = targeting_rule_lines(m)
    if rule:
        parts.append(f"**The rule.** A shallow decision tree, learnt on half of the customers, picks the groups "
                     f"where adoption is predicted to {_learnt_on(m)}: " + "; ".join(rule) + ".")
    elif m.targeting_rule:
        parts.append(f"**The rule.** {md_text(m.targeting_rule.splitlines()[0])}")
    else:
        parts.append(not_available("targeting rule (targeting_rule.txt)"))
    values = _targeting_values(m)
    if values is None:
        parts.append(frame_table(m.targeting) if m.targeting is not None and len(m.targeting)
                     else not_available("value of the targeting rule (targeting.csv)"))
        return "\n\n".join(parts)
    verdict, diff = targeting_verdict(m)
    if verdict is not None:
        numbers = (f"{fmt_dollars(diff['estimate'])} ({fmt_dollars(diff['ci_low'])} to "
                   f"{fmt_dollars(diff['ci_high'])})")
        parts.append({
            "better": f"On the other half of the customers, the rule keeps more MRR per 1,000 adoptions than "
                      f"encouraging customers at random: {numbers} more.",
            "unclear": f"On the other half of the customers, the rule does not reliably keep more MRR than "
                       f"encouraging customers at random (difference per 1,000 adoptions: {numbers}); no group "
                       f"stands out.",
            "worse": f"On the other half of the customers, the rule keeps less MRR than encouraging customers at "
                     f"random (difference per 1,000 adoptions: {numbers}); do not use it.",
        }[verdict])
    names = {"policy_rule": "Customers the rule picks", "random": "Customers at random",
             "todays_adopters": "Customers like today's adopters"}
    rows = []
    for strategy, name in names.items():
        cells = [name]
        for metric, dollars in (("mrr_kept_per_1000", True), ("cancellations_avoided_per_1000", False)):
            found = values[(values["strategy"] == strategy) & (values["metric"] == metric)]
            if not len(found):
                cells.append("")
                continue
            r = found.iloc[0]
            fmt = (lambda v: fmt_dollars(v)) if dollars else (lambda v: fmt_number(v, 1))  # noqa: E731
            cells.append(f"{fmt(r['estimate'])} ({fmt(r['ci_low'])} to {fmt(r['ci_high'])})")
        share = values.iloc[0:0]
        if "share_targeted" in values.columns:
            share = values[(values["strategy"] == strategy) & values["share_targeted"].notna()]
        cells.append(fmt_percent(share.iloc[0]["share_targeted"], 0) if len(share) else "")
        rows.append(cells)
    horizon = values["horizon"].iloc[0] if "horizon" in values.columns else None
    parts.append(pipe_table(["Whom Customer Success encourages", "MRR kept per 1,000 adoptions",
                             "Cancellations avoided per 1,000 adoptions", "Share of customers"], rows,
                            ["l", "r", "r", "r"]))
    parts.append(f"*Measured on held-out customers{', ' + window_phrase(horizon) if horizon is not None else ''}, "
                 f"with 95% intervals. Values are per adoption the push brings about: a push that does not "
                 f"lead to an adoption changes nothing.*")
    return "\n\n".join(parts)

def dollar_figures(m: MemoInputs) -> dict | None:
    """The whole-base dollar figures: from heterogeneity_summary.json, else the 'all' row of dollars.csv."""
    keys = ("mrr_retained_per_year", "per_year_ci_low", "per_year_ci_high")
    found = (m.heterogeneity_summary or {}).get("dollars")
    if isinstance(found, dict) and all(k in found for k in keys):
        return found
    frame = m.dollars
    if frame is not None and set(keys) <= set(frame.columns):
        rows = frame[frame["segment_var"].astype(str) == "all"] if "segment_var" in frame.columns else frame
        if len(rows):
            return {k: v for k, v in rows.iloc[0].items() if not is_missing(v)}
    return None

def dollars_sentence(m: MemoInputs) -> str | None:
    """MRR retained per year with its interval, worded by whether the interval covers zero."""
    d = dollar_figures(m)
    if d is None:
        return None
    value, low, high = (float(d[k]) for k in ("mrr_retained_per_year", "per_year_ci_low", "per_year_ci_high"))
    interval = f"95% interval {fmt_dollars(low)} to {fmt_dollars(high)}"
    if low > 0:
        return f"about {fmt_dollars(value)} of MRR kept a year ({interval})"
    if high < 0:
        return f"a loss of about {fmt_dollars(-value)} of MRR a year ({interval})"
    return f"no reliable dollar figure yet: {fmt_dollars(value)} of MRR a year, but the {interval} includes zero"

def dollars_section(m: MemoInputs) -> str:
    """MRR retained if every non-adopting paying customer adopted (an upper bound), with the assumptions."""
    status = stage_status(m, "segments", "dollars", present=dollar_figures(m) is not None)
    if not status.usable:
        if status.status == "missing":
            return not_available("dollar figures (dollars.csv)")
        return status.sentence("dollar figures")
    d = dollar_figures(m)
    sentence = dollars_sentence(m)
    parts = [f"**Upper bound: if every non-adopting paying customer adopted.** {sentence[:1].upper()}{sentence[1:]}."]
    base = d.get("base_customers_per_month")
    effect = d.get("effect_per_customer_month")
    if base is not None and effect is not None:
        parts.append(f"How we get there: adopting an integration changes the MRR a customer cancels the next month "
                     f"by {fmt_dollars(effect)} on average; about {fmt_count(base)} paying customers a month did not "
                     f"adopt; if all of them had, the MRR kept would be {fmt_dollars(-float(effect))} x "
                     f"{fmt_count(base)} a month, times 12 for a year. That is an upper bound on what a campaign "
                     f"can move: it reaches only some customers, and only the next month is counted.")
    frame = m.dollars
    if frame is not None and {"segment_var", "segment_value", "mrr_retained_per_year"} <= set(frame.columns):
        by_segment = frame[frame["segment_var"].astype(str) == "segment"].sort_values(
            "mrr_retained_per_year", ascending=False).head(5)
        if len(by_segment):
            rows = [[md_text(r["segment_value"]), fmt_count(r.get("base_customers_per_month")),
                     f"{fmt_dollars(r['mrr_retained_per_year'])} ({fmt_dollars(r.get('per_year_ci_low'))} to "
                     f"{fmt_dollars(r.get('per_year_ci_high'))})"] for _, r in by_segment.iterrows()]
            parts.append(pipe_table(["Team (segment)", "Non-adopting paying customers a month",
                                     "MRR kept a year (95% interval)"], rows, ["l", "r", "r"]))
    return "\n\n".join(parts)

