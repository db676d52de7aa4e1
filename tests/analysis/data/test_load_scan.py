"""The byte-level scan of a raw file, checked against a plain line-by-line reading, and its refusals.

``scan_raw_file`` reads a file in chunks of ``_CHUNK_BYTES`` (16 MiB) and carries an incomplete
last line over to the next chunk. On the tiny test files one chunk holds everything, so the
carrying is only exercised with a small chunk: here every chunk size from 1 byte up to past the
file's length is tried, and the header, line count, blank lines and the line and column of a
non-UTF-8 byte must always be what reading the file line by line gives. Then each refusal of a
file (folder, link, pipe, missing, unreadable, empty, header only) with its exact error, the
header rules the other tests leave out, and what ``read_raw_table`` keeps of a rejected record.
"""
from __future__ import annotations

import os
import pathlib

import duckdb
import pytest

import analysis.data.load as load
from analysis.data.load import INTEGRATIONS, METADATA, SEGMENTS, RawFileSpec, read_raw_table, scan_raw_file
from analysis.errors import InputError
from tests.analysis.data.rawdata import base_lines, lines_to_bytes

SEG = SEGMENTS.file_name
SEG_HEADER = b"CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT"
ROW = b"H00100101,1 to 25,NAM Direct"


def _reference(content: bytes) -> tuple[int, list[int]]:
    """Physical lines and the 1-based numbers of the empty ones (CR alone counts as empty), line by line."""
    lines = content.split(b"\n")
    if content.endswith(b"\n"):
        lines = lines[:-1]
    return len(lines), [n for n, line in enumerate(lines, start=1) if n > 1 and line in (b"", b"\r")]


def _write(tmp_path, content: bytes, name: str = SEG):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _chunk_sizes(content: bytes) -> list[int]:
    return list(range(1, len(content) + 3)) + [1 << 24]  # every size up to past the file, and the default


SCANNED = {
    "plain": SEG_HEADER + b"\n" + ROW + b"\n" + ROW.replace(b"101", b"102") + b"\n",
    "no_final_newline": SEG_HEADER + b"\n" + ROW + b"\n" + ROW,
    "blank_lines": SEG_HEADER + b"\n\n" + ROW + b"\n\n\n" + ROW + b"\n\n",
    "crlf_blank_lines": SEG_HEADER + b"\r\n\r\n" + ROW + b"\r\n\r\n\r\n" + ROW + b"\r\n",
    "bom": b"\xef\xbb\xbf" + SEG_HEADER + b"\n" + ROW + b"\n",
    "long_line": SEG_HEADER + b"\n" + b"H00100101,1 to 25," + b"x" * 40 + b"\n\n" + ROW + b"\n",
}


@pytest.mark.parametrize("content", SCANNED.values(), ids=SCANNED.keys())
def test_the_scan_is_the_same_for_every_chunk_size(tmp_path, monkeypatch, content):
    path = _write(tmp_path, content)
    total, blanks = _reference(content)
    for size in _chunk_sizes(content):
        monkeypatch.setattr(load, "_CHUNK_BYTES", size)
        scan = scan_raw_file(path, SEGMENTS)
        assert (scan.header, scan.has_bom, scan.ignored_columns) == (SEGMENTS.columns, content.startswith(b"\xef"), [])
        assert (scan.total_lines, scan.blank_lines, scan.data_lines) == (total, blanks, total - 1 - len(blanks)), size


# (content, line, column, bad byte) of a file with one non-UTF-8 byte
ENCODING = {
    "after_a_blank_line": (SEG_HEADER + b"\n" + ROW + b"\n\n\xe9H00100102,1 to 25,NAM Direct\n" + ROW + b"\n",
                           4, "CUSTOMER_ID", 0xE9),
    "last_byte_of_the_file": (SEG_HEADER + b"\n" + ROW + b"\nH00100102,1 to 25,NAM Caf\xe9", 3, "CUSTOMER_SEGMENT", 0xE9),
    "crlf": (SEG_HEADER + b"\r\n" + ROW + b"\r\nH00100102,26 to 200\xe9,NAM Direct\r\n" + ROW + b"\r\n",
             3, "EMPLOYEE_SIZE", 0xE9),
    "first_byte_after_the_header": (SEG_HEADER + b"\n\x80H00100102,1 to 25,NAM Direct\n", 2, "CUSTOMER_ID", 0x80),
}


@pytest.mark.parametrize("content, line, column, bad", ENCODING.values(), ids=ENCODING.keys())
def test_a_non_utf8_byte_is_found_on_its_line_for_every_chunk_size(tmp_path, monkeypatch, content, line, column, bad):
    path = _write(tmp_path, content)
    assert content[: content.index(bytes([bad]))].count(b"\n") + 1 == line  # the line, counted plainly
    for size in _chunk_sizes(content):
        monkeypatch.setattr(load, "_CHUNK_BYTES", size)
        with pytest.raises(InputError) as raised:
            scan_raw_file(path, SEGMENTS)
        assert (raised.value.file, raised.value.line, raised.value.column) == (SEG, line, column), size
        assert f"found byte 0x{bad:02X} " in raised.value.expected


# ---------------------------------------------------------------- files that cannot be scanned

def _refusal(path, spec=SEGMENTS) -> tuple:
    with pytest.raises(InputError) as raised:
        scan_raw_file(path, spec)
    return raised.value.file, raised.value.line, raised.value.column, raised.value.expected


def test_a_folder_is_refused(tmp_path):
    (tmp_path / SEG).mkdir()
    assert _refusal(tmp_path / SEG) == (SEG, None, None, f"expected a file in {tmp_path}; found a folder of that name")


def test_a_broken_link_is_refused_and_a_working_one_read(tmp_path):
    os.symlink(tmp_path / "elsewhere.csv", tmp_path / SEG)
    assert _refusal(tmp_path / SEG) == (SEG, None, None, f"expected a file in {tmp_path}; found a broken symbolic link")
    _write(tmp_path, SEG_HEADER + b"\n" + ROW + b"\n", "elsewhere.csv")
    assert scan_raw_file(tmp_path / SEG, SEGMENTS).data_lines == 1


def test_a_pipe_is_refused(tmp_path):
    os.mkfifo(tmp_path / SEG)
    assert _refusal(tmp_path / SEG) == (SEG, None, None,
                                        f"expected a regular file in {tmp_path}; found a pipe, socket or device")


def test_a_missing_file_is_refused(tmp_path):
    assert _refusal(tmp_path / SEG) == (SEG, None, None, f"expected the file in {tmp_path}; it does not exist")


def test_an_unreadable_file_is_refused(tmp_path, monkeypatch):
    path = _write(tmp_path, SEG_HEADER + b"\n" + ROW + b"\n")

    def refuse(self, *args, **kwargs):  # chmod does not stop root, so the refusal is simulated
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "open", refuse)
    assert _refusal(path) == (SEG, None, None, "expected a readable file; cannot open it (Permission denied)")


@pytest.mark.parametrize("content, line, expected", [
    (b"", 1, "expected a header line 'CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT'; found an empty file (0 bytes)"),
    (b"\n", 1, "expected the header 'CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT'; found an empty line"),
    (SEG_HEADER + b"\n", 2, "expected at least one data row after the header; found none"),
    (SEG_HEADER, 2, "expected at least one data row after the header; found none"),  # no newline at all
    (SEG_HEADER + b"\n\n\r\n", 2, "expected at least one data row after the header; found none"),
], ids=["zero_bytes", "one_newline", "header_only", "header_without_newline", "header_and_blank_lines"])
def test_a_file_without_data_rows_is_refused(tmp_path, content, line, expected):
    assert _refusal(_write(tmp_path, content)) == (SEG, line, None, expected)


def test_one_data_row_is_enough(tmp_path):
    scan = scan_raw_file(_write(tmp_path, SEG_HEADER + b"\n" + ROW), SEGMENTS)
    assert (scan.total_lines, scan.data_lines, scan.blank_lines, scan.has_bom) == (2, 1, [], False)


# ---------------------------------------------------------------- header rules

def test_a_quoted_first_column_after_a_byte_order_mark(tmp_path):
    scan = scan_raw_file(_write(tmp_path, b'\xef\xbb\xbf"CUSTOMER_ID",EMPLOYEE_SIZE,CUSTOMER_SEGMENT\n' + ROW + b"\n"),
                         SEGMENTS)
    assert (scan.header, scan.has_bom) == (SEGMENTS.columns, True)


def test_a_byte_order_mark_inside_the_quotes_is_dropped_from_the_name(tmp_path):
    scan = scan_raw_file(_write(tmp_path, b'"\xef\xbb\xbfCUSTOMER_ID",EMPLOYEE_SIZE,CUSTOMER_SEGMENT\n' + ROW + b"\n"),
                         SEGMENTS)
    assert (scan.header, scan.has_bom) == (SEGMENTS.columns, False)


def test_an_extra_column_keeps_its_name_as_written(tmp_path):
    scan = scan_raw_file(_write(tmp_path, SEG_HEADER + b",XNOTEX\n" + ROW + b",x\n"), SEGMENTS)
    assert scan.ignored_columns == ["XNOTEX"]
    assert scan.header == SEGMENTS.columns + ("_ignored_4",)


def test_a_lower_case_customer_id_in_the_header_line_is_a_data_row(tmp_path):
    assert _refusal(_write(tmp_path, b"h00100101,1 to 25,NAM Direct\n" + ROW + b"\n")) == (
        SEG, 1, None, "expected the header 'CUSTOMER_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT'; "
                      "found a data row (the header line is missing)")


def test_a_one_column_file_needs_no_comma_and_a_two_column_file_does(tmp_path):
    one = RawFileSpec("one", "one.csv", ("CUSTOMER_ID",))
    assert scan_raw_file(_write(tmp_path, b"CUSTOMER_ID\nH1\n", "one.csv"), one).header == ("CUSTOMER_ID",)
    two = RawFileSpec("two", "two.csv", ("CUSTOMER_ID", "EMPLOYEE_SIZE"))
    assert _refusal(_write(tmp_path, b"CUSTOMER_ID;EMPLOYEE_SIZE\nH1;5\n", "two.csv"), two) == (
        "two.csv", 1, None, "expected comma-separated columns; found semicolons as the separator")


# ---------------------------------------------------------------- records DuckDB cannot split

def _read(tmp_path, content: bytes, spec=SEGMENTS):
    path = _write(tmp_path, content, spec.file_name)
    con = duckdb.connect()
    return con, read_raw_table(con, path, spec, scan_raw_file(path, spec), "raw_test")


def test_a_rejected_record_keeps_its_text_as_written_up_to_200_characters(tmp_path):
    long = b"H00100103," + b"y" * 300
    con, read = _read(tmp_path, SEG_HEADER + b"\n" + ROW + b"\nH00100102,1 to 25  \nX1,1 to 25X\n" + long + b"\n")
    assert [(r["line"], r["reason"], r["value"]) for r in read.rejects] == [
        (3, "wrong_field_count", "H00100102,1 to 25  "), (4, "wrong_field_count", "X1,1 to 25X"),
        (5, "wrong_field_count", long.decode()[:200])]
    assert read.rows_accepted == 1 and read.rows_read == 4


def test_a_stray_quote_is_malformed_quoting(tmp_path):
    con, read = _read(tmp_path, SEG_HEADER + b'\nH1,"1 to 25"x,NAM Direct\n' + ROW + b"\n")
    assert [(r["line"], r["reason"], r["column"]) for r in read.rejects] == [(2, "malformed_quoting", "EMPLOYEE_SIZE")]
    assert con.execute("SELECT line, CUSTOMER_ID FROM raw_test").fetchall() == [(3, "H00100101")]


@pytest.mark.parametrize("before, line", [(b"", None), (b"H0,1 to 25\n", 2)], ids=["no_reject", "after_a_reject"])
def test_a_quoted_field_over_two_lines_is_refused(tmp_path, before, line):
    content = SEG_HEADER + b"\n" + before + b'H1,"1 to\n25",NAM Direct\n' + ROW + b"\n"
    data_lines = content.count(b"\n") - 1
    with pytest.raises(InputError) as raised:
        _read(tmp_path, content)
    assert (raised.value.file, raised.value.line, raised.value.column) == (SEG, line, None)
    assert raised.value.expected == (f"expected one record per line; found {data_lines - 1} records on {data_lines} "
                                     "data lines (a quoted field spans lines or a quote is not closed)")


def test_a_folder_name_with_a_quote_is_read(tmp_path):
    folder = tmp_path / "Bob's extracts"
    folder.mkdir()
    con, read = _read(folder, lines_to_bytes(base_lines()[SEG]))
    assert read.rows_accepted == len(base_lines()[SEG]) - 1 and not read.rejects


def test_the_three_files_are_loaded_into_their_tables(tmp_path):
    for spec in (SEGMENTS, METADATA, INTEGRATIONS):
        _write(tmp_path, lines_to_bytes(base_lines()[spec.file_name]), spec.file_name)
    con = duckdb.connect()
    reads = load.load_raw_files(con, str(tmp_path))
    assert {role: (read.table, read.rows_accepted) for role, read in reads.items()} == {
        spec.role: (f"raw_{spec.role}", len(base_lines()[spec.file_name]) - 1)
        for spec in (SEGMENTS, METADATA, INTEGRATIONS)}
    for read in reads.values():
        assert con.execute(f"SELECT count(*) FROM {read.table}").fetchone()[0] == read.rows_accepted


def test_line_numbers_are_mapped_without_leaving_the_helper_view(tmp_path):
    con, read = _read(tmp_path, SEG_HEADER + b"\n\n" + ROW + b"\nH2,1 to 25\n" + ROW.replace(b"101", b"102") + b"\n")
    assert con.execute("SELECT line, CUSTOMER_ID FROM raw_test ORDER BY line").fetchall() == [
        (3, "H00100101"), (5, "H00100102")]
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT * FROM line_map_view")


def test_a_header_with_only_a_trailing_tab_is_read_as_tab_separated(tmp_path):
    # the tab is the separator the file was written with, even when it only ends the line
    assert _refusal(_write(tmp_path, b"CUSTOMER_ID\t\nH1\t\n")) == (
        SEG, 1, None, "expected comma-separated columns; found tabs as the separator")


def test_the_scan_holds_one_chunk_and_a_line_at_a_time(tmp_path, monkeypatch):
    # a 2.5-million-line extract must not be read into memory whole: each block the scan
    # processes is at most one chunk plus the incomplete line carried over from the last one
    rows = [b"H%08d,1 to 25,NAM Direct" % i for i in range(200)]
    content = SEG_HEADER + b"\n" + b"\n".join(rows) + b"\n"
    path = _write(tmp_path, content)
    blocks = []

    def recording(block, first_line_no):  # the file has no blank line: [] is the right answer
        blocks.append(len(block))
        return []

    monkeypatch.setattr(load, "_blank_lines_in", recording)
    monkeypatch.setattr(load, "_CHUNK_BYTES", 64)
    scan = scan_raw_file(path, SEGMENTS)
    assert (scan.file_name, scan.total_lines, scan.data_lines) == (SEG, 201, 200)
    longest = max(len(line) + 1 for line in content.split(b"\n"))
    assert sum(blocks) == len(content) and len(blocks) > 1
    assert max(blocks) <= 64 + longest
