"""The refute stage: the refutation suite of the primary estimates, and a reviewer's re-run.

Entry points: :func:`run_refutation_stage` (``python -m causal run --stages refute``) and
:func:`refute_from_results` (``python -m causal refute``, a re-run into its own folder). Modules:
``refuters`` (one function per refuter, each returning a RefutationRecord), ``stage``, ``rerun``.
"""
from causal.refute.rerun import refute_from_results, rerun_refutations
from causal.refute.stage import run_refutation_stage

__all__ = ["refute_from_results", "rerun_refutations", "run_refutation_stage"]
