"""The data stage: raw extracts -> validated, reconciled dimensional model, ledger and trends.

:func:`build_model` is what ``python -m causal run --stages data`` calls. It writes

- ``processed_dir/{dim_customer,fct_customer_month,fct_customer_integration_month}.parquet``
  (columns in :mod:`analysis.schema`), ``processed_dir/model.duckdb`` (views over them) and
  ``processed_dir/quarantine.parquet`` (row-level: file, line, reason, column, value, expected);
- ``results_dir/data_quality.json``, ``ledger.csv``, ``ledger.md`` and ``trends/``.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import pandas as pd

from analysis import paths, schema
from analysis.paths import model_path
from analysis.data.ledger import QUARANTINE_PARQUET, LedgerEntry, ledger_entry, write_data_quality, write_ledger
from analysis.data.load import RAW_SPECS, RawRead, load_raw_files
from analysis.data.reconcile import reconcile
from analysis.data.tracking import TrackingRule, detect_tracking_changes, monthly_tracking_stats
from analysis.data.trends import write_trends
from analysis.data.validate import QUARANTINE_TABLE, register_macros, validate_integrations, validate_metadata, validate_segments

MODEL_DUCKDB = "model.duckdb"
MODEL_TABLES = (schema.DIM_CUSTOMER, schema.FCT_CUSTOMER_MONTH, schema.FCT_CUSTOMER_INTEGRATION_MONTH)
MIN_SHARE_EXACT = 0.5  # NUM_OF_INTEGRATIONS should equal the integration rows for most customer-months


def _sql_text(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _create_model_tables(con: duckdb.DuckDBPyConnection, segments: str, metadata: str, integrations: str) -> None:
    rank_case = "CASE product_tier " + " ".join(
        f"WHEN {_sql_text(tier)} THEN {rank}" for tier, rank in schema.TIER_RANK.items()) + " END"
    month_number = "(CAST(left(month, 4) AS INTEGER) * 12 + CAST(substr(month, 6, 2) AS INTEGER))"
    con.execute(
        f"""CREATE OR REPLACE TABLE {schema.FCT_CUSTOMER_MONTH} AS
        WITH kept AS (SELECT * FROM {metadata} WHERE reason IS NULL)
        SELECT customer_id, month,
               CAST({month_number} - (SELECT min({month_number}) FROM kept) AS INTEGER) AS month_index,
               product_tier, CAST({rank_case} AS INTEGER) AS tier_rank,
               CAST(n_integrations AS INTEGER) AS n_integrations,
               CAST(mrr_bom AS DOUBLE) AS mrr_bom, CAST(mrr_eom AS DOUBLE) AS mrr_eom,
               abs(coalesce(cancel_signed, 0.0)) AS cancel_dollars
        FROM kept ORDER BY customer_id, month"""
    )
    unknown = _sql_text(schema.UNKNOWN)
    con.execute(
        f"""CREATE OR REPLACE TABLE {schema.DIM_CUSTOMER} AS
        SELECT c.customer_id,
               coalesce(s.customer_segment, {unknown}) AS customer_segment,
               coalesce(s.region, {unknown}) AS region,
               coalesce(s.team, {unknown}) AS team,
               coalesce(s.employee_size, {unknown}) AS employee_size
        FROM (SELECT DISTINCT customer_id FROM {schema.FCT_CUSTOMER_MONTH}) c
        LEFT JOIN (SELECT * FROM {segments} WHERE reason IS NULL) s USING (customer_id)
        ORDER BY c.customer_id"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {schema.FCT_CUSTOMER_INTEGRATION_MONTH} AS
        SELECT customer_id, month, integration_id, integration_kind
        FROM {integrations} WHERE reason IS NULL ORDER BY line"""
    )


def _write_parquet(con: duckdb.DuckDBPyConnection, processed_dir: Path) -> dict[str, int]:
    columns = {
        schema.DIM_CUSTOMER: schema.DIM_CUSTOMER_COLUMNS,
        schema.FCT_CUSTOMER_MONTH: schema.FCT_CUSTOMER_MONTH_COLUMNS,
        schema.FCT_CUSTOMER_INTEGRATION_MONTH: schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS,
    }
    counts = {}
    for table in MODEL_TABLES:
        select = ", ".join(columns[table])
        con.execute(f"COPY (SELECT {select} FROM {table}) TO {_sql_text(model_path(processed_dir, table))} "
                    "(FORMAT parquet, COMPRESSION zstd)")
        counts[table] = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    con.execute(f"COPY (SELECT * FROM {QUARANTINE_TABLE} ORDER BY file, line) TO "
                f"{_sql_text(Path(processed_dir) / QUARANTINE_PARQUET)} (FORMAT parquet)")
    return counts


def write_duckdb_file(processed_dir: Path) -> Path:
    """``model.duckdb`` with one view per model table over its Parquet file (absolute paths)."""
    path = Path(processed_dir) / MODEL_DUCKDB
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as db:
        for table in MODEL_TABLES:
            parquet = model_path(processed_dir, table).resolve()
            db.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({_sql_text(parquet)})")
    return path


def _ledger(con: duckdb.DuckDBPyConnection, reads: dict[str, RawRead], parsed: dict[str, str]) -> list[LedgerEntry]:
    entries = []
    for spec in RAW_SPECS:
        read = reads[spec.role]
        by_reason = dict(con.execute(
            f"SELECT reason, count(*) FROM {QUARANTINE_TABLE} WHERE file = ? GROUP BY reason", [spec.file_name]
        ).fetchall())
        kept = con.execute(f"SELECT count(*) FROM {parsed[spec.role]} WHERE reason IS NULL").fetchone()[0]
        entries.append(ledger_entry(spec.file_name, read.rows_read, kept, by_reason, read.scan.ignored_columns))
    return entries


def _checks(con: duckdb.DuckDBPyConnection, reads: dict[str, RawRead], entries: list[LedgerEntry],
            reconciliation: dict, months: list[str], flagged: list[str]) -> list[dict]:
    checks = []
    for spec in RAW_SPECS:
        scan = reads[spec.role].scan
        used = [c for c in scan.header if c in spec.columns]
        checks.append({"name": f"header:{spec.file_name}", "passed": True,
                       "detail": f"columns {', '.join(used)}"})
        checks.append({"name": f"extra_columns:{spec.file_name}", "passed": not scan.ignored_columns,
                       "detail": (f"{len(scan.ignored_columns)} extra column(s) ignored: "
                                  f"{', '.join(scan.ignored_columns)}") if scan.ignored_columns else "none"})
        checks.append({"name": f"encoding:{spec.file_name}", "passed": True,
                       "detail": "UTF-8 with a byte-order mark (accepted, mark ignored)" if scan.has_bom else "UTF-8"})
        checks.append({"name": f"blank_lines:{spec.file_name}", "passed": not scan.blank_lines,
                       "detail": f"{len(scan.blank_lines)} empty lines skipped (not rows)"})
    for entry in entries:
        checks.append({"name": f"ledger_balanced:{entry.file}", "passed": entry.balanced,
                       "detail": f"read {entry.rows_read} = kept {entry.rows_kept} + quarantined {entry.rows_quarantined}"})
    kept_rows = {
        schema.FCT_CUSTOMER_MONTH: entries[1].rows_kept,
        schema.FCT_CUSTOMER_INTEGRATION_MONTH: entries[2].rows_kept,
    }
    for table, kept in kept_rows.items():
        n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        checks.append({"name": f"model_rows:{table}", "passed": n == kept,
                       "detail": f"{n} rows in the table, {kept} kept in the ledger"})
    duplicates = con.execute(
        f"SELECT count(*) - count(DISTINCT (customer_id, month)) FROM {schema.FCT_CUSTOMER_MONTH}").fetchone()[0]
    checks.append({"name": "unique_key:fct_customer_month", "passed": duplicates == 0,
                   "detail": f"{duplicates} repeated (customer_id, month)"})
    coverage = reconciliation["coverage"]
    missing = coverage["metadata_customers_missing_from_segments"]
    checks.append({"name": "coverage:metadata_customers_in_segments", "passed": missing == 0,
                   "detail": f"{missing} of {coverage['customers_in_metadata']} customers have no segment row "
                             "(segment, region, team, size 'Unknown')"})
    orphans = reconciliation["integrations"]["orphan_rows"]
    checks.append({"name": "coverage:integration_rows_match_metadata", "passed": orphans == 0,
                   "detail": f"{orphans} integration rows without a metadata customer-month (quarantined)"})
    agreement = reconciliation["num_of_integrations_vs_rows"]
    share = agreement.get("share_exact", 0.0)
    checks.append({"name": "agreement:num_of_integrations_vs_rows", "passed": share >= MIN_SHARE_EXACT,
                   "detail": f"{share:.1%} of customer-months exact, mean abs diff "
                             f"{agreement.get('mean_abs_diff', 0.0):.3f} (pass: >= {MIN_SHARE_EXACT:.0%} exact)"})
    checks.append({"name": "months:contiguous", "passed": True,
                   "detail": f"{len(months)} consecutive months {months[0]}..{months[-1]}"})
    checks.append({"name": "tracking_changes", "passed": not flagged,
                   "detail": ("flagged transitions after " + ", ".join(flagged)) if flagged else "none flagged"})
    return checks


def build_model(data_dir: Path, processed_dir: Path, results_dir: Path, *, figures: bool = True) -> dict:
    """Load, validate, reconcile and model the three raw extracts; write the ledger and trends.

    Parameters
    ----------
    data_dir : Path
        Folder with ``account_segments.csv``, ``customer_metadata.csv``, ``integrations.csv``
        (and ``truth.json`` when simulated; only its presence is read).
    processed_dir : Path
        Folder for the Parquet model, ``model.duckdb`` and ``quarantine.parquet``.
    results_dir : Path
        Folder for ``data_quality.json``, ``ledger.csv``, ``ledger.md`` and ``trends/``.
    figures : bool
        Draw the trend figures (PNG); tables and ``summary.json`` are always written.

    Returns
    -------
    dict
        ``tracking_change_months``, ``months``, ``rows`` (per model table), ``ledger``
        (rows read / kept / quarantined per file), ``trends`` (the headline numbers),
        ``simulated``, ``seconds`` and ``stage_seconds``.

    Raises
    ------
    InputError
        When a file cannot be used (one line: file, line, column, what was expected).
    """
    started = time.perf_counter()
    stage_seconds: dict[str, float] = {}
    clock = [started]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        stage_seconds[stage] = round(now - clock[0], 3)
        clock[0] = now

    data_dir, processed_dir, results_dir = Path(data_dir), Path(processed_dir), Path(results_dir)
    processed_dir.mkdir(parents=True, exist_ok=True)
    results_dir.mkdir(parents=True, exist_ok=True)
    spill = processed_dir / ".duckdb_tmp"
    con = duckdb.connect()
    try:
        con.execute(f"SET temp_directory = {_sql_text(spill)}")
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")
        register_macros(con)
        reads = load_raw_files(con, data_dir)
        lap("load")
        parsed = {"segments": validate_segments(con, reads["segments"])}
        parsed["metadata"] = validate_metadata(con, reads["metadata"])
        parsed["integrations"] = validate_integrations(con, reads["integrations"], parsed["metadata"])
        lap("validate")
        _create_model_tables(con, parsed["segments"], parsed["metadata"], parsed["integrations"])
        rows = _write_parquet(con, processed_dir)
        lap("model")
        entries = _ledger(con, reads, parsed)
        reconciliation = reconcile(con, parsed["segments"], parsed["metadata"], parsed["integrations"])
        lap("ledger_reconcile")
        months = [m for (m,) in con.execute(
            f"SELECT DISTINCT month FROM {schema.FCT_CUSTOMER_MONTH} ORDER BY month").fetchall()]
        stats = monthly_tracking_stats(con, schema.FCT_CUSTOMER_MONTH, schema.FCT_CUSTOMER_INTEGRATION_MONTH)
        flagged, transitions = detect_tracking_changes(stats, TrackingRule())
        simulated = (data_dir / paths.TRUTH_JSON).is_file()
        checks = _checks(con, reads, entries, reconciliation, months, flagged)
        lap("tracking_checks")
        trends_summary = write_trends(con, results_dir, flagged, simulated, figures=figures)
        lap("trends")
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    write_ledger(entries, results_dir)
    write_data_quality(results_dir, entries, checks, reconciliation, flagged, transitions, months, simulated)
    write_duckdb_file(processed_dir)
    lap("write")
    return {
        "tracking_change_months": flagged,
        "months": months,
        "rows": rows,
        "ledger": {e.file: {"read": e.rows_read, "kept": e.rows_kept, "quarantined": e.rows_quarantined}
                   for e in entries},
        "ignored_columns": {e.file: list(e.ignored_columns) for e in entries},
        "trends": trends_summary,
        "simulated": simulated,
        "seconds": round(time.perf_counter() - started, 3),
        "stage_seconds": stage_seconds,
    }


def read_model_tables(processed_dir: Path) -> dict[str, pd.DataFrame]:
    """The three model tables as pandas frames, keyed by table name."""
    return {table: pd.read_parquet(model_path(processed_dir, table)) for table in MODEL_TABLES}
