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


def test_every_entry_of_the_table_is_the_expected_outcome_of_a_case():
    expected = {(e.file, e.reason) for e in (case.build(base_lines())[1] for case in QUARANTINING)}
    assert expected == set(ENTRIES), expected ^ set(ENTRIES)


# One test per case, each running the pipeline itself (no shared fixture): mutmut attributes a test to the
# functions it calls, and a module-scoped fixture's calls are seen by the first test that uses it only.
@pytest.mark.parametrize("case", QUARANTINING, ids=[case.name for case in QUARANTINING])
def test_entries_name_their_column_and_expectation(case, tmp_path):
    files, _ = case.build(base_lines())
    build_model(write_raw_set(tmp_path / "raw", files), tmp_path / "processed", tmp_path / "results", figures=False)
    quarantine = pd.read_parquet(tmp_path / "processed" / QUARANTINE_PARQUET)
    found = set(zip(quarantine["file"], quarantine["reason"]))
    assert found and found <= set(ENTRIES), found - set(ENTRIES)
    for key in sorted(found):
        column, expected = ENTRIES[key]
        rows = quarantine[(quarantine["file"] == key[0]) & (quarantine["reason"] == key[1])]
        assert (rows["expected"] == expected).all(), (key, rows["expected"].unique())
        if column is None:  # a line with too many fields has no one column to blame
            assert rows["column"].isna().all(), key
        else:
            assert (rows["column"] == column).all(), (key, rows["column"].unique())
        assert rows["line"].notna().all() and (rows["line"] >= 2).all()  # physical lines after the header
        assert rows["value"].notna().all()
