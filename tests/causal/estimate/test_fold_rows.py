"""Fold rows handed to EconML: the same intersections, the same cross-fit, the same refusal of bad folds."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from econml.dr import LinearDRLearner
from sklearn.linear_model import LinearRegression, LogisticRegression

from causal.estimate import estimators
from causal.estimate.design import select_cell
from causal.estimate.fold_rows import FoldRows, fold_splits
from tests.causal.synthetic import synthetic_panel


def _sorted_distinct(rng: np.random.Generator, n: int, high: int) -> np.ndarray:
    return np.sort(rng.choice(high, size=n, replace=False))


@pytest.mark.parametrize("seed", range(20))
def test_intersect1d_is_numpys_for_fold_rows_on_either_side(seed):
    rng = np.random.default_rng(seed)
    a = _sorted_distinct(rng, int(rng.integers(0, 300)), 500)
    b = _sorted_distinct(rng, int(rng.integers(0, 300)), 500)
    with_repeats = rng.integers(0, 500, size=int(rng.integers(0, 300)))  # a plain side need not be distinct
    as_floats = with_repeats.astype(float)  # EconML's running union of test rows starts as a float array
    for left, right in [(a, b), (a, with_repeats), (with_repeats, b), (as_floats, b), (a, a)]:
        expected = np.intersect1d(left, right)
        wrapped = [FoldRows(side) if side is a or side is b else side for side in (left, right)]
        got = np.intersect1d(*wrapped)
        assert type(got) is np.ndarray
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype


def test_fold_rows_refuse_what_is_not_strictly_increasing_integers():
    with pytest.raises(ValueError, match="strictly increasing"):
        FoldRows(np.array([0, 2, 2, 5]))
    with pytest.raises(ValueError, match="strictly increasing"):
        FoldRows(np.array([3, 1]))
    with pytest.raises(ValueError, match="integer"):
        FoldRows(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="one-dimensional"):
        FoldRows(np.arange(6).reshape(2, 3))
    assert len(FoldRows(np.array([], dtype=int))) == 0 and len(FoldRows(np.array([7]))) == 1


def test_what_is_derived_from_fold_rows_is_a_plain_array():
    rows = FoldRows(np.array([1, 4, 6, 9]))
    # none of these keeps the promise of distinct rows, so none may answer intersect1d as if it did
    for derived in (rows[[0, 0, 1]], rows[1:], rows % 2, rows + 0, np.concatenate((rows, rows)), np.sort(rows),
                    np.repeat(rows, 2), rows[rows > 3]):
        assert type(derived) is np.ndarray
    np.testing.assert_array_equal(np.intersect1d(np.concatenate((rows, rows)), rows), [1, 4, 6, 9])
    np.testing.assert_array_equal(np.arange(12)[rows], [1, 4, 6, 9])


def test_fold_splits_partition_the_rows_by_fold():
    fold = np.random.default_rng(3).integers(0, 3, size=1000)
    splits = fold_splits(fold, 3)
    assert len(splits) == 3
    for k, (train, test) in enumerate(splits):
        assert isinstance(train, FoldRows) and isinstance(test, FoldRows)
        np.testing.assert_array_equal(np.asarray(test), np.flatnonzero(fold == k))
        np.testing.assert_array_equal(np.sort(np.concatenate((train, test))), np.arange(1000))


def _independent_data(n: int = 1200, seed: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    t = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    y = 0.5 * t + X @ np.array([1.0, -0.5, 0.2]) + rng.normal(size=n)
    return X, t, y


def _learner(cv):
    return LinearDRLearner(model_propensity=LogisticRegression(), model_regression=LinearRegression(), cv=cv,
                           random_state=0)


def test_econml_cross_fits_the_same_with_fold_rows():
    X, t, y = _independent_data()
    fold = np.random.default_rng(9).integers(0, 2, size=len(y))
    plain = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(2)]
    fitted = {}
    for name, cv in (("plain", plain), ("fold_rows", fold_splits(fold, 2))):
        learner = _learner(cv)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            learner.fit(y, t, X=None, W=X, cache_values=True)
        fitted[name] = (learner.ate(), [np.asarray(a) for a in learner._cached_values.nuisances])
    assert fitted["plain"][0] == fitted["fold_rows"][0]
    for got, expected in zip(fitted["fold_rows"][1], fitted["plain"][1]):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("overlap", ["train_and_test", "two_test_folds"])
def test_econml_still_refuses_overlapping_fold_rows(overlap):
    X, t, y = _independent_data(400)
    rows = np.arange(len(y))
    if overlap == "train_and_test":  # row 10 in both sides of the first fold
        cv = [(FoldRows(rows[rows % 2 == 0]), FoldRows(np.union1d(rows[rows % 2 == 1], [10]))),
              (FoldRows(rows[rows % 2 == 1]), FoldRows(rows[rows % 2 == 0]))]
        message = "not disjoint"
    else:  # row 11 held out in both folds
        cv = [(FoldRows(rows[rows % 2 == 0]), FoldRows(rows[rows % 2 == 1])),
              (FoldRows(np.setdiff1d(rows[rows % 2 == 1], [11])), FoldRows(np.union1d(rows[rows % 2 == 0], [11])))]
        message = "appeared in previous folds"
    with pytest.raises(AttributeError, match=message):
        _learner(cv).fit(y, t, X=None, W=X)


def test_dml_hands_econml_fold_rows_grouped_by_customer():
    panel = synthetic_panel(n_customers=600, seed=21, confounding=1.0)
    cell = select_cell(panel, "any", "cancel", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = estimators.dml(cell, seed=2)
    folds = record.extra["learner"].cv
    assert len(folds) == estimators.DML_FOLDS and all(isinstance(side, FoldRows) for split in folds for side in split)
    fold_of_row = estimators.dml_folds(cell, 2)
    for k, (train, test) in enumerate(folds):
        np.testing.assert_array_equal(np.asarray(test), np.flatnonzero(fold_of_row == k))
