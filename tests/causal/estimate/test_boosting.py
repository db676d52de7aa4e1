"""The DML nuisance models: LightGBM with early stopping on a held-out tenth (causal/estimate/boosting.py)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.metrics import r2_score, roc_auc_score

from causal.estimate.boosting import EarlyStoppedLGBMClassifier, EarlyStoppedLGBMRegressor
from causal.estimate.estimators import nuisance_models


def _regression(n: int, seed: int, signal: float = 1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = signal * (np.sin(2 * X[:, 0]) + X[:, 1] ** 2) + rng.normal(scale=0.3, size=n)
    return X, y


def test_learns_a_nonlinear_function_out_of_sample():
    X, y = _regression(4000, 1)
    X_new, y_new = _regression(2000, 2)
    model = EarlyStoppedLGBMRegressor(random_state=5).fit(X, y)
    assert r2_score(y_new, model.predict(X_new)) > 0.85  # noise variance 0.09 of about 2.4 in total


def test_stops_early_on_noise_and_later_on_signal():
    X, _ = _regression(4000, 3)
    noise = np.random.default_rng(4).normal(size=len(X))
    _, signal = _regression(4000, 3, signal=3.0)
    on_noise = EarlyStoppedLGBMRegressor(random_state=1).fit(X, noise)
    on_signal = EarlyStoppedLGBMRegressor(random_state=1).fit(X, signal)
    assert on_noise.n_iter_ < 30 < on_signal.n_iter_ <= 200


def test_without_validation_uses_every_round():
    X, y = _regression(500, 5)
    model = EarlyStoppedLGBMRegressor(n_estimators=37, validation_fraction=0, random_state=0).fit(X, y)
    assert model.n_iter_ == 37


def test_same_seed_same_predictions_other_seed_other_validation_rows():
    X, y = _regression(3000, 6)
    first = EarlyStoppedLGBMRegressor(random_state=11).fit(X, y).predict(X)
    again = EarlyStoppedLGBMRegressor(random_state=11).fit(X, y).predict(X)
    other = EarlyStoppedLGBMRegressor(random_state=12).fit(X, y).predict(X)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_classifier_probabilities_and_classes():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 3))
    t = (X[:, 0] + rng.logistic(size=3000) > 1.0).astype(int)
    model = EarlyStoppedLGBMClassifier(random_state=2**32 - 1).fit(X, t)  # the largest seed seed_for gives
    proba = model.predict_proba(X)
    assert list(model.classes_) == [0, 1]
    assert proba.shape == (3000, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(t, proba[:, 1]) > 0.75
    assert set(model.predict(X)) <= {0, 1}


def test_sample_weights_change_the_fit():
    X, y = _regression(2000, 8)
    weights = np.where(X[:, 2] > 0, 5.0, 0.2)
    plain = EarlyStoppedLGBMRegressor(random_state=3).fit(X, y).predict(X)
    weighted = EarlyStoppedLGBMRegressor(random_state=3).fit(X, y, sample_weight=weights).predict(X)
    assert not np.allclose(plain, weighted)


def test_cloneable_as_econml_does_and_typed_for_sklearn():
    model_y, model_t = nuisance_models(3)
    assert is_regressor(model_y) and is_classifier(model_t)
    copy = clone(model_t)
    assert copy.get_params() == model_t.get_params()
    assert model_y.random_state != model_t.random_state  # each model draws its own validation rows
    # no score method: EconML would otherwise score every nuisance model on its held-out fold
    assert not hasattr(model_y, "score") and not hasattr(model_t, "score")


@pytest.mark.parametrize("kind", [EarlyStoppedLGBMRegressor, EarlyStoppedLGBMClassifier])
def test_tiny_input_fits_without_a_validation_split(kind):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(12, 2))
    y = np.array([0, 1] * 6)
    model = kind(random_state=0).fit(X, y)
    assert model.n_iter_ == model.n_estimators  # below 20 rows nothing is held out
