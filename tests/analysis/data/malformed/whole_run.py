"""Malformed inputs fed to the whole ``python -m causal run`` (not only the loader).

Each case edits a copy of one small base data set written by the independent scenario
generator (``tests/scenarios/generator.py``, not the repository's simulator) and states what
the run must do: finish (exit 0) with a ledger entry or check, or stop with exit 2 and one
stderr line naming the file (and the line or column where it applies).
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SEG, META, INTEG = "account_segments.csv", "customer_metadata.csv", "integrations.csv"


@dataclass(frozen=True)
class Finishes:
    """Exit 0; ``check(data_quality)`` asserts the ledger entry or check the case must leave."""

    check: Callable[[dict], None]


@dataclass(frozen=True)
class Refused:
    """Exit 2 with one stderr line containing ``file`` and every phrase of ``phrases``."""

    file: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class RunCase:
    name: str
    mutate: Callable[[Path], None]
    expected: Finishes | Refused


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write(path: Path, lines: list[str], end: str = "\n") -> None:
    path.write_bytes((end.join(lines) + end).encode())


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


def _write_rows(path: Path, rows: list[list[str]], quoting=csv.QUOTE_MINIMAL) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=quoting).writerows(rows)
    path.write_text(buffer.getvalue())


def _set_field(path: Path, row: int, column: str, value: str) -> int:
    """Set ``column`` of data row ``row`` (1 = first data row); return its physical line."""
    rows = _rows(path)
    rows[row][rows[0].index(column)] = value
    _write_rows(path, rows)
    return row + 1


def _entry(quality: dict, file: str) -> dict:
    return next(e for e in quality["ledger"] if e["file"] == file)


def _quarantined(file: str, reason: str, at_least: int = 1):
    def check(quality):
        entry = _entry(quality, file)
        assert entry["quarantined_by_reason"].get(reason, 0) >= at_least, entry
        assert entry["rows_read"] == entry["rows_kept"] + entry["rows_quarantined"]
    return check


def _check_passed(name: str, passed: bool, phrase: str = ""):
    def check(quality):
        found = {c["name"]: c for c in quality["checks"]}[name]
        assert found["passed"] is passed and phrase in found["detail"], found
    return check


def _nothing_quarantined(file: str):
    def check(quality):
        assert _entry(quality, file)["rows_quarantined"] == 0
    return check


# --- mutations ---------------------------------------------------------------

def _quote_all_money(d: Path) -> None:
    _write_rows(d / META, _rows(d / META), quoting=csv.QUOTE_ALL)


def _trailing_blank_lines(d: Path) -> None:
    with (d / META).open("a") as out:
        out.write("\n\n\n")


def _duplicated_header(d: Path) -> None:
    lines = _lines(d / META)
    _write(d / META, lines[:10] + [lines[0]] + lines[10:])


def _ids_with_spaces(d: Path) -> None:
    rows = _rows(d / SEG)
    for row in rows[1:6]:
        row[0] = f"  {row[0]} "
    _write_rows(d / SEG, rows)


def _integration_month_outside(d: Path) -> None:
    rows = _rows(d / INTEG)
    rows.append([rows[1][0], rows[1][1], "2031-03-01"])
    _write_rows(d / INTEG, rows)


def _negative_count(d: Path) -> None:
    _set_field(d / META, 3, "NUM_OF_INTEGRATIONS", "-2")


def _fractional_count(d: Path) -> None:
    _set_field(d / META, 4, "NUM_OF_INTEGRATIONS", "2.5")


def _header_only(d: Path) -> None:
    _write(d / META, _lines(d / META)[:1])


def _empty_file(d: Path) -> None:
    (d / INTEG).write_bytes(b"")


def _folder_instead_of_file(d: Path) -> None:
    (d / INTEG).unlink()
    (d / INTEG).mkdir()


def _broken_symlink(d: Path) -> None:
    (d / SEG).unlink()
    os.symlink(d / "no_such_file.csv", d / SEG)


def _fifo(d: Path) -> None:
    (d / SEG).unlink()
    os.mkfifo(d / SEG)


def _mixed_month_formats(d: Path) -> None:
    rows = _rows(d / META)
    column = rows[0].index("SNAPSHOT_MONTH")
    for row in rows[1:21]:
        row[column] = row[column] + "-01"
    _write_rows(d / META, rows)


def _customer_without_segment_row(d: Path) -> None:
    lines = _lines(d / SEG)
    _write(d / SEG, lines[:1] + lines[4:])


def _extra_column(d: Path) -> None:
    rows = _rows(d / SEG)
    rows[0].append("REGION_NOTE")
    for row in rows[1:]:
        row.append("note")
    _write_rows(d / SEG, rows)


def _missing_required_column(d: Path) -> None:
    rows = _rows(d / SEG)
    column = rows[0].index("CUSTOMER_SEGMENT")
    _write_rows(d / SEG, [[f for i, f in enumerate(row) if i != column] for row in rows])


def _crlf(d: Path) -> None:
    _write(d / INTEG, _lines(d / INTEG), end="\r\n")


def _header_with_bom_and_spaces(d: Path) -> None:
    lines = _lines(d / SEG)
    lines[0] = " , ".join(f" {c} " for c in lines[0].split(","))
    (d / SEG).write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode())


def _ignored_column(file: str, column: str):
    def check(quality):
        assert _entry(quality, file)["ignored_columns"] == [column]
        _check_passed(f"extra_columns:{file}", False, column)(quality)
    return check


def _segment_coverage(quality):
    coverage = quality["reconciliation"]["coverage"]
    assert coverage["metadata_customers_missing_from_segments"] == 3


RUN_CASES = [
    RunCase("quoted_money_with_commas", _quote_all_money, Finishes(_nothing_quarantined(META))),
    RunCase("trailing_blank_lines", _trailing_blank_lines,
            Finishes(_check_passed(f"blank_lines:{META}", False, "3 empty lines"))),
    RunCase("duplicated_header_line", _duplicated_header, Finishes(_quarantined(META, "malformed_id"))),
    RunCase("ids_with_surrounding_spaces", _ids_with_spaces, Finishes(_nothing_quarantined(SEG))),
    RunCase("integration_month_outside_range", _integration_month_outside,
            Finishes(_quarantined(INTEG, "month_out_of_range"))),
    RunCase("negative_integration_count", _negative_count, Finishes(_quarantined(META, "negative_count"))),
    RunCase("non_integer_integration_count", _fractional_count, Finishes(_quarantined(META, "invalid_count"))),
    RunCase("metadata_header_only", _header_only, Refused(META, ("line 2", "at least one data row"))),
    RunCase("empty_integrations_file", _empty_file, Refused(INTEG, ("line 1", "empty file"))),
    RunCase("folder_where_a_file_should_be", _folder_instead_of_file, Refused(INTEG, ("found a folder",))),
    RunCase("broken_symlink", _broken_symlink, Refused(SEG, ("broken symbolic link",))),
    RunCase("fifo_instead_of_file", _fifo, Refused(SEG, ("pipe, socket or device",))),
    RunCase("mixed_month_formats", _mixed_month_formats, Finishes(_quarantined(META, "invalid_month", 20))),
    RunCase("customers_without_segment_row", _customer_without_segment_row, Finishes(_segment_coverage)),
    RunCase("extra_column", _extra_column, Finishes(_ignored_column(SEG, "REGION_NOTE"))),
    RunCase("missing_required_column", _missing_required_column,
            Refused(SEG, ("line 1", "column CUSTOMER_SEGMENT", "is missing"))),
    RunCase("crlf_line_ends", _crlf, Finishes(_nothing_quarantined(INTEG))),
    RunCase("header_with_bom_and_spaces", _header_with_bom_and_spaces,
            Finishes(_check_passed(f"encoding:{SEG}", True, "byte-order mark"))),
]
