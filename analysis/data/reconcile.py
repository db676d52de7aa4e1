"""Reconcile the three extracts: join keys, label variants, coverage, count agreement.

Everything here is an aggregate count over the parsed tables of
:mod:`analysis.data.validate` (no row-level data leaves this module). The result is
the ``reconciliation`` section of ``data_quality.json``.
"""
from __future__ import annotations

import duckdb

from analysis.data.validate import ID_DIGITS

FULL_ID_LENGTH = ID_DIGITS + 1  # "H" + 8 digits


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> float | int | None:
    value = con.execute(sql).fetchone()[0]
    return value


def _label_variants(con: duckdb.DuckDBPyConnection, table: str, raw: str, canonical: str) -> dict[str, int]:
    """Raw labels that differ from their canonical form -> rows (every row whose label is recognised)."""
    rows = con.execute(
        f"""SELECT {raw} || ' -> ' || {canonical}, count(*) FROM {table}
            WHERE {canonical} IS NOT NULL AND {raw} <> {canonical}
            GROUP BY ALL ORDER BY 1"""
    ).fetchall()
    return {label: int(n) for label, n in rows}


def id_normalisation(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    """Counts of IDs written short (leading zeros lost) among rows with a well-formed ID."""
    short, total = con.execute(
        f"""SELECT count(*) FILTER (WHERE length(id_raw) < {FULL_ID_LENGTH}), count(*)
            FROM {table} WHERE customer_id IS NOT NULL"""
    ).fetchone()
    by_length = dict(con.execute(
        f"""SELECT CAST(length(id_raw) AS VARCHAR), count(*) FROM {table}
            WHERE customer_id IS NOT NULL GROUP BY 1 ORDER BY 1"""
    ).fetchall())
    return {"rows_with_valid_id": int(total), "short_ids": int(short),
            "ids_by_length": {k: int(v) for k, v in by_length.items()}}


def segments_summary(con: duckdb.DuckDBPyConnection, segments: str) -> dict:
    """Short IDs, segment / size label variants and missing labels in account_segments."""
    return {
        "ids": id_normalisation(con, segments),
        "segment_label_variants": _label_variants(con, segments, "segment_raw", "customer_segment"),
        "employee_size_label_variants": _label_variants(con, segments, "size_raw", "employee_size"),
        "missing_segment": int(_scalar(con, f"SELECT count(*) FROM {segments} WHERE reason IS NULL AND segment_raw = ''")),
        "missing_employee_size": int(_scalar(con, f"SELECT count(*) FROM {segments} WHERE reason IS NULL AND size_raw = ''")),
    }


def metadata_summary(con: duckdb.DuckDBPyConnection, metadata: str) -> dict:
    """Tier abbreviations, missing tiers, money quirks and the cancellation sign (kept rows)."""
    row = con.execute(
        f"""SELECT count(*) FILTER (WHERE tier_raw = ''),
                   count(*) FILTER (WHERE bom_raw = ''), count(*) FILTER (WHERE eom_raw = ''),
                   count(*) FILTER (WHERE cancel_raw = ''),
                   count(*) FILTER (WHERE cancel_signed < 0), count(*) FILTER (WHERE cancel_signed > 0),
                   count(*) FILTER (WHERE cancel_signed = 0)
            FROM {metadata} WHERE reason IS NULL"""
    ).fetchone()
    missing_tier, empty_bom, empty_eom, empty_cancel, negative, positive, zero = (int(v) for v in row)
    return {
        "ids": id_normalisation(con, metadata),
        "tier_label_variants": _label_variants(con, metadata, "tier_raw", "product_tier"),
        "missing_tier": missing_tier,
        "empty_mrr_bom": empty_bom,
        "empty_mrr_eom": empty_eom,
        "cancellation_sign": {
            "negative_as_written": negative,
            "positive_abs_taken": positive,
            "zero": zero,
            "empty_read_as_zero": empty_cancel,
        },
    }


def integrations_summary(con: duckdb.DuckDBPyConnection, integrations: str) -> dict:
    """Short IDs and custom-ID spellings in integrations.csv (kept and orphan rows)."""
    spellings = dict(con.execute(
        f"""SELECT regexp_extract(integration_id, '^([A-Za-z]+)', 1), count(*) FROM {integrations}
            WHERE reason IS NULL AND integration_kind = 'custom' GROUP BY 1 ORDER BY 1"""
    ).fetchall())
    return {
        "ids": id_normalisation(con, integrations),
        "custom_prefix_spellings": {k: int(v) for k, v in spellings.items()},
        "orphan_rows": int(_scalar(con, f"SELECT count(*) FROM {integrations} WHERE reason = 'orphan_no_metadata'")),
        "orphan_customer_months": int(_scalar(
            con, f"""SELECT count(*) FROM (SELECT DISTINCT customer_id, month FROM {integrations}
                     WHERE reason = 'orphan_no_metadata')""")),
    }


def coverage(con: duckdb.DuckDBPyConnection, segments: str, metadata: str, integrations: str) -> dict:
    """Customer-ID coverage across the three files, after ID normalisation."""
    sql = f"""
        WITH seg AS (SELECT DISTINCT customer_id FROM {segments} WHERE reason IS NULL),
             meta AS (SELECT DISTINCT customer_id FROM {metadata} WHERE reason IS NULL),
             integ AS (SELECT DISTINCT customer_id FROM {integrations}
                       WHERE reason IS NULL OR reason = 'orphan_no_metadata')
        SELECT (SELECT count(*) FROM seg), (SELECT count(*) FROM meta), (SELECT count(*) FROM integ),
               (SELECT count(*) FROM meta WHERE customer_id NOT IN (SELECT customer_id FROM seg)),
               (SELECT count(*) FROM seg WHERE customer_id NOT IN (SELECT customer_id FROM meta)),
               (SELECT count(*) FROM integ WHERE customer_id NOT IN (SELECT customer_id FROM meta))"""
    seg, meta, integ, meta_not_seg, seg_not_meta, integ_not_meta = (int(v) for v in con.execute(sql).fetchone())
    return {
        "customers_in_segments": seg,
        "customers_in_metadata": meta,
        "customers_in_integrations": integ,
        "metadata_customers_missing_from_segments": meta_not_seg,
        "segment_customers_without_metadata": seg_not_meta,
        "integration_customers_without_metadata": integ_not_meta,
        "note": "metadata customers missing from account_segments get segment, region, team and size 'Unknown'",
    }


def count_agreement(con: duckdb.DuckDBPyConnection, metadata: str, integrations: str) -> dict:
    """NUM_OF_INTEGRATIONS against the number of kept integration rows, per customer-month.

    Customer-months without integration rows count 0 rows.
    """
    sql = f"""
        WITH rows_per AS (SELECT customer_id, month, count(*) AS n_rows FROM {integrations}
                          WHERE reason IS NULL GROUP BY ALL),
             joined AS (SELECT m.month, m.n_integrations, coalesce(r.n_rows, 0) AS n_rows
                        FROM {metadata} m LEFT JOIN rows_per r USING (customer_id, month)
                        WHERE m.reason IS NULL)
        SELECT month, count(*) AS customer_months,
               avg(CASE WHEN n_integrations = n_rows THEN 1.0 ELSE 0.0 END) AS share_exact,
               avg(abs(n_integrations - n_rows)) AS mean_abs_diff,
               avg(n_integrations - n_rows) AS mean_diff
        FROM joined GROUP BY ROLLUP (month) ORDER BY month NULLS LAST"""
    rows = con.execute(sql).fetchall()
    by_month = [
        {"month": m, "customer_months": int(n), "share_exact": float(s), "mean_abs_diff": float(a), "mean_diff": float(d)}
        for m, n, s, a, d in rows if m is not None
    ]
    overall = next(({"customer_months": int(n), "share_exact": float(s), "mean_abs_diff": float(a), "mean_diff": float(d)}
                    for m, n, s, a, d in rows if m is None), {})
    return {**overall, "by_month": by_month}


def reconcile(con: duckdb.DuckDBPyConnection, segments: str, metadata: str, integrations: str) -> dict:
    """The ``reconciliation`` section of data_quality.json."""
    return {
        "id_normalisation": f"'H' + digits left-padded with zeros to {ID_DIGITS} digits",
        "segments": segments_summary(con, segments),
        "metadata": metadata_summary(con, metadata),
        "integrations": integrations_summary(con, integrations),
        "coverage": coverage(con, segments, metadata, integrations),
        "num_of_integrations_vs_rows": count_agreement(con, metadata, integrations),
    }


def validate_segments_file(path) -> dict:
    """Load and validate one account_segments.csv on its own; aggregate counts only.

    Returns
    -------
    dict
        ``rows_read``, ``rows_kept``, ``quarantined_by_reason``, ``segments``
        (canonical segment -> rows, before de-duplication), ``employee_sizes`` (the same) and the
        :func:`segments_summary` counts (short IDs, label variants).
    """
    from pathlib import Path

    from analysis.data.load import SEGMENTS, read_raw_table, scan_raw_file
    from analysis.data.validate import QUARANTINE_TABLE, register_macros, validate_segments

    with duckdb.connect() as con:
        register_macros(con)
        scan = scan_raw_file(Path(path), SEGMENTS)
        read = read_raw_table(con, Path(path), SEGMENTS, scan, "raw_segments")
        parsed = validate_segments(con, read)
        by_reason = dict(con.execute(f"SELECT reason, count(*) FROM {QUARANTINE_TABLE} GROUP BY 1").fetchall())
        kept = con.execute(f"SELECT count(*) FROM {parsed} WHERE reason IS NULL").fetchone()[0]
        segments = dict(con.execute(f"SELECT customer_segment, count(*) FROM {parsed} GROUP BY 1").fetchall())
        sizes = dict(con.execute(f"SELECT employee_size, count(*) FROM {parsed} GROUP BY 1").fetchall())
        return {
            "rows_read": read.rows_read,
            "rows_kept": int(kept),
            "quarantined_by_reason": {k: int(v) for k, v in by_reason.items()},
            "segments": {k: int(v) for k, v in segments.items()},
            "employee_sizes": {k: int(v) for k, v in sizes.items()},
            **segments_summary(con, parsed),
        }
