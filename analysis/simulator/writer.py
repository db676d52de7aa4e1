"""Write the three extracts in exactly the raw format of the real files (CALIBRATION.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.simulator import constants as C
from analysis.simulator.integrations import IntegrationRows
from analysis.simulator.observe import Observed
from analysis.simulator.population import Population

METADATA_COLUMNS = (
    "CUSTOMER_ID", "SNAPSHOT_MONTH", "PRODUCT_TIER", "NUM_OF_INTEGRATIONS",
    "CUSTOMER_VALUE_BEGINNING_OF_MONTH", "CUSTOMER_VALUE_END_OF_MONTH", "CUSTOMER_CANCELLATION_DOLLARS",
)
SEGMENTS_COLUMNS = ("CUSTOMER_ID", "EMPLOYEE_SIZE", "CUSTOMER_SEGMENT")
INTEGRATIONS_COLUMNS = ("INTEGRATION_ID", "CUSTOMER_ID", "SNAPSHOT_MONTH")


def format_money(dollars: np.ndarray, negative: bool = False, empty_zero: np.ndarray | None = None) -> np.ndarray:
    """Money as the extracts write it: ``$1,440.00``; zero ``0``; NaN empty; ``-$680.00`` if negative."""
    dollars = np.asarray(dollars, dtype=float)
    out = np.full(dollars.size, "0", dtype=object)
    out[np.isnan(dollars)] = ""
    nonzero = np.flatnonzero(~np.isnan(dollars) & (np.round(dollars * 100) != 0))
    sign = "-" if negative else ""
    out[nonzero] = [f"{sign}${value:,.2f}" for value in dollars[nonzero]]
    if empty_zero is not None:
        out[np.asarray(empty_zero) & (out == "0")] = ""
    return out


def write_segments(out_dir: Path, pop: Population) -> int:
    """account_segments.csv, one row per customer, in ID order like the real file."""
    order = np.argsort(pop.number, kind="stable")
    frame = pd.DataFrame({
        "CUSTOMER_ID": pop.segments_id[order],
        "EMPLOYEE_SIZE": pop.employee_size[order],
        "CUSTOMER_SEGMENT": pop.raw_segment[order],
    }, columns=list(SEGMENTS_COLUMNS))
    frame.to_csv(out_dir / paths.SEGMENTS_CSV, index=False, lineterminator="\n")
    return len(frame)


def write_metadata(out_dir: Path, pop: Population, obs: Observed, customer_rank: np.ndarray,
                   rng: np.random.Generator) -> int:
    """customer_metadata.csv, rows grouped by customer in random order, months shuffled within."""
    month, customer = np.nonzero(obs.present)
    order = np.lexsort((rng.random(month.size), customer_rank[customer]))
    month, customer = month[order], customer[order]
    tier = obs.tier[month, customer]
    tier_text = np.array(list(C.TIERS) + [""], dtype=object)[np.where(tier < 0, len(C.TIERS), tier)]
    tier_text[(tier == C.ENTERPRISE) & obs.ent_label[month, customer]] = "Ent"
    frame = pd.DataFrame({
        "CUSTOMER_ID": pop.customer_ids()[customer],
        "SNAPSHOT_MONTH": np.array(C.MONTHS, dtype=object)[month],
        "PRODUCT_TIER": tier_text,
        "NUM_OF_INTEGRATIONS": obs.n_integrations[month, customer].astype(np.int64),
        "CUSTOMER_VALUE_BEGINNING_OF_MONTH": format_money(obs.mrr_bom[month, customer]),
        "CUSTOMER_VALUE_END_OF_MONTH": format_money(obs.mrr_eom[month, customer]),
        "CUSTOMER_CANCELLATION_DOLLARS": format_money(
            obs.cancel[month, customer], negative=True, empty_zero=obs.cancel_empty[month, customer]),
    }, columns=list(METADATA_COLUMNS))
    frame.to_csv(out_dir / paths.METADATA_CSV, index=False, lineterminator="\n")
    return len(frame)


def write_integrations(out_dir: Path, pop: Population, rows: IntegrationRows, customer_rank: np.ndarray,
                       rng: np.random.Generator) -> int:
    """integrations.csv, one row per integration listed in a month (``YYYY-MM-01``), unsorted."""
    order = np.lexsort((rng.random(rows.customer.size), customer_rank[rows.customer]))
    month_text = np.array([f"{m}-01" for m in C.MONTHS], dtype=object)
    frame = pd.DataFrame({
        "INTEGRATION_ID": rows.integration_id[order],
        "CUSTOMER_ID": pop.customer_ids()[rows.customer[order]],
        "SNAPSHOT_MONTH": month_text[rows.month[order]],
    }, columns=list(INTEGRATIONS_COLUMNS))
    frame.to_csv(out_dir / paths.INTEGRATIONS_CSV, index=False, lineterminator="\n")
    return len(frame)
