"""Gradient-boosted nuisance models of the DML estimator: LightGBM with early stopping on a held-out tenth.

scikit-learn's ``HistGradientBoosting*`` holds out ``validation_fraction`` of the
rows it is given and stops when the validation loss has not improved for
``n_iter_no_change`` rounds; LightGBM's scikit-learn estimators have no such
option (they stop early only on an ``eval_set`` passed to ``fit``, which EconML's
cross-fitting does not pass). These two estimators add it: ``fit`` splits off
the validation rows (stratified by class for the classifier, as scikit-learn
does), fits ``lightgbm.LGBMRegressor`` / ``LGBMClassifier`` with LightGBM's
``early_stopping`` callback and keeps the booster at its best round.

Same trees as the scikit-learn models they replace (leaf-wise, 15 leaves, 63 bins,
learning rate 0.1, at most 200 rounds, at least 20 rows per leaf), at a third of
the cost on this project's cells (docs/benchmarks.md); one native thread
(``n_jobs=1``): parallelism comes from ``--jobs``. Deterministic for a given
``random_state``.

Neither has a ``score`` method (scikit-learn's mixins would add one): EconML's cross-fitting
scores every nuisance model that has one on its held-out fold, which costs 4 of the 10
prediction passes of a DML fit, and nothing in this project reads those scores.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.model_selection import train_test_split


class _EarlyStoppedLGBM(BaseEstimator):
    """Shared ``fit`` of the regressor and the classifier below."""

    def __init__(self, n_estimators: int = 200, learning_rate: float = 0.1, num_leaves: int = 15,
                 max_bin: int = 63, min_child_samples: int = 20, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 5, random_state: int | None = None):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_bin = max_bin
        self.min_child_samples = min_child_samples
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    def __sklearn_tags__(self):
        """What scikit-learn's regressor or classifier mixin would declare, without their ``score``."""
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if self._is_classifier else "regressor"
        if self._is_classifier:
            tags.classifier_tags = ClassifierTags()
        else:
            tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return tags

    def _model(self):
        import lightgbm

        kind = lightgbm.LGBMClassifier if self._is_classifier else lightgbm.LGBMRegressor
        return kind(n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
                    max_bin=self.max_bin, min_child_samples=self.min_child_samples,
                    random_state=self.random_state, n_jobs=1, deterministic=True, force_row_wise=True,
                    verbose=-1)

    def fit(self, X, y, sample_weight=None):
        """Fit on all rows but a held-out ``validation_fraction``, stopping when its loss stops improving."""
        import lightgbm

        X, y = np.asarray(X, dtype=float), np.asarray(y)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.model_ = self._model()
        if self.validation_fraction and self.n_iter_no_change and len(y) >= 20:
            stratify = y if self._is_classifier and np.unique(y, return_counts=True)[1].min() >= 2 else None
            rows = np.arange(len(y))
            train, valid = train_test_split(rows, test_size=self.validation_fraction, stratify=stratify,
                                            random_state=self.random_state)
            fit_weights = None if weights is None else weights[train]
            eval_weights = None if weights is None else [weights[valid]]
            self.model_.fit(X[train], y[train], sample_weight=fit_weights, eval_X=X[valid], eval_y=y[valid],
                            eval_sample_weight=eval_weights,
                            callbacks=[lightgbm.early_stopping(self.n_iter_no_change, first_metric_only=True,
                                                               verbose=False)])
        else:
            self.model_.fit(X, y, sample_weight=weights)
        self.n_iter_ = int(self.model_.best_iteration_ or self.model_.n_estimators)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """Predictions of the booster at its best round."""
        return self.model_.predict(np.asarray(X, dtype=float), num_iteration=self.n_iter_)


class EarlyStoppedLGBMRegressor(_EarlyStoppedLGBM):
    """LightGBM regression (squared error) with scikit-learn-style early stopping."""

    _is_classifier = False


class EarlyStoppedLGBMClassifier(_EarlyStoppedLGBM):
    """LightGBM classification (log loss) with scikit-learn-style early stopping."""

    _is_classifier = True

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        """Class probabilities of the booster at its best round (columns in ``classes_`` order)."""
        return self.model_.predict_proba(np.asarray(X, dtype=float), num_iteration=self.n_iter_)
