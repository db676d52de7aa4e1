"""The value parsers of the data layer, pinned value by value.

Every form CALIBRATION.md describes, and the near misses a real extract may hold,
with the value the loader makes of it or ``None`` where the row is quarantined.
The parsers are DuckDB macros (analysis/data/validate.py), evaluated here as the
loader evaluates them; values reach them already trimmed of surrounding spaces.
"""
from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from analysis.data import validate

MONEY = [
    ("$1,440.00", 1440.0), ("$389.34", 389.34), ("389.34", 389.34), ("0", 0.0), ("$0.00", 0.0),
    ("-$240.00", -240.0), ("$-5.00", -5.0), ("-5", -5.0), ("-$680.00", -680.0), ("$1440", 1440.0),
    ("1,440", 1440.0), ("$12,345,678.90", 12345678.9), ("0.5", 0.5), ("$1,440.5", 1440.5),
    ("1.440,00", None), ("$1,44.00", None), ("$.50", None), ("5.", None), ("1e3", None), ("(240.00)", None),
    ("$ 5.00", None), ("+5", None), ("N/A", None), ("USD 5", None), ("5$", None), ("--", None), ("$", None),
    (" $5.00", None), ("5,00", None), ("1,4400.00", None),
]
IDS = [
    ("H123", "H00000123"), ("H00100101", "H00100101"), ("H100102", "H00100102"), ("H1", "H00000001"),
    ("H12345678", "H12345678"), ("H123456789", None), ("h123", None), ("123", None), ("H", None),
    ("H12a", None), ("HH123", None), ("H-123", None), ("H 123", None),
]
METADATA_MONTHS = [("2020-08", "2020-08"), ("2021-01", "2021-01"), ("2020-12", "2020-12"), ("2020-13", None),
                   ("2020-00", None), ("2020-8", None), ("2020-08-01", None), ("08/2020", None), ("2020/08", None),
                   ("202008", None), ("Aug 2020", None)]
INTEGRATION_MONTHS = [("2020-08-01", "2020-08"), ("2021-01-31", "2021-01"), ("2020-08", None),
                      ("2020-13-01", None), ("2020-8-1", None), ("01/08/2020", None)]
TIERS = [("Free", "Free"), ("Starter", "Starter"), ("Basic", "Basic"), ("Pro", "Pro"), ("Enterprise", "Enterprise"),
         ("Ent", "Enterprise"), ("ent", "Enterprise"), ("PRO", "Pro"), ("pro", "Pro"), ("Premium", None),
         ("Pro+", None), ("Enterprize", None), ("", None)]


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    validate.register_macros(connection)
    yield connection
    connection.close()


def _one(con, sql: str, value: str):
    return con.execute(sql, [value]).fetchone()[0]


@pytest.mark.parametrize("raw, expected", MONEY, ids=[m[0] or "empty" for m in MONEY])
def test_money(con, raw, expected):
    parsed = _one(con, "SELECT parse_money(?)", raw)
    if expected is None:
        assert parsed is None
    else:
        assert parsed == pytest.approx(expected, abs=1e-9) and (parsed < 0) == (expected < 0)


def test_empty_money_is_missing_not_zero(con):
    assert _one(con, "SELECT parse_money(?)", "") is None


@pytest.mark.parametrize("raw, expected", IDS, ids=[i[0] for i in IDS])
def test_customer_id(con, raw, expected):
    assert _one(con, "SELECT normalise_id(?)", raw) == expected


@pytest.mark.parametrize("raw, expected", METADATA_MONTHS, ids=[m[0] for m in METADATA_MONTHS])
def test_metadata_month(tmp_path, raw, expected):
    assert _validated_metadata(tmp_path, month=raw)["month"] == expected


@pytest.mark.parametrize("raw, tier", TIERS, ids=[t[0] or "empty" for t in TIERS])
def test_tier(tmp_path, raw, tier):
    row = _validated_metadata(tmp_path, tier=raw)
    assert row["product_tier"] == tier
    assert (row["reason"] == "unknown_tier") == (tier is None and raw != "")


@pytest.mark.parametrize("raw, expected", [("3", 3), ("0", 0), ("007", 7), ("-1", None), ("2.0", None), ("", None),
                                           ("three", None), ("1001", 1001)])
def test_integration_count(tmp_path, raw, expected):
    row = _validated_metadata(tmp_path, count=raw)
    reasons = {"-1": "negative_count", "2.0": "invalid_count", "": "missing_count", "three": "invalid_count",
               "1001": "count_out_of_range"}
    assert row["reason"] == reasons.get(raw)
    if row["reason"] is None:
        assert row["n_integrations"] == expected


@pytest.mark.parametrize("column, raw, reason", [
    ("bom", "-$5.00", "negative_mrr"), ("bom", "$-5.00", "negative_mrr"), ("eom", "-1", "negative_mrr"),
    ("bom", "1.440,00", "unparseable_money"), ("cancel", "-$240.00", None), ("cancel", "$-5.00", None),
    ("bom", "", None), ("bom", "  $10.00  ", None),
])
def test_money_checks_of_a_metadata_row(tmp_path, column, raw, reason):
    row = _validated_metadata(tmp_path, **{column: raw})
    assert row["reason"] == reason


def test_a_cancellation_keeps_its_sign_until_the_model_takes_its_size(tmp_path):
    assert _validated_metadata(tmp_path, cancel="$-5.00")["cancel_signed"] == -5.0
    assert _validated_metadata(tmp_path, cancel="  -$1,440.00 ")["cancel_signed"] == -1440.0


def _validated_metadata(tmp_path, month="2020-08", tier="Pro", count="2", bom="$100.00", eom="$100.00",
                        cancel="") -> dict:
    """One metadata row (beside a valid one) read and parsed by the loader; the parsed row as a dict."""
    from analysis.data.load import METADATA, read_raw_table, scan_raw_file

    header = ("CUSTOMER_ID,SNAPSHOT_MONTH,PRODUCT_TIER,NUM_OF_INTEGRATIONS,CUSTOMER_VALUE_BEGINNING_OF_MONTH,"
              "CUSTOMER_VALUE_END_OF_MONTH,CUSTOMER_CANCELLATION_DOLLARS")
    fields = ["H00000001", month, tier, count, bom, eom, cancel]
    line = ",".join(f'"{f}"' if "," in f else f for f in fields)
    path = tmp_path / "customer_metadata.csv"
    path.write_text(f"{header}\n{line}\nH00000002,2020-08,Pro,1,$5.00,$5.00,\n")
    spec = METADATA
    con = duckdb.connect()
    validate.register_macros(con)
    read = read_raw_table(con, path, spec, scan_raw_file(path, spec), "raw_metadata")
    parsed = validate.validate_metadata(con, read, today=date(2021, 6, 1))
    row = con.execute(f"SELECT * FROM {parsed} WHERE line = 2").fetchdf().iloc[0].to_dict()
    con.close()
    return {k: (None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else v) for k, v in row.items()}
