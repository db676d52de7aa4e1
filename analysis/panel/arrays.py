"""Customer x month arrays from the model tables: the panel's working form.

Every later step of the panel (treatment, covariates, outcomes) is a
vectorised operation on these ``(n_customers, n_months)`` arrays, looping
over months only, never over customers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import schema
from analysis.errors import InputError

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class CustomerMonthArrays:
    """State of every customer in every month, NaN where the row is absent.

    Attributes
    ----------
    customer_ids : ndarray of str, shape (n,)
        Sorted customer IDs (row order of every array).
    months : list of str
        The distinct months of the data in calendar order ("YYYY-MM"); column order.
    present : bool array (n, m)
        The customer has a metadata row in the month.
    tier_rank : float array (n, m)
        Rank 0..4 of the tier at BOM; NaN when absent or the tier is missing.
    n_int, mrr_bom, mrr_eom, cancel : float arrays (n, m)
        NUM_OF_INTEGRATIONS at BOM, MRR at BOM and EOM, cancelled dollars in the
        month; NaN when absent (``mrr_*`` also when missing).
    """

    customer_ids: np.ndarray
    months: list[str]
    present: np.ndarray
    tier_rank: np.ndarray
    n_int: np.ndarray
    mrr_bom: np.ndarray
    mrr_eom: np.ndarray
    cancel: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.present.shape


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(table, None, missing[0], f"expected columns {', '.join(columns)}; "
                         f"missing {', '.join(missing)}")


def _first_bad(frame: pd.DataFrame, bad: np.ndarray, table: str, column: str, expected: str) -> None:
    """Raise an InputError naming the first offending row (1-based, header excluded)."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(table, row + 1, column, f"{expected}; found {frame[column].iloc[row]!r} "
                         f"({int(bad.sum())} such rows)")


def validate_customer_months(customer_months: pd.DataFrame) -> pd.DataFrame:
    """Check the fact table the panel relies on; return it with canonical tier ranks.

    Raises
    ------
    InputError
        Missing column, malformed month, unknown tier, negative or missing
        integration count, negative money, or a duplicate customer-month.
        ``line`` is the 1-based row of the table.
    """
    table = schema.FCT_CUSTOMER_MONTH
    _require_columns(customer_months, schema.FCT_CUSTOMER_MONTH_COLUMNS, table)
    frame = customer_months.reset_index(drop=True)
    month = frame["month"].astype(str)
    _first_bad(frame, ~month.str.fullmatch(_MONTH.pattern).to_numpy(dtype=bool), table, "month",
               "expected a month YYYY-MM")
    tier = frame["product_tier"].astype(object)
    tier = tier.where(tier.notna(), None).map(lambda v: schema.TIER_ALIASES.get(v, v) if v is not None else None)
    unknown = tier.notna() & ~tier.isin(list(schema.TIER_RANK))
    _first_bad(frame, unknown.to_numpy(dtype=bool), table, "product_tier",
               f"expected one of {', '.join(schema.TIER_RANK)} or null")
    n_int = pd.to_numeric(frame["n_integrations"], errors="coerce").astype(float)
    bad_int = n_int.isna() | (n_int < 0) | (n_int != np.floor(n_int))
    _first_bad(frame, bad_int.to_numpy(dtype=bool), table, "n_integrations", "expected an integer >= 0")
    money = {}
    for column in ("mrr_bom", "mrr_eom", "cancel_dollars"):
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        _first_bad(frame, (values < 0).to_numpy(dtype=bool) | (values.isna() & frame[column].notna()).to_numpy(dtype=bool),
                   table, column, "expected dollars >= 0 or null")
        money[column] = values
    duplicated = frame.duplicated(["customer_id", "month"], keep="first").to_numpy(dtype=bool)
    _first_bad(frame, duplicated, table, "customer_id", "expected one row per customer and month")
    return pd.DataFrame({
        "customer_id": frame["customer_id"].astype(str).to_numpy(),
        "month": month.to_numpy(),
        "tier_rank": tier.map(schema.TIER_RANK).astype(float).to_numpy(),
        "n_int": n_int.to_numpy(),
        "mrr_bom": money["mrr_bom"].to_numpy(),
        "mrr_eom": money["mrr_eom"].to_numpy(),
        "cancel": money["cancel_dollars"].fillna(0.0).to_numpy(),
    })


def pivot_customer_months(customer_months: pd.DataFrame) -> CustomerMonthArrays:
    """Pivot the (validated) fact table into customer x month arrays.

    Parameters
    ----------
    customer_months : DataFrame
        ``fct_customer_month`` (schema.FCT_CUSTOMER_MONTH_COLUMNS), any row order.

    Returns
    -------
    CustomerMonthArrays
        Months are the distinct months of the table in calendar order; nothing
        assumes which months or how many.
    """
    rows = validate_customer_months(customer_months)
    customer_ids, customer_index = np.unique(rows["customer_id"].to_numpy(dtype=str), return_inverse=True)
    months, month_index = np.unique(rows["month"].to_numpy(dtype=str), return_inverse=True)
    shape = (len(customer_ids), len(months))
    present = np.zeros(shape, dtype=bool)
    present[customer_index, month_index] = True

    def spread(column: str) -> np.ndarray:
        out = np.full(shape, np.nan)
        out[customer_index, month_index] = rows[column].to_numpy(dtype=float)
        return out

    return CustomerMonthArrays(
        customer_ids=customer_ids,
        months=[str(m) for m in months],
        present=present,
        tier_rank=spread("tier_rank"),
        n_int=spread("n_int"),
        mrr_bom=spread("mrr_bom"),
        mrr_eom=spread("mrr_eom"),
        cancel=spread("cancel"),
    )
