"""The corpus of malformed inputs: each case rewrites one or two files of the tiny base set.

A case either expects an :class:`~analysis.errors.InputError` (exact file, line and
column, and a phrase of the message) or a ledger outcome (rows quarantined with a
reason in a file, and the line of the first such row in quarantine.parquet).

Decisions documented here and in docs/data_model.md:
- a UTF-8 byte-order mark is accepted (noted in the ``encoding`` check);
- Latin-1 (any non-UTF-8 byte) is an error naming the line and column;
- a truncated last line is quarantined (``wrong_field_count``), the rest of the file is used;
- a check failed by more than half of a file's rows makes the file unusable (error).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from tests.analysis.data.rawdata import find_line, lines_to_bytes

SEG, META, INTEG = "account_segments.csv", "customer_metadata.csv", "integrations.csv"
Lines = dict[str, list[str]]


@dataclass(frozen=True)
class ErrorExpected:
    file: str
    line: int | None
    column: str | None
    phrase: str


@dataclass(frozen=True)
class LedgerExpected:
    file: str
    reason: str | None  # None: nothing quarantined at all
    rows: int = 0
    line: int | None = None  # line of the first quarantined row with that reason
    check: Callable[[dict, dict], None] | None = field(default=None, compare=False)  # (data_quality, summary)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Lines], tuple[dict[str, bytes], object]]


def _replace_field(line: str, index: int, value: str) -> str:
    import csv
    import io

    fields = next(csv.reader([line]))
    fields[index] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def _edit(lines: Lines, name: str, number: int, index: int, value: str) -> list[str]:
    edited = list(lines[name])
    edited[number - 1] = _replace_field(edited[number - 1], index, value)
    return edited


def _missing_column(lines: Lines):
    edited = [",".join(f for i, f in enumerate(_split(line)) if i != 3) for line in lines[META]]
    return {META: lines_to_bytes(edited)}, ErrorExpected(META, 1, "NUM_OF_INTEGRATIONS", "is missing")


def _split(line: str) -> list[str]:
    import csv

    return ['"' + f + '"' if "," in f else f for f in next(csv.reader([line]))]


def _renamed_header(lines: Lines):
    edited = ["CUST_ID,EMPLOYEE_SIZE,CUSTOMER_SEGMENT"] + lines[SEG][1:]
    return {SEG: lines_to_bytes(edited)}, ErrorExpected(SEG, 1, "CUSTOMER_ID", "is missing (found an unexpected column 'CUST_ID'")


def _empty_metadata(lines: Lines):
    return {META: b""}, ErrorExpected(META, 1, None, "empty file")


def _header_only(lines: Lines):
    return {SEG: lines_to_bytes(lines[SEG][:1])}, ErrorExpected(SEG, 2, None, "at least one data row")


def _utf8_bom(lines: Lines):
    content = b"\xef\xbb\xbf" + lines_to_bytes(lines[META])

    def check(quality, summary):
        encoding = {c["name"]: c for c in quality["checks"]}[f"encoding:{META}"]
        assert "byte-order mark" in encoding["detail"]
        assert summary["ledger"][META]["kept"] == len(lines[META]) - 1

    return {META: content}, LedgerExpected(META, None, check=check)


def _latin1(lines: Lines):
    number = find_line(lines[SEG], "NAM Direct")
    edited = _edit(lines, SEG, number, 2, "NAM Dírect")
    return {SEG: lines_to_bytes(edited, encoding="latin-1")}, ErrorExpected(SEG, number, "CUSTOMER_SEGMENT", "UTF-8")


def _semicolons(lines: Lines):
    edited = [";".join(_split(line)) for line in lines[INTEG]]
    return {INTEG: lines_to_bytes(edited)}, ErrorExpected(INTEG, 1, None, "semicolons")


def _old_mac_line_ends(lines: Lines):
    content = "\r".join(lines[INTEG]).encode() + b"\r"
    return {INTEG: content}, ErrorExpected(INTEG, 1, None, "carriage return alone")


def _european_money_one_row(lines: Lines):
    number = find_line(lines[META], "H00100102", "2019-11")
    edited = _edit(lines, META, number, 4, "$1.440,00")
    return {META: lines_to_bytes(edited)}, LedgerExpected(META, "unparseable_money", 1, number)


def _european_money_everywhere(lines: Lines):
    edited = list(lines[META])
    first = None
    for number in range(2, len(edited) + 1):
        fields = next(__import__("csv").reader([edited[number - 1]]))
        bom = fields[4]
        if bom not in ("", "0"):
            european = bom.replace(",", "").replace(".", ",")
            edited[number - 1] = _replace_field(edited[number - 1], 4, european)
            first = first or number
    return {META: lines_to_bytes(edited)}, ErrorExpected(
        META, first, "CUSTOMER_VALUE_BEGINNING_OF_MONTH", "not in the expected format")


def _unknown_tier(lines: Lines):
    number = find_line(lines[META], "H00100101", "2019-12")
    return ({META: lines_to_bytes(_edit(lines, META, number, 2, "Platinum"))},
            LedgerExpected(META, "unknown_tier", 1, number))


def _conflicting_duplicate(lines: Lines):
    number = find_line(lines[META], "H00100108", "2020-01")
    extra = _replace_field(lines[META][number - 1], 3, "12")
    return ({META: lines_to_bytes(lines[META] + [extra])},
            LedgerExpected(META, "conflicting_duplicate", 2, number))


def _exact_duplicate(lines: Lines):
    number = find_line(lines[META], "H00100108", "2020-01")
    appended = len(lines[META]) + 1
    return ({META: lines_to_bytes(lines[META] + [lines[META][number - 1]])},
            LedgerExpected(META, "exact_duplicate", 1, appended))


def _negative_count(lines: Lines):
    number = find_line(lines[META], "H00100104", "2020-01")
    return ({META: lines_to_bytes(_edit(lines, META, number, 3, "-2"))},
            LedgerExpected(META, "negative_count", 1, number))


def _month_13(lines: Lines):
    number = find_line(lines[META], "H00100103", "2020-01")
    return ({META: lines_to_bytes(_edit(lines, META, number, 1, "2020-13"))},
            LedgerExpected(META, "invalid_month", 1, number))


def _truncated_last_line(lines: Lines):
    last = lines[META][-1]
    cut = last[: last.index(",", last.index(",") + 1) + 3]  # id, month, two characters of the tier
    content = lines_to_bytes(lines[META][:-1]) + cut.encode()
    return {META: content}, LedgerExpected(META, "wrong_field_count", 1, len(lines[META]))


def _ids_missing_from_segments(lines: Lines):
    edited = [line for line in lines[SEG] if not line.startswith("H00100105,")]

    def check(quality, summary):
        coverage = quality["reconciliation"]["coverage"]
        assert coverage["metadata_customers_missing_from_segments"] == 1
        assert summary["rows"]["dim_customer"] == 8

    return {SEG: lines_to_bytes(edited)}, LedgerExpected(SEG, None, check=check)


def _zero_byte_integrations(lines: Lines):
    return {INTEG: b""}, ErrorExpected(INTEG, 1, None, "empty file")


def _malformed_id(lines: Lines):
    number = find_line(lines[META], "H00100107", "2019-11")
    return ({META: lines_to_bytes(_edit(lines, META, number, 0, "X100107"))},
            LedgerExpected(META, "malformed_id", 1, number))


def _orphan_integration(lines: Lines):
    extra = "1,H00100106,2019-11-01"  # customer 106 has no metadata row in 2019-11
    return ({INTEG: lines_to_bytes(lines[INTEG] + [extra])},
            LedgerExpected(INTEG, "orphan_no_metadata", 1, len(lines[INTEG]) + 1))


def _integration_month_out_of_range(lines: Lines):
    extra = "1,H00100101,2020-06-01"
    return ({INTEG: lines_to_bytes(lines[INTEG] + [extra])},
            LedgerExpected(INTEG, "month_out_of_range", 1, len(lines[INTEG]) + 1))


def _stray_metadata_month(lines: Lines):
    number = find_line(lines[META], "H00100101", "2019-11")
    extra = _replace_field(lines[META][number - 1], 1, "2015-03")
    return ({META: lines_to_bytes(lines[META] + [extra])},
            LedgerExpected(META, "month_out_of_range", 1, len(lines[META]) + 1))


def _metadata_months_as_dates(lines: Lines):
    edited = [lines[META][0]] + [_replace_field(line, 1, next(__import__("csv").reader([line]))[1] + "-01")
                                 for line in lines[META][1:]]
    return {META: lines_to_bytes(edited)}, ErrorExpected(META, 2, "SNAPSHOT_MONTH", "YYYY-MM")


def _positive_cancellation(lines: Lines):
    number = find_line(lines[META], "H00100104", "2019-12")
    edited = _edit(lines, META, number, 6, "$20.00")

    def check(quality, summary):
        assert quality["reconciliation"]["metadata"]["cancellation_sign"]["positive_abs_taken"] == 1

    return {META: lines_to_bytes(edited)}, LedgerExpected(META, None, check=check)


def _short_id_conflict_in_segments(lines: Lines):
    extra = "H100101,201 or Above,NAM Low-touch"  # same customer as H00100101, other size
    return ({SEG: lines_to_bytes(lines[SEG] + [extra])},
            LedgerExpected(SEG, "ambiguous_id", 2, 2))


def _unknown_segment(lines: Lines):
    number = find_line(lines[SEG], "NAM Unowned")
    return ({SEG: lines_to_bytes(_edit(lines, SEG, number, 2, "EMEA Galaxy"))},
            LedgerExpected(SEG, "unknown_segment", 1, number))


def _malformed_integration_id(lines: Lines):
    return ({INTEG: lines_to_bytes(lines[INTEG] + ["app-7,H00100101,2019-11-01"])},
            LedgerExpected(INTEG, "malformed_integration_id", 1, len(lines[INTEG]) + 1))


def _extra_field(lines: Lines):
    number = find_line(lines[INTEG], "H00100108", "2020-02-01")
    edited = list(lines[INTEG])
    edited[number - 1] += ",surplus"
    return {INTEG: lines_to_bytes(edited)}, LedgerExpected(INTEG, "wrong_field_count", 1, number)


def _blank_line(lines: Lines):
    edited = lines[SEG][:3] + [""] + lines[SEG][3:]

    def check(quality, summary):
        blank = {c["name"]: c for c in quality["checks"]}[f"blank_lines:{SEG}"]
        assert not blank["passed"] and blank["detail"].startswith("1 ")
        assert summary["ledger"][SEG]["read"] == len(lines[SEG]) - 1

    return {SEG: lines_to_bytes(edited)}, LedgerExpected(SEG, None, check=check)


CASES = [
    Case("missing_column", _missing_column),
    Case("renamed_header", _renamed_header),
    Case("empty_metadata_file", _empty_metadata),
    Case("header_only", _header_only),
    Case("utf8_bom", _utf8_bom),
    Case("latin1_text", _latin1),
    Case("semicolon_separator", _semicolons),
    Case("old_mac_line_ends", _old_mac_line_ends),
    Case("european_money_one_row", _european_money_one_row),
    Case("european_money_everywhere", _european_money_everywhere),
    Case("unknown_tier", _unknown_tier),
    Case("conflicting_duplicate_customer_month", _conflicting_duplicate),
    Case("exact_duplicate_row", _exact_duplicate),
    Case("negative_integration_count", _negative_count),
    Case("month_2020_13", _month_13),
    Case("truncated_last_line", _truncated_last_line),
    Case("ids_missing_from_segments", _ids_missing_from_segments),
    Case("zero_byte_integrations", _zero_byte_integrations),
    Case("malformed_customer_id", _malformed_id),
    Case("orphan_integration_row", _orphan_integration),
    Case("integration_month_out_of_range", _integration_month_out_of_range),
    Case("stray_metadata_month", _stray_metadata_month),
    Case("metadata_months_as_dates", _metadata_months_as_dates),
    Case("positive_cancellation", _positive_cancellation),
    Case("short_id_conflict_in_segments", _short_id_conflict_in_segments),
    Case("unknown_segment", _unknown_segment),
    Case("malformed_integration_id", _malformed_integration_id),
    Case("extra_field", _extra_field),
    Case("blank_line", _blank_line),
]


def _no_header(lines: Lines):
    return ({SEG: lines_to_bytes(lines[SEG][1:])},
            ErrorExpected(SEG, 1, None, "found a data row (the header line is missing)"))


def _ids_all_malformed(lines: Lines):
    edited = [lines[META][0]] + ["X" + line[1:] for line in lines[META][1:]]
    return {META: lines_to_bytes(edited)}, ErrorExpected(META, 2, "CUSTOMER_ID", "value not shown")


CASES += [Case("missing_header_line", _no_header), Case("all_ids_malformed", _ids_all_malformed)]
