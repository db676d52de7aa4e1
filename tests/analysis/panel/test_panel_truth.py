"""The panel built from the simulator's files agrees with the simulator's own truth.json.

The panel (from the raw files, through the data layer) and the simulator (from
its latent paths) implement docs/definitions.md independently: eligible and
treated counts must agree exactly and naive differences to 1e-9, per
treatment, outcome, horizon and cohort, pooled, and by segment.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import paths, results_contract, schema
from analysis.panel.stage import load_panel

SIZE, SEED = 6_000, 7  # the pipeline_run default, shared with other stages' tests


def naive_table(panel: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """n_units, n_treated and naive difference per (treatment, outcome, horizon, *by)."""
    frames = []
    for outcome in schema.OUTCOMES:
        for h in schema.HORIZONS:
            column = schema.outcome_column(outcome, h)
            rows = panel.loc[panel[column].notna(), ["treatment", schema.TREATED, column] + by]
            rows = rows.rename(columns={column: "y"})
            rows["y1"] = np.where(rows[schema.TREATED] == 1, rows["y"], np.nan)
            rows["y0"] = np.where(rows[schema.TREATED] == 0, rows["y"], np.nan)
            table = rows.groupby(["treatment"] + by).agg(
                n_units=("y", "size"), n_treated=(schema.TREATED, "sum"), mean1=("y1", "mean"),
                mean0=("y0", "mean")).reset_index()
            table["naive"] = table["mean1"] - table["mean0"]
            table["outcome"], table["horizon"] = outcome, h
            frames.append(table.drop(columns=["mean1", "mean0"]))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def panel_and_truth(pipeline_run, simulated_data):
    results, processed = pipeline_run(SIZE, SEED, stages="data,panel")
    truth = json.loads((simulated_data(SIZE, SEED) / paths.TRUTH_JSON).read_text())
    quality = json.loads((results / results_contract.DATA_QUALITY_JSON).read_text())
    return load_panel(processed), pd.DataFrame(truth["records"]), truth, quality


def compare(ours: pd.DataFrame, truth: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    merged = truth.merge(ours, on=keys, how="outer", suffixes=("_truth", "_panel"), indicator=True)
    # cells the truth lists with no observed unit have no panel row; every panel cell must be in the truth
    missing = merged[(merged["_merge"] == "right_only")
                     | ((merged["_merge"] == "left_only") & (merged["n_units_truth"] > 0))]
    assert missing.empty, missing[keys + ["_merge"]].head().to_string()
    both = merged[merged["_merge"] == "both"]
    assert (both["n_units_truth"] == both["n_units_panel"]).all(), both[keys].head().to_string()
    assert (both["n_treated_truth"] == both["n_treated_panel"]).all()
    np.testing.assert_allclose(both["naive_panel"].to_numpy(float), both["naive_truth"].to_numpy(float),
                               rtol=0, atol=1e-9, equal_nan=True)
    return both


def test_tracking_change_months_and_flags_agree(panel_and_truth):
    panel, _records, truth, quality = panel_and_truth
    assert quality["tracking_change_months"] == truth["tracking_change_months"]
    flagged = sorted(panel.loc[panel[schema.FLAGGED], "cohort"].unique())
    assert flagged == sorted(truth["tracking_change_months"])
    assert quality["panel"]["flagged_cohorts"] == flagged


def test_counts_and_naive_per_cohort_agree_with_truth(panel_and_truth):
    panel, records, _truth, _quality = panel_and_truth
    truth = records[(records.group_var == "all") & (records.cohort != "pooled")]
    keys = ["treatment", "outcome", "horizon", "cohort"]
    both = compare(naive_table(panel, ["cohort"]), truth[keys + ["n_units", "n_treated", "naive"]], keys)
    assert set(both.treatment) == set(schema.TREATMENTS)
    assert len(both) >= len(schema.TREATMENTS) * len(schema.OUTCOMES) * 6  # every horizon fits some cohort


def test_pooled_counts_and_naive_agree_with_truth(panel_and_truth):
    panel, records, _truth, _quality = panel_and_truth
    main = panel[~panel[schema.FLAGGED]]
    truth = records[(records.group_var == "all") & (records.cohort == "pooled")]
    keys = ["treatment", "outcome", "horizon"]
    both = compare(naive_table(main, []), truth[keys + ["n_units", "n_treated", "naive", "cohorts"]], keys)
    for row in both.itertuples():
        column = schema.outcome_column(row.outcome, row.horizon)
        cell = main[(main.treatment == row.treatment) & main[column].notna()]
        assert row.cohorts == ";".join(sorted(cell.cohort.unique()))


def test_counts_and_naive_by_segment_agree_with_truth(panel_and_truth):
    panel, records, _truth, _quality = panel_and_truth
    main = panel[~panel[schema.FLAGGED]]
    for group_var, column in schema.SEGMENT_VARS.items():
        truth = records[(records.group_var == group_var) & (records.cohort == "pooled")]
        ours = naive_table(main, [column]).rename(columns={column: "group_value"})
        keys = ["treatment", "outcome", "horizon", "group_value"]
        compare(ours, truth[keys + ["n_units", "n_treated", "naive"]], keys)


def test_panel_counts_match_panel_and_hold_no_ids(panel_and_truth, pipeline_run):
    panel, _records, _truth, quality = panel_and_truth
    results, _processed = pipeline_run(SIZE, SEED, stages="data,panel")
    counts = pd.read_csv(results / "panel_counts.csv")
    assert (counts.eligible == counts.beyond_data + counts.censored_gap + counts.censored_left
            + counts.censored_missing_tier + counts.censored_missing_value + counts.n_units).all()
    assert counts.groupby("treatment").apply(lambda g: g.n_units.sum(), include_groups=False).sum() == sum(
        panel[schema.outcome_column(o, h)].notna().sum() for o in schema.OUTCOMES for h in schema.HORIZONS)
    assert not counts.astype(str).apply(lambda s: s.str.fullmatch(r"H\d{8}")).any().any()
    assert quality["panel"]["rows"] == len(panel)
