"""Inference helpers shared by the heterogeneity stage: customer folds, clustered
standard errors from per-row scores, joint intervals, customer bootstrap weights.

A customer appears in several cohorts, so every standard error here sums the
scores within a customer first (cluster-robust by customer), and every
bootstrap resamples customers, never rows.
"""
from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

Z_95 = 1.959963984540054


def derived_seed(seed: int, *names: object) -> int:
    """A seed for one named step, stable across runs and independent of call order.

    Parameters
    ----------
    seed : int
        The run's seed.
    *names : object
        Names of the step, e.g. ``("any", "cancel", 1)``.
    """
    tag = zlib.crc32("|".join(str(n) for n in names).encode())
    return int(np.random.SeedSequence([int(seed), tag]).generate_state(1)[0])


def customer_folds(customer_ids: pd.Series | np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold number per row, every row of a customer in the same fold.

    The fold of a customer depends only on its identifier, ``n_folds`` and
    ``seed``, so every estimation cell of a run splits customers alike (the
    same customers are held out everywhere).

    Parameters
    ----------
    customer_ids : array-like of str
        Customer identifier per row.
    n_folds : int
        Number of folds (>= 2).
    seed : int
        Seed of the split.

    Returns
    -------
    ndarray of int
        Fold in ``0 .. n_folds - 1`` per row.
    """
    ids = np.asarray(customer_ids).astype(str)
    # a keyed hash of the identifier: independent of which other customers are present
    key = np.uint64(derived_seed(seed, "customer_folds") | 1)
    codes = pd.util.hash_array(ids, hash_key=format(int(key), "016x")[:16], categorize=True)
    return (codes % np.uint64(n_folds)).astype(int)


def cluster_se(influence: np.ndarray, groups: np.ndarray) -> float:
    """Standard error of an estimate from its per-row influence values, clustered.

    Parameters
    ----------
    influence : ndarray
        Per-row contribution to the estimate's error (already divided by n),
        so that ``estimate - truth ~= influence.sum()``.
    groups : ndarray of int
        Cluster (customer) code per row.

    Returns
    -------
    float
        ``sqrt(G / (G - 1) * sum_g (sum_{i in g} influence_i)^2)``.
    """
    influence = np.asarray(influence, dtype=float)
    codes = pd.factorize(np.asarray(groups))[0]
    sums = np.bincount(codes, weights=influence)
    n_groups = len(sums)
    if n_groups < 2:
        return float("nan")
    return float(np.sqrt(n_groups / (n_groups - 1) * np.sum(sums**2)))


def clustered_mean(scores: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """Mean of per-row scores and its standard error clustered by customer.

    Returns
    -------
    (float, float)
        The mean and its cluster-robust standard error.
    """
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    if n == 0:
        return float("nan"), float("nan")
    mean = float(scores.mean())
    return mean, cluster_se((scores - mean) / n, groups)


def normal_interval(estimate: float, se: float) -> tuple[float, float]:
    """The 95% normal interval ``estimate +- 1.96 se``."""
    return estimate - Z_95 * se, estimate + Z_95 * se


def difference_of_means(
    scores_a: np.ndarray,
    groups_a: np.ndarray,
    scores_b: np.ndarray,
    groups_b: np.ndarray,
) -> tuple[float, float]:
    """Difference of two score means on overlapping customers, with a joint clustered SE.

    The two estimates share customers, so their errors are correlated: the
    influence values of both (stacked, B's with a minus sign) are summed within
    each customer before squaring.

    Returns
    -------
    (float, float)
        ``mean(a) - mean(b)`` and its cluster-robust standard error.
    """
    scores_a, scores_b = np.asarray(scores_a, float), np.asarray(scores_b, float)
    mean_a, mean_b = scores_a.mean(), scores_b.mean()
    influence = np.concatenate([(scores_a - mean_a) / len(scores_a), -(scores_b - mean_b) / len(scores_b)])
    groups = np.concatenate([np.asarray(groups_a).astype(str), np.asarray(groups_b).astype(str)])
    return float(mean_a - mean_b), cluster_se(influence, groups)


def bootstrap_customer_weights(n_customers: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicities of each customer in ``draws`` bootstrap resamples of customers.

    Returns
    -------
    ndarray, shape (draws, n_customers)
        How often each customer is drawn; each row sums to ``n_customers``.
    """
    return rng.multinomial(n_customers, np.full(n_customers, 1.0 / n_customers), size=draws)
