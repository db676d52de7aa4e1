"""The estimators on LaLonde's NSW job-training data, whose experimental answer is known.

Reference: Dehejia & Wahba (1999), "Causal effects in nonexperimental studies:
reevaluating the evaluation of training programs", JASA 94(448), 1053-1062,
Table 3: on the NSW experimental sample (185 treated, 260 controls) the effect of
training on 1978 earnings is $1,794 (difference in means; Welch SE about 671).
With the NSW treated against CPS-1 controls (15,992 rows), the unadjusted
difference is about -$8,498, and their propensity-score matching estimates are
about $1,360-$1,770.

Tolerances were fixed before running, from those published figures:
(a) experimental sample: naive equals 1794.34 to the cent; psm and dml within 2
experimental SE (2 x 671 = 1,342) of it, since both estimate the same ATT from the
same randomised rows. (b) CPS-1 design: the adjusted ATT within 1,500 of 1794.34
(Dehejia-Wahba's own CPS estimates lie within ~450 of it; 1,500 is ~2.2 experimental
SE, allowing for our 1-neighbour matching and our trimming), against a naive
difference more than 10,000 away. Each row is its own cluster (one person).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causal.estimate import balance, estimators
from causal.estimate.design import Cell, subset_cell

causaldata = pytest.importorskip("causaldata")

EXPERIMENTAL_ATT = 1794.34  # Dehejia & Wahba (1999) Table 3, "$1,794"
EXPERIMENTAL_SE = 671.0  # Welch SE of the difference in means
CPS_TOLERANCE = 1500.0
COVARIATES = ("age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75")


def lalonde_cell(frame: pd.DataFrame) -> Cell:
    """One estimation cell of re78 on treat; DW covariates plus zero-earnings indicators and squares."""
    frame = frame.reset_index(drop=True)
    X = frame[list(COVARIATES)].astype(float).copy()
    X["u74"] = (frame["re74"] == 0).astype(float)
    X["u75"] = (frame["re75"] == 0).astype(float)
    X["age2"] = X["age"] ** 2
    X["educ2"] = X["educ"] ** 2
    rows = frame.assign(cohort="1978", customer_id=np.arange(len(frame)).astype(str))
    return Cell(treatment="nsw", outcome="re78", horizon=1, rows=rows, y=frame["re78"].to_numpy(float),
                t=frame["treat"].to_numpy(int), X=X, groups=np.arange(len(frame)))


def trimmed(cell: Cell) -> Cell:
    """The cell after the pipeline's propensity trimming rule."""
    return subset_cell(cell, balance.trim_mask(estimators.fit_propensity(cell.X, cell.t)))


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    return causaldata.nsw_mixtape.load_pandas().data


@pytest.fixture(scope="module")
def nsw_cps(nsw) -> pd.DataFrame:
    cps = causaldata.cps_mixtape.load_pandas().data
    return pd.concat([nsw[nsw["treat"] == 1], cps], ignore_index=True)


def test_experimental_sample_naive_reproduces_published_att(nsw):
    cell = lalonde_cell(nsw)
    assert (cell.n_units, cell.n_treated) == (445, 185)
    record = estimators.naive(cell)
    assert record.estimate == pytest.approx(EXPERIMENTAL_ATT, abs=0.005)
    assert record.se == pytest.approx(EXPERIMENTAL_SE, rel=0.02)  # CR1 with singleton clusters ~ HC1


@pytest.mark.parametrize("method", ["psm", "dml"])
def test_experimental_sample_adjusted_within_two_se(nsw, method):
    cell = trimmed(lalonde_cell(nsw))
    record = getattr(estimators, method)(cell, seed=3)
    assert abs(record.estimate - EXPERIMENTAL_ATT) < 2 * EXPERIMENTAL_SE
    assert record.ci_low < EXPERIMENTAL_ATT < record.ci_high


def test_cps_comparison_psm_recovers_experimental_att(nsw_cps):
    cell = lalonde_cell(nsw_cps)
    naive = estimators.naive(cell).estimate
    assert naive == pytest.approx(-8497.52, abs=1.0)  # Dehejia & Wahba's unadjusted CPS-1 row
    record = estimators.psm(trimmed(cell), seed=3)
    assert abs(record.estimate - EXPERIMENTAL_ATT) < CPS_TOLERANCE
    assert abs(record.estimate - EXPERIMENTAL_ATT) < abs(naive - EXPERIMENTAL_ATT) / 5


def print_figures(seed: int = 3) -> None:
    """The figures docs/methods.md quotes (``python -m tests.causal.estimate.test_lalonde``)."""
    nsw = causaldata.nsw_mixtape.load_pandas().data
    both = pd.concat([nsw[nsw["treat"] == 1], causaldata.cps_mixtape.load_pandas().data], ignore_index=True)
    for label, frame, methods in (("NSW experimental", nsw, ("psm", "dml")), ("NSW treated + CPS-1", both, ("psm",))):
        cell = lalonde_cell(frame)
        rows = [("naive", estimators.naive(cell), cell.n_units)]
        kept = trimmed(cell)
        rows += [(m, getattr(estimators, m)(kept, seed=seed), kept.n_units) for m in methods]
        for method, record, n in rows:
            print(f"{label:20s} {method:6s} n={n:6d} ATT/diff {record.estimate:9.1f} se {record.se:7.1f} "
                  f"[{record.ci_low:9.1f}, {record.ci_high:9.1f}]")


if __name__ == "__main__":
    print_figures()
