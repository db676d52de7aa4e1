"""How sure are we: the refutation checks and the sensitivity to a factor we did not measure."""
from __future__ import annotations

import pandas as pd

from causal.report.inputs import MemoInputs
from causal.report.sections.data import flag_transitions
from causal.report.sections.front import PRIMARY
from causal.report.tables import (
    best_effect,
    figure,
    format_cell,
    not_available,
    pipe_table,
)
from causal.report.text import (
    METHOD_NAMES,
    OUTCOME_SHORT,
    direction,
    effect_with_interval,
    fmt_number,
    is_missing,
    md_text,
    window_phrase,
)

HIDDEN_FACTOR = "unobserved|sensitiv|e_value|robustness"  # refuters that probe unmeasured confounding
DESIGN_CHECKS = ("negative_control", "pre_trend", "strategy_agreement")  # judged apart (design_verdict)

def refutation_tally(m: MemoInputs, hidden: bool = False) -> tuple[int, int, pd.DataFrame]:
    """(passed, total, failed rows) for the primary treatment's re-estimation checks (or hidden-factor ones)."""
    ref = m.refutations
    if ref is None or not len(ref):
        return 0, 0, pd.DataFrame()
    rows = ref
    if "treatment" in ref.columns and (ref["treatment"] == PRIMARY).any():
        rows = ref[ref["treatment"] == PRIMARY]
    rows = rows[~rows["refuter"].isin(DESIGN_CHECKS)]
    is_hidden = rows["refuter"].str.contains(HIDDEN_FACTOR, case=False, regex=True)
    rows = rows[is_hidden if hidden else ~is_hidden]
    judged = rows[rows["passed"].notna()]
    failed = judged[judged["passed"] == False]  # noqa: E712
    return int((judged["passed"] == True).sum()), int(len(judged)), failed  # noqa: E712

def _sensitivity_cell(m: MemoInputs, row) -> dict | None:
    """The sensitivity.json record of one effects row (same treatment, outcome, horizon, method)."""
    content = (m.sensitivity or {}).get("content")
    cells = content.get("cells") if isinstance(content, dict) else None
    for cell in cells if isinstance(cells, list) else []:
        if (isinstance(cell, dict) and cell.get("treatment") == row["treatment"] and cell.get("outcome") == row["outcome"]
                and cell.get("horizon") == int(row["horizon"]) and cell.get("method") == row["method"]):
            return cell
    return None

def _points(value: float) -> str:
    return f"{value * 100:+.1f} points"


def design_verdict(m: MemoInputs, effect_is_clear: bool = True) -> dict:
    """Whether the design checks license calling the cancellation effect robust, in a sentence and numbers.

    ``effect_is_clear`` is whether the headline cancellation interval excludes zero: passed
    checks make a clear effect robust; for an effect we cannot tell from zero they only
    say that no hidden bias showed.

    Returns
    -------
    dict
        ``robust`` (True only when every design check on cancellation ran and passed),
        ``ran`` (any design check in refutations.csv), ``sentence`` (for the executive
        summary; empty when no check ran) and ``numbers`` (negative-control effects and
        intervals by method, the pre-trend p-value, the two strategies' difference).
    """
    ref = m.refutations
    empty = {"robust": False, "passed": False, "ran": False, "sentence": "", "numbers": {}}
    if ref is None or not len(ref) or not ref["refuter"].isin(DESIGN_CHECKS).any():
        return empty
    design = ref[ref["refuter"].isin(DESIGN_CHECKS)]
    control = design[(design["refuter"] == "negative_control") & (design["outcome"] == "cancel")
                     & (design["horizon"] == 1)]
    trend = design[(design["refuter"] == "pre_trend") & (design["outcome"] == "cancel_month")]
    agree = design[(design["refuter"] == "strategy_agreement") & (design["outcome"] == "cancel")]
    numbers = {"negative_control": {str(r["method"]): {"effect": float(r["new_effect"]), "p_value": float(r["p_value"])}
                                    for _, r in control.iterrows()},
               "pre_trend_p": float(trend["p_value"].iloc[0]) if len(trend) else None,
               "event_study": float(agree["new_effect"].iloc[0]) if len(agree) else None,
               "dml_first": float(agree["estimate"].iloc[0]) if len(agree) else None}
    judged = pd.concat([control, trend, agree])
    failed = judged[judged["passed"] == False]  # noqa: E712
    passed = bool(len(control) and len(trend) and len(agree) and not len(failed))
    robust = passed and effect_is_clear
    if passed and not effect_is_clear:
        sentence = (" The design checks found no sign of a hidden factor (an outcome adoption cannot cause "
                    "shows no effect, cancellation did not already differ before first adoption, and a second "
                    "method agrees), but with no clear cancellation effect there is nothing to call robust.")
    elif robust:
        sentence = (" The design checks passed: an outcome adoption cannot cause (cancellations two months "
                    "earlier) shows no effect, cancellation did not already differ before first adoption, and "
                    "a second method resting on other assumptions agrees, so we call the cancellation effect "
                    "robust.")
    elif (len(control) and len(trend) and len(agree) and not len(failed.loc[failed["refuter"] != "pre_trend"])
          and bool(control["passed"].all())):
        # Only the pre-trend failed: the event study's own assumption (parallel trends) does not hold,
        # so the second strategy cannot confirm the estimate; that is no sign of a hidden factor.
        sentence = (" An outcome adoption cannot cause (cancellations two months earlier) shows no effect, so no "
                    "hidden factor showed; but first adopters' cancellation already differed before they adopted, "
                    "so the second method (an event study around first adoption) rests on an assumption that "
                    "fails here and cannot confirm the estimate. We therefore do not call it robust.")
    else:
        reasons = []
        signal = control[control["passed"] == False]  # noqa: E712
        if len(signal):
            worst = signal.loc[signal["new_effect"].abs().idxmax()]
            reasons.append(f"adoption appears to \"change\" cancellations two months before it happened by "
                           f"{_points(float(worst['new_effect']))} ({METHOD_NAMES.get(worst['method'], worst['method'])}), "
                           "which it cannot, so adopters were already cancelling less for reasons we do not measure")
        if len(trend) and (trend["passed"] == False).any():  # noqa: E712
            reasons.append("first adopters' cancellation already differed before they adopted")
        if len(agree) and (agree["passed"] == False).any():  # noqa: E712
            reasons.append(f"the event study ({_points(numbers['event_study'])}) and double ML "
                           f"({_points(numbers['dml_first'])}) disagree for first adoptions")
        if not reasons:
            reasons.append("not every design check could be run on this data")
        sentence = (" The cancellation effect may be overstated: " + "; ".join(reasons)
                    + ". We therefore do not call it robust.")
    return {"robust": robust, "passed": passed, "ran": True, "sentence": sentence, "numbers": numbers}


def hidden_factor_summary(m: MemoInputs, cancel) -> str:
    """One sentence on unmeasured confounding for the headline cancellation estimate (design verdict first)."""
    clear = cancel is not None and direction(cancel) != "unclear"
    verdict = design_verdict(m, effect_is_clear=clear)["sentence"]
    return verdict + _hidden_factor_sensitivity(m, cancel)


def _hidden_factor_sensitivity(m: MemoInputs, cancel) -> str:
    cell = _sensitivity_cell(m, cancel) if cancel is not None else None
    if cell is not None and isinstance(cell.get("e_value_point"), (int, float)) and direction(cancel) != "unclear":
        return (f" What could still fool us is a factor we do not measure: one that made both adoption and "
                f"cancellation about {fmt_number(cell['e_value_point'], 1)} times as likely would explain the "
                f"cancellation effect away.")
    survived, probed, _ = refutation_tally(m, hidden=True)
    if probed:
        return (f" A hidden factor of the strength we tested would leave {survived} of {probed} estimates "
                f"standing.")
    return ""

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
        passed, total, failed = refutation_tally(m)
        survived, probed, _ = refutation_tally(m, hidden=True)
        text = (f"We re-ran each main estimate under checks that should leave it standing (or, for a fake "
                f"treatment, should erase it): {passed} of {total} passed.")
        if probed:
            text += (f" The hidden-factor check is deliberately harsh (it adds an unmeasured factor of a fixed "
                     f"strength, and an estimate whose interval already touches zero cannot pass it): {survived} of "
                     f"{probed} estimates survived it.")
        parts.append(text)
        rows = []
        for refuter, group in ref[~ref["refuter"].isin(DESIGN_CHECKS)].groupby("refuter", sort=True):
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
    parts.append(design_section(m))
    parts.append(sensitivity_text(m))
    parts.append(flagged_sensitivity(m))
    return "\n\n".join(p for p in parts if p)


DESIGN_WORDS = {
    "negative_control": ("Negative control", "adoption in month t cannot change a cancellation in month t-2; "
                                             "an \"effect\" there is bias from who adopts"),
    "pre_trend": ("No difference before adoption", "first adopters and not-yet adopters (both still customers "
                                                   "at adoption) should cancel alike before it"),
    "strategy_agreement": ("Two strategies agree", "the event study (before/after against not-yet adopters) "
                                                   "and double ML give the same first-month effect"),
}


_DESIGN_LABELS = {**METHOD_NAMES, **OUTCOME_SHORT, "event_study": "event study",
                  "cancel_month": "Cancellation in the month", "cancel_dollars_month": "Cancelled MRR in the month ($)",
                  "mrr_month": "MRR at month end ($)"}


def design_section(m: MemoInputs) -> str:
    """The design checks and both strategies side by side: a table, the figure and what they mean."""
    ref = m.refutations
    if ref is None or not len(ref) or not ref["refuter"].isin(DESIGN_CHECKS).any():
        return "**Design checks.** " + not_available("design checks (negative control, pre-trend, agreement)")
    rows = []
    for refuter in DESIGN_CHECKS:
        group = ref[ref["refuter"] == refuter]
        judged = group[group["passed"].notna()]
        n_pass = int((judged["passed"] == True).sum())  # noqa: E712
        shown = group.drop_duplicates(["method", "outcome"]).head(3)
        values = "; ".join(f"{_DESIGN_LABELS.get(r['method'], r['method'])} "
                           f"{_DESIGN_LABELS.get(r['outcome'], r['outcome']).lower()}: "
                           f"{_points(float(r['new_effect']))} (p {fmt_number(float(r['p_value']), 3)})"
                           for _, r in shown.iterrows() if not is_missing(r.get("new_effect")))
        name, test = DESIGN_WORDS[refuter]
        rows.append([name, md_text(test), md_text(values) or "n/a", f"{n_pass} of {len(judged)}"])
    cancel = best_effect(m.effects, PRIMARY, "cancel")
    verdict = design_verdict(m, effect_is_clear=cancel is not None and direction(cancel) != "unclear")
    meaning = ("Matching and double ML assume that, given what the data record, adoption is as good as random; "
               "the checks above this one cannot see a factor the data do not record, and an estimate biased by "
               "such a factor looks more robust to them, not less. These design checks can: the negative control "
               "should be zero whatever the true effect, and the event study rests on a different assumption "
               "(parallel trends between first adopters and customers who adopt later or never).")
    return "\n\n".join([
        "**Design checks.** " + meaning,
        pipe_table(["Check", "What it tests", "Value", "Passed"], rows, ["l", "l", "l", "r"]),
        figure(m.figure("design", "checks"), "Event study around first adoption (left); both strategies and the "
               "negative control (right), 95% intervals", width="90%"),
        "*What this means:*" + (verdict["sentence"] or " the design checks did not run."),
    ])

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
        texts += [text for text in (benchmark_sentence(m, outcome) for outcome in ("cancel", "upgrade")) if text]
        if not texts:
            texts.append(md_text("; ".join(f"{k.replace('_', ' ')} {format_cell(v)}" for k, v in content.items()
                                           if isinstance(v, (int, float, str)))))
    return "**Unobserved factors.** " + " ".join(texts) if texts else not_available(
        "sensitivity to unobserved confounding in words")

BENCHMARK_METHOD = "dml"  # the estimates whose sensitivity sensitivity.json benchmarks


def benchmark_entry(m: MemoInputs, outcome: str, horizon: int | None = None) -> dict | None:
    """The sensitivity.json ``benchmarks`` record of the primary dml cell (longest horizon unless given)."""
    content = (m.sensitivity or {}).get("content")
    entries = content.get("benchmarks") if isinstance(content, dict) else None
    found = [e for e in entries if isinstance(e, dict) and e.get("treatment") == PRIMARY
             and e.get("outcome") == outcome and e.get("method") == BENCHMARK_METHOD
             and (horizon is None or e.get("horizon") == int(horizon))] if isinstance(entries, list) else []
    return max(found, key=lambda e: e.get("horizon", 0)) if found else None


def benchmark_sentence(m: MemoInputs, outcome: str, horizon: int | None = None) -> str:
    """"A hidden factor as strong as tier would move the 3-month cancellation effect from -4.7 to -3.9 points ..."."""
    entry = benchmark_entry(m, outcome, horizon)
    if entry is None:
        return ""
    horizon = int(entry["horizon"])
    base = best_effect(m.effects, PRIMARY, outcome, horizon, methods=(BENCHMARK_METHOD,))
    if base is None:
        return ""
    moves = []
    for name, b in (entry.get("by_covariate") or {}).items():
        if not isinstance(b, dict) or any(not isinstance(b.get(k), (int, float)) for k in (
                "adjusted_estimate", "adjusted_ci_low", "adjusted_ci_high")):
            continue
        moved = base.copy()
        moved["estimate"], moved["ci_low"], moved["ci_high"] = (
            b["adjusted_estimate"], b["adjusted_ci_low"], b["adjusted_ci_high"])
        crosses = " (its interval would then include zero)" if direction(moved) == "unclear" else ""
        moves.append((name, effect_with_interval(moved) + crosses))
    if not moves:
        return ""
    first_name, first = moves[0]
    text = (f"Measured against factors we do see: a hidden factor as strong as {md_text(first_name)} (in how much "
            f"it explains of adoption and of {OUTCOME_SHORT[outcome].lower()}) would move the "
            f"{OUTCOME_SHORT[outcome].lower()} effect {window_phrase(horizon)} from {effect_with_interval(base)} "
            f"to {first}")
    text += "".join(f"; one as strong as {md_text(name)}, to {moved}" for name, moved in moves[1:]) + "."
    return text


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
                if flag_transitions(m) else "")
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

