"""A carriage return alone (old Mac line ends, or one inside an unquoted value) is refused with its line and column."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analysis.data import load
from analysis.data.load import METADATA, SEGMENTS, read_raw_table, scan_raw_file
from analysis.errors import InputError
from tests.analysis.data.rawdata import base_lines, lines_to_bytes


def _scan(tmp_path, spec, content: bytes):
    path = tmp_path / spec.file_name
    path.write_bytes(content)
    return path, scan_raw_file(path, spec)


def test_old_mac_line_ends_are_refused_at_the_header(tmp_path):
    content = "\r".join(base_lines()[SEGMENTS.file_name]).encode() + b"\r"
    with pytest.raises(InputError) as caught:
        _scan(tmp_path, SEGMENTS, content)
    header = base_lines()[SEGMENTS.file_name][0]
    assert caught.value.line == 1 and caught.value.column is None
    assert f"carriage return alone after {len(header)} bytes of the line" in str(caught.value)
    assert str(caught.value).startswith(f"{SEGMENTS.file_name}, line 1:")


def test_a_lone_cr_in_an_unquoted_value_names_its_line_and_column(tmp_path):
    lines = base_lines()[METADATA.file_name]
    fields = lines[3].split(",")
    fields[1] = fields[1][:2] + "\r" + fields[1][2:]  # inside the second column's value
    edited = lines[:3] + [",".join(fields)] + lines[4:]
    with pytest.raises(InputError) as caught:
        _scan(tmp_path, METADATA, lines_to_bytes(edited))
    assert caught.value.line == 4
    assert caught.value.column == METADATA.columns[1]


def test_crlf_and_a_cr_inside_quotes_are_data(tmp_path):
    lines = base_lines()[SEGMENTS.file_name]
    crlf = "\r\n".join(lines).encode() + b"\r\n"
    path, scan = _scan(tmp_path, SEGMENTS, crlf)
    assert scan.data_lines == len(lines) - 1
    fields = lines[2].split(",")
    quoted = lines[:2] + [f'{fields[0]},"{fields[1][:1]}\r{fields[1][1:]}"'] + lines[3:]
    path, scan = _scan(tmp_path, SEGMENTS, lines_to_bytes(quoted))
    read = read_raw_table(duckdb.connect(), path, SEGMENTS, scan, "raw_test")
    assert read.rows_read == len(lines) - 1


def test_a_lone_cr_is_found_before_the_first_line_end_arrives(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "_CHUNK_BYTES", 16)  # the header spans chunks with no line feed yet
    content = "\r".join(base_lines()[SEGMENTS.file_name] * 50).encode()
    with pytest.raises(InputError) as caught:
        _scan(tmp_path, SEGMENTS, content)
    assert caught.value.line == 1


def test_the_error_says_where_on_the_line_and_what_to_do(tmp_path):
    lines = base_lines()[METADATA.file_name]
    fields = lines[5].split(",")
    fields[2] = fields[2] + "\r"  # at the end of the third column's value
    before = ",".join(fields[:2]) + "," + fields[2][:-1]  # the bytes of the line before the CR
    edited = lines[:5] + [",".join(fields)] + lines[6:]
    with pytest.raises(InputError) as caught:
        _scan(tmp_path, METADATA, lines_to_bytes(edited))
    assert str(caught.value) == (
        f"{METADATA.file_name}, line 6, column {METADATA.columns[2]}: expected lines ending in a line feed (LF or "
        f"CRLF); found a carriage return alone after {len(before.encode())} bytes of the line (old Mac line "
        "endings? save the file with LF or CRLF)")


def test_quotes_closed_before_the_cr_do_not_hide_it(tmp_path):
    lines = base_lines()[SEGMENTS.file_name]
    fields = lines[2].split(",")
    edited = lines[:2] + [f'"{fields[0]}",{fields[1]}\r,{fields[2]}'] + lines[3:]  # two quotes before: outside
    with pytest.raises(InputError) as caught:
        _scan(tmp_path, SEGMENTS, lines_to_bytes(edited))
    assert (caught.value.line, caught.value.column) == (3, SEGMENTS.columns[1])
    three_quotes = lines[:2] + [f'"{fields[0]}","{fields[1]}\r",{fields[2]}'] + lines[3:]  # inside the second value
    path, scan = _scan(tmp_path, SEGMENTS, lines_to_bytes(three_quotes))
    assert scan.data_lines == len(lines) - 1


def test_a_cr_past_the_last_column_names_no_column(tmp_path):
    lines = base_lines()[SEGMENTS.file_name]
    edited = lines[:2] + [lines[2] + ",extra\rvalue"] + lines[3:]  # a field the header does not have
    with pytest.raises(InputError) as caught:
        _scan(tmp_path, SEGMENTS, lines_to_bytes(edited))
    assert (caught.value.line, caught.value.column) == (3, None)


SEG_HEADER = ",".join(SEGMENTS.columns).encode()
ROW = b"H00100101,1 to 25,NAM Direct"
# content, line, column, bytes of the line before the CR
LONE_CR = {
    "after_a_blank_line": (SEG_HEADER + b"\n" + ROW + b"\n\nH1,1 to\r 25,NAM Direct\n" + ROW + b"\n",
                           4, "EMPLOYEE_SIZE", 7),
    "first_data_line": (SEG_HEADER + b"\nH1,1 to 25\r,NAM Direct\n" + ROW + b"\n", 2, "EMPLOYEE_SIZE", 10),
    "after_a_cr_inside_quotes": (SEG_HEADER + b'\n"H1\r",1 to 25,NAM Direct\nH2,1 to\r 25,NAM Direct\n',
                                 3, "EMPLOYEE_SIZE", 7),
    "in_the_header_before_line_feeds": (b"CUSTOMER_ID,EMPLOYEE_SIZE\r,CUSTOMER_SEGMENT\n" + ROW + b"\n",
                                        1, None, 25),
    "a_line_longer_than_a_chunk": (SEG_HEADER + b"\nH1,1 to 25," + b"x" * 40 + b"\r" + b"y" * 10 + b"\n",
                                   2, "CUSTOMER_SEGMENT", 51),
    "ending_the_header_of_a_file_with_no_line_feed": (SEG_HEADER + b"\r", 1, None, len(SEG_HEADER)),
}


@pytest.mark.parametrize("content, line, column, before", LONE_CR.values(), ids=LONE_CR.keys())
def test_a_lone_cr_is_found_on_its_line_for_every_chunk_size(tmp_path, monkeypatch, content, line, column, before):
    path = tmp_path / SEGMENTS.file_name
    path.write_bytes(content)
    for size in list(range(1, len(content) + 3)) + [1 << 24]:
        monkeypatch.setattr(load, "_CHUNK_BYTES", size)
        with pytest.raises(InputError) as caught:
            scan_raw_file(path, SEGMENTS)
        assert (caught.value.file, caught.value.line, caught.value.column) == (SEGMENTS.file_name, line, column), size
        assert f"a carriage return alone after {before} bytes of the line" in caught.value.expected, size


def test_old_mac_line_ends_are_refused_without_reading_the_whole_file(tmp_path, monkeypatch):
    content = b"\r".join([SEG_HEADER] + [ROW] * 200) + b"\r"  # no line feed anywhere: one "line" to the end
    path = tmp_path / SEGMENTS.file_name
    path.write_bytes(content)
    read = []

    class CountingFile:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def read(self, size=-1):
            data = self.handle.read(size)
            read.append(len(data))
            return data

    monkeypatch.setattr(load, "_CHUNK_BYTES", 16)
    opened = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *args, **kwargs: CountingFile(opened(self, *args, **kwargs)))
    with pytest.raises(InputError) as caught:
        scan_raw_file(path, SEGMENTS)
    assert caught.value.line == 1 and read  # the scan read through the counting file
    assert sum(read) <= len(SEG_HEADER) + 2 * 16  # refused once the CR is in hand, not at the end of the file
