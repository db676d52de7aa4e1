"""Names shared by every stage: tiers, model tables, panel columns.

This module is the code form of ``docs/definitions.md`` (itself the project's
reading of ESTIMANDS.md). The data layer writes these columns, the panel
reads and writes them, the estimators, the simulator's truth and the memo use
the same names. The names of the results files are in
:mod:`analysis.results_contract`.
"""
from __future__ import annotations

# --- tiers -----------------------------------------------------------------
TIER_RANK = {"Free": 0, "Starter": 1, "Basic": 2, "Pro": 3, "Enterprise": 4}
TIER_ALIASES = {"Ent": "Enterprise"}  # raw label -> canonical label
TOP_TIER_RANK = TIER_RANK["Enterprise"]
UNKNOWN = "Unknown"  # label for a missing category (tier, segment, size)

# --- dimensional model (Parquet files in the processed folder) -------------
DIM_CUSTOMER = "dim_customer"
FCT_CUSTOMER_MONTH = "fct_customer_month"
FCT_CUSTOMER_INTEGRATION_MONTH = "fct_customer_integration_month"

DIM_CUSTOMER_COLUMNS = (
    "customer_id",  # normalised: "H" + digits left-padded with zeros to 8 digits
    "customer_segment",  # canonical label, e.g. "NAM Low-touch"; "Unknown" if absent
    "region",  # "NAM" | "International" | "Unknown"
    "team",  # "Low-touch" | "High-touch" | "Direct" | "Partner" | "Unowned" | "Unknown"
    "employee_size",  # "1 to 25" | "26 to 200" | "201 or Above" | "Undefined" | "Unknown"
)
FCT_CUSTOMER_MONTH_COLUMNS = (
    "customer_id",
    "month",  # "YYYY-MM"
    "month_index",  # 0 for the first month present in the data, calendar order
    "product_tier",  # canonical tier or null
    "tier_rank",  # 0..4 or null
    "n_integrations",  # NUM_OF_INTEGRATIONS, integer >= 0
    "mrr_bom",  # float dollars or null
    "mrr_eom",  # float dollars or null
    "cancel_dollars",  # |CUSTOMER_CANCELLATION_DOLLARS|, 0.0 when empty
)
FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS = (
    "customer_id",
    "month",  # "YYYY-MM" (raw YYYY-MM-DD)
    "integration_id",  # as written, stripped
    "integration_kind",  # "marketplace" (integer ID) | "custom" (starts with Custom, any case)
)

# --- panel (one row per eligible customer-month and treatment variant) ------
TREATMENTS = ("any", "first", "marketplace", "custom")
OUTCOMES = ("cancel", "upgrade", "cancel_dollars", "mrr_change")
BINARY_OUTCOMES = ("cancel", "upgrade")
HORIZONS = (1, 2, 3)

PANEL_KEY = ("customer_id", "cohort", "treatment")  # cohort = month t as "YYYY-MM"
TREATED = "treated"  # A_t as 0/1
FLAGGED = "flagged"  # t -> t+1 is a tracking-change transition (sensitivity only)
NUMERIC_COVARIATES = (
    "tier_rank",  # rank at BOM t; -1 when the tier is missing
    "tier_missing",  # 1 when PRODUCT_TIER at t is missing
    "log_mrr_bom",  # log1p(mrr_bom_t); 0 when missing
    "mrr_missing",  # 1 when mrr_bom_t is missing
    "n_int",  # NUM_OF_INTEGRATIONS at BOM t
    "d_n_int_prev",  # n_int_t - n_int_{t-1}; 0 when t-1 is absent
    "d_log_mrr_prev",  # log_mrr_bom_t - log_mrr_bom_{t-1}; 0 when t-1 is absent
    "cancel_prev",  # 1 when cancel_{t-1} > 0; 0 when t-1 is absent
    "history_missing",  # 1 when the customer has no row at t-1
    "months_before",  # number of the customer's rows before t
)
CATEGORICAL_COVARIATES = (
    "tier",  # canonical tier at BOM t, or "Unknown"
    "customer_segment",
    "region",
    "team",
    "employee_size",
    "cohort",  # calendar month t
)
SEGMENT_VARS = {  # segment_var in effects_by_segment.csv and truth.json -> panel column
    "segment": "customer_segment",
    "tier": "tier",
    "employee_size": "employee_size",
    "region": "region",
}
NEGATIVE_CONTROLS = (  # pre-period outcomes adoption in month t cannot cause; never covariates
    "cancel_lag2",  # 1 when cancel_{t-2} > 0; NaN when t-2 is absent (the design check negative_control)
)
ELIGIBLE_CANCEL = "eligible_cancel"  # mrr_bom_t > 0
ELIGIBLE_UPGRADE = "eligible_upgrade"  # tier known and below Enterprise at t


def outcome_column(outcome: str, horizon: int) -> str:
    """Panel column of an outcome at a horizon, e.g. ``cancel_h2``.

    The column is NaN where the unit is not eligible for the outcome or the
    outcome is censored.
    """
    if outcome not in OUTCOMES or horizon not in HORIZONS:
        raise ValueError(f"unknown outcome/horizon {outcome!r}/{horizon!r}")
    return f"{outcome}_h{horizon}"
