"""Sensitivity to a hidden factor, benchmarked against factors we measure (Cinelli & Hazlett 2020).

"How strong would a confounder have to be?" is answered in terms a reader
knows: a hidden factor ``k`` times as strong as tier (or MRR, or customer
segment) in explaining adoption and the outcome. On the linear version of a
cell's design -- ordinary least squares of the outcome on adoption and the
cell's design matrix ``X`` (the covariates PSM and DML adjust for) -- each
benchmark ``B`` (a group of columns of ``X``) has partial R2s

    r2_dxj = R2(D ~ B | X without B),    r2_yxj = R2(Y ~ B | D, X without B).

A confounder ``Z`` with ``R2(D ~ Z | X) / (1 - ...) = k r2_dxj / (1 - r2_dxj)``
and as much again for the outcome is then bounded by (C&H section 6, the
formulas of sensemakr's ``ovb_partial_r2_bound``)

    r2_dz = k r2_dxj / (1 - r2_dxj),
    r2_zxj = k r2_dxj^2 / ((1 - k r2_dxj) (1 - r2_dxj)),
    r2_yz = ((sqrt(k) + sqrt(r2_zxj)) / sqrt(1 - r2_zxj))^2 r2_yxj / (1 - r2_yxj),

and it would bias the estimate by at most (C&H eq. 9-11)

    bias = sqrt(r2_yz r2_dz / (1 - r2_dz)) * sd(Y residual) / sd(D residual)
         = sqrt(r2_yz r2_dz / (1 - r2_dz)) * se_ols * sqrt(df),

and scale its standard error by ``sqrt((1 - r2_yz) / (1 - r2_dz) * df / (df - 1))``.
The bias (in outcome units, from the linear design) is taken towards zero
from the reported (dml) estimate, and the dml interval is rescaled by the
same factor: the partial R2s and residual scales come from the linear version
of the design, not from the gradient-boosted nuisances.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from causal.estimate.design import Cell
from causal.estimate.records import EffectRecord

BENCHMARK_K = 1.0  # "as strong as" the benchmark
BENCHMARKS = {  # benchmark name -> columns of the design matrix (exact names or "prefix=" dummies)
    "tier": ("tier_rank", "tier_missing", "tier="),
    "MRR": ("log_mrr_bom", "mrr_missing", "d_log_mrr_prev"),
    "segment": ("customer_segment=",),
}
DESIGN = ("linear version of the cell's design: OLS of the outcome on adoption and the PSM/DML design matrix "
          "(trimmed cell); bias applied to the dml estimate, its interval rescaled")


def benchmark_columns(columns: list[str], name: str) -> list[str]:
    """The design-matrix columns that make up benchmark ``name``."""
    patterns = BENCHMARKS[name]
    return [c for c in columns if any(c == p or (p.endswith("=") and c.startswith(p)) for p in patterns)]


class LeastSquares:
    """Least-squares fits among the columns of one tall matrix, all from one QR decomposition.

    With ``A = Q R`` (``Q``'s columns orthonormal, ``R`` upper triangular, k x k),
    ``A[:, c] - A[:, S] b = Q (R[:, c] - R[:, S] b)`` for any columns ``S`` and ``c``:
    the fit of column ``c`` on columns ``S`` has the coefficients, residual sum of squares
    and rank of the k-row problem ``R[:, S] b ~ R[:, c]``. One pass over the n rows
    (the QR) serves every fit of a cell. Rank is decided with the cutoff NumPy's
    ``lstsq`` applies to the tall problem (singular values below eps * n times the largest).

    Parameters
    ----------
    columns : ndarray, shape (n, k)
        Every column any fit uses (targets and regressors).
    """

    def __init__(self, columns: np.ndarray):
        self.factor = np.linalg.qr(np.asarray(columns, dtype=float), mode="r")
        self.rcond = np.finfo(float).eps * max(columns.shape)

    def fit(self, target: int, design: list[int]) -> tuple[np.ndarray, float, int]:
        """Coefficients, residual sum of squares and rank of column ``target`` on columns ``design``."""
        regressors, outcome = self.factor[:, design], self.factor[:, target]
        coefficients, _, rank, _ = np.linalg.lstsq(regressors, outcome, rcond=self.rcond)
        residual = outcome - regressors @ coefficients
        return coefficients, float(residual @ residual), int(rank)


def partial_r2(full_ss: float, reduced_ss: float) -> float:
    """Partial R2 of the columns a full design adds to a reduced one: 1 - RSS(full) / RSS(reduced).

    Clipped to [0, 1]: columns that add nothing (constant or collinear in a small cell) can
    give a value a rounding error below zero; NaN when the reduced design fits exactly.
    """
    if not reduced_ss > 0:
        return float("nan")
    return float(min(max(1.0 - full_ss / reduced_ss, 0.0), 1.0))


class LinearDesign:
    """The linear version of a cell's design: columns ``[1, X, t, y]`` and their fits (:class:`LeastSquares`).

    The two full fits (``y`` on ``1, t, X``; ``t`` on ``1, X``) are made once: the OLS
    estimate and every benchmark's partial R2s read them.
    """

    def __init__(self, y: np.ndarray, t: np.ndarray, X: np.ndarray):
        self.n_rows, n_covariates = X.shape
        self.fits = LeastSquares(np.column_stack([np.ones(len(y)), X, t, y]))
        self.covariates = list(range(1, n_covariates + 1))
        self.t, self.y = n_covariates + 1, n_covariates + 2
        self.full_y = self.fits.fit(self.y, [0, self.t, *self.covariates])  # (coefficients, RSS, rank)
        self.full_t_ss = self.fits.fit(self.t, [0, *self.covariates])[1]

    def ols_treatment_effect(self) -> tuple[float, float, int]:
        """Coefficient of ``t`` in OLS of ``y`` on ``t`` and ``X`` (with intercept), classical se, residual df."""
        coefficients, residual_ss, rank = self.full_y
        df = self.n_rows - rank
        return float(coefficients[1]), math.sqrt(residual_ss / df / self.full_t_ss), df

    def partial_r2s(self, keep: np.ndarray) -> tuple[float, float]:
        """(r2_dxj, r2_yxj) of the covariates not in ``keep`` (a mask over the columns of ``X``)."""
        kept = [c for c, k in zip(self.covariates, keep) if k]
        return (partial_r2(self.full_t_ss, self.fits.fit(self.t, [0, *kept])[1]),
                partial_r2(self.full_y[1], self.fits.fit(self.y, [0, self.t, *kept])[1]))


def ols_treatment_effect(y: np.ndarray, t: np.ndarray, X: np.ndarray) -> tuple[float, float, int]:
    """Coefficient of ``t`` in OLS of ``y`` on ``t`` and ``X`` (with intercept), classical se, residual df."""
    return LinearDesign(np.asarray(y, dtype=float), np.asarray(t, dtype=float), np.asarray(X, dtype=float)
                        ).ols_treatment_effect()


def partial_r2_bounds(r2_dxj: float, r2_yxj: float, k: float = BENCHMARK_K) -> tuple[float, float]:
    """(r2_dz, r2_yz) of a confounder ``k`` times as strong as a benchmark (sensemakr's bound).

    ``nan`` when ``k`` is impossible for the benchmark (implied r2_dz >= 1);
    ``r2_yz`` is capped at 1.
    """
    r2_dz = k * r2_dxj / (1 - r2_dxj)
    r2_zxj = k * r2_dxj ** 2 / ((1 - k * r2_dxj) * (1 - r2_dxj)) if k * r2_dxj < 1 else float("inf")
    if not (r2_dz < 1 and r2_zxj < 1):
        return float("nan"), float("nan")
    r2_yz = ((math.sqrt(k) + math.sqrt(r2_zxj)) / math.sqrt(1 - r2_zxj)) ** 2 * r2_yxj / (1 - r2_yxj)
    return float(r2_dz), float(min(r2_yz, 1.0))


def bias_bound(r2_dz: float, r2_yz: float, se: float, df: int) -> float:
    """Largest bias, in outcome units, of a confounder with these partial R2s (C&H eq. 11)."""
    return float(math.sqrt(r2_yz * r2_dz / (1 - r2_dz)) * se * math.sqrt(df))


def se_factor(r2_dz: float, r2_yz: float, df: int) -> float:
    """Factor on the standard error once the confounder is adjusted for (C&H, sensemakr ``adjusted_se``)."""
    return float(math.sqrt((1 - r2_yz) / (1 - r2_dz) * df / (df - 1)))


def adjusted_estimate(estimate: float, bias: float) -> float:
    """The estimate moved towards zero by ``bias`` (sensemakr ``reduce=True``)."""
    return float(np.sign(estimate) * (abs(estimate) - bias))


def benchmark_cell(cell: Cell, rec: EffectRecord, k: float = BENCHMARK_K) -> list[dict]:
    """Per benchmark, how the estimate and interval of ``rec`` would move under a confounder k times as strong.

    Parameters
    ----------
    cell : Cell
        The (trimmed) cell the estimate was computed on.
    rec : EffectRecord
        The estimate (dml in the main cells): estimate, ci_low, ci_high, se.
    k : float
        Strength multiple of the benchmark.

    Returns
    -------
    list of dict
        ``benchmark``, ``columns``, ``k``, ``r2_dxj``, ``r2_yxj``, ``r2_dz``, ``r2_yz``, ``bias``,
        ``adjusted_estimate``, ``adjusted_ci_low``, ``adjusted_ci_high``, ``ols_estimate``,
        ``ols_adjusted_estimate`` (NaN where the benchmark is absent from the design).
    """
    columns = list(cell.X.columns)
    design = LinearDesign(cell.y.astype(float), cell.t.astype(float), cell.X.to_numpy(dtype=float))
    ols, ols_se, df = design.ols_treatment_effect()
    z = float(stats.norm.ppf(0.975))
    out = []
    for name in BENCHMARKS:
        chosen = benchmark_columns(columns, name)
        entry = {"benchmark": name, "columns": chosen, "k": k, "design": DESIGN, "ols_estimate": ols,
                 "ols_se": ols_se, "df": df}
        values = dict.fromkeys(("r2_dxj", "r2_yxj", "r2_dz", "r2_yz", "bias", "adjusted_estimate",
                                "adjusted_ci_low", "adjusted_ci_high", "ols_adjusted_estimate"), float("nan"))
        if chosen:
            values["r2_dxj"], values["r2_yxj"] = design.partial_r2s(np.array([c not in chosen for c in columns]))
            r2_dz, r2_yz = partial_r2_bounds(values["r2_dxj"], values["r2_yxj"], k)
            if np.isfinite(r2_dz):
                bias = bias_bound(r2_dz, r2_yz, ols_se, df)
                moved = adjusted_estimate(rec.estimate, bias)
                half = z * rec.se * se_factor(r2_dz, r2_yz, df)
                values.update(r2_dz=r2_dz, r2_yz=r2_yz, bias=bias, adjusted_estimate=moved,
                              adjusted_ci_low=moved - half, adjusted_ci_high=moved + half,
                              ols_adjusted_estimate=adjusted_estimate(ols, bias))
        out.append({**entry, **values})
    return out


def benchmark_text(rec: EffectRecord | dict, entries: list[dict]) -> str:
    """One sentence per benchmark: how far a hidden factor as strong as it would move the estimate."""
    get = (lambda key: rec[key]) if isinstance(rec, dict) else (lambda key: getattr(rec, key))
    parts = []
    for e in entries:
        if not np.isfinite(e.get("adjusted_estimate", float("nan"))):
            continue
        parts.append(f"as strong as {e['benchmark']}: {get('estimate'):.4g} -> {e['adjusted_estimate']:.4g} "
                     f"(95% interval {e['adjusted_ci_low']:.4g} to {e['adjusted_ci_high']:.4g})")
    return ("A hidden factor " + "; ".join(parts) + ".") if parts else ""

