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
        position = months.index(month) if month in months else -1
        following = months[position + 1] if 0 <= position < len(months) - 1 else None
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


def _trend_sentence(m: MemoInputs) -> str:
    summary = m.trends_summary
    months = _months(m)
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


HIDDEN_FACTOR = "unobserved|sensitiv|e_value|robustness"  # refuters that probe unmeasured confounding


def _refutation_tally(m: MemoInputs, hidden: bool = False) -> tuple[int, int, pd.DataFrame]:
    """(passed, total, failed rows) for the primary treatment's re-estimation checks (or hidden-factor ones)."""
    ref = m.refutations
    if ref is None or not len(ref):
        return 0, 0, pd.DataFrame()
    rows = ref
    if "treatment" in ref.columns and (ref["treatment"] == PRIMARY).any():
        rows = ref[ref["treatment"] == PRIMARY]
    is_hidden = rows["refuter"].str.contains(HIDDEN_FACTOR, case=False, regex=True)
    rows = rows[is_hidden if hidden else ~is_hidden]
    judged = rows[rows["passed"].notna()]
    failed = judged[judged["passed"] == False]  # noqa: E712
    return int((judged["passed"] == True).sum()), int(len(judged)), failed  # noqa: E712


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
        naive = (best_effect(m.effects, PRIMARY, "cancel", int(cancel["horizon"]), ("naive",))
                 if cancel is not None else None)
        if naive is not None:
            matters += " " + compare_naive(naive, cancel)
            who = who_adopts(m)
            matters += (f" {who}, so a raw comparison mixes the effect of integrations with who adopts them."
                        if who else "")
        passed, total, _ = _refutation_tally(m)
        if total:
            matters += f" The estimates passed {passed} of {total} checks that re-estimate them under changed data."
        matters += _hidden_factor_summary(m, cancel)
    lines.append(f"- **Do integrations matter?** {matters}")

    lines.append(f"- **What should we do?** {_recommendation_short(m, cancel, upgrade)}")
    lines.append("- **What should we find out next?** Run a randomized encouragement test: offer guided "
                 "integration set-up to a random half of a target group and compare cancellations and "
                 "upgrades after three months. It measures the effect directly, without relying on our "
                 "adjustments. Track integration usage events (syncs, active days), not only counts, so "
                 "tracking changes stop blurring the picture.")
    return "\n".join(lines)


def _sensitivity_cell(m: MemoInputs, row) -> dict | None:
    """The sensitivity.json record of one effects row (same treatment, outcome, horizon, method)."""
    content = (m.sensitivity or {}).get("content")
    cells = content.get("cells") if isinstance(content, dict) else None
    for cell in cells if isinstance(cells, list) else []:
        if (isinstance(cell, dict) and cell.get("treatment") == row["treatment"] and cell.get("outcome") == row["outcome"]
                and cell.get("horizon") == int(row["horizon"]) and cell.get("method") == row["method"]):
            return cell
    return None


def _hidden_factor_summary(m: MemoInputs, cancel) -> str:
    """One sentence on unmeasured confounding for the headline cancellation estimate."""
    cell = _sensitivity_cell(m, cancel) if cancel is not None else None
    if cell is not None and isinstance(cell.get("e_value_point"), (int, float)) and direction(cancel) != "unclear":
        return (f" What could still fool us is a factor we do not measure: one that made both adoption and "
                f"cancellation about {fmt_number(cell['e_value_point'], 1)} times as likely would explain the "
                f"cancellation effect away.")
    survived, probed, _ = _refutation_tally(m, hidden=True)
    if probed:
        return (f" A hidden factor of the strength we tested would leave {survived} of {probed} estimates "
                f"standing.")
    return ""


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
    """Customer Success's next step, chosen by the headline intervals, the rule's test and the dollars."""
    how_cancel = good_or_bad("cancel", direction(cancel)) if cancel is not None else None
    how_upgrade = good_or_bad("upgrade", direction(upgrade)) if upgrade is not None else None
    if how_cancel == "good" or how_upgrade == "good":
        benefit = " and ".join(w for w, h in (("keeps customers", how_cancel), ("moves them up a tier", how_upgrade))
                               if h == "good")
        text = (f"Adopting integrations {benefit}, so Customer Success should make helping customers add an "
                f"integration part of their playbook.")
        verdict, _ = targeting_verdict(m)
        rule = targeting_rule_lines(m)
        if verdict == "better" and rule:
            text += f" Start with the customers where it pays most: {'; '.join(rule)}."
        elif verdict in ("unclear", "worse"):
            text += (" Offer it broadly: our attempt to single out the customers who benefit most did not "
                     "beat picking customers at random.")
        dollars = dollars_sentence(m)
        if dollars:
            text += f" In dollars: {dollars}."
        return text
    if how_cancel == "bad" or how_upgrade == "bad":
        return ("Adoption is followed by worse outcomes in our estimates; do not push adoption until we "
                "understand why (see what to investigate next).")
    return ("We cannot yet say that integrations change cancellations or upgrades, so do not fund a "
            "retention program on integrations alone; run the experiment below first.")


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
    parts = [_trend_sentence(m)]
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
        naive = (best_effect(m.effects, PRIMARY, outcome, int(adjusted["horizon"]), ("naive",))
                 if adjusted is not None else None)
        if adjusted is not None and naive is not None:
            comparison = compare_naive(naive, adjusted)
            sentences.append(f"For {OUTCOME_SHORT[outcome].lower()} {window_phrase(adjusted['horizon'])}, "
                             + comparison[:1].lower() + comparison[1:])
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
SEGMENT_METHODS = ("dml", "dr", "psm")  # preferred estimator for segment effects, in order
SEGMENT_VAR_NAMES = {"segment": "team", "tier": "tier", "employee_size": "size", "region": "region"}


def _segment_label(row) -> str:
    var = SEGMENT_VAR_NAMES.get(str(row.get("segment_var", "")), str(row.get("segment_var", "")))
    return f"{md_text(row['segment_value'])} ({var})" if var else md_text(row["segment_value"])


def segments_section(m: MemoInputs) -> str:
    """Forest plot and which segments benefit, in words."""
    parts = [figure(m.figure("forest"), "Effect of adopting an integration, by segment (95% intervals)",
                    width="90%")]
    seg = m.effects_by_segment
    if seg is None or not len(seg):
        parts.append(not_available("effects by segment (effects_by_segment.csv)"))
        return "\n\n".join(parts)
    for outcome in ("cancel", "upgrade"):
        rows = seg[(seg["treatment"] == PRIMARY) & (seg["outcome"] == outcome)]
        if not len(rows):
            continue
        horizon = int(rows["horizon"].max())
        rows = rows[rows["horizon"] == horizon]
        method = next((x for x in SEGMENT_METHODS if (rows["method"] == x).any()), rows["method"].iloc[0])
        rows = rows[rows["method"] == method]
        good = [r for _, r in rows.iterrows() if good_or_bad(outcome, direction(r)) == "good"]
        bad = [r for _, r in rows.iterrows() if good_or_bad(outcome, direction(r)) == "bad"]
        label = f"{OUTCOME_SHORT[outcome]} {window_phrase(horizon)}"
        if good:
            best = sorted(good, key=lambda r: r["estimate"] if outcome == "cancel" else -r["estimate"])
            names = "; ".join(f"{_segment_label(r)}: {effect_compact(r)} points" for r in best[:4])
            parts.append(f"**{label}.** A clear benefit in {len(good)} of {len(rows)} groups, largest in "
                         f"{names}.")
        else:
            parts.append(f"**{label}.** No group of customers shows a clear benefit: in each of the {len(rows)} "
                         f"groups the interval includes zero{' or points the other way' if bad else ''}. "
                         f"The data cannot yet say for whom integrations matter most.")
        if bad:
            parts.append("Worse after adoption: " +
                         "; ".join(f"{_segment_label(r)}: {effect_compact(r)} points" for r in bad[:4]) + ".")
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


def _targeting_values(m: MemoInputs) -> pd.DataFrame | None:
    frame = m.targeting
    if frame is None or not {"strategy", "metric", "estimate", "ci_low", "ci_high"} <= set(frame.columns):
        return None
    return frame


def targeting_verdict(m: MemoInputs) -> tuple[str | None, pd.Series | None]:
    """Whether the rule beats random targeting on held-out customers: better / unclear / worse."""
    values = _targeting_values(m)
    if values is None:
        return None, None
    row = values[(values["strategy"] == "policy_rule_minus_random")
                 & (values["metric"] == "cancellations_avoided_per_1000")]
    if not len(row):
        return None, None
    row = row.iloc[0]
    return {"up": "better", "down": "worse", "unclear": "unclear"}[direction(row)], row


def targeting_rule_lines(m: MemoInputs) -> list[str]:
    """The targeted groups in words (lines starting with TARGET in targeting_rule.txt)."""
    if not m.targeting_rule:
        return []
    lines = [ln.strip() for ln in m.targeting_rule.splitlines() if ln.strip().upper().startswith("TARGET ")]
    groups = []
    for line in lines:
        body = line[len("TARGET "):].strip()
        where, _, detail = body.partition(": ")
        who = "every customer" if where.strip() == "every customer" else f"customers with {where}"
        groups.append(md_text(f"{who} ({detail})" if detail else body))
    return groups


def targeting_section(m: MemoInputs) -> str:
    """The targeting rule in words and what it buys against random targeting and today's adopters."""
    parts = []
    rule = targeting_rule_lines(m)
    if rule:
        parts.append("**The rule.** A shallow decision tree, learnt on half of the customers, picks the groups "
                     "where adoption is predicted to avoid the most cancellations: " + "; ".join(rule) + ".")
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
        numbers = (f"{fmt_number(diff['estimate'], 1)} ({fmt_number(diff['ci_low'], 1)} to "
                   f"{fmt_number(diff['ci_high'], 1)})")
        parts.append({
            "better": f"On the other half of the customers, the rule avoids more cancellations per 1,000 "
                      f"adoptions than encouraging customers at random: {numbers} more.",
            "unclear": f"On the other half of the customers, the rule does not reliably beat encouraging "
                       f"customers at random (difference per 1,000 adoptions: {numbers}); we do not recommend "
                       f"narrowing the push to it yet.",
            "worse": f"On the other half of the customers, the rule does worse than encouraging customers at "
                     f"random (difference per 1,000 adoptions: {numbers}); do not use it.",
        }[verdict])
    names = {"policy_rule": "Customers the rule picks", "random": "Customers at random",
             "todays_adopters": "Customers like today's adopters"}
    rows = []
    for strategy, name in names.items():
        cells = [name]
        for metric, dollars in (("cancellations_avoided_per_1000", False), ("mrr_kept_per_1000", True)):
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
    parts.append(pipe_table(["Whom Customer Success encourages", "Cancellations avoided per 1,000 adoptions",
                             "MRR kept per 1,000 adoptions", "Share of customers"], rows, ["l", "r", "r", "r"]))
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
    """MRR retained, with intervals and the assumptions in words."""
    d = dollar_figures(m)
    if d is None:
        return not_available("dollar figures (dollars.csv)")
    parts = [f"**What it is worth.** {dollars_sentence(m)[:1].upper()}{dollars_sentence(m)[1:]}."]
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


# --- how sure ---------------------------------------------------------------------------------
REFUTER_WORDS = {  # refuter -> (plain name, what it tests)
    "placebo_treatment": ("Fake treatment", "adoption shuffled at random should show no effect"),
    "random_common_cause": ("Random extra factor", "adding a meaningless factor should not move the estimate"),
    "data_subset": ("Subsets of customers", "re-estimating on 80% of customers should give a similar answer"),
    "bootstrap": ("Resampled customers", "re-estimating on resampled customers should give a similar answer"),
    "unobserved_confounder": ("Hidden factor", "a simulated unmeasured factor of a stated strength should "
                                               "not erase the effect"),
}


def refutations_section(m: MemoInputs) -> str:
    """Refutation results by check, failures spelled out, sensitivity in words."""
    ref = m.refutations
    parts = []
    if ref is None or not len(ref):
        parts.append(not_available("refutations (refutations.csv)"))
    else:
        passed, total, failed = _refutation_tally(m)
        survived, probed, _ = _refutation_tally(m, hidden=True)
        text = (f"We re-ran each main estimate under checks that should leave it standing (or, for a fake "
                f"treatment, should erase it): {passed} of {total} passed.")
        if probed:
            text += (f" The hidden-factor check is deliberately harsh (it adds an unmeasured factor of a fixed "
                     f"strength, and an estimate whose interval already touches zero cannot pass it): {survived} of "
                     f"{probed} estimates survived it.")
        parts.append(text)
        rows = []
        for refuter, group in ref.groupby("refuter", sort=True):
            judged = group[group["passed"].notna()]
            rule = next((str(x) for x in group.get("rule", pd.Series(dtype=str)).dropna() if str(x).strip()), "")
            name, test = REFUTER_WORDS.get(refuter, (refuter.replace("_", " ").capitalize(), rule))
            n_pass = int((judged["passed"] == True).sum())  # noqa: E712
            rows.append([name, md_text(test), f"{n_pass} of {len(judged)}",
                         "pass" if len(judged) and n_pass == len(judged) else "fail" if len(judged) else "n/a"])
        parts.append(pipe_table(["Check", "What it tests", "Passed", "Result"], rows, ["l", "l", "r", "l"]))
        if len(failed):
            parts.append("Did not pass: " + "; ".join(
                f"{REFUTER_WORDS.get(r['refuter'], (str(r['refuter']).replace('_', ' '),))[0].lower()} for "
                f"{OUTCOME_SHORT.get(r.get('outcome'), r.get('outcome')).lower()} "
                f"{window_phrase(r['horizon']) if not is_missing(r.get('horizon')) else ''} "
                f"({METHOD_NAMES.get(r.get('method'), r.get('method'))})".replace("  ", " ")
                for _, r in failed.head(4).iterrows()) + "."
                + (f" ({len(failed) - 4} more in refutations.csv.)" if len(failed) > 4 else ""))
        parts.append("*Each check's exact pass rule is in refutations.csv (column rule).*")
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
                kept = int((rows["passed"] == True).sum())  # noqa: E712
                return ("**Unobserved factors.** A simulated hidden factor affecting both adoption and outcomes "
                        f"was added in {len(rows)} re-estimates; {kept} kept the conclusion.")
        return not_available("sensitivity to unobserved confounding")
    content = found["content"]
    if isinstance(content, str):
        return f"**Unobserved factors.** {md_text(content)}"
    texts = []
    if isinstance(content, dict):
        meaning = next((content[k] for k in ("meaning", "interpretation", "summary", "text") if
                        isinstance(content.get(k), str)), None)
        if meaning:
            texts.append(md_text(meaning))
        cells = content.get("cells") if isinstance(content.get("cells"), list) else []
        for outcome in ("cancel", "upgrade"):
            headline = best_effect(m.effects, PRIMARY, outcome)
            if headline is None:
                continue
            for cell in cells:
                if (isinstance(cell, dict) and cell.get("treatment") == PRIMARY and cell.get("outcome") == outcome
                        and cell.get("horizon") == int(headline["horizon"]) and cell.get("method") == headline["method"]
                        and isinstance(cell.get("text"), str)):
                    texts.append(f"*{OUTCOME_SHORT[outcome]} {window_phrase(headline['horizon'])}:* "
                                 f"{md_text(cell['text'])}")
        if not texts:
            texts.append(md_text("; ".join(f"{k.replace('_', ' ')} {format_cell(v)}" for k, v in content.items()
                                           if isinstance(v, (int, float, str)))))
    return "**Unobserved factors.** " + " ".join(texts) if texts else not_available(
        "sensitivity to unobserved confounding in words")


def flagged_sensitivity(m: MemoInputs) -> str:
    """How the main estimates move when the flagged tracking-change months are included."""
    tables = [t for t in (m.effects, m.sensitivity_flagged) if t is not None]
    if not tables:
        return ""
    pooled = pd.concat(tables, ignore_index=True)
    flagged = pooled[pooled["method"].str.contains("flag", case=False)]
    flagged = flagged[flagged["treatment"] == PRIMARY]
    if not len(flagged):
        return ("Estimates including the flagged tracking-change months are not in this run."
                if _flag_transitions(m) else "")
    texts = []
    for outcome in ("cancel", "upgrade"):
        base = best_effect(m.effects, PRIMARY, outcome, 1)
        if base is None:
            continue
        match = flagged[(flagged["outcome"] == outcome) & (flagged["horizon"] == 1)
                        & (flagged["method"] == f"{base['method']}_with_flagged")]
        if len(match):
            texts.append(f"{OUTCOME_SHORT[outcome].lower()} {window_phrase(1)} moves from "
                         f"{effect_with_interval(base)} to {effect_with_interval(match.iloc[0])}")
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
    found = marketplace_rows(m, "cancel", 1)
    if found is not None:
        market, custom, diff = found
        m_good = good_or_bad("cancel", direction(market)) == "good"
        c_good = good_or_bad("cancel", direction(custom)) == "good"
        diff_clear = diff is not None and direction(diff) != "unclear"
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
                  "cancellation on their own; before prioritising apps, record usage per app so the "
                  "next analysis can tell which apps matter.")
        if not diff_clear and diff is not None and (m_good or c_good):
            pm += " (The two kinds are not clearly different from each other, so treat the ranking as a lead.)"
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
