"""Read the three raw extracts with DuckDB, every column as text, keeping line numbers.

Two passes per file:

1. :func:`scan_raw_file`, a byte-level pass in Python: the header (names, separator,
   UTF-8 byte-order mark), the encoding (strict UTF-8; the line of the first bad byte
   is reported), physical line count and blank lines.
2. :func:`read_raw_table`, DuckDB's parallel CSV reader with every column as
   ``VARCHAR`` (nothing is coerced) into a table with the physical ``line`` of
   each record. Records DuckDB cannot split into the header's columns (a truncated
   last line, an extra field, an unterminated quote) are returned as rejects, with
   their line, for the quarantine.

Decisions: a UTF-8 byte-order mark is accepted and noted in the checks; any other
encoding (e.g. Latin-1) is an :class:`~analysis.errors.InputError`; columns may come in
any order; names are matched after trimming whitespace, quotes and a byte-order mark; a missing
required column is an error naming it; an extra column is ignored (read as ``_ignored_<position>``,
never used) and listed in :attr:`RawScan.ignored_columns` for the ledger.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from analysis import paths
from analysis.errors import InputError

_CHUNK_BYTES = 1 << 24
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class RawFileSpec:
    """One raw extract: its role, file name and the exact header columns."""

    role: str
    file_name: str
    columns: tuple[str, ...]


SEGMENTS = RawFileSpec("segments", paths.SEGMENTS_CSV, ("CUSTOMER_ID", "EMPLOYEE_SIZE", "CUSTOMER_SEGMENT"))
METADATA = RawFileSpec(
    "metadata",
    paths.METADATA_CSV,
    (
        "CUSTOMER_ID",
        "SNAPSHOT_MONTH",
        "PRODUCT_TIER",
        "NUM_OF_INTEGRATIONS",
        "CUSTOMER_VALUE_BEGINNING_OF_MONTH",
        "CUSTOMER_VALUE_END_OF_MONTH",
        "CUSTOMER_CANCELLATION_DOLLARS",
    ),
)
INTEGRATIONS = RawFileSpec("integrations", paths.INTEGRATIONS_CSV, ("INTEGRATION_ID", "CUSTOMER_ID", "SNAPSHOT_MONTH"))
RAW_SPECS = (SEGMENTS, METADATA, INTEGRATIONS)


@dataclass
class RawScan:
    """What the byte-level pass found in one file."""

    file_name: str
    header: tuple[str, ...]  # column names in file order
    has_bom: bool
    total_lines: int  # physical lines, header included
    blank_lines: list[int] = field(default_factory=list)  # 1-based line numbers of empty lines
    ignored_columns: list[str] = field(default_factory=list)  # extra columns, as named in the header

    @property
    def data_lines(self) -> int:
        """Non-empty lines after the header: the rows read."""
        return self.total_lines - 1 - len(self.blank_lines)


@dataclass
class RawRead:
    """A raw file loaded into DuckDB table ``table`` (columns ``line`` + the header, all text)."""

    spec: RawFileSpec
    scan: RawScan
    table: str
    rows_accepted: int
    rejects: list[dict]  # {line, reason, column, value, expected}

    @property
    def rows_read(self) -> int:
        return self.scan.data_lines


def _header_error(name: str, expected: tuple[str, ...], found: str) -> InputError:
    what = "an empty line" if not found.strip() else "a line without commas"
    return InputError(name, 1, None, f"expected the header '{','.join(expected)}'; found {what}")


IGNORED_PREFIX = "_ignored_"


def _clean_name(column: str) -> str:
    return column.strip().strip('"').strip().lstrip("\ufeff").strip()


def _check_header(name: str, spec: RawFileSpec, first_line: bytes) -> tuple[tuple[str, ...], bool, list[str]]:
    has_bom = first_line.startswith(_BOM)
    raw = first_line[len(_BOM):] if has_bom else first_line
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise InputError(name, 1, None, "expected a UTF-8 header line; found bytes that are not UTF-8") from None
    if not text.strip():
        raise _header_error(name, spec.columns, text)
    if "," not in text and len(spec.columns) > 1:
        for separator, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if separator in text:
                raise InputError(name, 1, None, f"expected comma-separated columns; found {label} as the separator")
        raise _header_error(name, spec.columns, text)
    found = tuple(_clean_name(c) for c in next(csv.reader([text])))
    if any(re.fullmatch(r"[Hh]\d{1,8}", column) for column in found):
        raise InputError(name, 1, None, f"expected the header '{','.join(spec.columns)}'; "
                                        "found a data row (the header line is missing)")
    known = [c for c in found if c in spec.columns]
    if len(set(known)) != len(known):
        duplicated = sorted({c for c in known if known.count(c) > 1})[0]
        raise InputError(name, 1, duplicated, "expected each column once; found it twice")
    for column in spec.columns:
        if column not in found:
            unknown = [c for c in found if c not in spec.columns]
            hint = f" (found an unexpected column '{unknown[0]}': renamed?)" if unknown else ""
            raise InputError(name, 1, column, f"expected column {column} in the header; it is missing{hint}")
    ignored = [column or f"#{position}" for position, column in enumerate(found, start=1)
               if column not in spec.columns]
    header = tuple(c if c in spec.columns else f"{IGNORED_PREFIX}{position}"
                   for position, c in enumerate(found, start=1))
    return header, has_bom, ignored


def _encoding_error(name: str, header: tuple[str, ...], line_no: int, line: bytes, bad: int) -> InputError:
    fields = next(csv.reader([line.decode("latin-1").rstrip("\r\n")]), [])
    column = None
    for index, value in enumerate(fields):
        if any(ord(ch) > 127 for ch in value):
            column = header[index] if index < len(header) else f"#{index + 1}"
            break
    return InputError(
        name, line_no, column,
        f"expected UTF-8 text; found byte 0x{bad:02X} (the file looks Latin-1/Windows-1252 encoded: re-export it as UTF-8)",
    )


def _blank_lines_in(block: bytes, first_line_no: int) -> list[int]:
    """Line numbers of empty lines in a block of complete lines starting at a line start."""
    blanks = []
    if block.startswith((b"\n", b"\r\n")):
        blanks.append(first_line_no)
    for pattern in (b"\n\n", b"\n\r\n"):
        start = block.find(pattern)
        while start != -1:
            blanks.append(first_line_no + block.count(b"\n", 0, start) + 1)
            start = block.find(pattern, start + 1)
    return sorted(set(blanks))


_BARE_CR = re.compile(rb"\r(?!\n)")


def _bare_carriage_return_error(name: str, header: tuple[str, ...], block: bytes, first_line_no: int
                                ) -> InputError | None:
    """The error for the first carriage return not followed by a line feed outside quotes in ``block``, or None.

    A CR alone ends a line in old Mac files and is nowhere a line end the loader or DuckDB's
    reader accepts; inside a quoted value it is data and stays.
    """
    for match in _BARE_CR.finditer(block):
        start = block.rfind(b"\n", 0, match.start()) + 1
        before = block[start: match.start()]
        if before.count(b'"') % 2:  # inside a quoted value
            continue
        line_no = first_line_no + block.count(b"\n", 0, match.start())
        field_no = before.count(b",")
        column = header[field_no] if line_no > 1 and field_no < len(header) else None
        return InputError(name, line_no, column,
                          f"expected lines ending in a line feed (LF or CRLF); found a carriage return alone after "
                          f"{len(before)} bytes of the line (old Mac line endings? save the file with LF or CRLF)")
    return None


def scan_raw_file(path: Path, spec: RawFileSpec) -> RawScan:
    """Check header and encoding of one raw file and count its lines.

    Parameters
    ----------
    path : Path
        The CSV file.
    spec : RawFileSpec
        Expected columns.

    Returns
    -------
    RawScan

    Raises
    ------
    InputError
        Missing or empty file, bad header (missing, renamed or extra column, wrong
        separator), bytes that are not UTF-8, a carriage return alone (not before a line
        feed, outside quotes), or no data row after the header.
    """
    name = spec.file_name
    path = Path(path)
    if path.is_dir():
        raise InputError(name, None, None, f"expected a file in {path.parent}; found a folder of that name")
    if path.is_symlink() and not path.exists():
        raise InputError(name, None, None, f"expected a file in {path.parent}; found a broken symbolic link")
    if path.exists() and not path.is_file():
        raise InputError(name, None, None, f"expected a regular file in {path.parent}; found a pipe, socket or device")
    if not path.is_file():
        raise InputError(name, None, None, f"expected the file in {path.parent}; it does not exist")
    if path.stat().st_size == 0:
        raise InputError(name, 1, None, f"expected a header line '{','.join(spec.columns)}'; found an empty file (0 bytes)")
    header: tuple[str, ...] = ()
    has_bom = False
    ignored: list[str] = []
    lines_done = 0  # complete lines processed so far
    blanks: list[int] = []
    carry = b""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputError(name, None, None, f"expected a readable file; cannot open it ({error.strerror})") from None
    with handle:
        while True:
            data = handle.read(_CHUNK_BYTES)
            buffer = carry + data
            if not data:
                complete, carry = buffer, b""
            else:
                cut = buffer.rfind(b"\n")
                if cut == -1:
                    # no line end yet: a CR alone here would make the carry the whole file (old Mac files)
                    bare = _bare_carriage_return_error(name, header, buffer[:-1], lines_done + 1)
                    if bare is not None:
                        raise bare
                    carry = buffer
                    continue
                complete, carry = buffer[: cut + 1], buffer[cut + 1:]
            if not complete:
                break
            if lines_done == 0:
                bare = _bare_carriage_return_error(name, (), complete[: complete.find(b"\n") + 1 or len(complete)], 1)
                if bare is not None:  # in the header line: before the header can be read
                    raise bare
                end = complete.find(b"\n")
                first = complete if end == -1 else complete[: end + 1]
                header, has_bom, ignored = _check_header(name, spec, first)
            bare = _bare_carriage_return_error(name, header, complete, lines_done + 1)
            if bare is not None:
                raise bare
            try:
                complete.decode("utf-8")
            except UnicodeDecodeError as error:
                start = complete.rfind(b"\n", 0, error.start) + 1
                end = complete.find(b"\n", error.start)
                line_no = lines_done + complete.count(b"\n", 0, error.start) + 1
                bad_line = complete[start: end if end != -1 else len(complete)]
                raise _encoding_error(name, header, line_no, bad_line, complete[error.start]) from None
            blanks.extend(b for b in _blank_lines_in(complete, lines_done + 1) if b > 1)
            lines_done += complete.count(b"\n") + (0 if complete.endswith(b"\n") else 1)
            if not data:
                break
    scan = RawScan(name, header, has_bom, lines_done, blanks, ignored)
    if scan.data_lines <= 0:
        raise InputError(name, 2, None, "expected at least one data row after the header; found none")
    return scan


_REJECT_REASONS = {
    "MISSING COLUMNS": "wrong_field_count",
    "TOO MANY COLUMNS": "wrong_field_count",
    "UNQUOTED VALUE": "malformed_quoting",
    "INVALID ENCODING": "invalid_encoding",
    "INVALID UNICODE": "invalid_encoding",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
}


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def read_raw_table(con: duckdb.DuckDBPyConnection, path: Path, spec: RawFileSpec, scan: RawScan,
                   table: str) -> RawRead:
    """Load one scanned file into DuckDB table ``table``: ``line`` plus every column as text.

    Records that do not split into the header's columns are left out of the
    table and returned in :attr:`RawRead.rejects` with their physical line.

    Raises
    ------
    InputError
        When records and physical lines cannot be matched (e.g. a quoted field
        running over several lines).
    """
    columns = "{" + ", ".join(f"{_sql_text(c)}: 'VARCHAR'" for c in scan.header) + "}"
    rejects_table, rejects_scan = f"{table}_rejects", f"{table}_reject_scans"
    con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS
        SELECT row_number() OVER () + 1 AS line, *
        FROM read_csv({_sql_text(Path(path))}, header = true, delim = ',', quote = '"', escape = '"',
                      auto_detect = false, columns = {columns}, store_rejects = true,
                      rejects_table = '{rejects_table}', rejects_scan = '{rejects_scan}',
                      strict_mode = true, null_padding = false, encoding = 'utf-8')"""
    )
    rows_accepted = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    reject_rows = con.execute(
        f"""SELECT line, any_value(error_type) AS error_type, any_value(column_name) AS column_name,
                   any_value(csv_line) AS csv_line, any_value(error_message) AS message
            FROM {rejects_table} GROUP BY line ORDER BY line"""
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rejects_table}")
    con.execute(f"DROP TABLE IF EXISTS {rejects_scan}")
    rejects = [
        {
            "line": int(line),
            "reason": _REJECT_REASONS.get(str(error_type), "malformed_line"),
            "column": column_name,
            "value": (csv_line or "").strip("\r\n")[:200],
            "expected": f"{len(scan.header)} comma-separated fields ({message})",
        }
        for line, error_type, column_name, csv_line, message in reject_rows
    ]
    if rows_accepted + len(rejects) != scan.data_lines:
        first = rejects[0]["line"] if rejects else None
        raise InputError(
            spec.file_name, first, None,
            f"expected one record per line; found {rows_accepted + len(rejects)} records on "
            f"{scan.data_lines} data lines (a quoted field spans lines or a quote is not closed)",
        )
    _attach_line_numbers(con, table, scan, [r["line"] for r in rejects])
    return RawRead(spec, scan, table, int(rows_accepted), rejects)


def _attach_line_numbers(con: duckdb.DuckDBPyConnection, table: str, scan: RawScan, reject_lines: list[int]) -> None:
    """Correct ``line`` (record ordinal + 1) to the physical line when lines were skipped or rejected."""
    excluded = sorted(set(scan.blank_lines) | set(reject_lines))
    if not excluded:
        return
    all_lines = np.arange(2, scan.total_lines + 1, dtype=np.int64)
    kept_lines = all_lines[~np.isin(all_lines, np.asarray(excluded, dtype=np.int64))]
    line_map = pa.table({"ordinal": np.arange(2, len(kept_lines) + 2, dtype=np.int64), "physical": kept_lines})
    con.register("line_map_view", line_map)
    con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS
        SELECT m.physical AS line, t.* EXCLUDE (line)
        FROM {table} t JOIN line_map_view m ON t.line = m.ordinal ORDER BY m.physical"""
    )
    con.unregister("line_map_view")


def load_raw_files(con: duckdb.DuckDBPyConnection, data_dir: Path) -> dict[str, RawRead]:
    """Scan and load the three extracts of ``data_dir`` into tables ``raw_<role>``.

    Returns
    -------
    dict
        Role (``segments``, ``metadata``, ``integrations``) -> :class:`RawRead`.
    """
    data_dir = Path(data_dir)
    scans = {spec.role: scan_raw_file(data_dir / spec.file_name, spec) for spec in RAW_SPECS}
    return {
        spec.role: read_raw_table(con, data_dir / spec.file_name, spec, scans[spec.role], f"raw_{spec.role}")
        for spec in RAW_SPECS
    }
