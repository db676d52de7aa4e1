"""Outcomes observed on the same rows share their logistic fits, and every number stays what each cell gives alone."""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import schema
from causal.estimate import estimators, stage
from tests.causal.synthetic import synthetic_panel


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel(700, seed=11)


def _numbers(result: stage.CellResult) -> list[dict]:
    return [dataclasses.asdict(record) for record in result.records]


def test_outcomes_on_the_same_rows_are_grouped_and_the_others_alone(panel):
    keys = stage.cell_keys(panel)
    groups = stage.same_rows_groups(panel, keys)
    assert sorted((t, o, h) for t, outcomes, h in groups for o in outcomes) == sorted(keys)  # every cell once
    observed = {}
    for treatment, outcomes, horizon in groups:
        rows = panel.loc[(panel["treatment"] == treatment) & ~panel[schema.FLAGGED].astype(bool)]
        masks = {o: rows[schema.outcome_column(o, horizon)].notna().to_numpy() for o in outcomes}
        assert all(np.array_equal(masks[o], masks[outcomes[0]]) for o in outcomes)
        observed[(treatment, horizon, outcomes)] = masks[outcomes[0]]
    # two groups of one treatment and horizon are observed on different rows
    by_cell: dict[tuple, list] = {}
    for (treatment, horizon, _), mask in observed.items():
        by_cell.setdefault((treatment, horizon), []).append(mask)
    assert all(not np.array_equal(a, b) for masks in by_cell.values() for i, a in enumerate(masks) for b in masks[i + 1:])
    assert any(len(outcomes) > 1 for _, outcomes, _ in groups)


def test_an_outcome_missing_on_one_more_row_leaves_the_group(panel):
    column = schema.outcome_column("cancel_dollars", 2)
    changed = panel.copy()
    row = changed.index[(changed["treatment"] == "any") & changed[column].notna() & ~changed[schema.FLAGGED]][0]
    changed.loc[row, column] = np.nan
    groups = stage.same_rows_groups(changed, stage.cell_keys(changed))
    any_h2 = [outcomes for treatment, outcomes, horizon in groups if (treatment, horizon) == ("any", 2)]
    assert ("cancel_dollars",) in any_h2 and all(len(o) == 1 or "cancel_dollars" not in o for o in any_h2)
    other = [outcomes for treatment, outcomes, horizon in groups if (treatment, horizon) == ("marketplace", 2)]
    assert any("cancel_dollars" in o and len(o) > 1 for o in other)  # only the changed variant splits


def test_a_group_gives_each_cell_its_numbers_to_the_last_bit(panel):
    variant = panel.loc[panel["treatment"] == "any"]
    outcomes = ("cancel", "cancel_dollars", "mrr_change")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        together = stage.estimate_same_rows(variant, "any", outcomes, 1, seed=4, n_bootstrap=20)
        alone = [stage.estimate_cell(variant, ("any", o, 1), seed=4, n_bootstrap=20) for o in outcomes]
    assert [r.records[0].outcome for r in together] == list(outcomes)
    for grouped, single in zip(together, alone):
        assert len(grouped.records) == 4
        assert _numbers(grouped) == _numbers(single)
        assert grouped.trimming == single.trimming
        pd.testing.assert_frame_equal(grouped.balance, single.balance)
        assert grouped.agreement == single.agreement


def test_a_group_whose_first_outcome_cannot_be_estimated_estimates_the_others_alone(panel):
    variant = panel.loc[panel["treatment"] == "any"].copy()
    variant["cancel_h1"] = variant["cancel_h1"].where(variant["cancel_h1"].isna(), 0.0)  # no variation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        together = stage.estimate_same_rows(variant, "any", ("cancel", "cancel_dollars"), 1, seed=4, n_bootstrap=10)
        alone = stage.estimate_cell(variant, ("any", "cancel_dollars", 1), seed=4, n_bootstrap=10)
    assert together[0].records == [] and {row["method"] for row in together[0].skipped} == set(stage.METHODS)
    assert "no variation" in together[0].skipped[0]["reason"]
    assert _numbers(together[1]) == _numbers(alone)


def test_prepared_for_another_outcome_is_what_preparing_it_gives(panel):
    variant = panel.loc[panel["treatment"] == "any"]
    first = stage.prepare_cell(variant, "any", "cancel", 2)
    shared = stage.prepared_for_outcome(first, "mrr_change")
    own = stage.prepare_cell(variant, "any", "mrr_change", 2)
    assert shared.trim_row == own.trim_row
    np.testing.assert_array_equal(shared.trimmed.y, own.trimmed.y)
    pd.testing.assert_frame_equal(shared.trimmed.X, own.trimmed.X)
    np.testing.assert_array_equal(shared.propensity, own.propensity)
    with pytest.raises(ValueError, match="not observed on every row"):
        stage.prepared_for_outcome(first, "upgrade")  # upgrade is observed on fewer rows


def test_a_shared_propensity_model_refuses_other_rows(panel):
    cell = stage.prepare_cell(panel.loc[panel["treatment"] == "any"], "any", "cancel", 1).trimmed
    shared = estimators.FittedOnce()
    shared.fit(cell.X, cell.t)
    model = shared.model
    assert shared.fit(cell.X, cell.t).model is model  # fitted once
    np.testing.assert_array_equal(shared.predict_proba(cell.X),
                                  estimators.propensity_model().fit(cell.X, cell.t).predict_proba(cell.X))
    with pytest.raises(ValueError, match="other rows"):
        shared.fit(cell.X, 1 - cell.t)
    with pytest.raises(ValueError, match="other rows"):
        shared.fit(cell.X.iloc[1:], cell.t[1:])


def test_the_stage_hands_out_one_task_per_group(panel):
    keys = stage.cell_keys(panel)
    tasks = stage.cell_tasks(panel, keys)
    assert [cell for task in tasks for cell in stage.cells_of_task(task)] != []
    assert sorted(cell for task in tasks for cell in stage.cells_of_task(task)) == sorted(keys)
    assert len(tasks) < len(keys)
    grouped = next(task for task in tasks if task[-1] == stage.SAME_ROWS_TASK)
    assert stage.cell_cost(grouped) == (0 if grouped[0] == "first" else len(grouped[1]))
