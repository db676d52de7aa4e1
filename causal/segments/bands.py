"""Simultaneous bands, shrunk estimates and headline eligibility for segment effects.

Within one cell (treatment, outcome, horizon) and one grouping (segment
variable), the groups' effects are means of the doubly robust scores over
their rows. Three additions make segment claims honest:

``band_low`` / ``band_high`` / ``band_crit``
    Simultaneous 95% bands over the groups of the grouping: estimate +- c * se,
    with ``c`` the 95% quantile of max_g |t*_g| from a Gaussian multiplier
    bootstrap over customers (each customer's summed, centred influence values
    on every group get one shared N(0, 1) multiplier, so correlation between
    groups that share customers is kept). All groups cover their true effects
    together in about 95% of samples. ``c`` is floored at 1.96, so a band is
    never narrower than the pointwise interval. Given the data, a draw of the
    groups' bootstrap deviations ``xi' S`` (``xi`` the customers' multipliers, ``S``
    the customers' influence on the groups) is exactly Gaussian with covariance
    ``S' S``; :func:`segment_inference` draws it as such for all groupings of a
    cell at once (:func:`joint_group_draws`: K normals per draw instead of one per
    customer, the same distribution; each band is still its own max over its own
    groups).
``shrunk_estimate`` / ``shrunk_se``
    Empirical-Bayes (partially pooled) estimates towards the cell's overall
    effect ``m``: ``m + (1 - B_g) (estimate_g - m)`` with ``B_g = se_g^2 / (se_g^2 + tau^2)``;
    ``tau^2``, the between-group variance, by the method of moments around the
    known centre, ``max(0, (sum w_g (est_g - m)^2 - K) / sum w_g)`` with ``w_g = 1 / se_g^2``.
    ``shrunk_se`` is the posterior standard deviation ``sqrt(1 - B_g) * se_g``
    (given tau^2; it ignores the uncertainty in tau^2 and m). For ranking groups.
``headline_eligible``
    At least :data:`MIN_HEADLINE_UNITS` customer-months and
    :data:`MIN_HEADLINE_TREATED` adopters' customer-months; smaller groups are
    tabulated but never quoted as a headline.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import schema
from causal.estimate.inference import Z_95, derived_seed

MIN_HEADLINE_UNITS = 500  # customer-months a group needs for a headline claim
MIN_HEADLINE_TREATED = 100  # ... and adopters' customer-months
BAND_DRAWS = 1000  # multiplier bootstrap draws per cell
BAND_LEVEL = 0.95
BAND_COLUMNS = ("band_low", "band_high", "band_crit", "shrunk_estimate", "shrunk_se", "shrink_tau",
                "headline_eligible", "headline_rule", "clear")
HEADLINE_RULE = (f"a headline needs at least {MIN_HEADLINE_UNITS} customer-months and "
                 f"{MIN_HEADLINE_TREATED} adopters' customer-months")
BAND_INTERVAL = (f"simultaneous {BAND_LEVEL:.0%} over the groups of the segment variable (max-|t| of a "
                 f"Gaussian multiplier bootstrap over customers, {BAND_DRAWS} draws)")


def customer_influence(psi: np.ndarray, groups: np.ndarray, labels: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group means of the scores and each customer's summed influence on each group's mean.

    Parameters
    ----------
    psi : ndarray
        Doubly robust score per row.
    groups : ndarray
        Customer (cluster) id per row.
    labels : ndarray of int
        Group code per row, 0..K-1; rows with a negative code belong to no group.

    Returns
    -------
    (ndarray (K,), ndarray (C, K), ndarray (K,))
        Group estimates, the influence matrix ``S[c, g] = sum_{i in c, g} (psi_i - est_g) / n_g``
        over customers ``c``, and the cluster-robust (CR1) standard errors.
    """
    psi, labels = np.asarray(psi, float), np.asarray(labels, int)
    customer = pd.factorize(np.asarray(groups))[0]
    k = int(labels.max()) + 1 if len(labels) else 0
    used = labels >= 0
    counts = np.bincount(labels[used], minlength=k).astype(float)
    estimates = np.bincount(labels[used], weights=psi[used], minlength=k) / counts
    influence = np.zeros((int(customer.max()) + 1 if len(customer) else 0, k))
    np.add.at(influence, (customer[used], labels[used]), (psi[used] - estimates[labels[used]]) / counts[labels[used]])
    present = np.zeros_like(influence)
    present[customer[used], labels[used]] = 1.0
    n_clusters = present.sum(axis=0)
    factor = np.where(n_clusters > 1, n_clusters / np.maximum(n_clusters - 1, 1), np.nan)
    se = np.sqrt(factor * (influence ** 2).sum(axis=0))
    return estimates, influence, se


def shrink(estimates: np.ndarray, se: np.ndarray, centre: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Empirical-Bayes estimates towards ``centre`` (method-of-moments tau^2, floored at 0).

    Returns
    -------
    (ndarray, ndarray, float)
        Shrunk estimates, their posterior standard deviations, and tau.
    """
    estimates, se = np.asarray(estimates, float), np.asarray(se, float)
    weights = 1.0 / se ** 2
    q = float((weights * (estimates - centre) ** 2).sum())
    tau2 = max(0.0, (q - len(estimates)) / float(weights.sum()))
    keep = se ** 2 / (se ** 2 + tau2) if tau2 > 0 else np.ones_like(se)
    return centre + (1 - keep) * (estimates - centre), np.sqrt(1 - keep) * se, float(np.sqrt(tau2))


def joint_group_draws(influences: list[np.ndarray], rng: np.random.Generator, draws: int = BAND_DRAWS
                      ) -> list[np.ndarray]:
    """Multiplier-bootstrap draws of every grouping's group deviations, without a multiplier per customer.

    With ``xi ~ N(0, I)`` over customers, ``xi' [S_1 ... S_m]`` is Gaussian with covariance
    ``S' S`` (``S`` the influence matrices side by side); the draws come from that
    K-dimensional law (``K`` the groups of all groupings), through the symmetric
    square root of ``S' S`` (eigenvalues below zero by rounding set to 0).

    Parameters
    ----------
    influences : list of ndarray, each (C, K_i)
        :func:`customer_influence`'s matrices of one cell, same customers in the same order.
    rng : Generator
    draws : int

    Returns
    -------
    list of ndarray, each (draws, K_i)
        The draws of each grouping's deviations, jointly distributed as ``xi' S_i``.
    """
    sizes = [m.shape[1] for m in influences]
    if not influences or sum(sizes) == 0:
        return [np.zeros((draws, k)) for k in sizes]
    stacked = np.concatenate(influences, axis=1)
    eigenvalues, eigenvectors = np.linalg.eigh(stacked.T @ stacked)
    root = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    joint = rng.standard_normal((draws, stacked.shape[1])) @ root.T
    return np.split(joint, np.cumsum(sizes)[:-1], axis=1)


def band_from_draws(estimates: np.ndarray, se: np.ndarray, deviations: np.ndarray,
                    level: float = BAND_LEVEL) -> pd.DataFrame:
    """Pointwise and simultaneous bands from draws of the groups' deviations (draws, K)."""
    crit = (max(float(np.quantile((np.abs(deviations) / se).max(axis=1), level)), Z_95)
            if len(estimates) else float("nan"))
    return pd.DataFrame({"estimate": estimates, "se": se, "band_crit": crit,
                         "band_low": estimates - crit * se, "band_high": estimates + crit * se})


def simultaneous_band(psi: np.ndarray, groups: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                      draws: int = BAND_DRAWS) -> pd.DataFrame:
    """Group estimates with pointwise and simultaneous 95% bands (one grouping on its own).

    Returns
    -------
    DataFrame
        One row per group code: ``estimate``, ``se``, ``band_crit``, ``band_low``, ``band_high``.
    """
    estimates, influence, se = customer_influence(psi, groups, labels)
    return band_from_draws(estimates, se, joint_group_draws([influence], rng, draws)[0])


def segment_inference(psi: np.ndarray, groups: np.ndarray, rows: pd.DataFrame, records: list, seed: int,
                      cell: tuple, centre: float, draws: int = BAND_DRAWS) -> pd.DataFrame:
    """Bands, shrunk estimates and headline eligibility for the segment records of one cell.

    Parameters
    ----------
    psi, groups : ndarray
        Doubly robust scores and customer ids of the cell's rows (``DRScores.psi``, ``.groups``).
    rows : DataFrame
        The cell's rows (``DRScores.rows``), holding the segment columns.
    records : list of EffectRecord
        The cell's segment records (``segment_effects``); only their groups enter a band.
    seed : int
        Run seed; the draws derive from it and ``cell``, so ``--jobs`` cannot change them.
    cell : tuple
        (treatment, outcome, horizon).
    centre : float
        The cell's overall effect, the target of the shrinkage.

    Returns
    -------
    DataFrame
        Keys (treatment, outcome, horizon, method, segment_var, segment_value) and :data:`BAND_COLUMNS`.
    """
    out = []
    rng = np.random.default_rng(derived_seed(seed, "segment_bands", *cell))
    groupings = {}
    for segment_var in dict.fromkeys(r.segment_var for r in records):
        mine = [r for r in records if r.segment_var == segment_var]
        values = rows[schema.SEGMENT_VARS[segment_var]].astype(str)
        labels = pd.Categorical(values, categories=[r.segment_value for r in mine]).codes.astype(int)
        groupings[segment_var] = (mine, customer_influence(psi, groups, labels))
    deviations = joint_group_draws([influence for _, (_, influence, _) in groupings.values()], rng, draws)
    for (segment_var, (mine, (estimates, _, se))), drawn in zip(groupings.items(), deviations):
        band = band_from_draws(estimates, se, drawn)
        shrunk, shrunk_se, tau = shrink(band["estimate"].to_numpy(), band["se"].to_numpy(), centre)
        for code, r in enumerate(mine):
            low, high, crit = band.loc[code, ["band_low", "band_high", "band_crit"]]
            out.append(dict(treatment=r.treatment, outcome=r.outcome, horizon=r.horizon, method=r.method,
                            segment_var=segment_var, segment_value=r.segment_value, band_low=low,
                            band_high=high, band_crit=crit, shrunk_estimate=shrunk[code],
                            shrunk_se=shrunk_se[code], shrink_tau=tau,
                            headline_eligible=bool(r.n_units >= MIN_HEADLINE_UNITS
                                                   and r.n_treated >= MIN_HEADLINE_TREATED),
                            headline_rule=HEADLINE_RULE,
                            clear=bool(low > 0 or high < 0)))
    return pd.DataFrame(out, columns=["treatment", "outcome", "horizon", "method", "segment_var", "segment_value",
                                      *BAND_COLUMNS])
