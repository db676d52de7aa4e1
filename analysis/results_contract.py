"""The results contract: the name of every file a run writes to its results folder.

ESTIMANDS.md fixes the main files and their columns; the rest are the tables,
texts and figures the memo quotes. Stages write these names and the memo reads
them, so a file is renamed here or nowhere. Paths are relative to the results
folder.
"""
from __future__ import annotations

# --- ESTIMANDS.md ---------------------------------------------------------------
EFFECTS_CSV = "effects.csv"
EFFECTS_BY_SEGMENT_CSV = "effects_by_segment.csv"
REFUTATIONS_CSV = "refutations.csv"
DATA_QUALITY_JSON = "data_quality.json"
CLAIMS_JSON = "claims.json"
EFFECT_COLUMNS = (
    "treatment", "outcome", "horizon", "method", "estimand", "estimate",
    "ci_low", "ci_high", "se", "n_units", "n_treated", "cohorts",
)
EFFECT_BY_SEGMENT_COLUMNS = EFFECT_COLUMNS + ("segment_var", "segment_value")
REFUTATION_COLUMNS = (
    "treatment", "outcome", "horizon", "method", "refuter",
    "estimate", "new_effect", "p_value", "passed",
)

# --- provenance --------------------------------------------------------------
RUN_INFO_JSON = "run_info.json"
SIMULATION_TRUTH_JSON = "simulation_truth.json"  # copy of the simulator's truth.json, simulated runs only
FIGURES_DIR = "figures"

# --- data stage --------------------------------------------------------------
LEDGER_CSV = "ledger.csv"
LEDGER_MD = "ledger.md"
TRENDS_DIR = "trends"
TRENDS_SUMMARY_JSON = "summary.json"  # inside TRENDS_DIR

# --- estimate and refute stages ----------------------------------------------
ESTIMATION_CONFIG_JSON = "estimation_config.json"
SKIPPED_CELLS_CSV = "skipped_cells.csv"
TRIMMING_CSV = "trimming.csv"
BALANCE_CSV = "balance.csv"
SENSITIVITY_FLAGGED_CSV = "sensitivity_flagged.csv"
SENSITIVITY_JSON = "sensitivity.json"

# --- segments stage ----------------------------------------------------------
HETEROGENEITY_SUMMARY_JSON = "heterogeneity_summary.json"
EFFECTS_DR_OVERALL_CSV = "effects_dr_overall.csv"
SEGMENTS_VS_STRATIFIED_CSV = "segments_vs_stratified.csv"
SEGMENTS_SKIPPED_CSV = "segments_skipped.csv"
MARKETPLACE_VS_CUSTOM_CSV = "marketplace_vs_custom.csv"
TARGETING_CSV = "targeting.csv"
TARGETING_RULE_TXT = "targeting_rule.txt"
TARGETING_RULE_JSON = "targeting_rule.json"
RANKING_VALIDATION_CSV = "ranking_validation.csv"
TARGETING_CURVES_CSV = "targeting_curves.csv"
DOLLARS_CSV = "dollars.csv"
FOREST_SEGMENTS_PNG = "forest_segments.png"  # inside FIGURES_DIR: cancel and upgrade, every window


def segment_forest_png(outcome: str, horizon: int) -> str:
    """Forest plot of one outcome and window's segment effects, inside FIGURES_DIR (name without 'forest'
    so that the memo's lookup of the combined forest plot never picks it)."""
    return f"segment_effects_{outcome}_h{int(horizon)}.png"
DOLLARS_ASSUMPTIONS_MD = "dollars_assumptions.md"
