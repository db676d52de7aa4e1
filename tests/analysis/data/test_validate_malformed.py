"""Each malformed input gives its expected one-line error (file, line, column) or ledger entry."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.data.ledger import QUARANTINE_PARQUET
from analysis.data.model import build_model
from tests.analysis.data.malformed.cases import CASES, ErrorExpected, LedgerExpected
from tests.analysis.data.rawdata import base_lines, write_raw_set


def test_corpus_has_at_least_fifteen_cases():
    assert len({case.name for case in CASES}) == len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_malformed_input(case, tmp_path):
    files, expected = case.build(base_lines())
    data_dir = write_raw_set(tmp_path / "raw", files)
    processed, results = tmp_path / "processed", tmp_path / "results"
    if isinstance(expected, ErrorExpected):
        with pytest.raises(InputError) as raised:
            build_model(data_dir, processed, results, figures=False)
        error = raised.value
        assert (error.file, error.line, error.column) == (expected.file, expected.line, expected.column)
        assert expected.phrase in str(error)
        assert "\n" not in str(error)
        return
    assert isinstance(expected, LedgerExpected)
    summary = build_model(data_dir, processed, results, figures=False)
    quality = json.loads((results / "data_quality.json").read_text())
    entry = next(e for e in quality["ledger"] if e["file"] == expected.file)
    assert entry["rows_read"] == entry["rows_kept"] + entry["rows_quarantined"]
    quarantine = pd.read_parquet(processed / QUARANTINE_PARQUET)
    if expected.reason is None:
        assert entry["rows_quarantined"] == 0
    else:
        assert entry["quarantined_by_reason"] == {expected.reason: expected.rows}
        rows = quarantine[(quarantine["file"] == expected.file) & (quarantine["reason"] == expected.reason)]
        assert len(rows) == expected.rows
        assert int(rows["line"].min()) == expected.line
    if expected.check is not None:
        expected.check(quality, summary)
