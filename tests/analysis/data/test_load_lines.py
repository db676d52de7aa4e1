"""The loader keeps physical line numbers and reads every column as text."""
from __future__ import annotations

import duckdb
import pytest

from analysis.errors import InputError
from analysis.data.load import METADATA, SEGMENTS, read_raw_table, scan_raw_file
from tests.analysis.data.rawdata import base_lines, lines_to_bytes


def _read(tmp_path, spec, content: bytes):
    path = tmp_path / spec.file_name
    path.write_bytes(content)
    con = duckdb.connect()
    scan = scan_raw_file(path, spec)
    return con, scan, read_raw_table(con, path, spec, scan, "raw_test")


def test_line_numbers_survive_blank_lines_and_rejected_records(tmp_path):
    lines = base_lines()[SEGMENTS.file_name]
    edited = lines[:2] + ["", "H00100199,1 to 25"] + lines[2:5] + ["", ""] + lines[5:]
    con, scan, read = _read(tmp_path, SEGMENTS, lines_to_bytes(edited))
    assert scan.blank_lines == [3, 8, 9]
    assert [r["line"] for r in read.rejects] == [4]
    assert read.rows_read == len(edited) - 1 - 3 == read.rows_accepted + len(read.rejects)
    got = con.execute("SELECT line, CUSTOMER_ID FROM raw_test ORDER BY line").fetchall()
    expected = [(n, line.split(",")[0]) for n, line in enumerate(edited, start=1)
                if n > 1 and line and n != 4]
    assert got == expected


def test_every_column_is_text_and_quoted_money_is_one_field(tmp_path):
    con, _, read = _read(tmp_path, METADATA, lines_to_bytes(base_lines()[METADATA.file_name]))
    types = {name: kind for name, kind in con.execute("SELECT column_name, column_type FROM "
                                                      "(DESCRIBE raw_test)").fetchall()}
    assert all(types[c] == "VARCHAR" for c in METADATA.columns)
    values = {v for (v,) in con.execute('SELECT "CUSTOMER_VALUE_BEGINNING_OF_MONTH" FROM raw_test').fetchall()}
    assert "$1,440.00" in values and "0" in values


def test_crlf_line_endings_are_read(tmp_path):
    lines = base_lines()[SEGMENTS.file_name]
    con, scan, read = _read(tmp_path, SEGMENTS, ("\r\n".join(lines) + "\r\n").encode())
    assert read.rows_accepted == len(lines) - 1 and not read.rejects
    segments = {v for (v,) in con.execute("SELECT CUSTOMER_SEGMENT FROM raw_test").fetchall()}
    assert not any(s.endswith("\r") for s in segments)


def test_columns_may_come_in_another_order(tmp_path):
    lines = base_lines()[SEGMENTS.file_name]
    swapped = [",".join([p[2], p[0], p[1]]) for p in (line.split(",") for line in lines)]
    con, scan, read = _read(tmp_path, SEGMENTS, lines_to_bytes(swapped))
    assert scan.header == ("CUSTOMER_SEGMENT", "CUSTOMER_ID", "EMPLOYEE_SIZE")
    first = con.execute("SELECT CUSTOMER_ID FROM raw_test WHERE line = 2").fetchone()[0]
    assert first == lines[1].split(",")[0]


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as raised:
        scan_raw_file(tmp_path / SEGMENTS.file_name, SEGMENTS)
    assert raised.value.file == SEGMENTS.file_name and "does not exist" in str(raised.value)


def test_encoding_error_found_beyond_the_first_read_chunk(tmp_path, monkeypatch):
    import analysis.data.load as load

    monkeypatch.setattr(load, "_CHUNK_BYTES", 64)  # force many chunks on a tiny file
    lines = base_lines()[SEGMENTS.file_name]
    content = lines_to_bytes(lines[:-1]) + lines[-1].replace("International", "Internat\xefonal").encode("latin-1") + b"\n"
    path = tmp_path / SEGMENTS.file_name
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        scan_raw_file(path, SEGMENTS)
    assert (raised.value.line, raised.value.column) == (len(lines), "CUSTOMER_SEGMENT")


HEADER_ERRORS = [
    # (header bytes, line, column, expected message)
    (b"\n", 1, None, "expected the header 'CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT'; found an empty line"),
    (b"   \n", 1, None, "expected the header 'CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT'; found an empty line"),
    (b"CUSTOMER_ID EMPLOYEE_SIZE\n", 1, None,
     "expected the header 'CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT'; found a line without commas"),
    (b"CUSTOMER_ID;EMPLOYEE_SIZE;CUSTOMER_SEGMENT\n", 1, None,
     "expected comma-separated columns; found semicolons as the separator"),
    (b"CUSTOMER_ID\tEMPLOYEE_SIZE\tCUSTOMER_SEGMENT\n", 1, None,
     "expected comma-separated columns; found tabs as the separator"),
    (b"CUSTOMER_ID|EMPLOYEE_SIZE|CUSTOMER_SEGMENT\n", 1, None,
     "expected comma-separated columns; found pipes as the separator"),
    (b"H00100101,1 to 25,NAM Direct\n", 1, None,
     "expected the header 'CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT'; found a data row (the header line is missing)"),
    (b"CUSTOMER_ID,EMPLOYEE_SIZE,EMPLOYEE_SIZE,CUSTOMER_SEGMENT\n", 1, "EMPLOYEE_SIZE",
     "expected each column once; found it twice"),
    (b"CUSTOMER_ID,EMPLOYEE_SIZE,SEGMENT\n", 1, "CUSTOMER_SEGMENT",
     "expected column CUSTOMER_SEGMENT in the header; it is missing (found an unexpected column 'SEGMENT': renamed?)"),
    (b"CUSTOMER_ID,EMPLOYEE_SIZE\n", 1, "CUSTOMER_SEGMENT", "expected column CUSTOMER_SEGMENT in the header; it is missing"),
    (b"CUSTOMER_ID,EMPLOYEE_SIZE,\xe9\n", 1, None, "expected a UTF-8 header line; found bytes that are not UTF-8"),
]


# Plain ASCII ids without backslashes: pytest escapes explicit ids in place, so a second collection in the
# same process (mutmut's clean run after its statistics run) would escape them twice and not find the tests.
HEADER_ERROR_IDS = ["empty", "blank", "spaces", "semicolons", "tabs", "pipes", "data_row", "twice", "renamed",
                    "missing", "not_utf8"]


@pytest.mark.parametrize("header, line, column, expected", HEADER_ERRORS, ids=HEADER_ERROR_IDS)
def test_header_errors_name_the_file_line_column_and_what_was_found(tmp_path, header, line, column, expected):
    path = tmp_path / SEGMENTS.file_name
    path.write_bytes(header + b"H00100101,1 to 25,NAM Direct\n")
    with pytest.raises(InputError) as error:
        scan_raw_file(path, SEGMENTS)
    assert (error.value.file, error.value.line, error.value.column) == (SEGMENTS.file_name, line, column)
    assert error.value.expected == expected


def test_header_names_are_cleaned_and_extra_columns_ignored_by_position(tmp_path):
    path = tmp_path / SEGMENTS.file_name
    path.write_bytes(b'\xef\xbb\xbf "CUSTOMER_SEGMENT" ,NOTE,CUSTOMER_ID,,EMPLOYEE_SIZE\r\n'
                     b"NAM Direct,x,H1,y,1 to 25\r\n")
    scan = scan_raw_file(path, SEGMENTS)
    assert scan.has_bom
    assert scan.header == ("CUSTOMER_SEGMENT", "_ignored_2", "CUSTOMER_ID", "_ignored_4", "EMPLOYEE_SIZE")
    assert scan.ignored_columns == ["NOTE", "#4"]
    assert (scan.total_lines, scan.data_lines) == (2, 1)


@pytest.mark.parametrize("row, line, column", [
    (b"H00100102,1 to 25,NAM Caf\xe9\n", 3, "CUSTOMER_SEGMENT"),
    (b"H00100102,\xe9,NAM Direct\n", 3, "EMPLOYEE_SIZE"),
    (b"H00100102,1 to 25,NAM Direct,\xe9\n", 3, "#4"),       # a field beyond the header
    (b"H00100102,1 to 25,NAM Direct,ok,\xff\xfe\n", 3, "#5"),
    (b"H00100102,1 to 25\x7f,NAM Caf\xe9\n", 3, "CUSTOMER_SEGMENT"),  # DEL (127) is ASCII; 0xE9 is not
    (b"H00100102,1 to 25,\x80\n", 3, "CUSTOMER_SEGMENT"),  # 0x80, the first byte above ASCII
])
def test_a_latin1_byte_names_its_line_and_column(tmp_path, row, line, column):
    path = tmp_path / SEGMENTS.file_name
    path.write_bytes(b"CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT\nH00100101,1 to 25,NAM Direct\n" + row)
    with pytest.raises(InputError) as error:
        scan_raw_file(path, SEGMENTS)
    assert (error.value.file, error.value.line, error.value.column) == (SEGMENTS.file_name, line, column)
    bad = next(b for b in row if b > 127)
    assert error.value.expected == (f"expected UTF-8 text; found byte 0x{bad:02X} (the file looks "
                                    "Latin-1/Windows-1252 encoded: re-export it as UTF-8)")
