"""The executive summary and the recommendations, built from the other sections' findings."""
from __future__ import annotations

from causal.report.inputs import MemoInputs
from causal.report.sections.data import tracking_sentence, trend_sentence
from causal.report.sections.effects import who_adopts
from causal.report.sections.front import PRIMARY
from causal.report.sections.robustness import hidden_factor_summary, refutation_tally
from causal.report.sections.segments import marketplace_rows
from causal.report.sections.targeting import (
    dollars_sentence,
    targeting_rule_lines,
    targeting_verdict,
)
from causal.report.tables import (
    best_effect,
    not_available,
)
from causal.report.text import (
    compare_naive,
    direction,
    effect_sentence,
    good_or_bad,
)


# --- executive summary ---------------------------------------------------------
def executive_summary(m: MemoInputs) -> str:
    """The four answers of the brief in plain words, headline numbers marked for the tests."""
    cancel = best_effect(m.effects, PRIMARY, "cancel")
    upgrade = best_effect(m.effects, PRIMARY, "upgrade")
    lines = []

    lines.append(f"- **What is happening with integration usage?** {trend_sentence(m)} "
                 f"{tracking_sentence(m)}")

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
        passed, total, _ = refutation_tally(m)
        if total:
            matters += f" The estimates passed {passed} of {total} checks that re-estimate them under changed data."
        matters += hidden_factor_summary(m, cancel)
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

