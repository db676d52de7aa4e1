"""The memo's sections as markdown, generated from a results folder, one module per section.

``report.qmd`` calls one function per section and prints what it returns
(``output: asis``). Each function takes the :class:`~causal.report.inputs.MemoInputs`
read once by :func:`load` and returns markdown; a missing input gives a "not
available in this run" line instead of an error. Words that state a finding come
from :mod:`causal.report.text`, chosen by the numbers. The memo's fixed prose
lives in report.qmd, not here.
"""
from causal.report.sections.data import data_section, trends_section
from causal.report.sections.effects import effects_section, naive_vs_causal
from causal.report.sections.front import banner, load, provenance, run_details
from causal.report.sections.robustness import (
    flagged_sensitivity,
    refutations_section,
    sensitivity_text,
)
from causal.report.sections.segments import marketplace_section, segments_section
from causal.report.sections.summary import claims_table, executive_summary, recommendations
from causal.report.sections.targeting import dollars_section, targeting_section

__all__ = [
    "banner", "claims_table", "data_section", "dollars_section", "effects_section", "executive_summary", "flagged_sensitivity",
    "load", "marketplace_section", "naive_vs_causal", "provenance", "recommendations", "refutations_section",
    "run_details", "segments_section", "sensitivity_text", "targeting_section", "trends_section",
]
