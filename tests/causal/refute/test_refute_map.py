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


def test_a_refute_task_hands_other_keys_to_the_refuter_suite(monkeypatch):
    from causal.refute import stage

    monkeypatch.setattr(stage, "refute_cell", lambda panel, key, *args: ("suite", key, args))
    monkeypatch.setattr(stage, "negative_control_effects", lambda panel, seed, n: ("control", seed, n))
    assert refute_task(None, NEGATIVE_CONTROL_TASK, 4, 50) == ("control", 4, 50)
    key = ("any", "cancel", 1, "dml")
    assert refute_task(None, key, "original", 4, 1) == ("suite", key, ("original", 4, 1))


def test_the_run_cache_gives_the_trimmed_cell_without_trimming_again(processed, tmp_path, monkeypatch):
    """With the run's cached nuisances (same seed) the suites rebuild the trimmed cell from its rows: no
    trimming fit, the same records; with another seed the cache does not apply and the cell is trimmed."""
    from analysis.panel.stage import load_panel
    from causal.estimate.stage import estimate_cell
    from causal.refute import stage

    variant = load_panel(processed).query("treatment == 'any'")
    dml_key = ("any", "cancel", 1, "dml")
    estimates = [(PSM_KEY, ORIGINAL), (dml_key, EffectRecord(*dml_key, "ATE", -0.04, -0.08, 0.0, 0.02, 1000, 200, ""))]

    def suites(results_dir, seed=3):
        return [(r.method, r.refuter, r.new_effect, r.p_value, r.passed) for key, original in estimates
                for r in stage.refute_cell(variant, key, original, seed=seed, simulations=1, results_dir=results_dir)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate_cell(variant, PSM_KEY[:3], seed=3, n_bootstrap=5, results_dir=str(tmp_path))
        trimmed_here = suites(None)
        trims = []
        real_prepare = stage.prepare_cell
        monkeypatch.setattr(stage, "prepare_cell", lambda *args, **kw: trims.append(args[1:]) or real_prepare(*args, **kw))
        from_cache = suites(str(tmp_path))
        assert trims == []  # nothing trimmed: the cache named the rows
        assert from_cache == trimmed_here
        suites(str(tmp_path), seed=4)  # the cache was fitted with seed 3
    assert trims == [PSM_KEY[:3], PSM_KEY[:3]]
    assert {r[1] for r in from_cache} >= {"placebo_treatment", "unobserved_confounder"}
