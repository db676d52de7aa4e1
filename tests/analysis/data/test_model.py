"""The dimensional model: tables, columns, keys, canonical values, DuckDB file, determinism."""
from __future__ import annotations

import hashlib

import duckdb
import pandas as pd
import pytest

from analysis import schema
from analysis.data.model import MODEL_DUCKDB, MODEL_TABLES, build_model, model_path, read_model_tables
from tests.analysis.data.rawdata import CUSTOMERS, MONTHS, STATES, base_lines, lines_to_bytes, write_raw_set


@pytest.fixture(scope="module")
def base_model(tmp_path_factory):
    base = tmp_path_factory.mktemp("model")
    data_dir = write_raw_set(base / "raw")
    summary = build_model(data_dir, base / "processed", base / "results", figures=False)
    return summary, base / "processed", read_model_tables(base / "processed")


def test_tables_have_the_schema_columns(base_model):
    _, _, tables = base_model
    assert tuple(tables[schema.DIM_CUSTOMER].columns) == schema.DIM_CUSTOMER_COLUMNS
    assert tuple(tables[schema.FCT_CUSTOMER_MONTH].columns) == schema.FCT_CUSTOMER_MONTH_COLUMNS
    assert tuple(tables[schema.FCT_CUSTOMER_INTEGRATION_MONTH].columns) == schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS


def test_customer_months_match_the_hand_made_states(base_model):
    _, _, tables = base_model
    facts = tables[schema.FCT_CUSTOMER_MONTH].set_index(["customer_id", "month"])
    expected = {(c, MONTHS[m]): s for c, states in STATES.items() for m, s in enumerate(states) if s}
    assert len(facts) == len(expected) and facts.index.is_unique
    for (customer, month), (tier, count, bom, eom, cancel) in expected.items():
        row = facts.loc[(customer, month)]
        canonical = schema.TIER_ALIASES.get(tier, tier) or None
        assert (row["product_tier"] if pd.notna(row["product_tier"]) else None) == canonical
        assert (row["tier_rank"] if pd.notna(row["tier_rank"]) else None) == schema.TIER_RANK.get(canonical)
        assert row["n_integrations"] == count
        money = lambda text: float(text.replace("$", "").replace(",", "").replace("-", "")) if text else None
        assert row["mrr_bom"] == money(bom)
        assert (row["mrr_eom"] if pd.notna(row["mrr_eom"]) else None) == money(eom)
        assert row["cancel_dollars"] == (money(cancel) or 0.0)
        assert row["month_index"] == MONTHS.index(month)  # 0-based across the year end


def test_dim_customer_normalises_ids_and_labels(base_model):
    _, _, tables = base_model
    dim = tables[schema.DIM_CUSTOMER].set_index("customer_id")
    assert set(dim.index) == {c for c, *_ in CUSTOMERS}
    assert dim.loc["H00100102", "customer_segment"] == "NAM Direct"  # written H100102 in account_segments
    assert dim.loc["H00100101", "customer_segment"] == "NAM Low-touch"
    assert (dim.loc["H00100101", "region"], dim.loc["H00100101", "team"]) == ("NAM", "Low-touch")
    assert dim.loc["H00100108", "region"] == "International"
    assert set(dim["employee_size"]) <= {"1 to 25", "26 to 200", "201 or Above", "Undefined", schema.UNKNOWN}


def test_integration_kinds(base_model):
    _, _, tables = base_model
    rows = tables[schema.FCT_CUSTOMER_INTEGRATION_MONTH]
    custom = rows["integration_id"].str.lower().str.startswith("custom")
    assert (rows.loc[custom, "integration_kind"] == "custom").all()
    assert (rows.loc[~custom, "integration_kind"] == "marketplace").all()
    assert rows.loc[~custom, "integration_id"].str.fullmatch(r"\d+").all()
    assert set(rows["month"]) == set(MONTHS)


def test_duckdb_file_has_the_tables(base_model):
    summary, processed, tables = base_model
    with duckdb.connect(str(processed / MODEL_DUCKDB), read_only=True) as db:
        for table in MODEL_TABLES:
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == len(tables[table])
            assert summary["rows"][table] == len(tables[table])


def test_customers_missing_from_segments_are_unknown(tmp_path):
    lines = base_lines()
    segments = [line for line in lines["account_segments.csv"] if not line.startswith("H00100104,")]
    data_dir = write_raw_set(tmp_path / "raw", {"account_segments.csv": lines_to_bytes(segments)})
    build_model(data_dir, tmp_path / "p", tmp_path / "r", figures=False)
    dim = pd.read_parquet(model_path(tmp_path / "p", schema.DIM_CUSTOMER)).set_index("customer_id")
    assert tuple(dim.loc["H00100104"]) == (schema.UNKNOWN,) * 4


def test_same_input_gives_identical_model_files(tmp_path):
    data_dir = write_raw_set(tmp_path / "raw")
    digests = []
    for run in ("a", "b"):
        build_model(data_dir, tmp_path / run / "p", tmp_path / run / "r", figures=False)
        digests.append({t: pd.read_parquet(model_path(tmp_path / run / "p", t)).to_csv() for t in MODEL_TABLES})
    assert digests[0] == digests[1]
    csvs = [hashlib.sha256((tmp_path / run / "r" / "ledger.csv").read_bytes()).hexdigest() for run in ("a", "b")]
    assert csvs[0] == csvs[1]


def test_model_on_the_simulator(simulated_data, tmp_path):
    data_dir = simulated_data(6_000, 7)
    summary = build_model(data_dir, tmp_path / "p", tmp_path / "r", figures=False)
    tables = read_model_tables(tmp_path / "p")
    facts = tables[schema.FCT_CUSTOMER_MONTH]
    assert not facts.duplicated(["customer_id", "month"]).any()
    assert facts["customer_id"].str.fullmatch(r"H\d{8}").all()
    assert set(facts["customer_id"]) == set(tables[schema.DIM_CUSTOMER]["customer_id"])
    assert (facts["n_integrations"] >= 0).all() and (facts["cancel_dollars"] >= 0).all()
    assert sorted(facts["month_index"].unique()) == list(range(len(summary["months"])))
    assert set(facts["product_tier"].dropna()) <= set(schema.TIER_RANK)
    dim = tables[schema.DIM_CUSTOMER]
    assert (dim["customer_segment"] != schema.UNKNOWN).mean() > 0.95
    assert not dim["customer_segment"].str.contains("Low-Touch").any()
