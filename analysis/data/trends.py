"""Descriptive trends for the memo: aggregate CSV tables, PNG figures and ``summary.json``.

Everything is computed in DuckDB from the model tables ``fct_customer_month`` and
``fct_customer_integration_month`` and written to ``results_dir/trends/``. Only
aggregates leave this module (no customer IDs).
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis import results_contract, schema  # noqa: E402

TOP_MARKETPLACE = 10
ALL_CUSTOM = "all custom"
BUCKETS = (("0", 0, 0), ("1-5", 1, 5), ("6-10", 6, 10), ("11-15", 11, 15), ("16-20", 16, 20), (">20", 21, None))
# floating-point averages add their rows in this order: DuckDB's parallel aggregation otherwise adds them in
# the order its threads finish, and the last digit of an average changed from one run to the next
IN_ROW_ORDER = "ORDER BY customer_id, month"
_FIGSIZE = (7.0, 4.0)
_DPI = 120


def _bucket_sql(column: str) -> str:
    whens = " ".join(
        f"WHEN {column} >= {low}" + (f" AND {column} <= {high}" if high is not None else "") + f" THEN '{label}'"
        for label, low, high in BUCKETS
    )
    return f"CASE {whens} END"


def _bucket_order_sql(column: str) -> str:
    return "CASE " + " ".join(f"WHEN {column} = '{label}' THEN {i}" for i, (label, _, _) in enumerate(BUCKETS)) + " END"


def integrations_by_month_tier(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Mean NUM_OF_INTEGRATIONS per customer by month and tier (tier ``All`` = every customer)."""
    return con.execute(
        f"""SELECT month, coalesce(product_tier, '{schema.UNKNOWN}') AS tier, count(*) AS customers,
                   avg(n_integrations) AS mean_n_integrations
            FROM fct_customer_month GROUP BY ALL
            UNION ALL
            SELECT month, 'All', count(*), avg(n_integrations) FROM fct_customer_month GROUP BY month
            ORDER BY month, tier"""
    ).df()


def adoption_by_month(con: duckdb.DuckDBPyConnection, tracking_change_months: list[str]) -> pd.DataFrame:
    """Share of customers present at t and t+1 with more integrations at t+1 (and first adoptions)."""
    frame = con.execute(
        """SELECT a.month, b.month AS next_month, count(*) AS customers_both_months,
                  count(*) FILTER (WHERE b.n_integrations > a.n_integrations) AS adopters,
                  count(*) FILTER (WHERE a.n_integrations = 0) AS customers_with_zero,
                  count(*) FILTER (WHERE a.n_integrations = 0 AND b.n_integrations >= 1) AS first_adopters
           FROM fct_customer_month a JOIN fct_customer_month b
             ON a.customer_id = b.customer_id AND b.month_index = a.month_index + 1
           GROUP BY ALL ORDER BY a.month"""
    ).df()
    frame["adoption_rate"] = frame["adopters"] / frame["customers_both_months"]
    frame["first_adoption_rate"] = (frame["first_adopters"] / frame["customers_with_zero"]).where(
        frame["customers_with_zero"] > 0)
    frame["flagged"] = frame["month"].isin(tracking_change_months)
    return frame


def integration_kind_share(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Integration rows by month: marketplace and custom counts and shares."""
    frame = con.execute(
        """SELECT m.month, count(i.integration_kind) AS integration_rows,
                  count(*) FILTER (WHERE i.integration_kind = 'marketplace') AS marketplace_rows,
                  count(*) FILTER (WHERE i.integration_kind = 'custom') AS custom_rows
           FROM (SELECT DISTINCT month FROM fct_customer_month) m
           LEFT JOIN fct_customer_integration_month i USING (month) GROUP BY m.month ORDER BY m.month"""
    ).df()
    total = frame["integration_rows"].where(frame["integration_rows"] > 0)
    frame["marketplace_share"] = frame["marketplace_rows"] / total
    frame["custom_share"] = frame["custom_rows"] / total
    return frame


def top_integrations_last_month(con: duckdb.DuckDBPyConnection, last_month: str) -> pd.DataFrame:
    """The most used marketplace integrations in the last month, plus all custom integrations together."""
    frame = con.execute(
        f"""WITH last AS (SELECT * FROM fct_customer_integration_month WHERE month = ?),
                 market AS (SELECT integration_id AS integration, count(*) AS rows,
                                   count(DISTINCT customer_id) AS customers
                            FROM last WHERE integration_kind = 'marketplace' GROUP BY 1
                            ORDER BY rows DESC, TRY_CAST(integration AS BIGINT), integration LIMIT {TOP_MARKETPLACE}),
                 custom AS (SELECT '{ALL_CUSTOM}' AS integration, count(*) AS rows,
                                   count(DISTINCT customer_id) AS customers
                            FROM last WHERE integration_kind = 'custom')
            SELECT * FROM custom UNION ALL SELECT * FROM market""",
        [last_month],
    ).df()
    total = con.execute("SELECT count(*) FROM fct_customer_integration_month WHERE month = ?", [last_month]).fetchone()[0]
    frame = frame.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)
    frame["share_of_rows"] = frame["rows"] / total if total else float("nan")
    frame.insert(0, "month", last_month)
    return frame


def value_by_integration_bucket(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Value retained (1 - cancelled / BOM MRR, BOM > 0) and mean BOM MRR by month and count bucket.

    Month ``All`` pools every customer-month.
    """
    bucket = _bucket_sql("n_integrations")
    query = f"""
        WITH b AS (SELECT customer_id, month, {bucket} AS bucket, mrr_bom, cancel_dollars FROM fct_customer_month)
        SELECT month, bucket, count(*) AS customer_months,
               count(*) FILTER (WHERE mrr_bom > 0) AS paying_customer_months,
               avg(1 - cancel_dollars / mrr_bom {IN_ROW_ORDER}) FILTER (WHERE mrr_bom > 0) AS mean_value_retained,
               avg(mrr_bom {IN_ROW_ORDER}) AS mean_mrr_bom
        FROM b GROUP BY month, bucket
        UNION ALL
        SELECT 'All', bucket, count(*), count(*) FILTER (WHERE mrr_bom > 0),
               avg(1 - cancel_dollars / mrr_bom {IN_ROW_ORDER}) FILTER (WHERE mrr_bom > 0), avg(mrr_bom {IN_ROW_ORDER})
        FROM b GROUP BY bucket
        ORDER BY month = 'All', month, {_bucket_order_sql('bucket')}"""
    return con.execute(query).df()


def customers_by_month(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Customers per month: all, paying (BOM MRR > 0), new (first row, after the first month), zero integrations."""
    return con.execute(
        """WITH first_seen AS (SELECT customer_id, min(month_index) AS first_index FROM fct_customer_month GROUP BY 1)
           SELECT f.month, count(*) AS customers, count(*) FILTER (WHERE f.mrr_bom > 0) AS paying_customers,
                  count(*) FILTER (WHERE s.first_index = f.month_index AND f.month_index > 0) AS new_customers,
                  count(*) FILTER (WHERE f.n_integrations = 0) AS customers_with_zero_integrations,
                  avg(CASE WHEN f.n_integrations = 0 THEN 1.0 ELSE 0.0 END) AS zero_share
           FROM fct_customer_month f JOIN first_seen s USING (customer_id) GROUP BY f.month ORDER BY f.month"""
    ).df()


# --- figures -----------------------------------------------------------------

def _title(text: str, simulated: bool) -> str:
    return text + (" (simulated data)" if simulated else "")


def _shade_flagged(ax, months: list[str], flagged: list[str]) -> None:
    for index, month in enumerate(months):
        if month in flagged and index + 1 < len(months):
            ax.axvspan(index, index + 1, color="0.85", zorder=0,
                       label="tracking change" if month == flagged[0] else None)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def plot_integrations_by_tier(frame: pd.DataFrame, flagged: list[str], path: Path, simulated: bool) -> None:
    months = sorted(frame["month"].unique())
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    _shade_flagged(ax, months, flagged)
    for tier in [t for t in list(schema.TIER_RANK) + [schema.UNKNOWN, "All"] if t in set(frame["tier"])]:
        rows = frame[frame["tier"] == tier].set_index("month").reindex(months)
        ax.plot(range(len(months)), rows["mean_n_integrations"], marker="o",
                linewidth=2.5 if tier == "All" else 1.2, color="black" if tier == "All" else None, label=tier)
    ax.set_xticks(range(len(months)), months)
    ax.set_xlabel("Month (beginning of month)")
    ax.set_ylabel("Integrations per customer (mean)")
    ax.set_title(_title("Integrations per customer by tier", simulated))
    ax.legend(fontsize=8, ncol=2)
    _save(fig, path)


def plot_adoption(frame: pd.DataFrame, path: Path, simulated: bool) -> None:
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    labels = [f"{m}\u2192{n}" for m, n in zip(frame["month"], frame["next_month"])]
    colors = ["0.65" if f else "tab:blue" for f in frame["flagged"]]
    ax.bar(range(len(frame)), 100 * frame["adoption_rate"], color=colors)
    ax.set_xticks(range(len(frame)), labels, fontsize=8)
    ax.set_xlabel("Transition (grey: flagged tracking change)")
    ax.set_ylabel("Customers adding integrations (%)")
    ax.set_title(_title("Monthly adoption rate", simulated))
    _save(fig, path)


def plot_kind_share(frame: pd.DataFrame, flagged: list[str], path: Path, simulated: bool) -> None:
    months = list(frame["month"])
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    positions = range(len(months))
    ax.bar(positions, 100 * frame["marketplace_share"].fillna(0), label="marketplace", color="tab:blue")
    ax.bar(positions, 100 * frame["custom_share"].fillna(0), bottom=100 * frame["marketplace_share"].fillna(0),
           label="custom (API)", color="tab:orange")
    ax.set_xticks(positions, months)
    ax.set_xlabel("Month" + (f" (tracking change after {', '.join(flagged)})" if flagged else ""))
    ax.set_ylabel("Share of integration rows (%)")
    ax.set_ylim(0, 100)
    ax.set_title(_title("Custom vs marketplace integrations", simulated))
    ax.legend(loc="lower left", fontsize=8)
    _save(fig, path)


def plot_top_integrations(frame: pd.DataFrame, path: Path, simulated: bool) -> None:
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    ordered = frame.iloc[::-1]
    labels = [i if i == ALL_CUSTOM else f"marketplace #{i}" for i in ordered["integration"]]
    ax.barh(range(len(ordered)), ordered["rows"], color=["tab:orange" if i == ALL_CUSTOM else "tab:blue"
                                                          for i in ordered["integration"]])
    ax.set_yticks(range(len(ordered)), labels, fontsize=8)
    ax.set_xlabel("Integration rows (for a marketplace app: customers using it)")
    ax.set_title(_title(f"Most used integrations, {frame['month'].iloc[0]}", simulated))
    _save(fig, path)


def plot_value_by_bucket(frame: pd.DataFrame, path: Path, simulated: bool) -> None:
    buckets = [label for label, _, _ in BUCKETS]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 4.0))
    for month in [m for m in frame["month"].unique() if m != "All"]:
        rows = frame[frame["month"] == month].set_index("bucket").reindex(buckets)
        left.plot(range(len(buckets)), rows["mean_value_retained"], marker="o", linewidth=1, label=month)
    left.set_xticks(range(len(buckets)), buckets)
    left.set_xlabel("Integrations at beginning of month")
    left.set_ylabel("Value retained (1 - cancelled / BOM MRR)")
    left.set_title("Value retained")
    left.legend(fontsize=7)
    pooled = frame[frame["month"] == "All"].set_index("bucket").reindex(buckets)
    right.bar(range(len(buckets)), pooled["mean_mrr_bom"], color="tab:green")
    right.set_xticks(range(len(buckets)), buckets)
    right.set_xlabel("Integrations at beginning of month")
    right.set_ylabel("Mean BOM MRR ($)")
    right.set_title("MRR at beginning of month")
    fig.suptitle(_title("Value by integration count", simulated))
    _save(fig, path)


def plot_customers(frame: pd.DataFrame, path: Path, simulated: bool) -> None:
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    positions = range(len(frame))
    ax.bar(positions, frame["customers"], color="tab:blue", label="all customers")
    ax.bar(positions, frame["paying_customers"], color="tab:cyan", width=0.5, label="paying (BOM MRR > 0)")
    ax.set_xticks(positions, frame["month"])
    ax.set_xlabel("Month")
    ax.set_ylabel("Customers")
    ax.set_title(_title("Customers per month", simulated))
    ax.legend(fontsize=8, loc="lower right")
    _save(fig, path)


# --- entry point -----------------------------------------------------------------

def _summary(con: duckdb.DuckDBPyConnection, customers: pd.DataFrame, by_tier: pd.DataFrame, kinds: pd.DataFrame,
             adoption: pd.DataFrame, flagged: list[str], simulated: bool) -> dict:
    first, last = str(customers["month"].iloc[0]), str(customers["month"].iloc[-1])
    overall = by_tier[by_tier["tier"] == "All"].set_index("month")["mean_n_integrations"]
    totals = con.execute(
        f"""SELECT count(*), count(DISTINCT customer_id),
                   avg(1 - cancel_dollars / mrr_bom {IN_ROW_ORDER}) FILTER (WHERE mrr_bom > 0),
                   avg(cancel_dollars {IN_ROW_ORDER}) FROM fct_customer_month"""
    ).fetchone()
    ever_zero = con.execute(
        """SELECT avg(CASE WHEN zero THEN 1.0 ELSE 0.0 END) FROM
           (SELECT customer_id, bool_or(n_integrations = 0) AS zero FROM fct_customer_month GROUP BY 1)"""
    ).fetchone()[0]
    kinds = kinds.set_index("month")
    unflagged = adoption[~adoption["flagged"]]
    return {
        "simulated": simulated,
        "first_month": first,
        "last_month": last,
        "n_months": int(len(customers)),
        "customer_months": int(totals[0]),
        "customers": int(totals[1]),
        "customers_first_month": int(customers["customers"].iloc[0]),
        "customers_last_month": int(customers["customers"].iloc[-1]),
        "mean_integrations_first_month": float(overall[first]),
        "mean_integrations_last_month": float(overall[last]),
        "zero_integration_share_first_month": float(customers["zero_share"].iloc[0]),
        "zero_integration_share_last_month": float(customers["zero_share"].iloc[-1]),
        "share_of_customers_ever_zero": float(ever_zero),
        "custom_share_first_month": float(kinds.loc[first, "custom_share"]),
        "custom_share_last_month": float(kinds.loc[last, "custom_share"]),
        "mean_value_retained": float(totals[2]) if totals[2] is not None else None,
        "mean_cancel_dollars_per_customer_month": float(totals[3]),
        "mean_adoption_rate_unflagged": float(unflagged["adoption_rate"].mean()) if len(unflagged) else None,
        "tracking_change_months": list(flagged),
    }


def write_trends(con: duckdb.DuckDBPyConnection, results_dir: Path, tracking_change_months: list[str],
                 simulated: bool, figures: bool = True) -> dict:
    """Write the trend tables, figures and ``summary.json`` to ``results_dir/trends``.

    Parameters
    ----------
    con : duckdb connection
        Holds tables (or views) ``fct_customer_month`` and ``fct_customer_integration_month``.
    results_dir : Path
        Results folder; the files go to its ``trends/`` subfolder.
    tracking_change_months : list of str
        Flagged months t (shaded in the figures, marked in the tables).
    simulated : bool
        Titles say "(simulated data)" when True.
    figures : bool
        Also draw the PNG figures.

    Returns
    -------
    dict
        The headline numbers (also in ``summary.json``).
    """
    out = Path(results_dir) / results_contract.TRENDS_DIR
    out.mkdir(parents=True, exist_ok=True)
    flagged = list(tracking_change_months)
    by_tier = integrations_by_month_tier(con)
    adoption = adoption_by_month(con, flagged)
    kinds = integration_kind_share(con)
    customers = customers_by_month(con)
    last_month = str(customers["month"].iloc[-1])
    top = top_integrations_last_month(con, last_month)
    value = value_by_integration_bucket(con)
    tables = {
        "integrations_by_month_tier": by_tier, "adoption_by_month": adoption,
        "integration_kind_share_by_month": kinds, "top_integrations_last_month": top,
        "value_by_integration_bucket": value, "customers_by_month": customers,
    }
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False, float_format="%.6g")
    if figures:
        _plot_all(by_tier, adoption, kinds, top, value, customers, flagged, out, simulated)
    summary = _summary(con, customers, by_tier, kinds, adoption, flagged, simulated)
    (out / results_contract.TRENDS_SUMMARY_JSON).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _plot_all(by_tier, adoption, kinds, top, value, customers, flagged, out: Path, simulated: bool) -> None:
    plot_integrations_by_tier(by_tier, flagged, out / "integrations_by_month_tier.png", simulated)
    plot_adoption(adoption, out / "adoption_by_month.png", simulated)
    plot_kind_share(kinds, flagged, out / "integration_kind_share_by_month.png", simulated)
    plot_top_integrations(top, out / "top_integrations_last_month.png", simulated)
    plot_value_by_bucket(value, out / "value_by_integration_bucket.png", simulated)
    plot_customers(customers, out / "customers_by_month.png", simulated)
