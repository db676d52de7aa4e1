"""The data section and usage trends: the ledger, the checks, the tracking change, the trend figures."""
from __future__ import annotations

from causal.report.inputs import MemoInputs
from causal.report.tables import (
    caption_from_name,
    figure,
    frame_table,
    not_available,
    pipe_table,
)
from causal.report.text import (
    fmt_count,
    fmt_number,
    fmt_percent,
    md_text,
)


# --- helpers -------------------------------------------------------------------
def snapshot_months(m: MemoInputs) -> list[str]:
    months = (m.data_quality or {}).get("months") or []
    return sorted(str(x) for x in months)

def flag_transitions(m: MemoInputs) -> list[tuple[str, str | None]]:
    """(month t, month t+1) for every flagged tracking-change transition."""
    flagged = sorted(str(x) for x in (m.data_quality or {}).get("tracking_change_months") or [])
    months = snapshot_months(m)
    pairs = []
    for month in flagged:
        position = months.index(month) if month in months else -1
        following = months[position + 1] if 0 <= position < len(months) - 1 else None
        pairs.append((month, following))
    return pairs

def tracking_sentence(m: MemoInputs) -> str:
    if m.data_quality is None:
        return not_available("data-quality checks (data_quality.json)")
    pairs = flag_transitions(m)
    if not pairs:
        return ("No month-to-month jump in integration counts looked like a change in what was tracked, "
                "so every month is used.")
    names = ", ".join(f"into {b}" if b else f"after {a}" for a, b in pairs)
    return (f"The transition {names} was flagged: integration counts jumped at once{_tracking_numbers(m, pairs)}, "
            f"which looks like a change in what was tracked rather than in what customers did. "
            f"Adoption across {'that transition' if len(pairs) == 1 else 'those transitions'} is left out of "
            f"the main estimates and used only in a sensitivity check.")

def _tracking_numbers(m: MemoInputs, pairs) -> str:
    """`` (custom integrations from 10% to 43% of all; 3.3 to 5.5 per customer)`` for the flagged transitions."""
    changes = (m.data_quality or {}).get("tracking_changes") or []
    flagged = {a for a, _ in pairs}
    texts = []
    for change in changes if isinstance(changes, list) else []:
        if not isinstance(change, dict) or str(change.get("month")) not in flagged:
            continue
        share = (change.get("custom_share_from"), change.get("custom_share_to"))
        count = (change.get("mean_n_integrations_from"), change.get("mean_n_integrations_to"))
        bits = []
        if all(isinstance(v, (int, float)) for v in share):
            bits.append(f"custom integrations went from {fmt_percent(share[0], 0)} to {fmt_percent(share[1], 0)} "
                        f"of all integrations")
        if all(isinstance(v, (int, float)) for v in count):
            bits.append(f"the average count per customer from {fmt_number(count[0], 1)} to {fmt_number(count[1], 1)}")
        if bits:
            texts.append(", ".join(bits))
    return f" ({'; '.join(texts)})" if texts else ""

def _summary_value(summary: dict | None, *tokens: str):
    """The first numeric value in a (flat or nested) summary whose key contains every token."""
    if not isinstance(summary, dict):
        return None
    stack = [("", summary)]
    while stack:
        prefix, node = stack.pop(0)
        for key, value in node.items():
            name = f"{prefix}{key}".lower()
            if isinstance(value, dict):
                stack.append((name + ".", value))
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and all(t in name for t in tokens):
                return value
    return None

def _share(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value / 100 if value > 1 else value

def trend_sentence(m: MemoInputs) -> str:
    summary = m.trends_summary
    months = snapshot_months(m)
    first = (summary or {}).get("first_month") or (months[0] if months else "the first month")
    last = (summary or {}).get("last_month") or (months[-1] if months else "the last month")
    mean_first = _summary_value(summary, "mean_integrations", "first") or _summary_value(summary, "mean", "first")
    mean_last = _summary_value(summary, "mean_integrations", "last") or _summary_value(summary, "mean", "last")
    zero_first = _share(_summary_value(summary, "zero", "first"))
    zero_last = _share(_summary_value(summary, "zero", "last"))
    parts = []
    if mean_first is not None and mean_last is not None:
        parts.append(f"The average customer had {fmt_number(mean_first, 2)} integrations in {first} and "
                     f"{fmt_number(mean_last, 2)} in {last}.")
    if zero_first is not None and zero_last is not None:
        parts.append(f"The share of customers with none went from {fmt_percent(zero_first)} to "
                     f"{fmt_percent(zero_last)}.")
    adoption = _share(_summary_value(summary, "adoption"))
    if adoption is not None:
        parts.append(f"In a typical month (leaving out flagged transitions) {fmt_percent(adoption, 0)} of customers "
                     f"added at least one integration.")
    if not parts:
        return not_available("usage trend summary (trends/summary.json)")
    return " ".join(parts)

# --- data and definitions --------------------------------------------------------
def ledger_table(m: MemoInputs) -> str:
    """Rows read, kept and quarantined per input file, with the reasons."""
    ledger = (m.data_quality or {}).get("ledger")
    if isinstance(ledger, list) and ledger:
        rows = []
        for entry in ledger:
            reasons = entry.get("quarantined_by_reason") or {}
            reason_text = "; ".join(f"{k}: {fmt_count(v)}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])
                                    if v) or "none"
            rows.append([str(entry.get("file", "")), fmt_count(entry.get("rows_read")),
                         fmt_count(entry.get("rows_kept")), fmt_count(entry.get("rows_quarantined")), reason_text])
        return pipe_table(["File", "Rows read", "Kept", "Set aside", "Why set aside"], rows,
                          ["l", "r", "r", "r", "l"])
    if m.ledger is not None:
        return frame_table(m.ledger)
    return not_available("the data ledger (data_quality.json or ledger.csv)")

def checks_sentence(m: MemoInputs) -> str:
    """How many data checks passed, and which did not."""
    checks = (m.data_quality or {}).get("checks")
    if not isinstance(checks, list) or not checks:
        return not_available("data checks")
    failed = [c for c in checks if not c.get("passed")]
    text = f"{len(checks) - len(failed)} of {len(checks)} automated data checks passed."
    if failed:
        text += " Not passed: " + md_text("; ".join(f"{c.get('name', '?')} ({c.get('detail', '')})".replace(" ()", "")
                                                    for c in failed[:6])) + "."
    return text

def data_section(m: MemoInputs) -> str:
    """Ledger table, data checks and the tracking-change finding."""
    return "\n\n".join([ledger_table(m), checks_sentence(m), tracking_sentence(m)])

# --- trends ------------------------------------------------------------------------
TREND_FIGURES = (  # (file-name keyword, caption), in the order the memo shows them
    ("integrations_by_month", "Integrations per customer by month and tier"),
    ("adoption", "Share of customers adding integrations, by month"),
    ("kind_share", "Custom and marketplace integrations as a share of all integrations"),
    ("value_by", "Value kept and MRR by number of integrations: a correlation, not an effect"),
    ("top_integrations", "Most used integrations in the last month"),
    ("customers_by_month", "Customers per month"),
)

def trends_section(m: MemoInputs, max_figures: int = 4) -> str:
    """Trend sentence and up to ``max_figures`` trend charts, the most telling first."""
    parts = [trend_sentence(m)]
    chosen: list[tuple] = []
    for keyword, caption in TREND_FIGURES:
        chosen += [(p, caption) for p in m.trend_figures if keyword in p.stem and p not in [c[0] for c in chosen]]
    chosen += [(p, caption_from_name(p)) for p in m.trend_figures if p not in [c[0] for c in chosen]]
    if chosen:
        parts += [figure(path, caption, width="72%") for path, caption in chosen[:max_figures]]
    else:
        parts.append(not_available("trend charts (PNG files in trends/)"))
    if len(chosen) > max_figures:
        parts.append(f"*{len(chosen) - max_figures} more charts are in the results folder (trends/).*")
    return "\n\n".join(parts)

