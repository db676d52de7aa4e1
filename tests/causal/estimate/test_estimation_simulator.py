"""Recovery of the simulator's computed truth, and no effect found where none is planted."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis import paths, results_contract, schema

pytestmark = pytest.mark.slow


def _truth(data_dir) -> pd.DataFrame:
    records = pd.DataFrame(json.loads((data_dir / paths.TRUTH_JSON).read_text())["records"])
    return records.loc[(records["cohort"] == "pooled") & (records["group_var"] == "all")]


def _primary(effects: pd.DataFrame) -> pd.DataFrame:
    return effects.loc[(effects["treatment"] == "any") & effects["outcome"].isin(schema.BINARY_OUTCOMES)]


def test_psm_and_dml_recover_the_simulated_truth(pipeline_run, simulated_data):
    results, _ = pipeline_run(40000, 11, stages="estimate")
    truth = _truth(simulated_data(40000, 11)).set_index(["treatment", "outcome", "horizon"])
    effects = _primary(pd.read_csv(results / results_contract.EFFECTS_CSV)).set_index(["treatment", "outcome", "horizon"])
    covered, cells = 0, 0
    att_covered, att_narrower = 0, 0
    for key, target in truth.loc[truth.index.isin(effects.index)].iterrows():
        rows = effects.loc[[key]].set_index(["method", "estimand"])
        naive = rows.loc[("naive", "ATE")]
        assert naive["estimate"] == pytest.approx(target["naive"], abs=1e-9)  # same units as the truth
        for method, estimand, true_value in (("psm", "ATT", target["att"]), ("dml", "ATE", target["ate"])):
            estimate = rows.loc[(method, estimand)]
            cells += 1
            covered += int(estimate["ci_low"] <= true_value <= estimate["ci_high"])
            if abs(naive["estimate"] - true_value) > 3 * naive["se"]:
                assert abs(estimate["estimate"] - true_value) < abs(naive["estimate"] - true_value), (key, method)
        dml_att, psm_att = rows.loc[("dml", "ATT")], rows.loc[("psm", "ATT")]
        att_covered += int(dml_att["ci_low"] <= target["att"] <= dml_att["ci_high"])
        att_narrower += int(dml_att["ci_high"] - dml_att["ci_low"] < psm_att["ci_high"] - psm_att["ci_low"])
    assert cells == 12
    assert covered >= 10, f"intervals covered the truth in {covered} of {cells} cells"
    assert att_covered >= 5, f"the doubly robust ATT covered the true ATT in {att_covered} of 6 cells"
    assert att_narrower >= 4, f"the doubly robust ATT was narrower than matching's in {att_narrower} of 6 cells"


def test_no_planted_effect_no_effect_found(tmp_path):
    from analysis.simulator import simulate
    from causal.pipeline import run_pipeline

    data = tmp_path / "data"
    simulate(out_dir=data, n_customers=8000, seed=4, effect_scale=0.0)
    run_pipeline(data_dir=data, results_dir=tmp_path / "results", processed_dir=tmp_path / "processed",
                 seed=4, jobs=1, stages="data,panel,estimate,refute")
    effects = _primary(pd.read_csv(tmp_path / "results" / results_contract.EFFECTS_CSV))
    adjusted = effects.loc[effects["method"].isin(["psm", "dml"])]  # psm ATT, dml ATE and dml ATT per cell
    assert sorted(adjusted.groupby(["method", "estimand"]).size().items()) == [
        (("dml", "ATE"), 6), (("dml", "ATT"), 6), (("psm", "ATT"), 6)]
    covers_zero = (adjusted["ci_low"] <= 0) & (adjusted["ci_high"] >= 0)
    assert covers_zero.sum() >= 15, adjusted  # 95% intervals: about 1 in 20 misses by chance
    refutations = pd.read_csv(tmp_path / "results" / results_contract.REFUTATIONS_CSV)
    placebo = refutations.loc[refutations["refuter"] == "placebo_treatment"]
    assert len(placebo) == 12 and placebo["passed"].all(), placebo
