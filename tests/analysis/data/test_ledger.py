"""The ledger adds up: rows read = rows kept + rows quarantined, by reason, for every file."""
from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd

from analysis import results_contract
from analysis.data.ledger import QUARANTINE_PARQUET, ledger_entry
from analysis.data.model import build_model
from tests.analysis.data.rawdata import base_lines, lines_to_bytes, write_raw_set

SIM_N, SIM_SEED = 6_000, 7


def _assert_ledger_holds(data_dir, processed, results, summary):
    quality = json.loads((results / "data_quality.json").read_text())
    quarantine = pd.read_parquet(processed / QUARANTINE_PARQUET)
    assert {e["file"] for e in quality["ledger"]} == {"account_segments.csv", "customer_metadata.csv",
                                                       "integrations.csv"}
    for entry in quality["ledger"]:
        with open(data_dir / entry["file"], newline="", encoding="utf-8-sig") as handle:
            physical_rows = sum(1 for line in handle if line.strip()) - 1
        assert entry["rows_read"] == physical_rows
        assert entry["rows_read"] == entry["rows_kept"] + entry["rows_quarantined"]
        assert sum(entry["quarantined_by_reason"].values()) == entry["rows_quarantined"]
        in_file = quarantine[quarantine["file"] == entry["file"]]
        assert len(in_file) == entry["rows_quarantined"]
        assert in_file["line"].is_unique
        assert in_file.groupby("reason").size().to_dict() == entry["quarantined_by_reason"]
    rows = summary["rows"]
    by_file = {e["file"]: e for e in quality["ledger"]}
    assert rows["fct_customer_month"] == by_file["customer_metadata.csv"]["rows_kept"]
    assert rows["fct_customer_integration_month"] == by_file["integrations.csv"]["rows_kept"]
    assert all(c["passed"] for c in quality["checks"] if c["name"].startswith(("ledger_balanced", "model_rows")))
    table = pd.read_csv(results / results_contract.LEDGER_CSV)
    totals = table[table["reason"].isna()].set_index("file")
    for entry in quality["ledger"]:
        assert totals.loc[entry["file"], "rows_read"] == entry["rows_read"]
    markdown = (results / results_contract.LEDGER_MD).read_text()
    assert all(f"| {e['file']} | {e['rows_read']:,} |" in markdown for e in quality["ledger"])


def test_ledger_holds_on_the_tiny_base_set(tmp_path):
    data_dir = write_raw_set(tmp_path / "raw")
    summary = build_model(data_dir, tmp_path / "p", tmp_path / "r", figures=False)
    _assert_ledger_holds(data_dir, tmp_path / "p", tmp_path / "r", summary)


def test_ledger_holds_under_random_corruption(tmp_path):
    """Corrupt a random sample of cells (seeded) in every file: nothing disappears unaccounted for."""
    rng = np.random.default_rng(20240607)
    bad_values = ["", "$1.440,00", "-3", "2020-13", "Platinum", "X12", "abc", "9999999", "$-5.00"]
    files = {}
    for name, lines in base_lines().items():
        edited = list(lines)
        for number in rng.choice(np.arange(1, len(lines)), size=max(1, len(lines) // 6), replace=False):
            fields = next(csv.reader([edited[number]]))
            fields[rng.integers(len(fields))] = str(rng.choice(bad_values))
            edited[number] = ",".join(f'"{f}"' if "," in f else f for f in fields)
        edited.append(edited[1])  # one exact duplicate per file
        files[name] = lines_to_bytes(edited)
    data_dir = write_raw_set(tmp_path / "raw", files)
    summary = build_model(data_dir, tmp_path / "p", tmp_path / "r", figures=False)
    _assert_ledger_holds(data_dir, tmp_path / "p", tmp_path / "r", summary)
    quality = json.loads((tmp_path / "r" / "data_quality.json").read_text())
    assert sum(e["rows_quarantined"] for e in quality["ledger"]) > 0


def test_ledger_holds_on_the_simulator(simulated_data, tmp_path):
    data_dir = simulated_data(SIM_N, SIM_SEED)
    summary = build_model(data_dir, tmp_path / "p", tmp_path / "r", figures=False)
    _assert_ledger_holds(data_dir, tmp_path / "p", tmp_path / "r", summary)
    quality = json.loads((tmp_path / "r" / "data_quality.json").read_text())
    assert quality["simulated"] is True
    coverage = quality["reconciliation"]["coverage"]
    assert coverage["customers_in_metadata"] == summary["rows"]["dim_customer"]


def test_ledger_entry_arithmetic():
    entry = ledger_entry("f.csv", 10, 7, {"b": 2, "a": 1, "zero": 0})
    assert entry.rows_quarantined == 3 and entry.balanced
    assert list(entry.quarantined_by_reason) == ["a", "b"]
    assert not ledger_entry("f.csv", 10, 8, {"a": 1}).balanced
