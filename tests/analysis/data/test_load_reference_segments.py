"""The real account_segments.csv (read in place, never copied) loads with its quirks accounted for.

Expected figures are CALIBRATION.md's, except the ID collisions, which CALIBRATION.md does
not list: zero-padding to 8 digits maps 115 pairs of differently written IDs (e.g. a
7- and an 8-character ID) to one key. Pairs that disagree on size or segment are
quarantined as ``ambiguous_id`` (206 rows); pairs that agree keep one row (12 rows
``duplicate_after_id_normalisation``). The ledger still adds up to 63,882.
"""
from __future__ import annotations

from analysis.data.reconcile import validate_segments_file


def test_real_segments_file_loads_with_quirks_counted(reference_segments_csv):
    result = validate_segments_file(reference_segments_csv)
    assert result["rows_read"] == 63_882
    quarantined = result["quarantined_by_reason"]
    assert result["rows_read"] == result["rows_kept"] + sum(quarantined.values())
    assert set(quarantined) <= {"ambiguous_id", "duplicate_after_id_normalisation"}
    ids = result["ids"]
    assert ids["short_ids"] == 10_204
    assert ids["ids_by_length"] == {"9": 53_678, "8": 9_171, "7": 1_004, "6": 16, "5": 12, "4": 1}
    assert result["segment_label_variants"] == {"NAM Low-Touch -> NAM Low-touch": 23_786}
    assert result["employee_size_label_variants"] == {}
    assert result["segments"] == {
        "NAM Low-touch": 23_786, "International Direct": 9_132, "International Low-touch": 7_914,
        "NAM Direct": 7_136, "NAM Partner": 4_763, "NAM High-touch": 4_362, "International Partner": 3_959,
        "NAM Unowned": 2_670, "International High-touch": 160,
    }
    assert result["employee_sizes"] == {"1 to 25": 31_702, "26 to 200": 21_211, "201 or Above": 7_279,
                                        "Undefined": 3_690}


def test_real_segments_id_collisions_are_quarantined_not_merged(reference_segments_csv):
    quarantined = validate_segments_file(reference_segments_csv)["quarantined_by_reason"]
    # 115 keys shared by two spellings: 103 disagreeing pairs (both rows out), 12 agreeing pairs (one row out)
    assert quarantined == {"ambiguous_id": 206, "duplicate_after_id_normalisation": 12}
