"""Do matching and double ML agree on the effect on adopters? PSM ATT minus DML ATT per primary cell.

Both estimate the ATT on the same trimmed cell. The difference gets its
interval from the PSM customer bootstrap: on every draw (the same customer
weights) the PSM ATT is re-matched and the DML ATT is recomputed from the
cross-fitted nuisances held fixed (re-weighting the orthogonal scores, which is
first-order valid for an orthogonal score; the nuisance fit itself is not
repeated). The interval is the difference +/- 1.96 standard deviations of the
paired draws' differences, so it accounts for resampling customers and for
the two estimates' shared rows. The estimate stage writes one row per primary
cell to ``cache/estimator_agreement.csv``; the refute stage reports them in
``refutations.csv`` as refuter ``estimator_agreement``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis import results_contract
from causal.estimate.inference import Z_95
from causal.estimate.records import EffectRecord

REFUTER = "estimator_agreement"
METHOD = "psm_vs_dml"
RULE = ("passes when the 95% interval of PSM ATT minus DML ATT covers zero (interval: +/- 1.96 standard "
        "deviations of the difference over the paired customer-bootstrap draws; p-value from that z)")
COLUMNS = ("treatment", "outcome", "horizon", "psm_att", "dml_att", "difference", "se", "ci_low", "ci_high",
           "p_value", "passed", "n_draws")


def agreement_row(psm_record: EffectRecord, dml_att_record: EffectRecord) -> dict:
    """The agreement check of one cell from the PSM record (with ``paired_draws``) and the DML ATT."""
    differences = psm_record.extra["bootstrap"] - psm_record.extra["paired_draws"]
    difference = psm_record.estimate - dml_att_record.estimate
    se = float(np.std(differences, ddof=1))
    z = difference / se if se > 0 else float("nan")
    p_value = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
    low, high = difference - Z_95 * se, difference + Z_95 * se
    return {"treatment": psm_record.treatment, "outcome": psm_record.outcome, "horizon": int(psm_record.horizon),
            "psm_att": psm_record.estimate, "dml_att": dml_att_record.estimate, "difference": difference,
            "se": se, "ci_low": low, "ci_high": high, "p_value": p_value,
            "passed": bool(low <= 0 <= high), "n_draws": int(len(differences))}


def write_agreement(rows: list[dict], results_dir: Path) -> pd.DataFrame:
    """Write ``cache/estimator_agreement.csv`` (read by the refute stage)."""
    path = Path(results_dir) / results_contract.ESTIMATOR_AGREEMENT_CSV
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame.to_csv(path, index=False)
    return frame


def read_agreement(results_dir: Path) -> pd.DataFrame | None:
    """The agreement table the estimate stage wrote, or None."""
    path = Path(results_dir) / results_contract.ESTIMATOR_AGREEMENT_CSV
    return pd.read_csv(path) if path.is_file() else None
