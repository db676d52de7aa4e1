"""The estimate stage: naive, propensity-score matching and double ML for every cell.

Entry point: :func:`run_estimation_stage` (``python -m causal run --stages estimate``).
Modules: ``design`` (a cell's rows, treatment, outcome, covariates), ``estimators``,
``inference`` (clustered standard errors, folds, seeds), ``fold_rows`` (the folds as handed to
EconML), ``balance`` (SMDs, trimming, plots),
``graph`` (the causal graph), ``records`` (the uniform result records), ``tasks`` (running
cells in workers), ``stage``.
"""
from causal.estimate.stage import run_estimation_stage

__all__ = ["run_estimation_stage"]
