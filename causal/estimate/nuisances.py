"""Cross-fitted nuisances of one cell, fitted once by the DML estimator and shared.

The DML estimator (:func:`causal.estimate.estimators.dml`) cross-fits, per cell
and fold (folds grouped by customer, :func:`causal.estimate.inference.customer_folds`),
the propensity ``e(x)`` and the outcome regressions. What every later step
needs from that fit is kept per row in :class:`CellNuisances`:

``pseudo0``, ``pseudo1``  EconML's doubly robust pseudo-outcomes per arm,
                          ``mu_a + 1{T = a} (Y - mu_a) / P(T = a | x)``
``e``                     the propensity, clipped to [0.01, 0.99] as in the scores
``folds``                 the cross-fitting fold of the row

From them: the ATE score ``pseudo1 - pseudo0`` (mean: the DML ATE), the ATT
score (:func:`att`), segment effects, targeting, dollars and EconML's
sensitivity analysis (:func:`sensitivity`). They are saved in the run folder
(``cache/nuisances/<cell>.npz``) so the segments stage and ``python -m causal
refute`` reuse what ``run`` fitted instead of fitting again. Refuters that
change the data (placebo, subsets, bootstrap, an added covariate) refit.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis import results_contract
from causal.estimate.inference import cluster_se, normal_interval

CACHE_VERSION = 1
# the fitted values do not compress (deflate kept 70-80% of them, at most of the cost of writing the cache);
# the labels, folds and outcomes shrink 5 to 50 times at deflate's fastest level
UNCOMPRESSED_ARRAYS = ("pseudo0", "pseudo1", "e")


@dataclass
class CellNuisances:
    """Per-row cross-fitted nuisances of one (trimmed) cell, in the cell's row order."""

    treatment: str
    outcome: str
    horizon: int
    index: np.ndarray  # panel row labels of the cell's rows
    y: np.ndarray
    t: np.ndarray
    groups: np.ndarray  # customer code per row
    folds: np.ndarray  # cross-fitting fold per row
    pseudo0: np.ndarray
    pseudo1: np.ndarray
    e: np.ndarray  # clipped propensity P(T = 1 | x)
    seed: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.treatment, self.outcome, int(self.horizon))

    @property
    def ate_scores(self) -> np.ndarray:
        """Doubly robust (AIPW) ATE score per row; its mean is the DML ATE."""
        return self.pseudo1 - self.pseudo0

    @property
    def mu0(self) -> np.ndarray:
        """Outcome regression of the untreated arm, recovered from the pseudo-outcome."""
        treated = self.t == 1
        return np.where(treated, self.pseudo0, (self.y - (1 - self.e) * self.pseudo0) / np.where(treated, 1, self.e))

    @property
    def mu1(self) -> np.ndarray:
        """Outcome regression of the treated arm, recovered from the pseudo-outcome."""
        treated = self.t == 1
        return np.where(treated, (self.y - self.e * self.pseudo1) / np.where(treated, 1 - self.e, 1), self.pseudo1)

    @property
    def att_numerator(self) -> np.ndarray:
        """Per-row numerator of the doubly robust ATT, ``T (Y - mu0) - (1 - T) e / (1 - e) (Y - mu0)``.

        Equal to ``Y - pseudo0`` on every row (treated: ``pseudo0 = mu0``; untreated:
        ``pseudo0 = mu0 + (Y - mu0) / (1 - e)``).
        """
        return self.y - self.pseudo0


def att(nuisances: CellNuisances, weights: np.ndarray | None = None) -> float:
    """Doubly robust ATT, ``sum w (Y - pseudo0) / sum w T`` (``weights``: e.g. bootstrap counts)."""
    w = np.ones(len(nuisances.y)) if weights is None else np.asarray(weights, dtype=float)
    return float((w * nuisances.att_numerator).sum() / (w * nuisances.t).sum())


def att_with_se(nuisances: CellNuisances) -> tuple[float, float]:
    """The doubly robust ATT and its standard error clustered by customer.

    The orthogonal score is ``psi = [T (Y - mu0) - (1 - T) e / (1 - e) (Y - mu0)] / p - theta T / p``
    with ``p = P(T = 1)``; its per-row influence ``psi / n`` is summed within customers.
    """
    theta = att(nuisances)
    influence = (nuisances.att_numerator - theta * nuisances.t) / nuisances.t.sum()
    return theta, cluster_se(influence, nuisances.groups)


def att_interval(nuisances: CellNuisances) -> tuple[float, float, float, float]:
    """(estimate, se, ci_low, ci_high) of the doubly robust ATT."""
    theta, se = att_with_se(nuisances)
    return (theta, se, *normal_interval(theta, se))


def sensitivity(nuisances: CellNuisances, c_y: float, c_t: float, alpha: float = 0.05) -> tuple[float, float, float]:
    """EconML's sensitivity interval and robustness value of the ATE from the cached nuisances.

    The same computation as ``DRLearner.sensitivity_interval`` / ``robustness_value``
    (Chernozhukov et al. 2022), on the pseudo-outcomes and clipped propensities.

    Returns
    -------
    (float, float, float)
        Lower and upper sensitivity bound, robustness value; NaN when the Riesz-representer
        variance ``nu`` or the residual variance ``sigma`` comes out negative (EconML's
        precondition), which happens with poor nuisance fits on small cells.
    """
    from econml.validate.sensitivity_analysis import RV, dr_sensitivity_values, sensitivity_interval

    y_pred = np.column_stack([nuisances.pseudo0, nuisances.pseudo1])
    t_pred = np.column_stack([1 - nuisances.e, nuisances.e])
    params = dr_sensitivity_values(nuisances.y.reshape(-1, 1), nuisances.t.reshape(-1, 1).astype(float),
                                   y_pred, t_pred)
    first = {k: v[0] for k, v in params._asdict().items()}
    if not (first["sigma"] >= 0 and first["nu"] >= 0):  # EconML refuses these (poor nuisance fits, small cells)
        return float("nan"), float("nan"), float("nan")
    low, high = sensitivity_interval(**first, alpha=alpha, c_y=c_y, c_t=c_t, rho=1.0)
    return float(low), float(high), float(RV(**first, alpha=alpha))


# --- the cache in the run folder --------------------------------------------------
def cache_dir(results_dir: Path) -> Path:
    """Folder of the nuisance cache inside a results folder."""
    return Path(results_dir) / results_contract.NUISANCE_CACHE_DIR


def cache_path(results_dir: Path, key: tuple[str, str, int]) -> Path:
    treatment, outcome, horizon = key
    return cache_dir(results_dir) / f"{treatment}__{outcome}__h{int(horizon)}.npz"


def save(nuisances: CellNuisances, results_dir: Path) -> Path:
    """Write one cell's nuisances to the cache (a NumPy ``.npz`` archive, no customer ids).

    The labels, folds and outcomes are deflated at the fastest level, the fitted values
    (:data:`UNCOMPRESSED_ARRAYS`) stored as they are: at real scale this wrote a cell in a
    tenth of ``numpy.savez_compressed``'s time for a third more bytes (docs/benchmarks.md).
    """
    path = cache_path(results_dir, nuisances.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"version": CACHE_VERSION, "seed": nuisances.seed, "index": nuisances.index, "y": nuisances.y,
              "t": nuisances.t, "groups": nuisances.groups, "folds": nuisances.folds, "pseudo0": nuisances.pseudo0,
              "pseudo1": nuisances.pseudo1, "e": nuisances.e}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as archive:
        for name, value in arrays.items():
            member_name = f"{name}.npy"  # a name alone: deflated at the archive's level
            if name in UNCOMPRESSED_ARRAYS:
                member_name = zipfile.ZipInfo(member_name)
                member_name.compress_type = zipfile.ZIP_STORED
            with archive.open(member_name, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
    return path


def load(results_dir: Path, key: tuple[str, str, int], seed: int, index: np.ndarray | None = None
         ) -> CellNuisances | None:
    """The cached nuisances of a cell, or None when absent or fitted for other rows or another seed.

    Parameters
    ----------
    index : ndarray, optional
        Panel row labels the caller's cell has; the cache is used only when they match.
    """
    path = cache_path(results_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError):
        return None
    if int(arrays.get("version", -1)) != CACHE_VERSION or int(arrays["seed"]) != int(seed):
        return None
    if index is not None and not np.array_equal(np.asarray(index), arrays["index"]):
        return None
    return CellNuisances(key[0], key[1], int(key[2]), arrays["index"], arrays["y"], arrays["t"], arrays["groups"],
                         arrays["folds"], arrays["pseudo0"], arrays["pseudo1"], arrays["e"], int(arrays["seed"]))


def clear_cache(results_dir: Path) -> None:
    """Remove the cached nuisances of an earlier run (before the estimate stage writes new ones)."""
    folder = cache_dir(results_dir)
    if folder.is_dir():
        for path in folder.glob("*.npz"):
            path.unlink()
