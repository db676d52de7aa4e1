"""Conditional (segment) effects from doubly robust scores, and a stratified check.

The segments stage takes the scores from the DML estimator's cross-fitted
nuisances of each (trimmed) cell (:func:`scores_from_nuisances`; the run's
cache, :mod:`causal.estimate.nuisances`), so segment effects, marketplace vs
custom, targeting and dollars rest on the same fit as the DML ATE.
:func:`fit_dr_scores` cross-fits its own models (targeting's training-fold scores).

For one estimation cell (treatment, outcome, horizon) the nuisance functions
-- propensity ``e(x)`` and outcome models ``mu_0(x)``, ``mu_1(x)`` (gradient
boosting) -- are cross-fitted with folds grouped by customer. Each row gets the
doubly robust (AIPW) score

    psi = mu_1 - mu_0 + T (Y - mu_1) / e - (1 - T) (Y - mu_0) / (1 - e),

whose mean over any group of rows defined by pre-treatment covariates
estimates that group's average effect (GATE). Intervals cluster the scores by
customer. The check re-estimates each segment on its own rows only, with a
different model (Lin's interacted least squares), and tabulates both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from analysis import schema
from causal.estimate.design import Cell
from causal.estimate.inference import cluster_se, clustered_mean, derived_seed, normal_interval
from causal.estimate.nuisances import CellNuisances
from causal.estimate.records import EffectRecord

N_FOLDS = 2  # cross-fitting folds (grouped by customer); fold 0 / 1 double as the honest split
PROPENSITY_CLIP = 0.01  # e(x) clipped to [0.01, 0.99] inside the scores (not a trimming rule)
MIN_SEGMENT_UNITS = 200  # segments with fewer eligible customer-months are skipped and listed
MIN_SEGMENT_ARM = 20  # ... or with fewer treated (or untreated) customer-months
METHOD = "dr"
INTERVAL = ("cluster-robust by customer, from doubly robust scores of the DML nuisances "
            f"({N_FOLDS}-fold cross-fitting grouped by customer, gradient boosting)")
STRATIFIED_METHOD = "stratified_ols"
STRATIFIED_INTERVAL = "cluster-robust by customer (Lin's interacted OLS within the segment)"
BOOSTING_PARAMS = dict(max_iter=50, learning_rate=0.2, max_leaf_nodes=15, min_samples_leaf=40,
                       max_bins=63, early_stopping=False)


@dataclass
class DRScores:
    """Cross-fitted doubly robust scores of one cell (row order of ``cell.rows``)."""

    treatment: str
    outcome: str
    horizon: int
    rows: pd.DataFrame  # keys, segments, interpretable features of the cell's rows
    y: np.ndarray
    t: np.ndarray
    groups: np.ndarray
    folds: np.ndarray
    e: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    psi: np.ndarray

    @property
    def cohorts(self) -> str:
        return ";".join(sorted(self.rows["cohort"].astype(str).unique()))

    def att_numerator_denominator(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-row numerator and denominator of the doubly robust ATT (ratio of sums)."""
        e = np.clip(self.e, PROPENSITY_CLIP, 1 - PROPENSITY_CLIP)
        resid0 = self.y - self.mu0
        numerator = self.t * resid0 - (1 - self.t) * e / (1 - e) * resid0
        return numerator, self.t.astype(float)


def nuisance_features(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Numeric covariates plus integer-coded categoricals for tree models.

    The cohort month enters as its rank in calendar order (numeric), so any
    number of months fits the models' category limit.

    Returns
    -------
    (ndarray, ndarray of bool)
        The feature matrix and the mask of categorical columns.
    """
    numeric = rows[list(schema.NUMERIC_COVARIATES)].to_numpy(dtype=float)
    codes, categorical = [], []
    for column in schema.CATEGORICAL_COVARIATES:
        values = rows[column].astype(str).to_numpy()
        levels = np.unique(values)  # sorted; "YYYY-MM" sorts in calendar order
        codes.append(np.searchsorted(levels, values).astype(float))
        categorical.append(column != "cohort")
    features = np.column_stack([numeric] + codes)
    mask = np.array([False] * numeric.shape[1] + categorical)
    return features, mask


class _Constant:
    """A fallback model predicting one value (a training arm with a constant outcome)."""

    def __init__(self, value: float):
        self.value = float(value)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.full(len(features), self.value)


def _fit_outcome(features, y, mask, binary: bool, seed: int):
    if len(y) == 0:
        raise ValueError("empty training arm")
    if np.unique(y).size < 2:
        return _Constant(y[0])
    if binary:
        model = HistGradientBoostingClassifier(categorical_features=mask, random_state=seed, **BOOSTING_PARAMS)
        model.fit(features, y.astype(int))
        return _Probability(model)
    model = HistGradientBoostingRegressor(categorical_features=mask, random_state=seed, **BOOSTING_PARAMS)
    return model.fit(features, y)


class _Probability:
    def __init__(self, model):
        self.model = model

    def predict(self, features):
        return self.model.predict_proba(features)[:, 1]


def _fit_propensity(features, t, mask, seed: int):
    if np.unique(t).size < 2:
        return _Constant(t.mean())
    model = HistGradientBoostingClassifier(categorical_features=mask, random_state=seed, **BOOSTING_PARAMS)
    return _Probability(model.fit(features, t))


def cross_fitted_propensity(rows: pd.DataFrame, folds: np.ndarray, seed: int) -> np.ndarray:
    """Propensity ``P(T = 1 | X)`` per row, each fold predicted by a model trained on the others.

    Fitted once per treatment on all its (unflagged) rows and shared by every
    outcome cell of that treatment. A cell keeps the rows with an observed
    outcome; the doubly robust score stays unbiased for that cell as long as
    its outcome models (fitted within the cell) are right.
    """
    features, mask = nuisance_features(rows)
    t = rows[schema.TREATED].to_numpy(dtype=int)
    e = np.empty(len(rows))
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        model = _fit_propensity(features[train], t[train], mask, derived_seed(seed, "propensity", int(fold)))
        e[test] = model.predict(features[test])
    return e


def fit_dr_scores(
    cell: Cell,
    folds: np.ndarray,
    seed: int,
    propensity: np.ndarray | None = None,
) -> DRScores:
    """Cross-fit the nuisance models of one cell and return its doubly robust scores.

    Parameters
    ----------
    cell : Cell
        Rows of one (treatment, outcome, horizon) (``causal.estimate.design.select_cell``).
    folds : ndarray of int
        Fold per row of ``cell.rows``, grouped by customer (``customer_folds``).
    seed : int
        Seed of the gradient-boosting models.
    propensity : ndarray, optional
        Cross-fitted propensity per row (same folds), e.g. from
        :func:`cross_fitted_propensity` on the treatment's rows; fitted on the
        cell's rows when absent.

    Returns
    -------
    DRScores
    """
    features, mask = nuisance_features(cell.rows)
    y, t = cell.y, cell.t
    binary = cell.outcome in schema.BINARY_OUTCOMES
    n = len(y)
    mu0, mu1 = np.empty(n), np.empty(n)
    e = (np.asarray(propensity, dtype=float) if propensity is not None
         else cross_fitted_propensity(cell.rows, folds, seed))
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        arm0 = train & (t == 0)
        arm1 = train & (t == 1)
        model0 = _fit_outcome(features[arm0], y[arm0], mask, binary,
                              derived_seed(seed, cell.treatment, cell.outcome, cell.horizon, int(fold), 0))
        model1 = _fit_outcome(features[arm1], y[arm1], mask, binary,
                              derived_seed(seed, cell.treatment, cell.outcome, cell.horizon, int(fold), 1))
        mu0[test], mu1[test] = model0.predict(features[test]), model1.predict(features[test])
    clipped = np.clip(e, PROPENSITY_CLIP, 1 - PROPENSITY_CLIP)
    psi = mu1 - mu0 + t * (y - mu1) / clipped - (1 - t) * (y - mu0) / (1 - clipped)
    keep = ["customer_id", "cohort", schema.TREATED, "mrr_bom", "n_int", "tier_rank",
            *schema.SEGMENT_VARS.values()]
    rows = cell.rows[[c for c in dict.fromkeys(keep) if c in cell.rows.columns]].reset_index(drop=True)
    return DRScores(cell.treatment, cell.outcome, cell.horizon, rows, y, t, cell.groups, folds,
                    e, mu0, mu1, psi)


def scores_from_nuisances(cell: Cell, nuisances: CellNuisances) -> DRScores:
    """Doubly robust scores of a cell from the DML stage's cross-fitted nuisances (no refit).

    ``cell`` must hold the rows the nuisances were fitted on, in the same order
    (``nuisances.index``); the scores are the DML ATE scores, so their mean is the
    cell's DML ATE.
    """
    if not np.array_equal(np.asarray(cell.rows.index), nuisances.index):
        raise ValueError("the cell's rows are not the rows the nuisances were fitted on")
    keep = ["customer_id", "cohort", schema.TREATED, "mrr_bom", "n_int", "tier_rank",
            *schema.SEGMENT_VARS.values()]
    rows = cell.rows[[c for c in dict.fromkeys(keep) if c in cell.rows.columns]].reset_index(drop=True)
    return DRScores(cell.treatment, cell.outcome, cell.horizon, rows, cell.y, cell.t, cell.groups,
                    nuisances.folds, nuisances.e, nuisances.mu0, nuisances.mu1, nuisances.ate_scores)


def overall_effect(scores: DRScores) -> EffectRecord:
    """The cell's ATE: mean doubly robust score, clustered by customer."""
    estimate, se = clustered_mean(scores.psi, scores.groups)
    low, high = normal_interval(estimate, se)
    return EffectRecord(scores.treatment, scores.outcome, scores.horizon, METHOD, "ATE", estimate, low, high,
                        se, len(scores.y), int(scores.t.sum()), scores.cohorts, interval=INTERVAL)


def _segment_skip_reason(n_units: int, n_treated: int) -> str | None:
    if n_units < MIN_SEGMENT_UNITS:
        return f"fewer than {MIN_SEGMENT_UNITS} customer-months"
    if n_treated < MIN_SEGMENT_ARM:
        return f"fewer than {MIN_SEGMENT_ARM} treated customer-months"
    if n_units - n_treated < MIN_SEGMENT_ARM:
        return f"fewer than {MIN_SEGMENT_ARM} untreated customer-months"
    return None


def segment_effects(scores: DRScores) -> tuple[list[EffectRecord], list[dict]]:
    """Group average effects (GATEs) for every value of every segment variable.

    Returns
    -------
    (list of EffectRecord, list of dict)
        One record per segment with enough rows (``segment_var`` /
        ``segment_value`` set), and the skipped segments with the reason.
    """
    records, skipped = [], []
    for segment_var, column in schema.SEGMENT_VARS.items():
        codes, levels = pd.factorize(scores.rows[column].astype(str), sort=True)
        for code, value in enumerate(levels):
            value, mask = str(value), codes == code
            n_units, n_treated = int(mask.sum()), int(scores.t[mask].sum())
            reason = _segment_skip_reason(n_units, n_treated)
            if reason:
                skipped.append(dict(treatment=scores.treatment, outcome=scores.outcome, horizon=scores.horizon,
                                    segment_var=segment_var, segment_value=value, n_units=n_units,
                                    n_treated=n_treated, reason=reason))
                continue
            estimate, se = clustered_mean(scores.psi[mask], scores.groups[mask])
            low, high = normal_interval(estimate, se)
            cohorts = ";".join(sorted(scores.rows.loc[mask, "cohort"].astype(str).unique()))
            records.append(EffectRecord(scores.treatment, scores.outcome, scores.horizon, METHOD, "ATE",
                                        estimate, low, high, se, n_units, n_treated, cohorts,
                                        segment_var=segment_var, segment_value=value, interval=INTERVAL))
    return records, skipped


def lin_regression_effect(y: np.ndarray, t: np.ndarray, design: pd.DataFrame,
                          groups: np.ndarray) -> tuple[float, float, str]:
    """ATE by least squares of Y on T, centred covariates and their interactions with T.

    Interactions are dropped (additive model) when either arm has fewer than
    five rows per covariate, so the treatment coefficient stays identified.

    Returns
    -------
    (float, float, str)
        Estimate, cluster-robust standard error, and the model used.
    """
    covariates = design.to_numpy(dtype=float)
    covariates = covariates - covariates.mean(axis=0)
    n_params = covariates.shape[1]
    interacted = min(t.sum(), len(t) - t.sum()) >= 5 * max(n_params, 1)
    columns = [np.ones(len(y)), t.astype(float), covariates]
    if interacted:
        columns.append(covariates * t[:, None])
    matrix = np.column_stack(columns)
    gram_inverse = np.linalg.pinv(matrix.T @ matrix)
    coefficients = gram_inverse @ (matrix.T @ y)
    residuals = y - matrix @ coefficients
    # influence of each row on the treatment coefficient: row of (X'X)^-1 X' times residual
    influence = (matrix @ gram_inverse[1]) * residuals
    return float(coefficients[1]), cluster_se(influence, groups), "interacted" if interacted else "additive"


def stratified_effects(cell: Cell) -> list[EffectRecord]:
    """Each segment estimated on its own rows only (the stratified check).

    Uses Lin's interacted least squares within the segment, a model unrelated
    to the gradient-boosting nuisances of the doubly robust scores (covariates:
    the cell's design matrix, columns constant within the segment dropped).
    """
    records = []
    design_all = cell.X.to_numpy(dtype=float)
    cohorts_all = cell.rows["cohort"].astype(str).to_numpy()
    for segment_var, column in schema.SEGMENT_VARS.items():
        codes, levels = pd.factorize(cell.rows[column].astype(str), sort=True)
        for code, value in enumerate(levels):
            mask = codes == code
            n_units, n_treated = int(mask.sum()), int(cell.t[mask].sum())
            if _segment_skip_reason(n_units, n_treated):
                continue
            design = design_all[mask]
            design = pd.DataFrame(design[:, design.std(axis=0) > 0])
            estimate, se, model = lin_regression_effect(cell.y[mask], cell.t[mask], design, cell.groups[mask])
            low, high = normal_interval(estimate, se)
            cohorts = ";".join(sorted(set(cohorts_all[mask])))
            records.append(EffectRecord(cell.treatment, cell.outcome, cell.horizon, STRATIFIED_METHOD, "ATE",
                                        estimate, low, high, se, n_units, n_treated, cohorts,
                                        segment_var=segment_var, segment_value=str(value),
                                        interval=STRATIFIED_INTERVAL, extra={"model": model}))
    return records


def compare_with_stratified(pooled: list[EffectRecord], stratified: list[EffectRecord]) -> pd.DataFrame:
    """Side by side: pooled-model GATE and stratified estimate per segment.

    ``z_difference`` is the difference over ``sqrt(se_pooled^2 + se_stratified^2)``
    (conservative: the two estimates share rows, so they are positively correlated).
    """
    key = ("treatment", "outcome", "horizon", "segment_var", "segment_value")
    left = pd.DataFrame([{**{k: getattr(r, k) for k in key}, "dr_estimate": r.estimate, "dr_ci_low": r.ci_low,
                          "dr_ci_high": r.ci_high, "dr_se": r.se, "n_units": r.n_units, "n_treated": r.n_treated}
                         for r in pooled], columns=[*key, "dr_estimate", "dr_ci_low", "dr_ci_high", "dr_se",
                                                    "n_units", "n_treated"])
    right = pd.DataFrame([{**{k: getattr(r, k) for k in key}, "stratified_estimate": r.estimate,
                           "stratified_ci_low": r.ci_low, "stratified_ci_high": r.ci_high,
                           "stratified_se": r.se, "stratified_model": r.extra.get("model", "")}
                          for r in stratified], columns=[*key, "stratified_estimate", "stratified_ci_low",
                                                         "stratified_ci_high", "stratified_se", "stratified_model"])
    table = left.merge(right, on=list(key), how="inner")
    table["difference"] = table["dr_estimate"] - table["stratified_estimate"]
    table["z_difference"] = table["difference"] / np.sqrt(table["dr_se"] ** 2 + table["stratified_se"] ** 2)
    table["agree"] = table["z_difference"].abs() <= 1.96
    return table


def forest_figure(records: list[EffectRecord], overall: dict, path, treatment: str, outcomes) -> None:
    """Forest plot: segment effects with 95% intervals, one panel per outcome, one colour per horizon.

    A dashed line marks the cell's overall effect (the mean of all scores).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [r for r in records if r.treatment == treatment and r.outcome in outcomes and r.method == METHOD]
    labels = sorted({(r.segment_var, r.segment_value) for r in chosen},
                    key=lambda k: (list(schema.SEGMENT_VARS).index(k[0]), k[1]))
    if not labels:
        return
    position = {label: i for i, label in enumerate(labels)}
    horizons = sorted({r.horizon for r in chosen})
    colours = dict(zip(horizons, ("#1b6ca8", "#d1495b", "#3c8d2f", "#7a5195")))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.2 * len(outcomes), 0.32 * len(labels) + 1.6),
                             sharey=True, squeeze=False)
    for ax, outcome in zip(axes[0], outcomes):
        for h in horizons:
            offset = (h - np.mean(horizons)) * 0.22
            part = [r for r in chosen if r.outcome == outcome and r.horizon == h]
            ys = [position[(r.segment_var, r.segment_value)] + offset for r in part]
            est = np.array([r.estimate for r in part])
            err = np.array([[r.estimate - r.ci_low for r in part], [r.ci_high - r.estimate for r in part]])
            if part:
                ax.errorbar(est, ys, xerr=err, fmt="o", ms=3, lw=1, color=colours[h], label=f"h = {h}")
            if (treatment, outcome, h) in overall:
                ax.axvline(overall[(treatment, outcome, h)].estimate, color=colours[h], ls="--", lw=0.8)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(f"{outcome}: effect of adoption" + ("" if "dollars" in outcome else " on the probability"))
        ax.set_xlabel("effect (95% interval, clustered by customer)")
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_yticks(range(len(labels)))
    axes[0][0].set_yticklabels([f"{var}: {value}" for var, value in labels], fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle(f"Effect of adopting an integration ('{treatment}') by segment; dashed: overall", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
