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
FAILURE_TRACEBACK_TXT = "failure_traceback.txt"  # full traceback of a stage that failed unexpectedly
SIMULATION_TRUTH_JSON = "simulation_truth.json"  # copy of the simulator's truth.json, simulated runs only
FIGURES_DIR = "figures"

# --- data stage --------------------------------------------------------------
LEDGER_CSV = "ledger.csv"
LEDGER_MD = "ledger.md"
TRENDS_DIR = "trends"
TRENDS_SUMMARY_JSON = "summary.json"  # inside TRENDS_DIR

# --- estimate and refute stages ----------------------------------------------
ESTIMATION_CONFIG_JSON = "estimation_config.json"
NUISANCE_CACHE_DIR = "cache/nuisances"  # cross-fitted nuisances per cell (<treatment>__<outcome>__h<h>.npz)
ESTIMATOR_AGREEMENT_CSV = "cache/estimator_agreement.csv"  # PSM ATT minus DML ATT per primary cell (refute reads it)
SKIPPED_CELLS_CSV = "skipped_cells.csv"
TRIMMING_CSV = "trimming.csv"
BALANCE_CSV = "balance.csv"
SENSITIVITY_FLAGGED_CSV = "sensitivity_flagged.csv"
SENSITIVITY_JSON = "sensitivity.json"
REFUTATION_RERUNS_DIR = "refutations"  # python -m causal refute: one rerun-<time>-seed<N>-sims<N>/ folder per re-run
RERUN_SETTINGS_JSON = "settings.json"  # inside a re-run folder, beside its refutations.csv and sensitivity.json
EVENT_STUDY_CSV = "event_study.csv"  # group-time ATTs of the event study around first adoption, per cohort fit
EVENT_STUDY_SKIPPED_CSV = "event_study_skipped.csv"  # adoption cohorts left out of the event study, with why
DESIGN_CHECKS_PNG = "design_checks.png"  # inside FIGURES_DIR: design checks and both strategies side by side

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
