"""At real scale (63,882 customers, seed 1) the simulated extracts match CALIBRATION.md and the planted truth
is realistic: naive comparisons overstate the benefit, the 3-month cancel ATE is several SEs from zero,
and Partner customers gain almost nothing."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow
N_REAL = 63_882
MONTHS = ("2020-08", "2020-09", "2020-10", "2020-11", "2020-12", "2021-01")
REAL_MEAN_INTEGRATIONS = (2.868, 2.957, 3.025, 3.323, 3.794, 5.859)
REAL_BUCKETS = {(0, 0): 41937, (1, 5): 170000, (6, 10): 42163, (11, 15): 16194, (16, 20): 2437, (21, 999): 1251}
REAL_MRR_BY_COUNT = {0: 348, 1: 518, 2: 643, 3: 766, 4: 900, 5: 1030, 6: 1140, 8: 1355, 10: 1578}


def _money(text: pd.Series) -> pd.Series:
    clean = text.str.replace("$", "", regex=False).str.replace(",", "", regex=False)
    return pd.to_numeric(clean.where(clean != "", None)).astype(float)


@pytest.fixture(scope="module")
def real_scale(simulated_data):
    folder = simulated_data(N_REAL, 1)
    meta = pd.read_csv(folder / "customer_metadata.csv", dtype=str, keep_default_na=False)
    meta["n"] = meta["NUM_OF_INTEGRATIONS"].astype(int)
    meta["bom"] = _money(meta["CUSTOMER_VALUE_BEGINNING_OF_MONTH"])
    links = pd.read_csv(folder / "integrations.csv", dtype=str, keep_default_na=False)
    links["custom"] = links["INTEGRATION_ID"].str.lower().str.startswith("custom")
    segments = pd.read_csv(folder / "account_segments.csv", dtype=str, keep_default_na=False)
    return folder, meta, links, segments


def test_customers_per_month_and_row_counts(real_scale):
    _, meta, links, _ = real_scale
    per_month = meta.groupby("SNAPSHOT_MONTH")["CUSTOMER_ID"].nunique()
    assert per_month["2020-08"] == pytest.approx(42_896, rel=0.05)
    assert per_month["2021-01"] == pytest.approx(47_375, rel=0.05)
    assert meta["CUSTOMER_ID"].nunique() == N_REAL
    assert len(meta) == pytest.approx(278_000, rel=0.05)  # 273,982 with a tier, ~1.5% without
    assert len(links) == pytest.approx(1_003_232, rel=0.15)


def test_integrations_by_month(real_scale):
    _, meta, _, _ = real_scale
    by_month = meta.groupby("SNAPSHOT_MONTH")["n"]
    for month, real in zip(MONTHS, REAL_MEAN_INTEGRATIONS):
        assert by_month.mean()[month] == pytest.approx(real, rel=0.10), month
    zero = by_month.apply(lambda s: (s == 0).mean())
    assert abs(zero["2020-08"] - 0.2023) < 0.03
    assert abs(zero["2021-01"] - 0.0444) < 0.03


def test_custom_share_before_and_at_the_tracking_change(real_scale):
    _, _, links, _ = real_scale
    last = links["SNAPSHOT_MONTH"].str[:7] == MONTHS[-1]
    assert abs(links.loc[~last, "custom"].mean() - 91_104 / 725_669) < 0.03
    assert abs(links.loc[last, "custom"].mean() - 116_732 / 277_563) < 0.03


def test_integration_count_buckets(real_scale):
    _, meta, _, _ = real_scale
    tiered = meta[meta["PRODUCT_TIER"] != ""]
    total = sum(REAL_BUCKETS.values())
    for (lo, hi), count in REAL_BUCKETS.items():
        share = tiered["n"].between(lo, hi).mean()
        assert abs(share - count / total) < 0.03, (lo, hi, share)


def test_mrr_rises_with_integrations(real_scale):
    _, meta, _, _ = real_scale
    mean_bom = meta.groupby("n")["bom"].mean()
    for count, real in REAL_MRR_BY_COUNT.items():
        assert mean_bom[count] == pytest.approx(real, rel=0.25), count
    assert mean_bom.loc[0:10].is_monotonic_increasing


def test_segment_size_mix(real_scale, reference_segments_csv):
    _, _, _, segments = real_scale
    real = pd.read_csv(reference_segments_csv, dtype=str)
    share = lambda f: f.groupby(["EMPLOYEE_SIZE", "CUSTOMER_SEGMENT"]).size() / len(f)  # noqa: E731
    assert share(real).sub(share(segments), fill_value=0).abs().max() < 0.01
    lengths = lambda f: f["CUSTOMER_ID"].str.len().value_counts(normalize=True)  # noqa: E731
    assert lengths(real).sub(lengths(segments), fill_value=0).abs().max() < 0.01


def _pooled(truth: dict, treatment: str, outcome: str, horizon: int, group_var="all", value="all") -> dict:
    return next(r for r in truth["records"] if r["treatment"] == treatment and r["outcome"] == outcome
                and r["horizon"] == horizon and r["cohort"] == "pooled" and r["group_var"] == group_var
                and r["group_value"] == value)


def test_naive_overstates_the_benefit(real_scale):
    truth = json.loads((real_scale[0] / "truth.json").read_text())
    cancel = _pooled(truth, "any", "cancel", 3)
    assert cancel["att"] < 0 and cancel["naive"] < 0
    assert 1.5 < cancel["naive"] / cancel["att"] < 4, "naive about twice the true ATT"
    assert cancel["att"] - cancel["naive"] > 0.01
    upgrade = _pooled(truth, "any", "upgrade", 3)
    assert upgrade["att"] > 0 and 1.5 < upgrade["naive"] / upgrade["att"] < 4


def test_effect_is_detectable_realistic_and_heterogeneous(real_scale):
    folder = real_scale[0]
    truth = json.loads((folder / "truth.json").read_text())
    units = pd.read_parquet(folder / "truth_units.parquet",
                            columns=["treatment", "flagged", "treated", "cancel_h1", "cancel_h1_y0",
                                     "cancel_h3", "cancel_h3_y0"])
    used = units[(units["treatment"] == "any") & ~units["flagged"] & units["cancel_h3"].notna()]
    groups = [used.loc[used["treated"] == a, "cancel_h3"] for a in (0, 1)]
    se = np.sqrt(sum(g.var() / len(g) for g in groups))
    assert abs(_pooled(truth, "any", "cancel", 3)["ate"]) > 4 * se
    # relative reduction of the one-month cancel risk of adopters: within the planted 10-40% band
    one = units[(units["treatment"] == "any") & ~units["flagged"] & units["cancel_h1"].notna()
                & (units["treated"] == 1)]
    relative = _pooled(truth, "any", "cancel", 1)["att"] / one["cancel_h1_y0"].mean()
    assert -0.4 < relative < -0.1
    for partner in ("NAM Partner", "International Partner"):
        assert abs(_pooled(truth, "any", "cancel", 3, "segment", partner)["ate"]) < 0.004
    assert _pooled(truth, "any", "cancel", 3, "segment", "NAM Low-touch")["ate"] < -0.015
