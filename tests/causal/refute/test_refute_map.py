"""The refuting map: the design checks' negative control runs in it, with the numbers it has when run alone."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from causal.estimate.records import EffectRecord
from causal.estimate.tasks import release_workers
from causal.refute import design_checks
from causal.refute.stage import (NEGATIVE_CONTROL_TASK, refute_primary_cells, refute_task,
                                  refute_with_negative_control)
from tests.causal.synthetic import synthetic_panel


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("processed")
    synthetic_panel(900, seed=5).to_parquet(folder / "panel.parquet")
    return folder


def _numbers(controls: dict) -> dict:
    return {method: (r.estimate, r.se, r.ci_low, r.ci_high, r.n_units) for method, r in controls.items()}


PSM_KEY = ("any", "cancel", 1, "psm")
ORIGINAL = EffectRecord(*PSM_KEY, "ATT", -0.04, -0.08, 0.0, 0.02, 1000, 200, "")


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_negative_control_comes_back_from_the_map_as_computed_alone(processed, jobs):
    from analysis.panel.stage import load_panel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = design_checks.negative_control_effects(load_panel(processed), seed=3, n_bootstrap=30)
        records, controls = refute_with_negative_control(processed, {PSM_KEY: ORIGINAL}, seed=3, simulations=1,
                                                         jobs=jobs, results_dir=None, n_bootstrap=30)
        suite = refute_primary_cells(processed, {PSM_KEY: ORIGINAL}, seed=3, simulations=1, jobs=1)
    release_workers()
    assert [(r.refuter, r.new_effect) for r in records] == [(r.refuter, r.new_effect) for r in suite]
    assert {r.refuter for r in records} >= {"placebo_treatment", "bootstrap"}  # the suite ran beside it
    assert set(controls) == {"psm", "dml"}
    assert _numbers(controls) == _numbers(alone)  # the same seeds wherever it runs
    assert all(np.isfinite(r.se) and r.se > 0 for r in controls.values())


def test_without_the_negative_control_the_map_returns_only_records(processed):
    assert refute_primary_cells(processed, {}, seed=3, simulations=1, jobs=1) == []


def test_a_refute_task_hands_other_keys_to_the_suites_of_the_cell(monkeypatch):
    from causal.refute import stage

    monkeypatch.setattr(stage, "refute_cell_suites", lambda panel, key, *args: ("suites", key, args))
    monkeypatch.setattr(stage, "negative_control_effects", lambda panel, seed, n: ("control", seed, n))
    assert refute_task(None, NEGATIVE_CONTROL_TASK, 4, 50) == ("control", 4, 50)
    key = ("any", "cancel", 1, stage.CELL_TASK)
    assert refute_task(None, key, ("original",), 4, 1) == ("suites", key, (("original",), 4, 1))


def test_the_suites_of_a_cell_are_each_estimate_refuted_alone(processed):
    """One task per cell, its cell prepared once: the same records, in order, as each estimate's suite alone."""
    from analysis.panel.stage import load_panel
    from causal.refute.stage import refute_cell, refute_cell_suites

    panel = load_panel(processed).query("treatment == 'any'")
    dml_original = EffectRecord("any", "cancel", 1, "dml", "ATE", -0.04, -0.08, 0.0, 0.02, 1000, 200, "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        together = refute_cell_suites(panel, ("any", "cancel", 1), (ORIGINAL, dml_original), seed=3, simulations=1)
        alone = [r for original in (ORIGINAL, dml_original)
                 for r in refute_cell(panel, ("any", "cancel", 1, original.method), original, seed=3, simulations=1)]
    assert [(r.method, r.refuter) for r in together][:2] == [("psm", "placebo_treatment"), ("psm", "random_common_cause")]
    assert {r.method for r in together} == {"psm", "dml"}
    assert [(r.method, r.refuter, r.new_effect, r.p_value, r.passed) for r in together] == \
        [(r.method, r.refuter, r.new_effect, r.p_value, r.passed) for r in alone]
