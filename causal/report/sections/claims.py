"""The memo's claims: every sentence of the executive summary and the recommendations.

:func:`build_claims` is a pure function of the results folder read
(:class:`~causal.report.inputs.MemoInputs`): each :class:`Claim` holds the
sentence the memo prints, the numbers behind it and the rule that licenses
it. A sentence whose rule does not hold is not made; another claim, with its
own rule, says what the numbers do show. ``python -m causal report`` writes
the claims to ``claims.json`` in the results folder before rendering; the
memo reads that file when it was built from the same inputs, and builds the
claims in memory otherwise (``quarto render report.qmd`` alone).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from analysis import results_contract
from causal.report.inputs import MemoInputs, read_json
from causal.report.sections.data import tracking_sentence, trend_sentence
from causal.report.sections.effects import who_adopts
from causal.report.sections.robustness import hidden_factor_summary, refutation_tally
from causal.report.sections.segments import marketplace_rows
from causal.report.sections.targeting import targeting_rule_lines, targeting_value
from causal.report.status import stage_status, targeting_status
from causal.report.tables import best_effect, not_available
from causal.report.text import (
    compare_naive,
    direction,
    effect_sentence,
    fmt_dollars,
    fmt_number,
    good_or_bad,
    row_key,
    window_phrase,
)

PRIMARY = "any"
PER = 1000  # dollar values are stated per 1,000 adoptions the push brings about
# Files whose content the claims depend on (their hash tells a stale claims.json).
CLAIM_INPUTS = (
    results_contract.RUN_INFO_JSON, results_contract.DATA_QUALITY_JSON, results_contract.EFFECTS_CSV,
    results_contract.REFUTATIONS_CSV, results_contract.BALANCE_CSV, results_contract.MARKETPLACE_VS_CUSTOM_CSV,
    results_contract.TARGETING_CSV, results_contract.TARGETING_RULE_TXT, results_contract.SENSITIVITY_JSON,
    f"{results_contract.TRENDS_DIR}/{results_contract.TRENDS_SUMMARY_JSON}",
)
SECTIONS = ("matters", "do", "usage", "pm")  # "do" is Customer Success's recommendation


@dataclass(frozen=True)
class Claim:
    """One sentence of the memo and why it may be said.

    Attributes
    ----------
    id : str
        What the sentence claims (``keeps_customers``, ``target_group``...).
    section : str
        ``matters`` / ``do`` / ``usage`` (executive summary; ``do`` is also the
        Customer Success recommendation) or ``pm`` (recommendation to the Marketplace PM).
    sentence : str
        The markdown the memo prints.
    rule : str
        The rule that licenses the sentence, in words.
    numbers : dict
        The numbers behind it (name -> value), as read from the results files.
    sources : list of str
        The results files (and stage statuses) it reads.
    """

    id: str
    section: str
    sentence: str
    rule: str
    numbers: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _interval(row, prefix: str, scale: float = 1.0) -> dict:
    return {f"{prefix}_estimate": scale * float(row["estimate"]), f"{prefix}_ci_low": scale * float(row["ci_low"]),
            f"{prefix}_ci_high": scale * float(row["ci_high"])}


def _mrr_interval(row) -> tuple[float, float, float]:
    """MRR kept per 1,000 adoptions (estimate, low, high) from a cancel_dollars effects row."""
    return -PER * float(row["estimate"]), -PER * float(row["ci_high"]), -PER * float(row["ci_low"])


def _money_range(value: float, low: float, high: float) -> str:
    return f"{fmt_dollars(value)} (95% interval {fmt_dollars(low)} to {fmt_dollars(high)})"


# --- the effects -------------------------------------------------------------------------
def _headline_rows(m: MemoInputs) -> dict:
    rate = best_effect(m.effects, PRIMARY, "cancel_rate")
    horizon = int(rate["horizon"]) if rate is not None else None
    return {
        "cancel_rate": rate,
        "cancel_dollars": best_effect(m.effects, PRIMARY, "cancel_dollars", horizon),
        "cancel": best_effect(m.effects, PRIMARY, "cancel"),
        "upgrade": best_effect(m.effects, PRIMARY, "upgrade"),
    }


def _verdicts(rows: dict) -> dict:
    """good / bad / None per headline outcome (the dollar rate speaks for cancellations when present)."""
    found = {}
    for outcome in ("cancel_rate", "cancel", "upgrade"):
        row = rows.get(outcome)
        if row is not None:
            found[outcome] = good_or_bad(outcome, direction(row))
    return found


def _lead_claim(rows: dict) -> Claim:
    verdicts = _verdicts(rows)
    values = [v for v in verdicts.values()]
    if "good" in values and "bad" not in values:
        word = "**Yes.**"
    elif "bad" in values and "good" not in values:
        word = "**Not in the way hoped.**"
    elif "good" in values:
        word = "**Mixed.**"
    else:
        word = "**Not clearly.**"
    numbers = {}
    for outcome, row in rows.items():
        if row is not None and outcome != "cancel_dollars":
            numbers.update(_interval(row, outcome))
    return Claim("lead_answer", "matters", word,
                 "Yes: some main 95% interval (dollar cancellation rate, cancellation, upgrade) is on the good "
                 "side of zero and none on the bad side; Not in the way hoped: the reverse; Mixed: both; "
                 "Not clearly: every interval includes zero; estimate stage status ok",
                 numbers, [results_contract.EFFECTS_CSV])


def _effect_claim(claim_id: str, row) -> Claim:
    outcome = str(row["outcome"])
    return Claim(claim_id, "matters", effect_sentence(row, mark=True),
                 f"verb from the 95% interval of {outcome} ({row_key(row)}): 'lowers' when it is below zero, "
                 f"'raises' when above, 'cannot tell' when it includes zero; estimate stage status ok",
                 _interval(row, outcome), [results_contract.EFFECTS_CSV])


def _mrr_claim(row) -> Claim:
    value, low, high = _mrr_interval(row)
    window = window_phrase(int(row["horizon"]))
    how = direction(row)
    if how == "down":
        sentence = (f"In MRR: each 1,000 adoptions keep about {_money_range(value, low, high)} of MRR from being "
                    f"cancelled {window}.")
    elif how == "up":
        sentence = (f"In MRR: each 1,000 adoptions go with about {_money_range(-value, -high, -low)} more MRR "
                    f"cancelled {window}.")
    else:
        sentence = (f"In MRR we cannot tell either: {fmt_dollars(value)} kept per 1,000 adoptions {window}, with a "
                    f"95% interval from {fmt_dollars(low)} to {fmt_dollars(high)} that includes zero.")
    return Claim("mrr_per_1000_adoptions", "matters", sentence,
                 f"minus 1,000 x the effect on cancel_dollars ({row_key(row)}); 'keep' only when its 95% interval "
                 f"is below zero; estimate stage status ok",
                 {"mrr_kept_per_1000": value, "ci_low": low, "ci_high": high}, [results_contract.EFFECTS_CSV])


def _context_claims(m: MemoInputs, rows: dict) -> list[Claim]:
    claims = []
    cancel = rows.get("cancel")
    if cancel is not None:
        naive = best_effect(m.effects, PRIMARY, "cancel", int(cancel["horizon"]), ("naive",))
        if naive is not None:
            sentence = compare_naive(naive, cancel)
            who = who_adopts(m)
            if who:
                sentence += f" {who}, so a raw comparison mixes the effect of integrations with who adopts them."
            claims.append(Claim("raw_comparison_misleads", "matters", sentence,
                                "comparison of the naive row with the adjusted row of the same cell (sizes and "
                                "signs as read); adopters' differences from the largest gaps in balance.csv",
                                {"naive_estimate": float(naive["estimate"]), "adjusted_estimate": float(cancel["estimate"])},
                                [results_contract.EFFECTS_CSV, results_contract.BALANCE_CSV]))
    passed, total, _ = refutation_tally(m)
    refute = stage_status(m, "refute", present=m.refutations is not None)
    if total and refute.usable:
        claims.append(Claim("refutations_passed", "matters",
                            f"The estimates passed {passed} of {total} checks that re-estimate them under changed data.",
                            "count of passed rows of refutations.csv (hidden-factor checks apart); refute stage "
                            "status ok", {"passed": passed, "total": total}, [results_contract.REFUTATIONS_CSV]))
    elif not refute.usable and refute.status != "missing":
        claims.append(Claim("refutations_unusable", "matters", refute.sentence("refutation stage"),
                            f"refute stage status {refute.status}", {}, [results_contract.RUN_INFO_JSON]))
    hidden = hidden_factor_summary(m, cancel).strip()
    if hidden:
        claims.append(Claim("hidden_factor", "matters", hidden,
                            "sensitivity.json record of the headline cancellation cell (E-value), or the "
                            "hidden-factor rows of refutations.csv", {},
                            [results_contract.SENSITIVITY_JSON, results_contract.REFUTATIONS_CSV]))
    return claims


# --- what to do ---------------------------------------------------------------------------
def _targeting_claims(m: MemoInputs, pushing: bool) -> tuple[list[Claim], bool]:
    """Claims on whom to start with; and whether a group was recommended."""
    status = targeting_status(m)
    if not status.usable:
        why = status.reason.rstrip(".") if status.reason else f"its status is {status.status}"
        tail = " The push is not narrowed to any group." if pushing else ""
        return [Claim("no_targeting_rule", "do", f"No targeting rule found: {why}.{tail}",
                      "the targeting output's stage status is not ok, or its rule targets everyone or no one "
                      f"(status: {status.status})", {}, [results_contract.RUN_INFO_JSON, results_contract.TARGETING_CSV])], False
    rule = targeting_value(m, "policy_rule", "mrr_kept_per_1000")
    random = targeting_value(m, "random", "mrr_kept_per_1000")
    diff = targeting_value(m, "policy_rule_minus_random", "mrr_kept_per_1000")
    if rule is None or random is None or diff is None:
        return [Claim("no_targeting_rule", "do", "No targeting rule found: the run valued no rule on MRR kept.",
                      "targeting.csv has no mrr_kept_per_1000 rows for the rule, random targeting and their "
                      "difference", {}, [results_contract.TARGETING_CSV])], False
    numbers = {"rule_mrr_kept_per_1000": float(rule["estimate"]), "random_mrr_kept_per_1000": float(random["estimate"]),
               "difference": float(diff["estimate"]), "difference_ci_low": float(diff["ci_low"]),
               "difference_ci_high": float(diff["ci_high"])}
    counts = {s: targeting_value(m, s, "cancellations_avoided_per_1000") for s in ("policy_rule", "random")}
    count_text = ""
    if all(v is not None for v in counts.values()):
        numbers.update({"rule_cancellations_avoided_per_1000": float(counts["policy_rule"]["estimate"]),
                        "random_cancellations_avoided_per_1000": float(counts["random"]["estimate"])})
        count_text = (f" (cancellations avoided per 1,000 adoptions: {fmt_number(counts['policy_rule']['estimate'], 1)} "
                      f"against {fmt_number(counts['random']['estimate'], 1)})")
    groups = targeting_rule_lines(m, with_detail=False)
    comparison = (f"per 1,000 adoptions, the customers it picks keep {fmt_dollars(rule['estimate'])} of MRR against "
                  f"{fmt_dollars(random['estimate'])} for customers picked at random (difference "
                  f"{fmt_dollars(diff['estimate'])}, 95% interval {fmt_dollars(diff['ci_low'])} to "
                  f"{fmt_dollars(diff['ci_high'])}){count_text}")
    sources = [results_contract.TARGETING_CSV, results_contract.TARGETING_RULE_TXT, results_contract.RUN_INFO_JSON]
    if pushing and direction(diff) == "up" and groups:
        return [Claim("target_group", "do", f"Start with the customers where it pays most: {'; '.join(groups)}: "
                      f"{comparison}.",
                      "'pays most' needs the group's MRR kept per adoption above random targeting's, with the "
                      "difference's 95% interval above zero (held-out customers); targeting status ok",
                      numbers, sources)], True
    verdict = "does worse than" if direction(diff) == "down" else "does not reliably beat"
    tail = " so offer it broadly" if pushing else ""
    return [Claim("no_group_stands_out", "do",
                  f"No group stands out: our rule for singling out customers {verdict} picking them at random on "
                  f"MRR kept: {comparison};{tail}.".replace(";.", "."),
                  "the difference in MRR kept per adoption between the rule and random targeting has a 95% "
                  "interval that does not lie above zero; targeting status ok", numbers, sources)], False


def _value_claim(m: MemoInputs, dollars_row, targeted: bool) -> Claim | None:
    """The value of the recommended push at a stated reach: per 1,000 adoptions it brings about."""
    if targeted:
        rule = targeting_value(m, "policy_rule", "mrr_kept_per_1000")
        value, low, high = (float(rule[k]) for k in ("estimate", "ci_low", "ci_high"))
        horizon = targeting_value(m, "policy_rule", "mrr_kept_per_1000").get("horizon")
        who, source = "in those groups", results_contract.TARGETING_CSV
    elif dollars_row is not None:
        value, low, high = _mrr_interval(dollars_row)
        horizon, who, source = dollars_row["horizon"], "across customers", results_contract.EFFECTS_CSV
    else:
        return None
    window = window_phrase(int(horizon)) if horizon is not None and str(horizon) != "nan" else "over the window"
    numbers = {"mrr_kept_per_1000": value, "ci_low": low, "ci_high": high, "reach_adoptions": PER}
    if low > 0:
        sentence = (f"What the push is worth: each 1,000 adoptions it brings about {who} keep about "
                    f"{_money_range(value, low, high)} of MRR {window}; the dollars section gives the upper bound "
                    f"if every non-adopting paying customer adopted.")
    else:
        sentence = (f"What the push is worth cannot be told from zero yet: {fmt_dollars(value)} of MRR kept per "
                    f"1,000 adoptions it brings about {who} {window} (95% interval {fmt_dollars(low)} to "
                    f"{fmt_dollars(high)}).")
    return Claim("push_value", "do", sentence,
                 "MRR kept per 1,000 adoptions the push brings about (the recommended group's held-out value, or "
                 "minus 1,000 x the effect on cancel_dollars for a broad push); stated as a gain only when its "
                 "95% interval is above zero; the all-adopt figure is named as an upper bound",
                 numbers, [source])


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _do_claims(m: MemoInputs, rows: dict) -> list[Claim]:
    verdicts = _verdicts(rows)
    rate_or_count = verdicts.get("cancel_rate", verdicts.get("cancel"))
    benefits = [w for w, v in (("keeps customers' MRR", verdicts.get("cancel_rate")),
                               ("keeps customers", verdicts.get("cancel")),
                               ("moves them up a tier", verdicts.get("upgrade"))) if v == "good"]
    numbers = {}
    for outcome in ("cancel_rate", "cancel", "upgrade"):
        if rows.get(outcome) is not None:
            numbers.update(_interval(rows[outcome], outcome))
    if benefits:
        claims = [Claim("push_adoption", "do",
                        f"Adopting integrations {_and(benefits)}, so Customer Success should make helping "
                        f"customers add an integration part of their playbook.",
                        "'keeps customers' MRR' needs the dollar cancellation rate's main 95% interval below zero, "
                        "'keeps customers' the cancellation interval below zero, 'moves them up a tier' the upgrade "
                        "interval above zero; estimate stage status ok", numbers, [results_contract.EFFECTS_CSV])]
        targeting, targeted = _targeting_claims(m, pushing=True)
        claims += targeting
        value = _value_claim(m, rows.get("cancel_dollars"), targeted)
        if value is not None:
            claims.append(value)
        return claims
    if rate_or_count == "bad" or verdicts.get("upgrade") == "bad":
        return [Claim("do_not_push", "do",
                      "Adoption is followed by worse outcomes in our estimates; do not push adoption until we "
                      "understand why (see what to investigate next).",
                      "a main 95% interval on the bad side of zero and none on the good side; estimate stage ok",
                      numbers, [results_contract.EFFECTS_CSV])]
    return [Claim("no_clear_effect", "do",
                  "We cannot yet say that integrations change the dollar cancellation rate, cancellations or "
                  "upgrades, so do not fund a retention program on integrations alone; run the experiment below "
                  "first.", "every main 95% interval includes zero; estimate stage status ok", numbers,
                  [results_contract.EFFECTS_CSV])]


def _pm_claims(m: MemoInputs) -> list[Claim]:
    status = stage_status(m, "segments", "marketplace_vs_custom", present=m.marketplace_vs_custom is not None
                          or m.effects is not None)
    if not status.usable:
        return [Claim("marketplace_unusable", "pm", status.sentence("comparison of marketplace apps with custom "
                                                                    "integrations"),
                      f"marketplace_vs_custom output status {status.status}", {}, [results_contract.RUN_INFO_JSON])]
    found = marketplace_rows(m, "cancel", 1)
    if found is None:
        return [Claim("marketplace_unavailable", "pm", not_available("marketplace and custom estimates"),
                      "no marketplace_vs_custom.csv row (nor effects.csv rows) for cancellation over one month", {},
                      [results_contract.MARKETPLACE_VS_CUSTOM_CSV])]
    market, custom, diff = found
    m_good = good_or_bad("cancel", direction(market)) == "good"
    c_good = good_or_bad("cancel", direction(custom)) == "good"
    numbers = {**_interval(market, "marketplace"), **_interval(custom, "custom")}
    if diff is not None:
        numbers.update(_interval(diff, "difference"))
    if m_good and not c_good:
        text = ("Marketplace apps show a clear retention effect and custom integrations do not: put marketplace apps "
                "in front of customers (in-product suggestions, onboarding) before investing in more API tooling.")
    elif c_good and not m_good:
        text = ("Custom (API-built) integrations show a clear retention effect and marketplace apps do not: find out "
                "which custom integrations customers build and turn the common ones into marketplace apps.")
    elif m_good and c_good:
        text = ("Both marketplace apps and custom integrations go with fewer cancellations: make both easier to set "
                "up, and track which apps drive the effect.")
    else:
        text = ("Neither marketplace apps nor custom integrations show a clear effect on next-month cancellation on "
                "their own; before prioritising apps, record usage per app so the next analysis can tell which apps "
                "matter.")
    if diff is not None and direction(diff) == "unclear" and (m_good or c_good):
        text += " (The two kinds are not clearly different from each other, so treat the ranking as a lead.)"
    return [Claim("marketplace_vs_custom", "pm", text,
                  "'clear retention effect' needs the kind's next-month cancellation interval below zero; 'not "
                  "clearly different' when the joint difference's interval includes zero; marketplace_vs_custom "
                  "status ok", numbers, [results_contract.MARKETPLACE_VS_CUSTOM_CSV])]


# --- all claims ---------------------------------------------------------------------------
def build_claims(m: MemoInputs) -> list[Claim]:
    """Every claim of the executive summary and the recommendations, from the results read.

    Parameters
    ----------
    m : MemoInputs
        The results folder, read once (:func:`causal.report.inputs.load_memo_inputs`).

    Returns
    -------
    list of Claim
        In the order the memo prints them, grouped by ``section``.
    """
    claims = [Claim("usage_trend", "usage", trend_sentence(m),
                    "descriptive: first and last month of trends/summary.json", {},
                    [f"{results_contract.TRENDS_DIR}/{results_contract.TRENDS_SUMMARY_JSON}"]),
              Claim("tracking_change", "usage", tracking_sentence(m),
                    "descriptive: flagged transitions of data_quality.json", {}, [results_contract.DATA_QUALITY_JSON])]
    estimate = stage_status(m, "estimate", present=m.effects is not None)
    rows = _headline_rows(m) if estimate.usable else {}
    if not estimate.usable or all(r is None for r in rows.values()):
        sentence = (estimate.sentence("estimate stage") if estimate.status not in ("missing", "ok", "unrecorded")
                    else not_available("effect estimates (effects.csv)"))
        claims.append(Claim("no_estimates", "matters", sentence, f"estimate stage status {estimate.status}", {},
                            [results_contract.RUN_INFO_JSON, results_contract.EFFECTS_CSV]))
        claims.append(Claim("no_recommendation", "do", "Without estimates this memo recommends nothing.",
                            "no usable main estimate", {}, [results_contract.EFFECTS_CSV]))
    else:
        claims.append(_lead_claim(rows))
        if rows["cancel_rate"] is not None:
            claims.append(_effect_claim("dollar_cancellation_rate", rows["cancel_rate"]))
        if rows["cancel_dollars"] is not None:
            claims.append(_mrr_claim(rows["cancel_dollars"]))
        for outcome in ("cancel", "upgrade"):
            if rows[outcome] is not None:
                claims.append(_effect_claim(f"{outcome}_effect", rows[outcome]))
        claims += _context_claims(m, rows)
        claims += _do_claims(m, rows)
    claims += _pm_claims(m)
    return claims


def section_text(claims: list[Claim], section: str) -> str:
    """The sentences of one section, joined with spaces."""
    return " ".join(c.sentence for c in claims if c.section == section)


def plain(sentence: str) -> str:
    """A claim's sentence as a reader sees it: spans, emphasis and escapes removed."""
    text = re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1", sentence)
    return " ".join(text.replace("**", "").replace("*", "").replace("\\$", "$").split())


# --- claims.json --------------------------------------------------------------------------
def inputs_signature(results_dir: Path) -> str:
    """SHA-256 over the files the claims read (name and bytes; absent files count as absent)."""
    digest = hashlib.sha256()
    for name in CLAIM_INPUTS:
        path = Path(results_dir) / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"\0absent")
    return digest.hexdigest()


def write_claims(m: MemoInputs) -> Path:
    """Build the claims and write them to ``claims.json`` in the results folder."""
    path = Path(m.results_dir) / results_contract.CLAIMS_JSON
    document = {"inputs_sha256": inputs_signature(m.results_dir),
                "claims": [c.to_dict() for c in build_claims(m)]}
    path.write_text(json.dumps(document, indent=2, default=float) + "\n", encoding="utf-8")
    return path


def memo_claims(m: MemoInputs) -> list[Claim]:
    """The claims from claims.json when it was built from these inputs; else built in memory."""
    found = read_json(Path(m.results_dir) / results_contract.CLAIMS_JSON)
    if (isinstance(found, dict) and found.get("inputs_sha256") == inputs_signature(m.results_dir)
            and isinstance(found.get("claims"), list)):
        try:
            return [Claim(**c) for c in found["claims"]]
        except TypeError:
            pass
    return build_claims(m)
