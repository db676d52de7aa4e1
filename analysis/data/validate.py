"""Parse and check the raw text tables row by row, in DuckDB SQL.

Each raw table (``raw_<role>``, every column text, see :mod:`analysis.data.load`) becomes
``parsed_<role>``: the canonical values plus ``reason`` (NULL when the row is
usable), ``reason_column``, ``reason_value`` and ``expected``. The first failed
check of a row is its reason. Rows that fail are quarantined (never dropped
silently); a file in which most rows fail the same check is unusable and raises
:class:`~analysis.errors.InputError` naming its first bad line.

Row reasons
-----------
``malformed_id``, ``invalid_month``, ``month_out_of_range``, ``unknown_tier``,
``missing_count``, ``negative_count``, ``invalid_count``, ``count_out_of_range``,
``unparseable_money``, ``negative_mrr``, ``unknown_segment``,
``unknown_employee_size``, ``missing_integration_id``, ``malformed_integration_id``,
``conflicting_duplicate`` (same key, different values: every such row),
``ambiguous_id`` (the same, where the key's rows write the ID differently, e.g. ``H0042250``
and ``H00042250``: the zero-padding rule cannot tell the customers apart),
``exact_duplicate`` (same key, same values: all but the first; ``duplicate_after_id_normalisation``
when the IDs were written differently),
``orphan_no_metadata`` (integration row without a metadata row for that
customer-month), and the structural ``wrong_field_count`` / ``malformed_quoting``
from the loader.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from analysis import schema
from analysis.errors import InputError
from analysis.data.load import RawRead

MAX_INTEGRATIONS = 1000  # NUM_OF_INTEGRATIONS above this is out of range
UNUSABLE_SHARE = 0.5  # a check failed by more than this share of a file's rows makes the file unusable
ID_PATTERN = "H[0-9]{1,8}"
ID_DIGITS = 8
MONEY_PATTERN = r"-?\$?-?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?"
EMPLOYEE_SIZES = ("1 to 25", "26 to 200", "201 or Above", "Undefined")
REGIONS = ("NAM", "International")
TEAMS = ("Low-touch", "High-touch", "Direct", "Partner", "Unowned")

QUARANTINE_TABLE = "quarantine"
VALUE_REASONS = frozenset({
    "malformed_id", "invalid_month", "unknown_tier", "missing_count", "negative_count", "invalid_count",
    "count_out_of_range", "unparseable_money", "negative_mrr", "unknown_segment", "unknown_employee_size",
    "missing_integration_id", "malformed_integration_id", "wrong_field_count", "malformed_quoting",
})


@dataclass(frozen=True)
class Check:
    """One row check: ``bad`` is a SQL condition true for a failing row."""

    reason: str
    column: str
    bad: str
    value: str  # SQL expression of the offending raw value
    expected: str


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _case_map(expression: str, mapping: dict[str, str]) -> str:
    """``CASE lower(expr) WHEN key THEN value ... END`` (NULL when no key matches)."""
    whens = " ".join(f"WHEN {_sql_text(k.lower())} THEN {_sql_text(v)}" for k, v in mapping.items())
    return f"CASE lower({expression}) {whens} END"


def _reason_columns(checks: list[Check]) -> str:
    parts = []
    for target, attribute in (("reason", "reason"), ("reason_column", "column"), ("expected", "expected")):
        whens = " ".join(f"WHEN {c.bad} THEN {_sql_text(getattr(c, attribute))}" for c in checks)
        parts.append(f"CASE {whens} END AS {target}")
    whens = " ".join(f"WHEN {c.bad} THEN {c.value}" for c in checks)
    parts.append(f"CASE {whens} END AS reason_value")
    return ",\n".join(parts)


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the SQL macros the checks use (``normalise_id``, ``parse_money``)."""
    con.execute(
        f"""CREATE OR REPLACE MACRO normalise_id(raw) AS
            CASE WHEN regexp_full_match(raw, '{ID_PATTERN}') THEN 'H' || lpad(substr(raw, 2), {ID_DIGITS}, '0') END"""
    )
    con.execute(
        f"""CREATE OR REPLACE MACRO parse_money(raw) AS
            CASE WHEN regexp_full_match(raw, '{MONEY_PATTERN}')
                 THEN CAST(replace(replace(replace(raw, '$', ''), ',', ''), '-', '') AS DOUBLE)
                      * CASE WHEN contains(raw, '-') THEN -1 ELSE 1 END END"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (
            file VARCHAR, line BIGINT, reason VARCHAR, "column" VARCHAR, value VARCHAR, expected VARCHAR)"""
    )


def _id_check(column: str = "CUSTOMER_ID") -> Check:
    return Check("malformed_id", column, "customer_id IS NULL", "id_raw",
                 f"'H' followed by 1 to {ID_DIGITS} digits")


def _trimmed(columns: dict[str, str]) -> str:
    return ", ".join(f"trim(coalesce(\"{raw}\", '')) AS {alias}" for raw, alias in columns.items())


def _quarantine_rows(con: duckdb.DuckDBPyConnection, read: RawRead, parsed: str) -> None:
    """Copy the loader's rejects and the failed rows of ``parsed`` into the quarantine table."""
    name = read.spec.file_name
    for reject in read.rejects:
        con.execute(
            f"INSERT INTO {QUARANTINE_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
            [name, reject["line"], reject["reason"], reject["column"], reject["value"], reject["expected"]],
        )
    con.execute(
        f"""INSERT INTO {QUARANTINE_TABLE}
            SELECT {_sql_text(name)}, line, reason, reason_column, reason_value, expected
            FROM {parsed} WHERE reason IS NOT NULL"""
    )


def _printable_value(reason: str, column: str | None, value: str | None) -> str:
    """The offending value for a one-line error, withheld when it could be a customer ID or a whole row."""
    if column == "CUSTOMER_ID" or reason in ("wrong_field_count", "malformed_quoting"):
        return "something else (value not shown: it may identify a customer)"
    return f"'{(value or '')[:60]}'"


def _raise_if_unusable(con: duckdb.DuckDBPyConnection, read: RawRead, parsed: str) -> None:
    """A file is unusable when no row survives or one value check fails for most rows."""
    rows_read = read.rows_read
    failures = con.execute(
        f"""SELECT reason, reason_column, count(*) AS n, min(line) AS first_line
            FROM {parsed} WHERE reason IS NOT NULL GROUP BY ALL ORDER BY n DESC, first_line"""
    ).fetchall()
    structural = {}
    for reject in read.rejects:
        structural.setdefault(reject["reason"], []).append(reject)
    candidates = [(r, c, n, line) for r, c, n, line in failures if r in VALUE_REASONS]
    candidates += [(r, rows[0]["column"], len(rows), rows[0]["line"]) for r, rows in structural.items()]
    for reason, column, n, line in sorted(candidates, key=lambda item: (-item[2], item[3])):
        if n > UNUSABLE_SHARE * rows_read:
            detail = con.execute(
                f"SELECT expected, reason_value FROM {parsed} WHERE line = ?", [line]
            ).fetchone()
            if detail is None:
                reject = next(r for r in read.rejects if r["line"] == line)
                detail = (reject["expected"], reject["value"])
            found = _printable_value(reason, column, detail[1])
            raise InputError(
                read.spec.file_name, line, column,
                f"expected {detail[0]}; found {found} ({reason} on {n} of {rows_read} rows: "
                f"the file is not in the expected format)",
            )
    kept = con.execute(f"SELECT count(*) FROM {parsed} WHERE reason IS NULL").fetchone()[0]
    if kept == 0:
        reason, column, n, line = candidates[0] if candidates else failures[0]
        raise InputError(read.spec.file_name, line, column, f"expected at least one usable row; every row was quarantined (first: {reason})")


def _mark_duplicates(con: duckdb.DuckDBPyConnection, parsed: str, key: list[str], values: list[str],
                     column: str = "CUSTOMER_ID") -> None:
    """Mark conflicting duplicates (all rows of the key) and exact duplicates (all but the first).

    Only keys that occur more than once among the usable rows are ranked, so the
    common case (no duplicates) costs one hash aggregation.
    """
    key_sql = ", ".join(key)
    value_sql = ", ".join(f"coalesce(CAST({v} AS VARCHAR), '<null>')" for v in values) if values else "''"
    keys, marks = f"{parsed}_duplicate_keys", f"{parsed}_duplicate_marks"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {keys} AS
                    SELECT {key_sql} FROM {parsed} WHERE reason IS NULL GROUP BY ALL HAVING count(*) > 1""")
    if con.execute(f"SELECT count(*) FROM {keys}").fetchone()[0]:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {marks} AS
            WITH candidates AS (SELECT p.* FROM {parsed} p JOIN {keys} USING ({key_sql}) WHERE p.reason IS NULL),
            ranked AS (
                SELECT line, {key_sql},
                    count(DISTINCT concat_ws('|', {value_sql})) OVER (PARTITION BY {key_sql}) AS n_versions,
                    count(DISTINCT id_raw) OVER (PARTITION BY {key_sql}) AS n_spellings,
                    row_number() OVER (PARTITION BY {key_sql} ORDER BY line) AS copy_number
                FROM candidates)
            SELECT line,
                CASE WHEN n_versions > 1 AND n_spellings > 1 THEN 'ambiguous_id'
                     WHEN n_versions > 1 THEN 'conflicting_duplicate'
                     WHEN n_spellings > 1 THEN 'duplicate_after_id_normalisation'
                     ELSE 'exact_duplicate' END AS reason,
                concat_ws(' ', {key_sql}) AS reason_value,
                CASE WHEN n_versions > 1 AND n_spellings > 1
                          THEN 'one row per key ({key_sql}); differently written IDs normalise to this key and disagree'
                     WHEN n_versions > 1 THEN 'one row per key ({key_sql}); rows with this key disagree'
                     ELSE 'one row per key ({key_sql}); a row with the same values came earlier' END AS expected
            FROM ranked WHERE n_versions > 1 OR copy_number > 1"""
        )
        con.execute(
            f"""UPDATE {parsed} SET reason = d.reason, reason_column = {_sql_text(column)},
                    reason_value = d.reason_value, expected = d.expected
                FROM {marks} d WHERE {parsed}.line = d.line"""
        )
        con.execute(f"DROP TABLE {marks}")
    con.execute(f"DROP TABLE {keys}")


def validate_segments(con: duckdb.DuckDBPyConnection, read: RawRead) -> str:
    """Parse ``raw_segments`` into ``parsed_segments``; quarantine failures. Returns the table name."""
    parsed = "parsed_segments"
    teams = {t: t for t in TEAMS}
    regions = {r: r for r in REGIONS}
    sizes = {s: s for s in EMPLOYEE_SIZES}
    checks = [
        _id_check(),
        Check("unknown_employee_size", "EMPLOYEE_SIZE", "size_raw <> '' AND employee_size IS NULL", "size_raw",
              f"one of {', '.join(EMPLOYEE_SIZES)} or empty"),
        Check("unknown_segment", "CUSTOMER_SEGMENT", "segment_raw <> '' AND (region IS NULL OR team IS NULL)",
              "segment_raw", f"'<{'|'.join(REGIONS)}> <{'|'.join(TEAMS)}>' (any case) or empty"),
    ]
    con.execute(
        f"""CREATE OR REPLACE TABLE {parsed} AS
        WITH r AS (SELECT line, {_trimmed({'CUSTOMER_ID': 'id_raw', 'EMPLOYEE_SIZE': 'size_raw',
                                           'CUSTOMER_SEGMENT': 'segment_raw'})} FROM {read.table}),
        p AS (
            SELECT *, normalise_id(id_raw) AS customer_id,
                {_case_map('size_raw', sizes)} AS employee_size,
                {_case_map("split_part(segment_raw, ' ', 1)", regions)} AS region,
                {_case_map("trim(substr(segment_raw, length(split_part(segment_raw, ' ', 1)) + 2))", teams)} AS team
            FROM r)
        SELECT *, CASE WHEN region IS NOT NULL AND team IS NOT NULL THEN region || ' ' || team END
                  AS customer_segment,
               {_reason_columns(checks)}
        FROM p"""
    )
    _mark_duplicates(con, parsed, ["customer_id"], ["employee_size", "customer_segment"])
    _raise_if_unusable(con, read, parsed)
    _quarantine_rows(con, read, parsed)
    return parsed


def _money_checks(parsed: str, alias: str, column: str, non_negative: bool) -> list[Check]:
    checks = [Check("unparseable_money", column, f"{alias} <> '' AND {parsed} IS NULL", alias,
                    "money like $1,440.00, 389.34, 0, -$680.00 or empty")]
    if non_negative:
        checks.append(Check("negative_mrr", column, f"{parsed} < 0", alias, "a value >= 0"))
    return checks


def validate_metadata(con: duckdb.DuckDBPyConnection, read: RawRead, today: date | None = None) -> str:
    """Parse ``raw_metadata`` into ``parsed_metadata``; quarantine failures. Returns the table name.

    Months must form one contiguous calendar run not after ``today``: rows of months
    outside the longest run (by rows) are quarantined as ``month_out_of_range``.
    """
    parsed = "parsed_metadata"
    tiers = {t: t for t in schema.TIER_RANK} | dict(schema.TIER_ALIASES)
    checks = [
        _id_check(),
        Check("invalid_month", "SNAPSHOT_MONTH", "month IS NULL", "month_raw", "a month YYYY-MM (01-12)"),
        Check("unknown_tier", "PRODUCT_TIER", "tier_raw <> '' AND product_tier IS NULL", "tier_raw",
              f"one of {', '.join(tiers)} or empty"),
        Check("missing_count", "NUM_OF_INTEGRATIONS", "count_raw = ''", "count_raw", "an integer >= 0"),
        Check("negative_count", "NUM_OF_INTEGRATIONS", "regexp_full_match(count_raw, '-[0-9]+')", "count_raw",
              "an integer >= 0"),
        Check("invalid_count", "NUM_OF_INTEGRATIONS", "NOT regexp_full_match(count_raw, '[0-9]+')", "count_raw",
              "an integer >= 0"),
        Check("count_out_of_range", "NUM_OF_INTEGRATIONS",
              f"length(ltrim(count_raw, '0')) > 6 OR TRY_CAST(count_raw AS BIGINT) > {MAX_INTEGRATIONS}", "count_raw",
              f"an integer between 0 and {MAX_INTEGRATIONS}"),
    ]
    checks += _money_checks("mrr_bom", "bom_raw", "CUSTOMER_VALUE_BEGINNING_OF_MONTH", True)
    checks += _money_checks("mrr_eom", "eom_raw", "CUSTOMER_VALUE_END_OF_MONTH", True)
    checks += _money_checks("cancel_signed", "cancel_raw", "CUSTOMER_CANCELLATION_DOLLARS", False)
    raw_columns = {
        "CUSTOMER_ID": "id_raw", "SNAPSHOT_MONTH": "month_raw", "PRODUCT_TIER": "tier_raw",
        "NUM_OF_INTEGRATIONS": "count_raw", "CUSTOMER_VALUE_BEGINNING_OF_MONTH": "bom_raw",
        "CUSTOMER_VALUE_END_OF_MONTH": "eom_raw", "CUSTOMER_CANCELLATION_DOLLARS": "cancel_raw",
    }
    con.execute(
        f"""CREATE OR REPLACE TABLE {parsed} AS
        WITH r AS (SELECT line, {_trimmed(raw_columns)} FROM {read.table}),
        p AS (
            SELECT *, normalise_id(id_raw) AS customer_id,
                CASE WHEN regexp_full_match(month_raw, '[0-9]{{4}}-(0[1-9]|1[0-2])') THEN month_raw END AS month,
                {_case_map('tier_raw', tiers)} AS product_tier,
                TRY_CAST(count_raw AS INTEGER) AS n_integrations,
                parse_money(bom_raw) AS mrr_bom, parse_money(eom_raw) AS mrr_eom,
                parse_money(cancel_raw) AS cancel_signed
            FROM r)
        SELECT *, {_reason_columns(checks)}
        FROM p"""
    )
    _mark_month_range(con, parsed, today or date.today())
    _mark_duplicates(con, parsed, ["customer_id", "month"],
                     ["product_tier", "n_integrations", "mrr_bom", "mrr_eom", "cancel_signed"])
    _raise_if_unusable(con, read, parsed)
    _quarantine_rows(con, read, parsed)
    return parsed


def month_number(month: str) -> int:
    """``"YYYY-MM"`` -> months since year 0 (consecutive months differ by 1)."""
    year, mon = month.split("-")[:2]
    return int(year) * 12 + int(mon) - 1


def main_month_run(month_rows: dict[str, int], today: date) -> list[str]:
    """The longest run of consecutive calendar months (most rows; ties: latest), none after ``today``."""
    current = today.year * 12 + today.month - 1
    months = sorted(m for m in month_rows if month_number(m) <= current)
    runs: list[list[str]] = []
    for month in months:
        if runs and month_number(month) == month_number(runs[-1][-1]) + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    if not runs:
        return []
    return max(runs, key=lambda run: (sum(month_rows[m] for m in run), run[-1]))


def _mark_month_range(con: duckdb.DuckDBPyConnection, parsed: str, today: date) -> None:
    month_rows = dict(con.execute(f"SELECT month, count(*) FROM {parsed} WHERE reason IS NULL GROUP BY month").fetchall())
    run = main_month_run(month_rows, today)
    if len(run) == len(month_rows):
        return
    if run:
        expected, first, last = f"a month in the contiguous range {run[0]}..{run[-1]} of the data", run[0], run[-1]
    else:  # every month is after today: none is in range ('' is below every month)
        expected, first, last = f"a month not after today ({today:%Y-%m})", "", ""
    con.execute(
        f"""UPDATE {parsed} SET reason = 'month_out_of_range', reason_column = 'SNAPSHOT_MONTH',
            reason_value = month_raw, expected = ?
            WHERE reason IS NULL AND (month < ? OR month > ?)""",
        [expected, first, last],
    )


def validate_integrations(con: duckdb.DuckDBPyConnection, read: RawRead, metadata: str) -> str:
    """Parse ``raw_integrations`` into ``parsed_integrations``; quarantine failures.

    Integration rows whose month lies outside the metadata's months are
    ``month_out_of_range``; those without a kept metadata row for the
    customer-month are ``orphan_no_metadata`` (kept out of the fact table).
    """
    parsed = "parsed_integrations"
    months = [m for (m,) in con.execute(f"SELECT DISTINCT month FROM {metadata} WHERE reason IS NULL").fetchall()]
    first, last = (min(months), max(months)) if months else ("", "")
    checks = [
        _id_check(),
        Check("invalid_month", "SNAPSHOT_MONTH", "month IS NULL", "month_raw", "a date YYYY-MM-DD"),
        Check("month_out_of_range", "SNAPSHOT_MONTH", f"month < '{first}' OR month > '{last}'", "month_raw",
              f"a month in the range {first}..{last} of customer_metadata.csv"),
        Check("missing_integration_id", "INTEGRATION_ID", "integration_raw = ''", "integration_raw",
              "an integer marketplace ID or a Custom... ID"),
        Check("malformed_integration_id", "INTEGRATION_ID", "integration_kind IS NULL", "integration_raw",
              "an integer marketplace ID or a Custom... ID"),
        Check("orphan_no_metadata", "CUSTOMER_ID", "NOT has_metadata", "concat_ws(' ', customer_id, month)",
              "a customer-month present in customer_metadata.csv"),
    ]
    con.execute(
        f"""CREATE OR REPLACE TABLE {parsed} AS
        WITH r AS (SELECT line, {_trimmed({'INTEGRATION_ID': 'integration_raw', 'CUSTOMER_ID': 'id_raw',
                                           'SNAPSHOT_MONTH': 'month_raw'})} FROM {read.table}),
        p AS (
            SELECT *, normalise_id(id_raw) AS customer_id,
                CASE WHEN regexp_full_match(month_raw, '[0-9]{{4}}-(0[1-9]|1[0-2])-[0-9]{{2}}')
                          AND try_strptime(month_raw, '%Y-%m-%d') IS NOT NULL THEN left(month_raw, 7) END AS month,
                integration_raw AS integration_id,
                CASE WHEN regexp_full_match(integration_raw, '[0-9]+') THEN 'marketplace'
                     WHEN regexp_full_match(integration_raw, '(?i)custom.*') THEN 'custom' END AS integration_kind
            FROM r),
        keys AS (SELECT DISTINCT customer_id, month, true AS has_metadata FROM {metadata} WHERE reason IS NULL),
        j AS (SELECT p.*, coalesce(keys.has_metadata, false) AS has_metadata
              FROM p LEFT JOIN keys ON p.customer_id = keys.customer_id AND p.month = keys.month)
        SELECT * EXCLUDE (has_metadata), {_reason_columns(checks)}
        FROM j"""
    )
    _mark_duplicates(con, parsed, ["customer_id", "month", "integration_id"], [])
    orphans, total = con.execute(
        f"SELECT count(*) FILTER (WHERE reason = 'orphan_no_metadata'), count(*) FROM {parsed}"
    ).fetchone()
    if orphans > UNUSABLE_SHARE * read.rows_read:
        line = con.execute(f"SELECT min(line) FROM {parsed} WHERE reason = 'orphan_no_metadata'").fetchone()[0]
        raise InputError(
            read.spec.file_name, line, "CUSTOMER_ID",
            f"expected integration rows to match customer-months of customer_metadata.csv; "
            f"{orphans} of {read.rows_read} rows do not (do the customer IDs or months use another format?)",
        )
    _raise_if_unusable(con, read, parsed)
    _quarantine_rows(con, read, parsed)
    return parsed
