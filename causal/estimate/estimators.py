"""Effect estimators on one cell, each returning an :class:`EffectRecord` with a 95% interval.

``naive``  difference in means; cluster-robust (by customer) standard error.
``psm``    DoWhy ``backdoor.propensity_score_matching`` for the ATT (1 nearest
           neighbour on a logistic propensity score, with replacement); interval
           from a bootstrap that resamples customers and re-matches.
``dml``    EconML ``LinearDRLearner`` through DoWhy for the ATE (and, from the
           same nuisances, the doubly robust ATT, :func:`dml_att`): the double-ML
           (doubly robust / AIPW) orthogonal score with gradient-boosted (LightGBM)
           nuisance models cross-fitted on folds grouped by customer; the standard error
           is cluster-robust by customer, computed from the per-row scores.

Every estimator takes a seed and gives the same numbers for the same seed.
"""
from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from causal.estimate import graph as causal_graph
from causal.estimate.boosting import EarlyStoppedLGBMClassifier, EarlyStoppedLGBMRegressor
from causal.estimate.design import Cell
from causal.estimate.fold_rows import fold_splits
from causal.estimate.inference import customer_folds
from causal.estimate.nuisances import CellNuisances, att_interval
from causal.estimate.records import EffectRecord

Z95 = float(stats.norm.ppf(0.975))
N_BOOTSTRAP = 100
BOOTSTRAP_BLOCK_ROWS = 4_000_000  # rows x draws per block of the PSM bootstrap (about 32 MB per array)
# at least this many draws per block: each block reads the cell's design matrix twice, and one draw per
# block on a large cell (at ten times real scale, 850 MB of it) made the bootstrap wait on memory
BOOTSTRAP_MIN_BLOCK = 16
DML_FOLDS = 2
MIN_PROPENSITY = 0.01
INTERVAL_NAIVE = "cluster-robust by customer (normal, 95%)"
INTERVAL_DML = ("cluster-robust by customer from the doubly robust (AIPW) orthogonal scores "
                "of cross-fitted DML (normal, 95%)")
INTERVAL_DML_ATT = ("cluster-robust by customer from the doubly robust ATT orthogonal scores "
                    "of the same cross-fitted DML nuisances (normal, 95%)")

for _name in ("dowhy", "econml"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def seed_for(seed: int, *keys: object) -> int:
    """A 32-bit seed derived from a base seed and labels, stable across processes."""
    import zlib

    words = [zlib.crc32(str(k).encode()) for k in keys]
    return int(np.random.SeedSequence([int(seed)] + words).generate_state(1)[0])


def cluster_se_of_mean(scores: np.ndarray, groups: np.ndarray) -> float:
    """Standard error of ``scores.mean()`` when rows are correlated within groups.

    Sums centred scores within each group (customer) and uses the CR1 factor G / (G - 1).
    """
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    _, position = np.unique(groups, return_inverse=True)
    sums = np.bincount(position, weights=scores - scores.mean())
    n_groups = len(sums)
    if n_groups < 2:
        return float("nan")
    return float(np.sqrt((sums ** 2).sum() * n_groups / (n_groups - 1)) / n)


def _record(cell: Cell, method: str, estimand: str, estimate: float, se: float,
            ci: tuple[float, float] | None, interval: str, extra: dict | None = None) -> EffectRecord:
    low, high = ci if ci is not None else (estimate - Z95 * se, estimate + Z95 * se)
    return EffectRecord(
        treatment=cell.treatment, outcome=cell.outcome, horizon=int(cell.horizon), method=method,
        estimand=estimand, estimate=float(estimate), ci_low=float(low), ci_high=float(high),
        se=float(se), n_units=cell.n_units, n_treated=cell.n_treated, cohorts=cell.cohorts,
        interval=interval, extra=extra or {},
    )


# --- naive ------------------------------------------------------------------
def naive(cell: Cell, seed: int = 0) -> EffectRecord:
    """Difference in mean outcome, adopters minus non-adopters, clustered by customer.

    The standard error comes from the influence function of the difference in
    means summed within customers (equal to the CR1 OLS slope variance of y on t).
    ``seed`` is unused (kept for a uniform signature).
    """
    treated = cell.t == 1
    n1, n0 = int(treated.sum()), int((~treated).sum())
    mean1, mean0 = cell.y[treated].mean(), cell.y[~treated].mean()
    influence = np.where(treated, (cell.y - mean1) / n1, -(cell.y - mean0) / n0)
    _, position = np.unique(cell.groups, return_inverse=True)
    sums = np.bincount(position, weights=influence)
    n_groups = len(sums)
    se = float(np.sqrt((sums ** 2).sum() * n_groups / (n_groups - 1)))
    return _record(cell, "naive", "ATE", mean1 - mean0, se, None, INTERVAL_NAIVE,
                   {"mean_treated": float(mean1), "mean_control": float(mean0)})


# --- DoWhy plumbing -----------------------------------------------------------
def dowhy_frame(cell: Cell) -> tuple[pd.DataFrame, list[str]]:
    """A fresh data frame for DoWhy (safe column names, no stored propensity column)."""
    names = causal_graph.safe_names(list(cell.X.columns))
    frame = pd.DataFrame(cell.X.to_numpy(dtype=float), columns=list(names.values()))
    frame[causal_graph.TREATMENT_NODE] = cell.t.astype(int)
    frame[causal_graph.OUTCOME_NODE] = cell.y.astype(float)
    return frame, list(names.values())


_IDENTIFIED: dict[tuple[str, ...], object] = {}  # covariates -> DoWhy's identified estimand of their graph


def identified_model(frame: pd.DataFrame, covariates: list[str]):
    """DoWhy CausalModel on the column graph, identified by the back-door criterion.

    The adjustment set is put back in design-matrix order so that fits do not
    depend on set ordering (hence on the interpreter's hash seed). Identification
    reads only the graph, so it runs once per graph (per list of covariates) in a
    process; each call gets its own copy of the estimand (DoWhy's estimators mark it).
    """
    from dowhy import CausalModel

    model = CausalModel(data=frame, treatment=causal_graph.TREATMENT_NODE, outcome=causal_graph.OUTCOME_NODE,
                        graph=causal_graph.column_graph(covariates))
    graph_key = tuple(covariates)
    if graph_key not in _IDENTIFIED:
        _IDENTIFIED[graph_key] = _identify(model, covariates)
    return model, copy.deepcopy(_IDENTIFIED[graph_key])


def _identify(model, covariates: list[str]):
    """The back-door estimand of ``model``, its adjustment set in ``covariates`` order."""
    estimand = model.identify_effect(method_name="maximal-adjustment", proceed_when_unidentifiable=True)
    backdoor = set(estimand.get_adjustment_set())
    if backdoor != set(covariates):
        raise RuntimeError("back-door adjustment set differs from the covariates of the graph")
    for key in list(estimand.backdoor_variables):  # every stored set, whichever key the estimator reads
        estimand.backdoor_variables[key] = [c for c in covariates if c in set(estimand.backdoor_variables[key])]
    if estimand.get_adjustment_set() != [c for c in covariates if c in backdoor]:
        raise RuntimeError("could not put the adjustment set in design-matrix order")
    return estimand


# --- propensity-score matching --------------------------------------------------
def propensity_model() -> Pipeline:
    """Logistic regression on standardised covariates (the PSM and trimming propensity model)."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, tol=1e-8))


class FittedOnce:
    """A :func:`propensity_model` fitted by the first ``fit`` and reused by the next ones on the same rows.

    Handed to DoWhy's propensity-score matching of several cells that share their
    rows, covariates and treatment (outcomes observed on the same customer-months):
    the logistic fit is the same, so it runs once. A ``fit`` on other covariates or
    another treatment vector raises instead of reusing a fit of other data.
    """

    def __init__(self):
        self.model: Pipeline | None = None
        self._fitted_on: tuple | None = None  # (columns, shape) of the covariates of the fit
        self._t: np.ndarray | None = None  # its treatment vector

    def fit(self, X: pd.DataFrame, t: np.ndarray) -> "FittedOnce":
        signature = (tuple(X.columns), X.shape)
        if self.model is None:
            self.model = propensity_model().fit(X, t)
            self._fitted_on, self._t = signature, np.array(t)
        elif signature != self._fitted_on or not np.array_equal(np.asarray(t), self._t):
            raise ValueError("a shared propensity model was asked to fit other rows")
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(X)

    def __getitem__(self, step):
        """A step of the fitted pipeline (``[0]`` the scaler, ``[-1]`` the logistic regression)."""
        return self.model[step]


def fit_propensity(X: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """In-sample propensity scores P(A=1 | X) from :func:`propensity_model`."""
    return propensity_model().fit(X.to_numpy(dtype=float), t).predict_proba(X.to_numpy(dtype=float))[:, 1]


def nearest(sorted_ps: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Position in ``sorted_ps`` of the score closest to each ``target`` (ties: the lower score, then the earlier)."""
    right = np.clip(np.searchsorted(sorted_ps, target, side="left"), 0, len(sorted_ps) - 1)
    left = np.clip(right - 1, 0, len(sorted_ps) - 1)
    use_left = np.abs(target - sorted_ps[left]) <= np.abs(sorted_ps[right] - target)
    return np.where(use_left, left, right)


@dataclass
class Matcher:
    """Nearest-neighbour matching of treated rows to control rows on the propensity score.

    Controls are sorted once; each treated row takes the closest control (ties:
    the lower score, then the earlier row), with replacement, as DoWhy does.
    """

    ps: np.ndarray
    t: np.ndarray
    y: np.ndarray
    hint: "Matcher | None" = None  # a matcher on nearby scores: its orders make sorting cheap

    def __post_init__(self):
        if self.hint is None:
            control = np.flatnonzero(self.t == 0)
            treated = np.flatnonzero(self.t == 1)
        else:  # nearly sorted already: the stable sort (timsort) is close to linear
            control, treated = self.hint.control_rows, self.hint.treated_rows
        self.control_rows = control[np.argsort(self.ps[control], kind="stable")]
        self.control_ps = self.ps[self.control_rows]
        self.treated_rows = treated[np.argsort(self.ps[treated], kind="stable")]  # sorted: faster search

    def matches(self, control_available: np.ndarray | None = None) -> np.ndarray:
        """Row index of the matched control for every treated row."""
        rows, ps = self.control_rows, self.control_ps
        if control_available is not None:
            keep = control_available[rows]
            rows, ps = rows[keep], ps[keep]
        return rows[nearest(ps, self.ps[self.treated_rows])]

    def att(self, weights: np.ndarray | None = None) -> float:
        """ATT: mean over treated rows of outcome minus matched control outcome.

        ``weights`` (per row, e.g. bootstrap counts) weight the treated rows and
        make controls with weight 0 unavailable.
        """
        if weights is None:
            matched = self.matches()
            return float((self.y[self.treated_rows] - self.y[matched]).mean())
        matched = self.matches(weights > 0)
        w = weights[self.treated_rows]
        return float((w * (self.y[self.treated_rows] - self.y[matched])).sum() / w.sum())


def bootstrap_draw_att(ps: np.ndarray, y: np.ndarray, weights: np.ndarray, hint: Matcher) -> float:
    """:meth:`Matcher.att` of one bootstrap draw, sorting only the rows the draw holds.

    The same number as ``Matcher(ps, t, y, hint=hint).att(weights)`` to the last bit, at
    about two thirds of the sorting: a draw holds about 63% of the customers, and a
    stable sort of the drawn controls in ``hint``'s order keeps them in the order the
    whole sort would (ties included). Treated rows with weight 0 are not matched; their
    terms of the weighted sum are exact zeros, kept in place so that it adds in the same order.
    """
    control = hint.control_rows[weights[hint.control_rows] > 0]
    control_ps = ps[control]
    order = np.argsort(control_ps, kind="stable")
    control, control_ps = control[order], control_ps[order]
    treated_ps = ps[hint.treated_rows]
    order = np.argsort(treated_ps, kind="stable")
    treated, treated_ps = hint.treated_rows[order], treated_ps[order]
    w = weights[treated]
    drawn = w > 0
    difference = np.zeros(len(treated))
    difference[drawn] = y[treated[drawn]] - y[control[nearest(control_ps, treated_ps[drawn])]]
    return float((w * difference).sum() / w.sum())


def customer_bootstrap_weights(position: np.ndarray, rng: np.random.Generator,
                               out: np.ndarray | None = None) -> np.ndarray:
    """Row weights of one customer bootstrap draw: how often each row's customer was drawn.

    ``position`` numbers the customers 0..G-1 per row (``np.unique(groups, return_inverse=True)[1]``);
    ``out``, a float row to write them into (a row of a block of draws), saves a copy.
    """
    n_groups = int(position.max()) + 1
    counts = np.bincount(rng.integers(0, n_groups, size=n_groups), minlength=n_groups)
    return np.take(counts.astype(float), position, out=out)


class PropensityUpdater:
    """One-step (score bootstrap) update of a fitted logistic propensity model under row weights.

    With the fitted coefficients b and the Hessian H of the penalised log-likelihood
    at b, a bootstrap draw with row weights w gets ``b + H^-1 g_w(b)``, where
    ``g_w`` is the weighted score; the propensity scores are recomputed from it.
    This re-estimates the propensity model in every draw at the cost of one
    matrix-vector product.
    """

    def __init__(self, fitted: Pipeline, X: np.ndarray | pd.DataFrame, t: np.ndarray):
        scaler, logistic = fitted[0], fitted[-1]
        Z = self._design(X, scaler)
        self.Z, self.t = Z, t.astype(float)
        self.beta = np.concatenate([logistic.intercept_, logistic.coef_.ravel()])
        self.C = float(logistic.C)
        self.p = 1.0 / (1.0 + np.exp(-Z @ self.beta))
        weighted = Z * (self.p * (1 - self.p))[:, None]
        if self.C != 1.0:  # (the default C = 1 multiplies exactly: no copy for it)
            weighted *= self.C
        hessian = weighted.T @ Z
        del weighted
        hessian[1:, 1:] += np.eye(Z.shape[1] - 1)  # L2 penalty on the slopes (not the intercept)
        self.hessian_inv = np.linalg.inv(hessian)

    @staticmethod
    def _design(X: np.ndarray | pd.DataFrame, scaler) -> np.ndarray:
        """``[1, (X - mean) / scale]`` written in place, in the memory layout of the covariates
        (the layout fixes the order in which the matrix products add, hence their last bits)."""
        values = X.to_numpy(dtype=float) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=float)
        order = "F" if values.flags.f_contiguous and not values.flags.c_contiguous else "C"
        Z = np.empty((values.shape[0], values.shape[1] + 1), order=order)
        Z[:, 0] = 1.0
        np.subtract(values, scaler.mean_, out=Z[:, 1:])
        del values
        Z[:, 1:] /= scaler.scale_
        return Z

    def propensity(self, weights: np.ndarray) -> np.ndarray:
        """Propensity scores after the one-step update for ``weights``."""
        penalty = np.concatenate([[0.0], self.beta[1:]])
        score = self.C * self.Z.T @ (weights * (self.t - self.p)) - penalty
        beta = self.beta + self.hessian_inv @ score
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-self.Z @ beta))

    def propensities(self, weights: np.ndarray) -> np.ndarray:
        """:meth:`propensity` for many draws at once: ``weights`` (B, n), one draw per row -> scores (B, n).

        Two matrix-matrix products instead of 2B matrix-vector ones, each draw's weights
        and scores one contiguous row (what the matching of a draw reads), with no
        transposed copies: at 1.58 M rows, 0.03 s a draw in blocks of 16 against 0.14 s
        in columns of 8 with copies. On this machine's OpenBLAS the products add each entry
        in the same order whatever the block's width from 4 draws up (a block of 2 or 3 can
        differ in the last bit); the bootstrap draws do not depend on the block size (tested).
        """
        penalty = np.concatenate([[0.0], self.beta[1:]])
        residual_weights = weights * (self.t - self.p)  # (B, n)
        score = self.C * (residual_weights @ self.Z).T - penalty[:, None]  # (k, B)
        del residual_weights
        beta = self.beta[:, None] + self.hessian_inv @ score
        scores = beta.T @ self.Z.T  # (B, n), the linear predictors; then 1 / (1 + exp(-eta)) in place
        with np.errstate(over="ignore"):
            np.negative(scores, out=scores)
            np.exp(scores, out=scores)
        scores += 1.0
        return np.reciprocal(scores, out=scores)


def psm(cell: Cell, seed: int, n_bootstrap: int = N_BOOTSTRAP,
        paired: Callable[[np.ndarray], float] | None = None,
        shared_propensity: FittedOnce | None = None) -> EffectRecord:
    """ATT by propensity-score matching through DoWhy, interval by customer bootstrap.

    Parameters
    ----------
    cell : Cell
        The estimation cell (already trimmed, if trimming applies).
    seed : int
        Seed of the bootstrap draws.
    n_bootstrap : int
        Customer bootstrap draws; 0 skips the interval (se and bounds NaN), as the
        refuters do when they only need the point estimate.
    paired : callable, optional
        Another statistic of the row weights (e.g. the DML ATT from fixed
        nuisances), evaluated on every bootstrap draw (``extra["paired_draws"]``)
        so that differences with the PSM draws have a joint interval.
    shared_propensity : FittedOnce, optional
        The propensity model, shared with cells on the same rows (fitted once);
        by default a new :func:`propensity_model`.

    Notes
    -----
    DoWhy fits the logistic propensity model on a fresh data frame (no stored
    propensity column, py-why/dowhy#1728) and matches each treated row to its
    nearest control. Each bootstrap draw resamples customers with replacement,
    re-estimates the propensity model by a one-step score-bootstrap update
    (:class:`PropensityUpdater`) and re-matches; the interval is the 2.5-97.5
    percentile range and ``se`` the standard deviation of the draws.
    """
    frame, covariates = dowhy_frame(cell)
    model, estimand = identified_model(frame, covariates)
    estimate = model.estimate_effect(
        estimand, method_name="backdoor.propensity_score_matching", target_units="att",
        method_params={"propensity_score_model": (propensity_model() if shared_propensity is None
                                                  else shared_propensity)},
    )
    ps = np.asarray(estimate.propensity_scores, dtype=float)
    value, fitted = float(estimate.value), estimate.estimator.propensity_score_model
    del frame, model, estimate  # DoWhy's copies of the cell: not needed by the bootstrap
    matcher = Matcher(ps=ps, t=cell.t, y=cell.y)
    extra = {"propensity": ps, "att_own_matcher": matcher.att(), "matches": matcher.matches(),
             "matches_treated": matcher.treated_rows}
    if n_bootstrap <= 0:
        return _record(cell, "psm", "ATT", value, float("nan"), (float("nan"), float("nan")),
                       "none (point estimate only)", extra)
    rng = np.random.default_rng(seed_for(seed, "psm-bootstrap", cell.treatment, cell.outcome, cell.horizon))
    updater = PropensityUpdater(fitted, cell.X, cell.t)
    position = np.unique(cell.groups, return_inverse=True)[1]
    draws, paired_draws = np.empty(n_bootstrap), np.empty(n_bootstrap)
    block = max(1, min(n_bootstrap, max(BOOTSTRAP_MIN_BLOCK, BOOTSTRAP_BLOCK_ROWS // max(len(cell.y), 1))))
    for start in range(0, n_bootstrap, block):  # draws in blocks: one propensity update per block
        # one contiguous row per draw: the per-draw gathers below read it many times
        draw_weights = np.empty((min(block, n_bootstrap - start), len(position)))
        for row in draw_weights:
            customer_bootstrap_weights(position, rng, out=row)
        scores = updater.propensities(draw_weights)
        for j in range(len(draw_weights)):
            b = start + j
            draws[b] = bootstrap_draw_att(scores[j], cell.y, draw_weights[j], matcher)
            if paired is not None:
                paired_draws[b] = paired(draw_weights[j])
    if paired is not None:
        extra["paired_draws"] = paired_draws
    interval = (f"bootstrap over customers ({n_bootstrap} draws; propensity model re-estimated by a one-step "
                "update and re-matched in each draw); estimate +/- 1.96 bootstrap se")
    extra["bootstrap"] = draws
    return _record(cell, "psm", "ATT", value, float(draws.std(ddof=1)), None, interval, extra)


# --- double machine learning ------------------------------------------------------
def nuisance_models(seed: int) -> tuple[EarlyStoppedLGBMRegressor, EarlyStoppedLGBMClassifier]:
    """Gradient-boosted outcome regression and propensity classifier (LightGBM, early stopping, seeded).

    15 leaves, 63 bins, learning rate 0.1, at most 200 rounds, stopping after 5 rounds
    without improvement on a held-out tenth (:mod:`causal.estimate.boosting`).
    """
    return (EarlyStoppedLGBMRegressor(random_state=seed_for(seed, "model_y")),
            EarlyStoppedLGBMClassifier(random_state=seed_for(seed, "model_t")))


def dml_folds(cell: Cell, seed: int, folds: int = DML_FOLDS) -> np.ndarray:
    """Cross-fitting fold per row: a keyed hash of the customer, the same in every cell of a run."""
    return customer_folds(cell.rows["customer_id"].to_numpy(), folds, seed)


def dml(cell: Cell, seed: int, folds: int = DML_FOLDS) -> EffectRecord:
    """ATE by double machine learning: EconML ``LinearDRLearner`` through DoWhy.

    Parameters
    ----------
    cell : Cell
        The estimation cell (already trimmed, if trimming applies).
    seed : int
        Seed of the nuisance models and of the cross-fitting folds.
    folds : int
        Cross-fitting folds, grouped by customer (:func:`dml_folds`: every
        customer in the same fold in every cell), so no customer is in both the
        training and the prediction fold.

    Notes
    -----
    With no effect modifiers the final stage is a constant: the ATE is the mean
    of the doubly robust scores ``mu1 - mu0 + A (Y - mu1) / e - (1 - A) (Y - mu0) / (1 - e)``
    (propensities clipped to [0.01, 0.99]). EconML's own interval treats rows as
    independent; ``se`` here sums the centred scores within customers instead.
    ``extra["nuisances"]`` holds the cross-fitted nuisances per row
    (:class:`causal.estimate.nuisances.CellNuisances`) for the ATT and later stages.
    """
    frame, covariates = dowhy_frame(cell)
    model, estimand = identified_model(frame, covariates)
    model_y, model_t = nuisance_models(seed_for(seed, "dml", cell.treatment, cell.outcome, cell.horizon))
    fold_of_row = dml_folds(cell, seed, folds)
    splits = fold_splits(fold_of_row, folds)  # EconML checks them disjoint: FoldRows make that a sort
    fold_seed = seed_for(seed, "dml-folds", cell.treatment, cell.outcome, cell.horizon)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate = model.estimate_effect(
            estimand, method_name="backdoor.econml.dr.LinearDRLearner", target_units="ate",
            method_params={
                "init_params": {"model_propensity": model_t, "model_regression": model_y, "cv": splits,
                                "min_propensity": MIN_PROPENSITY, "random_state": fold_seed},
                "fit_params": {"groups": cell.groups, "cache_values": True},
            },
        )
    learner = estimate.estimator.estimator
    cached = learner._cached_values.nuisances
    pseudo_outcomes = np.asarray(cached[0], dtype=float).reshape(len(cell.y), -1)
    propensities = np.asarray(cached[1], dtype=float).reshape(len(cell.y), -1)
    value = float(estimate.value)
    nuis = CellNuisances(cell.treatment, cell.outcome, int(cell.horizon), np.asarray(cell.rows.index),
                         cell.y.astype(float), cell.t.astype(int), np.asarray(cell.groups), fold_of_row,
                         pseudo_outcomes[:, 0], pseudo_outcomes[:, 1], propensities[:, 1], int(seed))
    scores = nuis.ate_scores
    if not np.isclose(scores.mean(), value, rtol=1e-6, atol=1e-9):
        raise RuntimeError(f"DML scores average {scores.mean()} but EconML reports {value}")
    se = cluster_se_of_mean(scores, cell.groups)
    return _record(cell, "dml", "ATE", value, se, None, INTERVAL_DML,
                   {"learner": learner, "scores": scores, "nuisances": nuis})


def dml_att(cell: Cell, nuis: CellNuisances) -> EffectRecord:
    """ATT by double machine learning from the same cross-fitted nuisances as :func:`dml`.

    The orthogonal ATT score ``[T (Y - mu0) - (1 - T) e / (1 - e) (Y - mu0)] / P(T = 1) - theta T / P(T = 1)``
    (:func:`causal.estimate.nuisances.att_with_se`), clustered by customer.
    """
    theta, se, low, high = att_interval(nuis)
    return _record(cell, "dml", "ATT", theta, se, (low, high), INTERVAL_DML_ATT)
