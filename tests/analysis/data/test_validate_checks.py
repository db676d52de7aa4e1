"""Every row check of the validator, one raw value at a time, as the quarantine records it.

The malformed corpus (``malformed/cases.py``) runs the whole pipeline on a few cases; several
checks are triggered by none of them (``missing_count``, ``invalid_count``, ``count_out_of_range``,
``negative_mrr``, ``unknown_employee_size``, ``missing_integration_id``, ...). Here each check gets
one bad value in an otherwise valid file of the tiny base set, and the quarantine row is compared
field by field with docs/data_model.md's rule: the file, the physical line, the reason, the column
the data engineer has to look at, the offending value as written (trimmed) and the expectation.
The rule that makes a file unusable (more than half of its rows failing one check; no row left)
is tested at its boundary, with the error's line, column and message.

Every test calls the validator itself (no shared fixture), so mutmut attributes it to the
functions it exercises.
"""
from __future__ import annotations

import csv
import io
from datetime import date

import duckdb
import pytest

from analysis.data import validate
from analysis.data.load import INTEGRATIONS, METADATA, SEGMENTS, read_raw_table, scan_raw_file
from analysis.errors import InputError
from tests.analysis.data.rawdata import MONTHS, base_lines, find_line, lines_to_bytes

SEG, META, INTEG = SEGMENTS.file_name, METADATA.file_name, INTEGRATIONS.file_name
TODAY = date(2021, 6, 1)  # after the base set's months (2019-11..2020-02)

ID_EXPECTED = "'H' followed by 1 to 8 digits"
COUNT_EXPECTED = "an integer >= 0"
MONEY_EXPECTED = "money like $1,440.00, 389.34, 0, -$680.00 or empty"
INTEGRATION_ID_EXPECTED = "an integer marketplace ID or a Custom... ID"
BOM, EOM, CANCEL = ("CUSTOMER_VALUE_BEGINNING_OF_MONTH", "CUSTOMER_VALUE_END_OF_MONTH",
                    "CUSTOMER_CANCELLATION_DOLLARS")


def _fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def _line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def _with_field(lines: list[str], number: int, index: int, value: str) -> list[str]:
    edited = list(lines)
    fields = _fields(edited[number - 1])
    fields[index] = value
    edited[number - 1] = _line(fields)
    return edited


def _read(con, tmp_path, spec, lines: list[str]):
    path = tmp_path / spec.file_name
    path.write_bytes(lines_to_bytes(lines))
    return read_raw_table(con, path, spec, scan_raw_file(path, spec), f"raw_{spec.role}")


def _connection():
    con = duckdb.connect()
    validate.register_macros(con)
    return con


def _quarantine(con) -> list[tuple]:
    return con.execute('SELECT file, line, reason, "column", value, expected FROM quarantine ORDER BY file, line'
                       ).fetchall()


def _metadata(tmp_path, lines: list[str], today: date = TODAY):
    con = _connection()
    parsed = validate.validate_metadata(con, _read(con, tmp_path, METADATA, lines), today=today)
    return con, parsed


def _segments(tmp_path, lines: list[str]):
    con = _connection()
    parsed = validate.validate_segments(con, _read(con, tmp_path, SEGMENTS, lines))
    return con, parsed


def _integrations(tmp_path, lines: list[str], metadata_lines: list[str] | None = None):
    con = _connection()
    (tmp_path / "meta").mkdir()
    metadata = validate.validate_metadata(
        con, _read(con, tmp_path / "meta", METADATA, metadata_lines or base_lines()[META]), today=TODAY)
    con.execute("DELETE FROM quarantine")  # only the integration rows' entries below
    parsed = validate.validate_integrations(con, _read(con, tmp_path, INTEGRATIONS, lines), metadata)
    return con, parsed


# ---------------------------------------------------------------- metadata: one bad value per case

# (field index, raw value, reason, column, expected) -- docs/data_model.md, "A row is quarantined"
METADATA_CHECKS = [
    (0, "X00100101", "malformed_id", "CUSTOMER_ID", ID_EXPECTED),
    (0, "H001001010", "malformed_id", "CUSTOMER_ID", ID_EXPECTED),  # nine digits
    (1, "2019-13", "invalid_month", "SNAPSHOT_MONTH", "a month YYYY-MM (01-12)"),
    (1, "2019-11-01", "invalid_month", "SNAPSHOT_MONTH", "a month YYYY-MM (01-12)"),
    (2, "Premium", "unknown_tier", "PRODUCT_TIER", "one of Free, Starter, Basic, Pro, Enterprise, Ent or empty"),
    (2, " Premium ", "unknown_tier", "PRODUCT_TIER", "one of Free, Starter, Basic, Pro, Enterprise, Ent or empty"),
    (3, "", "missing_count", "NUM_OF_INTEGRATIONS", COUNT_EXPECTED),
    (3, "   ", "missing_count", "NUM_OF_INTEGRATIONS", COUNT_EXPECTED),
    (3, "-2", "negative_count", "NUM_OF_INTEGRATIONS", COUNT_EXPECTED),
    (3, "2.5", "invalid_count", "NUM_OF_INTEGRATIONS", COUNT_EXPECTED),
    (3, "three", "invalid_count", "NUM_OF_INTEGRATIONS", COUNT_EXPECTED),
    (3, "1001", "count_out_of_range", "NUM_OF_INTEGRATIONS", "an integer between 0 and 1000"),
    (3, "99999999999999999999", "count_out_of_range", "NUM_OF_INTEGRATIONS", "an integer between 0 and 1000"),
    (4, "1.440,00", "unparseable_money", BOM, MONEY_EXPECTED),
    (5, "USD 5", "unparseable_money", EOM, MONEY_EXPECTED),
    (6, "(240.00)", "unparseable_money", CANCEL, MONEY_EXPECTED),
    (4, "-$5.00", "negative_mrr", BOM, "a value >= 0"),
    (5, "-1", "negative_mrr", EOM, "a value >= 0"),
]


@pytest.mark.parametrize("index, raw, reason, column, expected", METADATA_CHECKS,
                         ids=[f"{m[2]}-{m[0]}-{m[1].strip() or 'empty'}" for m in METADATA_CHECKS])
def test_a_bad_metadata_value_is_quarantined_with_its_column_value_and_expectation(
        tmp_path, index, raw, reason, column, expected):
    lines = base_lines()[META]
    number = find_line(lines, "H00100103", "2020-01")  # a plain row: Free, 1 integration, no cancellation
    con, parsed = _metadata(tmp_path, _with_field(lines, number, index, raw))
    assert _quarantine(con) == [(META, number, reason, column, raw.strip(), expected)]
    row = con.execute(f"SELECT reason, reason_column, reason_value, expected FROM {parsed} WHERE line = ?",
                      [number]).fetchone()
    assert row == (reason, column, raw.strip(), expected)
    assert con.execute(f"SELECT count(*) FROM {parsed} WHERE reason IS NULL").fetchone()[0] == len(lines) - 2


@pytest.mark.parametrize("raw, count", [("0", 0), ("1000", 1000), ("0001000", 1000), (" 7 ", 7)])
def test_counts_up_to_the_limit_are_kept(tmp_path, raw, count):
    lines = base_lines()[META]
    number = find_line(lines, "H00100103", "2020-01")
    con, parsed = _metadata(tmp_path, _with_field(lines, number, 3, raw))
    assert _quarantine(con) == []
    assert con.execute(f"SELECT n_integrations FROM {parsed} WHERE line = ?", [number]).fetchone()[0] == count


def test_a_negative_cancellation_is_not_a_negative_mrr(tmp_path):
    lines = base_lines()[META]
    number = find_line(lines, "H00100103", "2020-01")
    con, parsed = _metadata(tmp_path, _with_field(lines, number, 6, "-$5.00"))
    assert _quarantine(con) == []
    assert con.execute(f"SELECT cancel_signed FROM {parsed} WHERE line = ?", [number]).fetchone()[0] == -5.0


# ---------------------------------------------------------------- segments

SEGMENT_CHECKS = [
    (0, "H-100101", "malformed_id", "CUSTOMER_ID", ID_EXPECTED),
    (1, "1-25", "unknown_employee_size", "EMPLOYEE_SIZE", "one of 1 to 25, 26 to 200, 201 or Above, Undefined or empty"),
    (2, "NAM Retail", "unknown_segment", "CUSTOMER_SEGMENT",
     "'<NAM|International> <Low-touch|High-touch|Direct|Partner|Unowned>' (any case) or empty"),
    (2, "EMEA Direct", "unknown_segment", "CUSTOMER_SEGMENT",
     "'<NAM|International> <Low-touch|High-touch|Direct|Partner|Unowned>' (any case) or empty"),
]


@pytest.mark.parametrize("index, raw, reason, column, expected", SEGMENT_CHECKS,
                         ids=[f"{s[2]}-{s[1]}" for s in SEGMENT_CHECKS])
def test_a_bad_segment_value_is_quarantined_with_its_column_value_and_expectation(
        tmp_path, index, raw, reason, column, expected):
    lines = base_lines()[SEG]
    number = find_line(lines, "H00100103")
    con, _ = _segments(tmp_path, _with_field(lines, number, index, raw))
    assert _quarantine(con) == [(SEG, number, reason, column, raw, expected)]


def test_segment_labels_are_read_in_any_case_and_an_empty_label_is_kept(tmp_path):
    lines = base_lines()[SEG]
    edited = _with_field(_with_field(lines, 2, 1, "201 OR ABOVE"), 2, 2, "international high-TOUCH")
    edited = _with_field(_with_field(edited, 3, 1, ""), 3, 2, "")
    con, parsed = _segments(tmp_path, edited)
    assert _quarantine(con) == []
    rows = con.execute(f"SELECT line, employee_size, region, team, customer_segment FROM {parsed} "
                       "WHERE line IN (2, 3) ORDER BY line").fetchall()
    assert rows == [(2, "201 or Above", "International", "High-touch", "International High-touch"),
                    (3, None, None, None, None)]


# ---------------------------------------------------------------- integrations

INTEGRATION_CHECKS = [
    (0, "", "missing_integration_id", "INTEGRATION_ID", INTEGRATION_ID_EXPECTED),
    (0, "12a", "malformed_integration_id", "INTEGRATION_ID", INTEGRATION_ID_EXPECTED),
    (1, "H1x", "malformed_id", "CUSTOMER_ID", ID_EXPECTED),
    (2, "2020-02-30", "invalid_month", "SNAPSHOT_MONTH", "a date YYYY-MM-DD"),
    (2, "2020-01", "invalid_month", "SNAPSHOT_MONTH", "a date YYYY-MM-DD"),
    (2, "2020-03-01", "month_out_of_range", "SNAPSHOT_MONTH",
     "a month in the range 2019-11..2020-02 of customer_metadata.csv"),
    (2, "2019-10-31", "month_out_of_range", "SNAPSHOT_MONTH",
     "a month in the range 2019-11..2020-02 of customer_metadata.csv"),
]


@pytest.mark.parametrize("index, raw, reason, column, expected", INTEGRATION_CHECKS,
                         ids=[f"{i[2]}-{i[1] or 'empty'}" for i in INTEGRATION_CHECKS])
def test_a_bad_integration_value_is_quarantined_with_its_column_value_and_expectation(
        tmp_path, index, raw, reason, column, expected):
    lines = base_lines()[INTEG]
    con, _ = _integrations(tmp_path, _with_field(lines, 2, index, raw))
    assert _quarantine(con) == [(INTEG, 2, reason, column, raw, expected)]


def test_an_integration_row_without_its_metadata_row_is_an_orphan_named_by_customer_month(tmp_path):
    lines = base_lines()[INTEG]
    month = _fields(lines[1])[2][:7]
    con, _ = _integrations(tmp_path, _with_field(lines, 2, 1, "H100199"))
    assert _quarantine(con) == [(INTEG, 2, "orphan_no_metadata", "CUSTOMER_ID", f"H00100199 {month}",
                                 "a customer-month present in customer_metadata.csv")]


def test_integration_months_at_both_ends_of_the_metadata_are_kept(tmp_path):
    lines = base_lines()[INTEG]
    months = {_fields(line)[2][:7] for line in lines[1:]}
    assert {MONTHS[0], MONTHS[-1]} <= months  # the base set has rows in the first and the last month
    con, parsed = _integrations(tmp_path, lines)
    assert _quarantine(con) == []
    kinds = dict(con.execute(f"SELECT integration_id, integration_kind FROM {parsed}").fetchall())
    assert all(kind == ("marketplace" if key.isdigit() else "custom") for key, kind in kinds.items())
    assert {kind for kind in kinds.values()} == {"marketplace", "custom"}


# ---------------------------------------------------------------- duplicates

SEG_KEY = "one row per key (customer_id)"


@pytest.mark.parametrize("appended, reasons, expected", [
    ("H00100101,1 to 25,NAM Low-Touch", {10: "exact_duplicate"}, f"{SEG_KEY}; a row with the same values came earlier"),
    ("H100101,1 to 25,NAM Low-Touch", {10: "duplicate_after_id_normalisation"},
     f"{SEG_KEY}; a row with the same values came earlier"),
    ("H00100101,26 to 200,NAM Low-Touch", {2: "conflicting_duplicate", 10: "conflicting_duplicate"},
     f"{SEG_KEY}; rows with this key disagree"),
    ("H100101,26 to 200,NAM Low-Touch", {2: "ambiguous_id", 10: "ambiguous_id"},
     f"{SEG_KEY}; differently written IDs normalise to this key and disagree"),
], ids=["exact", "after_normalisation", "conflicting", "ambiguous"])
def test_a_duplicate_segment_row_names_its_key(tmp_path, appended, reasons, expected):
    lines = base_lines()[SEG]
    assert _fields(lines[1])[0] == "H00100101" and len(lines) == 9
    con, _ = _segments(tmp_path, lines + [appended])
    assert _quarantine(con) == [(SEG, line, reason, "CUSTOMER_ID", "H00100101", expected)
                                for line, reason in sorted(reasons.items())]


def test_a_duplicate_metadata_row_names_its_customer_month(tmp_path):
    lines = base_lines()[META]
    number = find_line(lines, "H00100103", "2020-01")
    conflicting = _with_field(lines[number - 1:number], 1, 3, "9")[0]
    con, _ = _metadata(tmp_path, lines + [lines[number - 1], conflicting.replace("H00100103", "H100103")])
    key = "one row per key (customer_id, month)"
    n = len(lines)
    assert _quarantine(con) == [
        (META, number, "ambiguous_id", "CUSTOMER_ID", "H00100103 2020-01",
         f"{key}; differently written IDs normalise to this key and disagree"),
        (META, n + 1, "ambiguous_id", "CUSTOMER_ID", "H00100103 2020-01",
         f"{key}; differently written IDs normalise to this key and disagree"),
        (META, n + 2, "ambiguous_id", "CUSTOMER_ID", "H00100103 2020-01",
         f"{key}; differently written IDs normalise to this key and disagree"),
    ]


def test_a_repeated_integration_row_is_an_exact_duplicate_of_its_customer_month_and_id(tmp_path):
    lines = base_lines()[INTEG]
    integration_id, customer, day = _fields(lines[1])
    con, _ = _integrations(tmp_path, lines + [lines[1]])
    assert _quarantine(con) == [
        (INTEG, len(lines) + 1, "exact_duplicate", "CUSTOMER_ID", f"{customer} {day[:7]} {integration_id}",
         "one row per key (customer_id, month, integration_id); a row with the same values came earlier")]


# ---------------------------------------------------------------- months of the metadata

def test_months_after_today_are_out_of_range(tmp_path):
    lines = base_lines()[META]
    con, _ = _metadata(tmp_path, lines, today=date(2020, 1, 31))
    entries = _quarantine(con)
    last = [n for n, line in enumerate(lines, start=1) if n > 1 and _fields(line)[1] == MONTHS[-1]]
    assert [e[1] for e in entries] == last
    assert {e[2:] for e in entries} == {("month_out_of_range", "SNAPSHOT_MONTH", MONTHS[-1],
                                         f"a month in the contiguous range {MONTHS[0]}..{MONTHS[-2]} of the data")}


def test_the_current_month_is_in_range(tmp_path):
    con, _ = _metadata(tmp_path, base_lines()[META], today=date(2020, 2, 1))
    assert _quarantine(con) == []


@pytest.mark.parametrize("month_rows, today, run", [
    ({}, date(2021, 1, 1), []),
    ({"2019-12": 1, "2020-01": 1}, date(2021, 1, 1), ["2019-12", "2020-01"]),  # across a year end
    ({"2020-01": 5, "2020-02": 5, "2020-04": 5, "2020-05": 5}, date(2021, 1, 1), ["2020-04", "2020-05"]),  # tie: latest
    ({"2020-01": 3, "2020-02": 3, "2020-04": 5}, date(2021, 1, 1), ["2020-01", "2020-02"]),  # most rows
    ({"2020-05": 1, "2020-01": 2, "2020-03": 2, "2020-02": 2}, date(2021, 1, 1), ["2020-01", "2020-02", "2020-03"]),
    ({"2020-01": 1, "2020-02": 1, "2020-03": 10}, date(2020, 2, 15), ["2020-01", "2020-02"]),  # none after today
    ({"2020-03": 10}, date(2020, 2, 29), []),
    ({"2020-02": 1, "2020-03": 1}, date(2020, 3, 1), ["2020-02", "2020-03"]),  # today's month counts
])
def test_main_month_run(month_rows, today, run):
    assert validate.main_month_run(month_rows, today) == run


def test_month_number_counts_consecutive_months_and_ignores_a_day():
    assert validate.month_number("2020-01") - validate.month_number("2019-12") == 1
    assert validate.month_number("2020-12") - validate.month_number("2020-01") == 11
    assert validate.month_number("0001-01") == 12
    assert validate.month_number("2020-08-15") == validate.month_number("2020-08") == 2020 * 12 + 7


# ---------------------------------------------------------------- loader rejects in the quarantine

def test_a_rejected_record_is_quarantined_with_the_loaders_line_column_and_text(tmp_path):
    lines = base_lines()[SEG]
    number = find_line(lines, "H00100103")
    edited = list(lines)
    edited[number - 1] = "H00100103,1 to 25"
    con, _ = _segments(tmp_path, edited)
    assert _quarantine(con) == [(SEG, number, "wrong_field_count", "CUSTOMER_SEGMENT", "H00100103,1 to 25",
                                 "3 comma-separated fields (Expected Number of Columns: 3 Found: 2)")]


# ---------------------------------------------------------------- unusable files

META_HEADER = ",".join(METADATA.columns)
SEG_HEADER = ",".join(SEGMENTS.columns)


def _metadata_rows(counts: list[str], tier: str = "Pro") -> list[str]:
    """A metadata file of one month, one customer per row, with these integration counts."""
    return [META_HEADER] + [f"H{i:08d},2020-01,{tier},{count},$10.00,$10.00," for i, count in enumerate(counts, 1)]


def _raises(function, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as raised:
        function(*args, **kwargs)
    return raised.value


def test_a_check_failed_by_most_rows_makes_the_file_unusable(tmp_path):
    error = _raises(_metadata, tmp_path, _metadata_rows(["1", "three", "x", "three", "2"]))
    assert (error.file, error.line, error.column) == (META, 3, "NUM_OF_INTEGRATIONS")
    assert error.expected == ("expected an integer >= 0; found 'three' (invalid_count on 3 of 5 rows: "
                              "the file is not in the expected format)")


def test_a_check_failed_by_exactly_half_the_rows_quarantines_them(tmp_path):
    con, parsed = _metadata(tmp_path, _metadata_rows(["1", "three", "x", "2"]))
    assert [(e[1], e[2]) for e in _quarantine(con)] == [(3, "invalid_count"), (4, "invalid_count")]


def test_an_unusable_files_value_is_cut_to_sixty_characters(tmp_path):
    tier = "Z" * 70
    error = _raises(_metadata, tmp_path, _metadata_rows(["1", "1", "1"], tier=tier))
    assert (error.line, error.column) == (2, "PRODUCT_TIER")
    assert f"found '{'Z' * 60}' (unknown_tier on 3 of 3 rows" in error.expected


def test_an_unusable_files_customer_id_is_not_shown(tmp_path):
    lines = [SEG_HEADER, "X1,1 to 25,NAM Direct", "H2,1 to 25,NAM Direct", "X3,1 to 25,NAM Direct",
             "X4,1 to 25,NAM Direct"]
    error = _raises(_segments, tmp_path, lines)
    assert (error.file, error.line, error.column) == (SEG, 2, "CUSTOMER_ID")
    assert error.expected == (f"expected {ID_EXPECTED}; found something else (value not shown: it may identify "
                              "a customer) (malformed_id on 3 of 4 rows: the file is not in the expected format)")
    assert "X1" not in str(error)


def test_a_file_whose_records_mostly_do_not_split_is_unusable(tmp_path):
    lines = [SEG_HEADER, "H1,1 to 25,NAM Direct", "H2,1 to 25", "H3", "H4,1 to 25", "H5,1 to 25,NAM Direct"]
    error = _raises(_segments, tmp_path, lines)
    # the first rejected line, its column and expectation (not the second's: 1 field, EMPLOYEE_SIZE)
    assert (error.file, error.line, error.column) == (SEG, 3, "CUSTOMER_SEGMENT")
    assert error.expected == ("expected 3 comma-separated fields (Expected Number of Columns: 3 Found: 2); "
                              "found something else (value not shown: it may identify a customer) "
                              "(wrong_field_count on 3 of 5 rows: the file is not in the expected format)")


def test_a_file_without_a_usable_row_names_its_largest_value_check(tmp_path):
    lines = [SEG_HEADER, "H1,1-25,NAM Direct", "H2,1 to 25,NAM Retail", "H3,1 to 25,NAM Retail",
             "H4,1 to 25,NAM Retail", "X5,1 to 25,NAM Direct", "X6,1 to 25,NAM Direct"]
    error = _raises(_segments, tmp_path, lines)  # 3 of 6 is not most rows: no check alone makes it unusable
    assert (error.file, error.line, error.column) == (SEG, 3, "CUSTOMER_SEGMENT")
    assert error.expected == "expected at least one usable row; every row was quarantined (first: unknown_segment)"


def test_a_file_without_a_usable_row_breaks_a_tie_by_the_first_line(tmp_path):
    lines = [SEG_HEADER, "H1,1 to 25,NAM Retail", "H2,1-25,NAM Direct", "H3,1-25,NAM Direct", "H4,1 to 25,NAM Retail"]
    error = _raises(_segments, tmp_path, lines)
    assert (error.line, error.column) == (2, "CUSTOMER_SEGMENT")
    assert error.expected.endswith("(first: unknown_segment)")


def test_a_file_without_a_usable_row_prefers_a_value_check_over_duplicates(tmp_path):
    lines = [SEG_HEADER, "H1,1 to 25,NAM Direct", "H1,26 to 200,NAM Direct", "H1,Undefined,NAM Direct",
             "H2,1-25,NAM Direct"]
    error = _raises(_segments, tmp_path, lines)
    assert (error.file, error.line, error.column) == (SEG, 5, "EMPLOYEE_SIZE")
    assert error.expected.endswith("(first: unknown_employee_size)")


def test_a_file_of_duplicates_only_names_the_duplicates(tmp_path):
    lines = [SEG_HEADER, "H1,1 to 25,NAM Direct", "H1,26 to 200,NAM Direct"]
    error = _raises(_segments, tmp_path, lines)
    assert (error.file, error.line, error.column) == (SEG, 2, "CUSTOMER_ID")
    assert error.expected == ("expected at least one usable row; every row was quarantined "
                              "(first: conflicting_duplicate)")


def test_integrations_mostly_without_metadata_are_an_error_naming_the_first(tmp_path):
    lines = base_lines()[INTEG]
    header, rows = lines[0], lines[1:5]
    edited = [header, rows[0]] + [_with_field([r], 1, 1, "H00100999")[0] for r in rows[1:4]]
    error = _raises(_integrations, tmp_path, edited)
    assert (error.file, error.line, error.column) == (INTEG, 3, "CUSTOMER_ID")
    assert error.expected == ("expected integration rows to match customer-months of customer_metadata.csv; "
                              "3 of 4 rows do not (do the customer IDs or months use another format?)")


def test_integrations_half_without_metadata_are_quarantined(tmp_path):
    lines = base_lines()[INTEG]
    header, rows = lines[0], lines[1:5]
    edited = [header, rows[0], rows[1]] + [_with_field([r], 1, 1, "H00100999")[0] for r in rows[2:4]]
    con, _ = _integrations(tmp_path, edited)
    assert [(e[1], e[2]) for e in _quarantine(con)] == [(4, "orphan_no_metadata"), (5, "orphan_no_metadata")]


def test_an_unusable_files_malformed_quoting_is_not_shown(tmp_path):
    lines = [SEG_HEADER, 'H1,"1 to 25"x,NAM Direct', 'H2,"26 to 200"y,NAM Direct', "H3,1 to 25,NAM Direct"]
    error = _raises(_segments, tmp_path, lines)
    assert (error.file, error.line) == (SEG, 2)
    assert "found something else (value not shown: it may identify a customer) (malformed_quoting on 2 of 3 rows" \
        in error.expected
    assert "H1" not in str(error)


def test_an_unusable_files_empty_value_is_shown_as_empty(tmp_path):
    error = _raises(_metadata, tmp_path, _metadata_rows(["", "", "1"]))
    assert (error.line, error.column) == (2, "NUM_OF_INTEGRATIONS")
    assert error.expected == ("expected an integer >= 0; found '' (missing_count on 2 of 3 rows: "
                              "the file is not in the expected format)")


def test_each_validator_returns_its_parsed_table(tmp_path):
    # the module's contract: raw_<role> becomes parsed_<role>, and the validator returns that name
    con = _connection()
    for spec, folder in ((SEGMENTS, "s"), (METADATA, "m"), (INTEGRATIONS, "i")):
        (tmp_path / folder).mkdir()
    segments = validate.validate_segments(con, _read(con, tmp_path / "s", SEGMENTS, base_lines()[SEG]))
    metadata = validate.validate_metadata(con, _read(con, tmp_path / "m", METADATA, base_lines()[META]), today=TODAY)
    integrations = validate.validate_integrations(
        con, _read(con, tmp_path / "i", INTEGRATIONS, base_lines()[INTEG]), metadata)
    assert (segments, metadata, integrations) == ("parsed_segments", "parsed_metadata", "parsed_integrations")
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"parsed_segments", "parsed_metadata", "parsed_integrations", "quarantine"} <= tables


def test_a_metadata_file_entirely_after_today_is_refused(tmp_path):
    # docs/data_model.md: a month after today is month_out_of_range; when every month is, no row is usable
    lines = base_lines()[META]
    con = _connection()
    with pytest.raises(InputError) as raised:
        validate.validate_metadata(con, _read(con, tmp_path, METADATA, lines), today=date(2019, 10, 31))
    assert (raised.value.file, raised.value.line, raised.value.column) == (META, 2, "SNAPSHOT_MONTH")
    assert raised.value.expected == ("expected at least one usable row; every row was quarantined "
                                     "(first: month_out_of_range)")
    marked = con.execute("SELECT DISTINCT reason, reason_column, expected FROM parsed_metadata").fetchall()
    assert marked == [("month_out_of_range", "SNAPSHOT_MONTH", "a month not after today (2019-10)")]
    assert con.execute("SELECT count(*) FROM parsed_metadata WHERE reason_value <> month_raw").fetchone()[0] == 0
