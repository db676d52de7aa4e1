"""Covariate balance and overlap: standardised mean differences, love plot, propensity overlap, trimming."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TRIM_LOW, TRIM_HIGH = 0.01, 0.99
TRIM_RULE = (f"drop rows whose logistic propensity score is outside [{TRIM_LOW}, {TRIM_HIGH}] "
             "(applies to psm and dml; naive uses every row)")
SMD_THRESHOLD = 0.1  # the usual rule of thumb for adequate balance


def trim_mask(propensity: np.ndarray, low: float = TRIM_LOW, high: float = TRIM_HIGH) -> np.ndarray:
    """True for the rows kept by the trimming rule ``low <= e(x) <= high``."""
    propensity = np.asarray(propensity, dtype=float)
    return (propensity >= low) & (propensity <= high)


def standardized_mean_differences(X: pd.DataFrame, t: np.ndarray, treated_rows: np.ndarray,
                                  matched_rows: np.ndarray) -> pd.DataFrame:
    """SMD of every covariate before and after matching.

    Parameters
    ----------
    X : DataFrame
        Design matrix of the cell.
    t : array of 0/1
        Treatment.
    treated_rows, matched_rows : arrays of row positions
        Each treated row and the control row matched to it (with repetition).

    Returns
    -------
    DataFrame
        ``covariate, smd_before, smd_after``: (mean treated - mean control) over the
        pooled standard deviation sqrt((var_t + var_c) / 2) of the unmatched
        groups; after matching the control mean is over the matched controls.
    """
    values = X.to_numpy(dtype=float)
    treated, control = values[t == 1], values[t == 0]
    pooled_sd = np.sqrt((treated.var(axis=0) + control.var(axis=0)) / 2)
    pooled_sd = np.where(pooled_sd > 0, pooled_sd, np.nan)
    before = (treated.mean(axis=0) - control.mean(axis=0)) / pooled_sd
    after = (values[treated_rows].mean(axis=0) - values[matched_rows].mean(axis=0)) / pooled_sd
    return pd.DataFrame({"covariate": list(X.columns), "smd_before": before, "smd_after": after})


def love_plot(balance: pd.DataFrame, path: Path, title: str) -> Path:
    """Absolute SMD before and after matching, one row per covariate, one panel per cell.

    ``balance`` has columns ``cell`` (a label), ``covariate``, ``smd_before``, ``smd_after``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = list(dict.fromkeys(balance["cell"]))
    n_cov = balance.groupby("cell").size().max()
    fig, axes = plt.subplots(1, len(cells), figsize=(4.6 * len(cells), 0.22 * n_cov + 1.6), squeeze=False)
    for ax, cell in zip(axes[0], cells):
        part = balance.loc[balance["cell"] == cell].sort_values("smd_before", key=np.abs)
        positions = np.arange(len(part))
        ax.scatter(part["smd_before"].abs(), positions, label="before matching", color="#d62728", s=14)
        ax.scatter(part["smd_after"].abs(), positions, label="after matching", color="#1f77b4", s=14)
        ax.axvline(SMD_THRESHOLD, color="#888888", linestyle="--", linewidth=1)
        ax.set_yticks(positions)
        ax.set_yticklabels(part["covariate"], fontsize=6)
        ax.set_xlabel("|standardised mean difference|")
        ax.set_title(cell, fontsize=9)
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def overlap_plot(panels: list[tuple[str, np.ndarray, np.ndarray]], path: Path,
                 low: float = TRIM_LOW, high: float = TRIM_HIGH) -> Path:
    """Propensity-score histograms of adopters and non-adopters, one panel per cell.

    ``panels`` holds ``(label, propensity, treatment)`` per cell; dashed lines mark the trimming bounds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.2), squeeze=False)
    bins = np.linspace(0, 1, 51)
    for ax, (label, propensity, t) in zip(axes[0], panels):
        ax.hist(propensity[t == 0], bins=bins, density=True, alpha=0.55, label="did not adopt", color="#7f7f7f")
        ax.hist(propensity[t == 1], bins=bins, density=True, alpha=0.55, label="adopted", color="#ff7f0e")
        for bound in (low, high):
            ax.axvline(bound, color="#333333", linestyle="--", linewidth=0.8)
        ax.set_xlabel("propensity score (probability of adopting)")
        ax.set_title(label, fontsize=9)
    axes[0][0].set_ylabel("density")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Overlap: propensity scores of adopters and non-adopters", fontsize=10)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    """Lay out, write at memo resolution and close a figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
