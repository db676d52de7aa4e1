"""Row positions of a cross-fitting fold, as handed to EconML.

EconML checks the folds it is given before cross-fitting: for each fold,
``np.intersect1d(train, test)`` must be empty and the test rows must be new. NumPy
2.4's ``np.intersect1d`` first takes ``np.unique`` of each side, and for integers
``np.unique`` builds a hash table: 0.45 s for 630,000 distinct row positions where
sorting them takes 0.03 s (numpy/numpy#28375). With two folds that is six such
calls per DML fit, about 2 microseconds per row of the cell, on every DML fit
and refit of a run.

:class:`FoldRows` are row positions known to be strictly increasing, hence
distinct. They answer ``np.intersect1d`` with NumPy's own ``assume_unique``
path for themselves (the other side, if a plain array, is made unique by
``np.unique`` as NumPy would), which gives the same array, and behave as plain
arrays everywhere else: every other NumPy function, every ufunc and every
indexing of them returns a plain ``ndarray``, so nothing derived from them
(which need not be distinct) keeps the promise.
"""
from __future__ import annotations

import numpy as np


def _plain(value):
    """``value`` with every :class:`FoldRows` in it (also inside tuples, lists and dicts) as a plain array."""
    if isinstance(value, FoldRows):
        return value.view(np.ndarray)
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {name: _plain(item) for name, item in value.items()}
    return value


class FoldRows(np.ndarray):
    """Strictly increasing integer row positions (one side of a cross-fitting fold).

    Parameters
    ----------
    rows : array-like of int
        One-dimensional, strictly increasing; e.g. ``np.flatnonzero(fold == k)``.

    Raises
    ------
    ValueError
        When ``rows`` is not a one-dimensional, strictly increasing integer array.
    """

    def __new__(cls, rows) -> "FoldRows":
        rows = np.asarray(rows)
        if rows.ndim != 1 or rows.dtype.kind not in "iu":
            raise ValueError(f"fold rows must be a one-dimensional integer array, not {rows.ndim}-d {rows.dtype}")
        if len(rows) > 1 and not bool(np.all(rows[1:] > rows[:-1])):
            raise ValueError("fold rows must be strictly increasing")
        return rows.view(cls)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.intersect1d and len(args) == 2 and not kwargs:
            return np.intersect1d(*(side.view(np.ndarray) if isinstance(side, FoldRows) else np.unique(side)
                                    for side in args), assume_unique=True)
        return func(*_plain(args), **_plain(kwargs))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return getattr(ufunc, method)(*_plain(inputs), **_plain(kwargs))

    def __getitem__(self, key):
        return self.view(np.ndarray)[key]


def fold_splits(fold_of_row: np.ndarray, n_folds: int) -> list[tuple[FoldRows, FoldRows]]:
    """``(training rows, held-out rows)`` of each fold, for EconML's ``cv``.

    Parameters
    ----------
    fold_of_row : ndarray of int
        Fold ``0 .. n_folds - 1`` of each row.
    n_folds : int
        Number of folds.
    """
    return [(FoldRows(np.flatnonzero(fold_of_row != k)), FoldRows(np.flatnonzero(fold_of_row == k)))
            for k in range(n_folds)]
