"""A carriage return alone (old Mac line ends, or one inside an unquoted value) is refused with its line and column."""
from __future__ import annotations

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
