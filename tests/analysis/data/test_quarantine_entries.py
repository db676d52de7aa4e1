"""Every quarantine entry names the column and says what was expected, in the words a data engineer reads.

The ledger's ``quarantine.parquet`` gives, for each row kept out of the model, its file, physical
line, reason, column, offending value and the expectation it failed. The malformed corpus
(``tests/analysis/data/malformed/cases.py``) checks the reasons, counts and lines; this module pins
the other fields, so a check that names the wrong column or loses its expectation fails here.
"""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.data.ledger import QUARANTINE_PARQUET
from analysis.data.model import build_model
from tests.analysis.data.malformed.cases import CASES, LedgerExpected
from tests.analysis.data.rawdata import base_lines, write_raw_set

META, SEG, INTEG = "customer_metadata.csv", "account_segments.csv", "integrations.csv"

# (file, reason) -> (column, expected): the base data's months are 2019-11..2020-02
ENTRIES = {
    (SEG, "ambiguous_id"): ("CUSTOMER_ID", "one row per key (customer_id); differently written IDs normalise to "
                                           "this key and disagree"),
    (SEG, "unknown_segment"): ("CUSTOMER_SEGMENT", "'<NAM|International> <Low-touch|High-touch|Direct|Partner|"
                                                   "Unowned>' (any case) or empty"),
    (META, "conflicting_duplicate"): ("CUSTOMER_ID", "one row per key (customer_id, month); rows with this key "
                                                     "disagree"),
    (META, "exact_duplicate"): ("CUSTOMER_ID", "one row per key (customer_id, month); a row with the same values "
                                               "came earlier"),
    (META, "invalid_month"): ("SNAPSHOT_MONTH", "a month YYYY-MM (01-12)"),
    (META, "malformed_id"): ("CUSTOMER_ID", "'H' followed by 1 to 8 digits"),
    (META, "month_out_of_range"): ("SNAPSHOT_MONTH", "a month in the contiguous range 2019-11..2020-02 of the data"),
    (META, "negative_count"): ("NUM_OF_INTEGRATIONS", "an integer >= 0"),
    (META, "unknown_tier"): ("PRODUCT_TIER", "one of Free, Starter, Basic, Pro, Enterprise, Ent or empty"),
    (META, "unparseable_money"): ("CUSTOMER_VALUE_BEGINNING_OF_MONTH",
                                  "money like $1,440.00, 389.34, 0, -$680.00 or empty"),
    (META, "wrong_field_count"): ("NUM_OF_INTEGRATIONS", "7 comma-separated fields (Expected Number of Columns: 7 "
                                                         "Found: 3)"),
    (INTEG, "malformed_integration_id"): ("INTEGRATION_ID", "an integer marketplace ID or a Custom... ID"),
    (INTEG, "month_out_of_range"): ("SNAPSHOT_MONTH", "a month in the range 2019-11..2020-02 of customer_metadata.csv"),
    (INTEG, "orphan_no_metadata"): ("CUSTOMER_ID", "a customer-month present in customer_metadata.csv"),
    (INTEG, "wrong_field_count"): (None, "3 comma-separated fields (Expected Number of Columns: 3 Found: 4)"),
}
QUARANTINING = [case for case in CASES
                if isinstance(case.build(base_lines())[1], LedgerExpected) and case.build(base_lines())[1].reason]


@pytest.fixture(scope="module")
def quarantine_rows(tmp_path_factory) -> pd.DataFrame:
    frames = []
    for case in QUARANTINING:
        files, _ = case.build(base_lines())
        folder = tmp_path_factory.mktemp(case.name)
        build_model(write_raw_set(folder / "raw", files), folder / "processed", folder / "results", figures=False)
        frames.append(pd.read_parquet(folder / "processed" / QUARANTINE_PARQUET).assign(case=case.name))
    return pd.concat(frames, ignore_index=True)


def test_every_quarantining_case_is_covered_by_the_table(quarantine_rows):
    found = set(zip(quarantine_rows["file"], quarantine_rows["reason"]))
    assert found == set(ENTRIES), found ^ set(ENTRIES)


@pytest.mark.parametrize("key", sorted(ENTRIES), ids=[f"{f}:{r}" for f, r in sorted(ENTRIES)])
def test_entry_names_its_column_and_expectation(quarantine_rows, key):
    column, expected = ENTRIES[key]
    rows = quarantine_rows[(quarantine_rows["file"] == key[0]) & (quarantine_rows["reason"] == key[1])]
    assert len(rows)
    assert (rows["expected"] == expected).all(), rows["expected"].unique()
    if column is None:  # a line with too many fields has no one column to blame
        assert rows["column"].isna().all()
    else:
        assert (rows["column"] == column).all(), rows["column"].unique()
    assert rows["line"].notna().all() and (rows["line"] >= 2).all()  # physical lines after the header
    assert rows["value"].notna().all()
