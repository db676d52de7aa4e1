"""The executive summary, the recommendations and the claims appendix, printed from the claims.

Every sentence here is a :class:`~causal.report.sections.claims.Claim`'s sentence
(:func:`causal.report.sections.claims.memo_claims`); this module only arranges them.
"""
from __future__ import annotations

from causal.report.inputs import MemoInputs
from causal.report.sections.claims import memo_claims, plain, section_text
from causal.report.tables import pipe_table
from causal.report.text import fmt_number, is_missing

QUESTIONS = (  # (section of the claims, question) in the order the summary asks them
    ("matters", "Do integrations matter?"),
    ("do", "What should we do?"),
    ("usage", "What is happening with integration usage?"),
)


def executive_summary(m: MemoInputs) -> str:
    """The answers of the brief, one bullet per question, each sentence from a claim."""
    claims = memo_claims(m)
    return "\n".join(f"- **{question}** {section_text(claims, section)}" for section, question in QUESTIONS)


def recommendations(m: MemoInputs) -> str:
    """Recommendations for Customer Success and the Marketplace PM, each sentence from a claim."""
    claims = memo_claims(m)
    return (f"**For Customer Success.** {section_text(claims, 'do')}\n\n"
            f"**For the Marketplace PM.** {section_text(claims, 'pm')}")


def _number_text(value) -> str:
    if isinstance(value, bool) or is_missing(value):
        return str(value)
    if isinstance(value, (int, float)):
        size = abs(float(value))
        return fmt_number(value, 0 if size >= 100 else 2 if size >= 1 else 4)
    return str(value)


def claims_table(m: MemoInputs) -> str:
    """Appendix: every claim of the summary and recommendations, its numbers and the rule behind it."""
    rows = []
    where = {"matters": "Summary: do integrations matter?", "do": "Summary and recommendations: Customer Success",
             "usage": "Summary: usage", "pm": "Recommendations: Marketplace PM"}
    for claim in memo_claims(m):
        numbers = "; ".join(f"{k.replace('_', ' ')} = {_number_text(v)}" for k, v in claim.numbers.items())
        rows.append([where.get(claim.section, claim.section), claim.id.replace("_", " "), plain(claim.sentence),
                     numbers or "(descriptive)", claim.rule])
    return pipe_table(["Where", "Claim", "Sentence", "Numbers", "Rule that licenses it"], rows,
                      ["l", "l", "l", "l", "l"])
