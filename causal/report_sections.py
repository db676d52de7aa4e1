"""The memo's sections as markdown, generated from a results folder.

``report.qmd`` calls one function per section and prints what it returns
(``output: asis``). Each function takes the :class:`MemoInputs` read once by
:func:`load` and returns markdown; a missing input gives a "not available in
this run" line instead of an error. Words that state a finding come from
:mod:`causal.report_text`, chosen by the numbers.
"""
from __future__ import annotations

import pandas as pd

from causal.report_results import MemoInputs, load_memo_inputs, results_dir_from_env
from causal.report_tables import (best_effect, caption_from_name, figure, format_cell, frame_table,
                                  not_available, pipe_table, select_effects)
from causal.report_text import (METHOD_NAMES, OUTCOME_SHORT, compare_naive, direction, effect_sentence,
                                effect_compact, effect_with_interval, fmt_count, fmt_dollars, fmt_number, fmt_percent,
                                good_or_bad, is_missing, md_text, window_phrase)

PRIMARY = "any"
BANNER_TEXT = ("SIMULATED DATA: every number in this memo comes from simulated customers, "
               "not from the company's records.")


def load(results_dir=None) -> MemoInputs:
    """Read the results folder named by the parameter, ``$MEMO_RESULTS_DIR`` or the default."""
    return load_memo_inputs(results_dir_from_env(results_dir))


# --- banner ------------------------------------------------------------------
def banner(m: MemoInputs) -> str:
    """Raw HTML and typst that mark every page as simulated (empty for real data)."""
    if not m.simulated:
        return ""
    return (f'```{{=html}}\n<div class="sim-banner" role="note">{BANNER_TEXT}</div>\n```\n\n'
            f'```{{=typst}}\n#memo-banner.update[{BANNER_TEXT}]\n'
            f'#block(fill: rgb("#fde68a"), inset: 8pt, radius: 3pt, width: 100%)[*{BANNER_TEXT}*]\n```\n')


def provenance(m: MemoInputs) -> str:
    """One line: where the numbers come from."""
    source = "simulated data" if m.simulated else "the company's extracts"
    months = _months(m)
    span = f", snapshot months {months[0]} to {months[-1]}" if months else ""
    seed = (m.run_info or {}).get("seed")
    seed_text = f", seed {seed}" if seed is not None else ""
    return f"*Source: results of one analysis run on {source}{span}{seed_text}.*"


# --- helpers -------------------------------------------------------------------
def _months(m: MemoInputs) -> list[str]:
    months = (m.data_quality or {}).get("months") or []
    return sorted(str(x) for x in months)


def _flag_transitions(m: MemoInputs) -> list[tuple[str, str | None]]:
    """(month t, month t+1) for every flagged tracking-change transition."""
    flagged = sorted(str(x) for x in (m.data_quality or {}).get("tracking_change_months") or [])
    months = _months(m)
    pairs = []
    for month in flagged:
        following = months[months.index(month) + 1] if month in months and months.index(month) + 1 < len(months) else None
        pairs.append((month, following))
    return pairs


def _tracking_sentence(m: MemoInputs) -> str:
    if m.data_quality is None:
        return not_available("data-quality checks (data_quality.json)")
    pairs = _flag_transitions(m)
    if not pairs:
        return ("No month-to-month jump in integration counts looked like a change in what was tracked, "
                "so every month is used.")
    names = ", ".join(f"into {b}" if b else f"after {a}" for a, b in pairs)
    return (f"The transition {names} was flagged: integration counts (mostly custom integrations) jumped "
            f"at once, which looks like a change in what was tracked rather than in what customers did. "
            f"Adoption across {'that transition' if len(pairs) == 1 else 'those transitions'} is left out of "
            f"the main estimates and used only in a sensitivity check.")


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


def _trend_sentence(m: MemoInputs) -> str:
    summary = m.trends_summary
    months = _months(m)
    first = (summary or {}).get("first_month") or (months[0] if months else "the first month")
    last = (summary or {}).get("last_month") or (months[-1] if months else "the last month")
    mean_first = _summary_value(summary, "mean", "first") or _summary_value(summary, "mean", str(first))
    mean_last = _summary_value(summary, "mean", "last") or _summary_value(summary, "mean", str(last))
    zero_first = _share(_summary_value(summary, "zero", "first"))
    zero_last = _share(_summary_value(summary, "zero", "last"))
    parts = []
    if mean_first is not None and mean_last is not None:
        parts.append(f"The average customer had {fmt_number(mean_first, 2)} integrations in {first} and "
                     f"{fmt_number(mean_last, 2)} in {last}.")
    if zero_first is not None and zero_last is not None:
        parts.append(f"The share of customers with none went from {fmt_percent(zero_first)} to "
                     f"{fmt_percent(zero_last)}.")
    if not parts:
        return not_available("usage trend summary (trends/summary.json)")
    return " ".join(parts)


def _refutation_tally(m: MemoInputs) -> tuple[int, int, pd.DataFrame]:
    """(passed, total, failed rows) over the refutations of the primary treatment."""
    ref = m.refutations
    if ref is None or not len(ref):
        return 0, 0, pd.DataFrame()
    rows = ref[ref["treatment"] == PRIMARY] if "treatment" in ref.columns and (ref["treatment"] == PRIMARY).any() else ref
    judged = rows[rows["passed"].notna()]
    failed = judged[judged["passed"] == False]  # noqa: E712
    return int((judged["passed"] == True).sum()), int(len(judged)), failed  # noqa: E712


def _dollar_headline(m: MemoInputs) -> tuple[float, float | None, float | None, str] | None:
    """(estimate, low, high, label) for yearly MRR retained, from dollars.csv or the summary."""
    frame = m.dollars
    if frame is not None and len(frame):
        text_cols = [c for c in frame.columns if frame[c].dtype == object]
        for _, row in frame.iterrows():
            label = " ".join(str(row[c]) for c in text_cols).lower()
            if any(w in label for w in ("year", "annual")) and "estimate" in frame.columns:
                low = row.get("ci_low")
                high = row.get("ci_high")
                return (float(row["estimate"]), None if is_missing(low) else float(low),
                        None if is_missing(high) else float(high), " ".join(str(row[c]) for c in text_cols))
        year_cols = [c for c in frame.columns if any(w in c.lower() for w in ("year", "annual"))
                     and pd.api.types.is_numeric_dtype(frame[c])]
        if year_cols:
            main = [c for c in year_cols if not any(w in c.lower() for w in ("low", "high", "lo", "hi"))]
            column = (main or year_cols)[0]
            low = next((c for c in year_cols if "low" in c.lower()), None)
            high = next((c for c in year_cols if "high" in c.lower()), None)
            row = frame.iloc[0]
            return (float(row[column]), float(row[low]) if low else None, float(row[high]) if high else None,
                    column.replace("_", " "))
    value = _summary_value(m.heterogeneity_summary, "annual") or _summary_value(m.heterogeneity_summary, "year")
    if value is not None:
        return float(value), None, None, "MRR retained per year"
    return None


# --- executive summary ---------------------------------------------------------
def executive_summary(m: MemoInputs) -> str:
    """The four answers of the brief in plain words, headline numbers marked for the tests."""
    cancel = best_effect(m.effects, PRIMARY, "cancel")
    upgrade = best_effect(m.effects, PRIMARY, "upgrade")
    lines = []

    lines.append(f"- **What is happening with integration usage?** {_trend_sentence(m)} "
                 f"{_tracking_sentence(m)}")

    if cancel is None and upgrade is None:
        matters = not_available("effect estimates (effects.csv)")
    else:
        matters = _lead_answer(cancel, upgrade) + " " + " ".join(
            effect_sentence(r, mark=True) for r in (cancel, upgrade) if r is not None)
        naive = best_effect(m.effects, PRIMARY, "cancel", int(cancel["horizon"]), ("naive",)) if cancel is not None else None
        if naive is not None:
            matters += (" " + compare_naive(naive, cancel) +
                        " Adopters are larger, pay more and sit in higher tiers, so a raw comparison mixes the "
                        "effect of integrations with who adopts them.")
        passed, total, _ = _refutation_tally(m)
        if total:
            matters += f" The estimates passed {passed} of {total} robustness checks."
    lines.append(f"- **Do integrations matter?** {matters}")

    lines.append(f"- **What should we do?** {_recommendation_short(m, cancel, upgrade)}")
    lines.append("- **What should we find out next?** Run a randomized encouragement test: offer guided "
                 "integration set-up to a random half of a target group and compare cancellations and "
                 "upgrades after three months. It measures the effect directly, without relying on our "
                 "adjustments. Track integration usage events (syncs, active days), not only counts, so "
                 "tracking changes stop blurring the picture.")
    return "\n".join(lines)


def _lead_answer(cancel, upgrade) -> str:
    """``Yes.`` / ``Not clearly.`` / ``Not in the way hoped.`` from the headline intervals."""
    verdicts = [good_or_bad(o, direction(r)) for o, r in (("cancel", cancel), ("upgrade", upgrade)) if r is not None]
    if "good" in verdicts and "bad" not in verdicts:
        return "**Yes.**"
    if "bad" in verdicts and "good" not in verdicts:
        return "**Not in the way hoped.**"
    if "good" in verdicts:
        return "**Mixed.**"
    return "**Not clearly.**"


def _recommendation_short(m: MemoInputs, cancel, upgrade) -> str:
    how_cancel = good_or_bad("cancel", direction(cancel)) if cancel is not None else None
    how_upgrade = good_or_bad("upgrade", direction(upgrade)) if upgrade is not None else None
    if how_cancel == "good" or how_upgrade == "good":
        benefit = " and ".join(w for w, h in (("keeps customers", how_cancel), ("moves them up a tier", how_upgrade))
                               if h == "good")
        text = (f"Adopting integrations {benefit}, so Customer Success should make helping customers add an "
                f"integration part of their playbook.")
        if m.targeting_rule:
            text += f" Start where it pays most: {md_text(_first_sentence(m.targeting_rule))}"
        dollars = _dollar_headline(m)
        if dollars is not None and dollars[0] > 0:
            interval = (f" (95% interval {fmt_dollars(dollars[1])} to {fmt_dollars(dollars[2])})"
                        if dollars[1] is not None and dollars[2] is not None else "")
            text += f" Our estimate of what this is worth: {fmt_dollars(dollars[0])} of MRR a year{interval}."
        return text
    if how_cancel == "bad" or how_upgrade == "bad":
        return ("Adoption is followed by worse outcomes in our estimates; do not push adoption until we "
                "understand why (see what to investigate next).")
    return ("We cannot yet say that integrations change cancellations or upgrades, so do not fund a "
            "retention program on integrations alone; run the experiment below first.")


def _first_sentence(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) < 400 else line[:400].rsplit(" ", 1)[0] + "..."


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
    return "\n\n".join([ledger_table(m), checks_sentence(m), _tracking_sentence(m)])


# --- trends ------------------------------------------------------------------------
def trends_section(m: MemoInputs, max_figures: int = 4) -> str:
    """Trend sentence and up to ``max_figures`` trend charts."""
    parts = [_trend_sentence(m)]
    figures = m.trend_figures[:max_figures]
    if figures:
        parts += [figure(p, caption_from_name(p), width="75%") for p in figures]
    else:
        parts.append(not_available("trend charts (PNG files in trends/)"))
    return "\n\n".join(parts)


# --- naive against causal -------------------------------------------------------------
def naive_vs_causal(m: MemoInputs) -> str:
    """Raw comparison against matched and DML estimates, with balance and the graph."""
    if m.effects is None:
        return not_available("effect estimates (effects.csv)")
    rows, sentences = [], []
    for outcome in ("cancel", "upgrade"):
        for horizon in sorted(select_effects(m.effects, treatment=PRIMARY, outcome=outcome)["horizon"].unique()):
            cells = [OUTCOME_SHORT[outcome], window_phrase(horizon).replace("over the ", "")]
            for method in ("naive", "psm", "dml"):
                row = best_effect(m.effects, PRIMARY, outcome, int(horizon), (method,))
                cells.append(effect_compact(row) if row is not None else "")
            rows.append(cells)
        adjusted = best_effect(m.effects, PRIMARY, outcome)
        naive = best_effect(m.effects, PRIMARY, outcome, int(adjusted["horizon"]), ("naive",)) if adjusted is not None else None
        if adjusted is not None and naive is not None:
            sentences.append(f"{OUTCOME_SHORT[outcome]}, {window_phrase(adjusted['horizon'])}: "
                             + compare_naive(naive, adjusted))
    if not rows:
        return not_available(f"estimates for treatment '{PRIMARY}'")
    table = pipe_table(["Outcome", "Window", "Raw comparison", "Matched (adopters)", "Adjusted (all)"], rows,
                       ["l", "l", "r", "r", "r"])
    parts = [" ".join(sentences), table,
             "*Effects in percentage points, with 95% intervals in brackets. Raw: adopters minus non-adopters. "
             "Matched: each adopter compared with similar non-adopters (effect on adopters). "
             "Adjusted: double machine learning over all customers (average effect).*",
             _balance_sentence(m),
             figure(m.figure("causal", "graph"), "What we adjust for: the causal graph", width="70%"),
             figure(m.figure("love") or m.figure("balance"), "Balance before and after matching", width="70%")]
    return "\n\n".join(p for p in parts if p)


def _balance_sentence(m: MemoInputs) -> str:
    balance = m.balance
    if balance is None:
        return not_available("balance table (balance.csv)")
    numeric = [c for c in balance.columns if pd.api.types.is_numeric_dtype(balance[c])]
    before = next((c for c in numeric if "before" in c.lower() or "unmatched" in c.lower()), None)
    after = next((c for c in numeric if "after" in c.lower() or ("matched" in c.lower() and "un" not in c.lower())), None)
    if before is None or after is None:
        return "The balance table is in the results folder (balance.csv)."
    n_before = int((balance[before].abs() > 0.1).sum())
    n_after = int((balance[after].abs() > 0.1).sum())
    return (f"Before matching, adopters and non-adopters differed notably (standardised difference above 0.1) "
            f"on {n_before} of {len(balance)} characteristics; after matching, on {n_after}.")


# --- effects by horizon -------------------------------------------------------------------
def effects_section(m: MemoInputs) -> str:
    """Effects of the primary treatment on every outcome and horizon, with intervals."""
    if m.effects is None:
        return not_available("effect estimates (effects.csv)")
    rows, sentences, methods_used = [], [], set()
    for outcome in ("cancel", "upgrade", "cancel_dollars", "mrr_change"):
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
            if row is not None and outcome in ("cancel", "upgrade"):
                sentences.append(effect_sentence(row))
    if not rows:
        return not_available(f"estimates for treatment '{PRIMARY}'")
    table = pipe_table(["Outcome", "Window", "Effect (95% interval)", "Reading", "Customer-months",
                        "Adoption months"], rows, ["l", "l", "r", "l", "r", "l"])
    return "\n\n".join([" ".join(sentences), table,
                        f"*Rates in percentage points; money in dollars per customer-month. Estimator: "
                        f"{', '.join(sorted(methods_used))}. \"Cannot tell\": the interval includes zero.*"])


def _cohort_span(cohorts) -> str:
    """``2020-08;2020-09;2020-10`` -> ``2020-08 to 2020-10 (3)``."""
    months = sorted(m for m in str(cohorts or "").split(";") if m.strip() and m != "nan")
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]} ({len(months)})"


# --- segments, marketplace vs custom, targeting, dollars -----------------------------------
def segments_section(m: MemoInputs) -> str:
    """Forest plot and which segments benefit, in words."""
    parts = [figure(m.figure("forest"), "Effect of adopting an integration, by segment", width="90%")]
    seg = m.effects_by_segment
    if seg is None or not len(seg):
        parts.append(not_available("effects by segment (effects_by_segment.csv)"))
        return "\n\n".join(parts)
    for outcome in ("cancel", "upgrade"):
        rows = seg[(seg["treatment"] == PRIMARY) & (seg["outcome"] == outcome)] if "treatment" in seg.columns else seg
        if not len(rows):
            continue
        horizon = int(rows["horizon"].max())
        rows = rows[rows["horizon"] == horizon]
        method = next((x for x in ("dml", "psm") if (rows["method"] == x).any()), rows["method"].iloc[0])
        rows = rows[rows["method"] == method]
        good = [r for _, r in rows.iterrows() if good_or_bad(outcome, direction(r)) == "good"]
        bad = [r for _, r in rows.iterrows() if good_or_bad(outcome, direction(r)) == "bad"]
        label = f"{OUTCOME_SHORT[outcome]} {window_phrase(horizon)}"
        if good:
            best = sorted(good, key=lambda r: r["estimate"] if outcome == "cancel" else -r["estimate"])
            names = "; ".join(f"{r['segment_value']} ({effect_with_interval(r)})" for r in best[:4])
            parts.append(f"**{label}.** Clear benefit in {len(good)} of {len(rows)} groups; largest in {names}.")
        else:
            parts.append(f"**{label}.** No group shows a clear benefit: every interval includes zero"
                         f"{' or points the wrong way' if bad else ''}.")
        if bad:
            parts.append("Worse outcomes after adoption in: " +
                         "; ".join(f"{r['segment_value']} ({effect_with_interval(r)})" for r in bad[:4]) + ".")
    return "\n\n".join(parts)


def marketplace_section(m: MemoInputs) -> str:
    """Marketplace apps against custom integrations, side by side."""
    parts, rows = [], []
    for outcome in ("cancel", "upgrade"):
        for treatment in ("marketplace", "custom"):
            row = best_effect(m.effects, treatment, outcome, 1)
            if row is not None:
                rows.append([OUTCOME_SHORT[outcome], treatment.capitalize(), effect_compact(row),
                             {"down": "lower", "up": "higher", "unclear": "cannot tell"}[direction(row)]])
    if rows:
        parts.append(pipe_table(["Outcome (next month)", "Kind of integration",
                                 "Effect, points (95% interval)", "Reading"],
                                rows, ["l", "l", "r", "l"]))
    else:
        parts.append(not_available("marketplace and custom estimates"))
    if m.marketplace_vs_custom is not None and len(m.marketplace_vs_custom):
        parts.append("Difference between the two (estimated jointly, since the same customers add both kinds):")
        parts.append(frame_table(m.marketplace_vs_custom))
    parts.append(figure(m.figure("marketplace"), "Marketplace apps against custom integrations", width="75%"))
    return "\n\n".join(parts)


def targeting_section(m: MemoInputs) -> str:
    """The targeting rule in words and what it buys against random targeting."""
    parts = []
    parts.append(f"**Whom to target.** {md_text(m.targeting_rule)}" if m.targeting_rule
                 else not_available("targeting rule (targeting_rule.txt)"))
    if m.targeting is not None and len(m.targeting):
        parts.append(frame_table(m.targeting))
    else:
        parts.append(not_available("value of the targeting rule (targeting.csv)"))
    return "\n\n".join(parts)


def dollars_section(m: MemoInputs) -> str:
    """MRR retained, with intervals and assumptions."""
    parts = []
    headline = _dollar_headline(m)
    if headline is not None:
        value, low, high, label = headline
        interval = (f" (95% interval {fmt_dollars(low)} to {fmt_dollars(high)})"
                    if low is not None and high is not None else "")
        label = md_text(label.strip())
        parts.append(f"**What it is worth.** {label[:1].upper() + label[1:]}: {fmt_dollars(value)}{interval}.")
    if m.dollars is not None and len(m.dollars):
        parts.append(frame_table(m.dollars))
    else:
        parts.append(not_available("dollar figures (dollars.csv)"))
    return "\n\n".join(parts)


# --- how sure ---------------------------------------------------------------------------------
def refutations_section(m: MemoInputs) -> str:
    """Refutation results by check, failures spelled out, sensitivity in words."""
    ref = m.refutations
    parts = []
    if ref is None or not len(ref):
        parts.append(not_available("refutations (refutations.csv)"))
    else:
        passed, total, failed = _refutation_tally(m)
        parts.append(f"We re-ran each main estimate under checks that should not change it (or should erase "
                     f"it, for a fake treatment). {passed} of {total} checks passed.")
        rows = []
        for refuter, group in ref.groupby("refuter", sort=True):
            judged = group[group["passed"].notna()]
            rule = next((str(x) for x in group.get("rule", pd.Series(dtype=str)).dropna() if str(x).strip()), "")
            rows.append([refuter.replace("_", " "), f"{int((judged['passed'] == True).sum())} of {len(judged)}",  # noqa: E712
                         "pass" if len(judged) and judged["passed"].all() else "fail" if len(judged) else "n/a",
                         rule])
        parts.append(pipe_table(["Check", "Passed", "Result", "Pass rule"], rows, ["l", "r", "l", "l"]))
        if len(failed):
            parts.append("Did not pass: " + "; ".join(
                f"{str(r['refuter']).replace('_', ' ')} for {OUTCOME_SHORT.get(r.get('outcome'), r.get('outcome'))} "
                f"{window_phrase(r['horizon']) if not is_missing(r.get('horizon')) else ''} "
                f"({METHOD_NAMES.get(r.get('method'), r.get('method'))})".replace("  ", " ")
                for _, r in failed.head(8).iterrows()) + ".")
    parts.append(sensitivity_text(m))
    parts.append(flagged_sensitivity(m))
    return "\n\n".join(p for p in parts if p)


def sensitivity_text(m: MemoInputs) -> str:
    """Sensitivity to unobserved confounding, in words, from whatever the run wrote."""
    found = m.sensitivity
    if found is None:
        ref = m.refutations
        if ref is not None and len(ref):
            rows = ref[ref["refuter"].str.contains("unobserved|sensitiv|e_value|robustness", case=False, regex=True)]
            if len(rows):
                return ("**Unobserved factors.** A simulated hidden factor affecting both adoption and outcomes "
                        f"was added in {len(rows)} re-estimates; {int((rows['passed'] == True).sum())} kept the "  # noqa: E712
                        "conclusion.")
        return not_available("sensitivity to unobserved confounding")
    content = found["content"]
    if isinstance(content, str):
        return f"**Unobserved factors.** {md_text(content)}"
    if isinstance(content, dict):
        for key in ("meaning", "interpretation", "summary", "text", "in_words"):
            if isinstance(content.get(key), str):
                return f"**Unobserved factors.** {md_text(content[key])}"
        flat = "; ".join(f"{k.replace('_', ' ')} {format_cell(v)}" for k, v in content.items()
                         if isinstance(v, (int, float, str)))
        return f"**Unobserved factors.** {flat}."
    if isinstance(content, list):
        texts = [e.get("meaning") or e.get("interpretation") for e in content if isinstance(e, dict)]
        texts = [t for t in texts if isinstance(t, str)]
        if texts:
            return "**Unobserved factors.** " + md_text(" ".join(texts[:3]))
    return not_available("sensitivity to unobserved confounding in words")


def flagged_sensitivity(m: MemoInputs) -> str:
    """How the main estimates move when the flagged tracking-change months are included."""
    if m.effects is None:
        return ""
    flagged = m.effects[m.effects["method"].str.contains("flag", case=False)]
    flagged = flagged[flagged["treatment"] == PRIMARY]
    if not len(flagged):
        return ("Estimates including the flagged tracking-change months are not in this run."
                if _flag_transitions(m) else "")
    texts = []
    for _, row in flagged.sort_values(["outcome", "horizon"]).iterrows():
        base_method = str(row["method"]).split("_")[0]
        base = best_effect(m.effects, PRIMARY, row["outcome"], int(row["horizon"]), (base_method,))
        if base is None or row["outcome"] not in ("cancel", "upgrade") or int(row["horizon"]) != 1:
            continue
        texts.append(f"{OUTCOME_SHORT[row['outcome']].lower()} {window_phrase(row['horizon'])} moves from "
                     f"{effect_with_interval(base)} to {effect_with_interval(row)}")
    if not texts:
        return ""
    return ("**Including the flagged months.** Counting adoption across the flagged transition, "
            + "; ".join(texts) + ". The main estimates leave it out because that jump is mostly a "
            "change in what was recorded.")


# --- recommendations ------------------------------------------------------------------------
def recommendations(m: MemoInputs) -> str:
    """Recommendations for Customer Success and the Marketplace PM, chosen by the estimates."""
    cancel = best_effect(m.effects, PRIMARY, "cancel")
    upgrade = best_effect(m.effects, PRIMARY, "upgrade")
    cs = _recommendation_short(m, cancel, upgrade)
    market = best_effect(m.effects, "marketplace", "cancel", 1)
    custom = best_effect(m.effects, "custom", "cancel", 1)
    if market is not None and custom is not None:
        m_good = good_or_bad("cancel", direction(market)) == "good"
        c_good = good_or_bad("cancel", direction(custom)) == "good"
        if m_good and not c_good:
            pm = ("Marketplace apps show a clear retention effect and custom integrations do not: put "
                  "marketplace apps in front of customers (in-product suggestions, onboarding) before "
                  "investing in more API tooling.")
        elif c_good and not m_good:
            pm = ("Custom (API-built) integrations show a clear retention effect and marketplace apps do not: "
                  "find out which custom integrations customers build and turn the common ones into "
                  "marketplace apps.")
        elif m_good and c_good:
            pm = ("Both marketplace apps and custom integrations go with fewer cancellations: make both "
                  "easier to set up, and track which apps drive the effect.")
        else:
            pm = ("Neither marketplace apps nor custom integrations show a clear effect on next-month "
                  "cancellation; improve measurement (usage events per app) before prioritising apps.")
    else:
        pm = not_available("marketplace and custom estimates")
    return (f"**For Customer Success.** {cs}\n\n**For the Marketplace PM.** {pm}")


# --- appendix -----------------------------------------------------------------------------------
def run_details(m: MemoInputs) -> str:
    """Provenance: seed, package versions, simulated or not."""
    info = m.run_info
    if info is None:
        return not_available("run information (run_info.json)")
    packages = info.get("packages") or {}
    versions = ", ".join(f"{k} {v}" for k, v in sorted(packages.items()) if v)
    return (f"Input: {'simulated data' if m.simulated else 'real extracts'}; seed {info.get('seed', 'n/a')}; "
            f"Python {info.get('python', 'n/a')}; {versions or 'package versions not recorded'}.")
