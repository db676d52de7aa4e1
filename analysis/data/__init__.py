"""The data stage: load the three raw extracts, validate, reconcile, build the dimensional model.

Entry point: :func:`build_model` (``python -m causal run --stages data``). Modules:
``load`` (DuckDB reads of the raw CSVs), ``validate`` (checks and quarantine), ``reconcile``
(account_segments against the metadata), ``ledger`` (every input row kept or dropped),
``tracking`` (tracking-change detection), ``trends`` (descriptive tables and figures),
``model`` (the stage itself).
"""
from analysis.data.model import build_model

__all__ = ["build_model"]
