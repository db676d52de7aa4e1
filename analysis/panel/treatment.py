"""Treatment A_t of every customer-month, for each variant (docs/definitions.md).

``A_t`` compares the snapshot at BOM t+1 with the one at BOM t: it is what
happened *during* month t. Arrays are customer x month; column t holds A_t
(the last month has no t+1 and stays False).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import schema
from analysis.errors import InputError
from analysis.panel.arrays import CustomerMonthArrays

KINDS = ("marketplace", "custom")


def normalise_integration_id(integration_id: pd.Series, kind: pd.Series) -> pd.Series:
    """Comparable form of an integration ID: integer text for marketplace, lower case for custom.

    ``"021"`` and ``"21"`` are the same marketplace app; ``Custom_7`` and
    ``CUSTOM_7`` the same custom integration (the raw files vary the case).
    """
    text = integration_id.astype(str).str.strip()
    is_marketplace = (kind == "marketplace").to_numpy()
    out = text.str.lower()
    digits = text[is_marketplace].str.lstrip("0").replace("", "0")
    out[is_marketplace] = digits
    return out


def new_integration_arrays(
    integration_months: pd.DataFrame, arrays: CustomerMonthArrays
) -> dict[str, np.ndarray]:
    """Customer x month booleans: some ID of the kind is listed at t+1 and not at t.

    Parameters
    ----------
    integration_months : DataFrame
        ``fct_customer_integration_month`` (schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS).
        Rows for customers or months outside ``arrays`` are ignored (the data
        layer already keeps orphans out of the fact table).
    arrays : CustomerMonthArrays

    Returns
    -------
    dict
        ``{"marketplace": bool (n, m), "custom": bool (n, m)}``; column t is A_t.
    """
    table = schema.FCT_CUSTOMER_INTEGRATION_MONTH
    missing = [c for c in schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS if c not in integration_months.columns]
    if missing:
        raise InputError(table, None, missing[0], "expected columns "
                         + ", ".join(schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS))
    rows = integration_months.reset_index(drop=True)
    kind = rows["integration_kind"].astype(str)
    bad = ~kind.isin(KINDS).to_numpy(dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(table, row + 1, "integration_kind",
                         f"expected marketplace or custom; found {kind.iloc[row]!r}")
    n_customers, n_months = arrays.shape
    customer = pd.Index(arrays.customer_ids).get_indexer(rows["customer_id"].astype(str))
    month = pd.Index(arrays.months).get_indexer(rows["month"].astype(str))
    keep = (customer >= 0) & (month >= 0)
    identity = pd.factorize(normalise_integration_id(rows["integration_id"], kind))[0].astype(np.int64)
    n_ids = int(identity.max(initial=0)) + 1
    out = {}
    for name in KINDS:
        selected = keep & (kind == name).to_numpy()
        c, m, i = customer[selected].astype(np.int64), month[selected].astype(np.int64), identity[selected]
        # one integer per (customer, month, id); month m - 1 of the same customer and id is key - n_ids
        key = (c * n_months + m) * n_ids + i
        listed = np.sort(key)
        previous = key - n_ids
        position = np.minimum(np.searchsorted(listed, previous), max(len(listed) - 1, 0))
        listed_before = listed[position] == previous
        is_new = (m >= 1) & ~listed_before
        flags = np.zeros((n_customers, n_months), dtype=bool)
        flags[c[is_new], m[is_new] - 1] = True
        out[name] = flags
    return out


def treatment_arrays(arrays: CustomerMonthArrays, new_integrations: dict[str, np.ndarray]) -> dict[str, tuple]:
    """Risk set and A_t of each variant, as customer x month booleans.

    Returns
    -------
    dict
        ``{variant: (risk_set, treated)}``. ``risk_set`` is True where the
        customer-month is in the panel (rows at t and t+1) and in the variant's
        risk set; ``treated`` is A_t there (False elsewhere).
    """
    n_customers, n_months = arrays.shape
    in_panel = np.zeros((n_customers, n_months), dtype=bool)
    in_panel[:, :-1] = arrays.present[:, :-1] & arrays.present[:, 1:]
    n_now = arrays.n_int
    n_next = np.full_like(n_now, np.nan)
    n_next[:, :-1] = arrays.n_int[:, 1:]
    variants = {
        "any": (in_panel, in_panel & (n_next > n_now)),
        "first": (in_panel & (n_now == 0), in_panel & (n_now == 0) & (n_next >= 1)),
        "marketplace": (in_panel, in_panel & new_integrations["marketplace"]),
        "custom": (in_panel, in_panel & new_integrations["custom"]),
    }
    assert tuple(variants) == schema.TREATMENTS
    return variants
