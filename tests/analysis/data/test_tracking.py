"""Tracking-change detection: the rule on hand-made series, and on the simulator with and without a change."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.data.model import build_model
from analysis.data.tracking import TrackingRule, detect_tracking_changes

SIM_N, SIM_SEED = 6_000, 7


def _series(months, custom_share, mean_count):
    return pd.DataFrame({"month": months, "custom_share": custom_share, "mean_n_integrations": mean_count})


CALIBRATION_MONTHS = ["2020-08", "2020-09", "2020-10", "2020-11", "2020-12", "2021-01"]


def test_flags_the_calibration_jump():
    # CALIBRATION.md: custom share ~12.6% Aug..Dec then 42% in Jan; mean count 3.79 -> 5.86
    stats = _series(CALIBRATION_MONTHS, [0.124, 0.127, 0.125, 0.128, 0.126, 0.42],
                    [2.868, 2.957, 3.025, 3.323, 3.794, 5.859])
    flagged, details = detect_tracking_changes(stats)
    assert flagged == ["2020-12"]
    assert [d["flagged"] for d in details] == [False] * 4 + [True]
    assert details[-1]["flagged_by_custom_share"] and details[-1]["flagged_by_mean_count"]


def test_no_month_is_assumed_a_jump_elsewhere_is_found():
    months = ["2019-10", "2019-11", "2019-12", "2020-01", "2020-02", "2020-03", "2020-04"]
    stats = _series(months, [0.10, 0.11, 0.40, 0.41, 0.40, 0.42, 0.41], [2.0, 2.1, 3.5, 3.6, 3.7, 3.8, 3.9])
    flagged, _ = detect_tracking_changes(stats)
    assert flagged == ["2019-11"]


def test_a_steady_trend_is_not_flagged():
    months = [f"2021-{m:02d}" for m in range(1, 10)]
    stats = _series(months, [0.10 + 0.01 * i for i in range(9)], [2.0 * 1.08 ** i for i in range(9)])
    assert detect_tracking_changes(stats)[0] == []


def test_a_drop_in_tracking_is_flagged_too():
    stats = _series(CALIBRATION_MONTHS[:5], [0.40, 0.41, 0.40, 0.12, 0.12], [5.0, 5.1, 5.2, 3.0, 3.1])
    assert detect_tracking_changes(stats)[0] == ["2020-10"]


def test_small_change_in_a_flat_series_stays_under_the_floor():
    stats = _series(CALIBRATION_MONTHS, [0.120, 0.120, 0.120, 0.120, 0.120, 0.150], [3.0, 3.0, 3.0, 3.0, 3.0, 3.3])
    assert detect_tracking_changes(stats)[0] == []
    strict = TrackingRule(custom_share_floor=0.02)
    assert detect_tracking_changes(stats, strict)[0] == ["2020-12"]


def test_one_month_has_no_transition():
    assert detect_tracking_changes(_series(["2020-01"], [0.1], [2.0])) == ([], [])


def test_simulator_change_is_flagged_and_matches_truth(simulated_data, tmp_path):
    data_dir = simulated_data(SIM_N, SIM_SEED)
    summary = build_model(data_dir, tmp_path / "processed", tmp_path / "results", figures=False)
    truth = json.loads((data_dir / "truth.json").read_text())
    assert summary["tracking_change_months"] == truth["tracking_change_months"]
    assert len(summary["tracking_change_months"]) == 1
    quality = json.loads((tmp_path / "results" / "data_quality.json").read_text())
    assert quality["tracking_change_months"] == summary["tracking_change_months"]
    assert len(quality["tracking_changes"]) == len(quality["months"]) - 1


@pytest.mark.parametrize("seed", [11])
def test_simulator_without_change_flags_nothing(seed, tmp_path):
    from analysis.simulator import simulate

    data_dir = tmp_path / "raw"
    simulate(out_dir=data_dir, n_customers=4_000, seed=seed, tracking_change=False)
    summary = build_model(data_dir, tmp_path / "processed", tmp_path / "results", figures=False)
    assert summary["tracking_change_months"] == []
    assert len(summary["months"]) >= 2
