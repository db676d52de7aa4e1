"""A tiny valid raw data set in the real extract format, for the data-layer tests.

Eight customers over four months that span a year end (2019-11 .. 2020-02, so no
test depends on the study's months), with the real format's quirks: a short
customer ID in account_segments (leading zeros lost), ``NAM Low-Touch``, ``Ent``, a
missing tier, money as text (``$1,440.00``, ``0``, empty cells, negative
cancellations), ``YYYY-MM`` vs ``YYYY-MM-DD``, marketplace and ``Custom``/``CUSTOM``
integration IDs, rows not sorted by month. It is hand-made: no slice of the real
file is used.

Every file is a list of text lines (header first), so a test can say "line 5".
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

MONTHS = ("2019-11", "2019-12", "2020-01", "2020-02")

SEGMENTS_HEADER = ["CUSTOMER_ID", "EMPLOYEE_SIZE", "CUSTOMER_SEGMENT"]
METADATA_HEADER = ["CUSTOMER_ID", "SNAPSHOT_MONTH", "PRODUCT_TIER", "NUM_OF_INTEGRATIONS",
                   "CUSTOMER_VALUE_BEGINNING_OF_MONTH", "CUSTOMER_VALUE_END_OF_MONTH", "CUSTOMER_CANCELLATION_DOLLARS"]
INTEGRATIONS_HEADER = ["INTEGRATION_ID", "CUSTOMER_ID", "SNAPSHOT_MONTH"]

# customer id (9-char form), id as written in account_segments, size, segment
CUSTOMERS = [
    ("H00100101", "H00100101", "1 to 25", "NAM Low-Touch"),
    ("H00100102", "H100102", "26 to 200", "NAM Direct"),
    ("H00100103", "H00100103", "1 to 25", "International Low-touch"),
    ("H00100104", "H00100104", "Undefined", "NAM High-touch"),
    ("H00100105", "H00100105", "201 or Above", "International Direct"),
    ("H00100106", "H00100106", "26 to 200", "NAM Partner"),
    ("H00100107", "H00100107", "1 to 25", "NAM Unowned"),
    ("H00100108", "H00100108", "201 or Above", "International Partner"),
]

# per customer: one tuple per month (None = no row): tier, count, BOM, EOM, cancellation
_P = None
STATES = {
    "H00100101": [("Pro", 2, "$500.00", "$500.00", ""), ("Pro", 2, "$500.00", "$520.00", ""),
                  ("Pro", 3, "$520.00", "$520.00", "0"), ("Pro", 3, "$520.00", "$520.00", "")],
    "H00100102": [("Ent", 5, "$1,440.00", "$1,440.00", ""), ("Enterprise", 6, "$1,440.00", "$1,440.00", ""),
                  ("Enterprise", 6, "$1,440.00", "$1,200.00", "-$240.00"), ("Ent", 7, "$1,200.00", "$1,200.00", "")],
    "H00100103": [("Free", 0, "0", "0", ""), ("Free", 0, "0", "0", ""), ("Free", 1, "0", "$29.00", ""),
                  ("Starter", 1, "$29.00", "$29.00", "")],
    "H00100104": [("Starter", 1, "$49.00", "$49.00", ""), ("Starter", 1, "$49.00", "$29.00", "-$20.00"),
                  ("", 1, "$29.00", "$29.00", ""), ("Starter", 1, "$29.00", "$29.00", "")],
    "H00100105": [("Basic", 0, "$99.00", "$99.00", ""), ("Basic", 1, "$99.00", "$99.00", ""),
                  ("Pro", 1, "$389.34", "$389.34", ""), ("Pro", 2, "$389.34", "", "")],
    "H00100106": [_P, _P, ("Pro", 3, "$300.00", "$300.00", ""), ("Pro", 4, "$300.00", "$300.00", "")],
    "H00100107": [("Pro", 1, "$250.00", "$250.00", ""), ("Pro", 1, "$250.00", "$0.00", "-$250.00"), _P, _P],
    "H00100108": [("Enterprise", 10, "$2,100.00", "$2,100.00", ""), ("Enterprise", 10, "$2,100.00", "$2,100.00", ""),
                  ("Enterprise", 11, "$2,100.00", "$2,100.00", ""), ("Enterprise", 11, "$2,100.00", "$2,100.00", "")],
}
_MARKETPLACE = ["1", "21", "10", "7", "12", "8", "9", "14", "11", "3", "4"]


def integration_ids(customer_id: str, count: int) -> list[str]:
    """The first ``count`` integration IDs of a customer: marketplace IDs, then custom ones."""
    number = customer_id[-3:]
    ids = []
    for i in range(count):
        if i % 3 == 2:
            prefix = "CUSTOM_" if customer_id.endswith("2") else "Custom_"
            ids.append(f"{prefix}{number}{i}")
        else:
            ids.append(_MARKETPLACE[(int(number) + i) % len(_MARKETPLACE)])
    return ids


def _csv_lines(header: list[str], rows: list[list[str]]) -> list[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().splitlines()


def base_lines() -> dict[str, list[str]]:
    """The three files of the tiny set as lists of text lines (header first)."""
    segments = [[raw_id, size, segment] for _, raw_id, size, segment in CUSTOMERS]
    metadata, integrations = [], []
    for index, (customer_id, _, _, _) in enumerate(CUSTOMERS):
        months = list(enumerate(MONTHS))
        if index % 2:  # rows not sorted by month within a customer
            months = months[::-1]
        for m, month in months:
            state = STATES[customer_id][m]
            if state is None:
                continue
            tier, count, bom, eom, cancel = state
            metadata.append([customer_id, month, tier, str(count), bom, eom, cancel])
            for integration_id in integration_ids(customer_id, count):
                integrations.append([integration_id, customer_id, f"{month}-01"])
    return {
        "account_segments.csv": _csv_lines(SEGMENTS_HEADER, segments),
        "customer_metadata.csv": _csv_lines(METADATA_HEADER, metadata),
        "integrations.csv": _csv_lines(INTEGRATIONS_HEADER, integrations),
    }


def lines_to_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    """Join lines with ``\\n`` and a final newline."""
    return ("\n".join(lines) + "\n").encode(encoding) if lines else b""


def write_raw_set(directory: Path, files: dict[str, bytes] | None = None) -> Path:
    """Write the base set to ``directory``, replacing any file given in ``files`` by its bytes."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    contents = {name: lines_to_bytes(lines) for name, lines in base_lines().items()}
    contents.update(files or {})
    for name, content in contents.items():
        (directory / name).write_bytes(content)
    return directory


def find_line(lines: list[str], *fields: str) -> int:
    """1-based number of the first line containing every one of ``fields`` as a CSV field."""
    for number, line in enumerate(lines, start=1):
        values = next(csv.reader([line]), [])
        if all(field in values for field in fields):
            return number
    raise ValueError(f"no line with {fields}")
